// The project's GCS test server (tools/gcs-fake.mjs) proven against the official Node client
// (@google-cloud/storage, pinned in tools/package.json): what the client does against it —
// simple and resumable uploads, downloads, metadata checksums, listing, ifGenerationMatch=0,
// delete, a bad token refused, refresh-token and metadata-server tokens — must work, so that
// tests of Rivet's GCS code against the server mean something.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_env.h"

namespace rivet::testing {
namespace {

TEST(GcsServerTest, TheOfficialGoogleClientAgreesWithTheTestServer) {
  RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_GCS_ENDPOINT");
  RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
  CommandResult r = RunCommand("node " + ShellQuote(tools + "/gcs-sdk-check.mjs") + " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto results = nlohmann::json::parse(r.out);
  for (const char* check :
       {"simple_upload", "resumable_upload", "simple_download", "resumable_download",
        "ranged_download", "simple_metadata", "resumable_metadata", "list_prefix", "list_paged",
        "if_generation_match_0_refused", "delete", "bad_token_refused", "authorized_user_token",
        "metadata_token"}) {
    EXPECT_EQ(results.value(check, false), true) << check;
  }
}

}  // namespace
}  // namespace rivet::testing
