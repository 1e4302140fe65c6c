// The S3 destination on its own, against the project's S3 test server (tools/s3-proxy.mjs in
// front of s3rver): the server itself proven against the official AWS client, objects never
// overwritten (by If-None-Match, and by HEAD where the store answers 501 to it), the probe
// leaving nothing behind, and delivered objects read back by ranges.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "rivet/destination/destination.h"
#include "rivet/net/http_client.h"
#include "support/s3_server.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

class S3DestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_S3_ENDPOINT");
    RIVET_REQUIRE_ENV(backend, "RIVET_TEST_S3_BACKEND");
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    endpoint_ = endpoint;
    backend_ = backend;
    tools_ = tools;
    prefix_ = std::string("d-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
              "-" + std::to_string(::getpid()) + "/";
    ASSERT_EQ(Control("POST", "/__rivet/reset", "").status, 200);
  }
  void TearDown() override {
    if (!endpoint_.empty()) (void)Control("POST", "/__rivet/reset", "");
  }

  static std::string Env(const char* name) { return EnvVar(name).value_or(""); }

  S3Server Server() const { return S3Server(endpoint_, backend_, "rivet-test"); }
  net::HttpResponse Control(const std::string& method, const std::string& path,
                            const std::string& body) {
    return Server().Control(method, path, body);
  }
  std::set<std::string> Keys() { return Server().Keys(prefix_); }
  std::string Object(const std::string& name) { return Server().Object(prefix_ + name); }
  // The proxy's log entries for `name`: "METHOD status" each.
  std::vector<std::string> RequestsFor(const std::string& name) {
    auto log = nlohmann::json::parse(Control("GET", "/__rivet/requests", "").body);
    std::vector<std::string> out;
    for (const auto& entry : log) {
      if (entry.value("key", "") == prefix_ + name) {
        out.push_back(fmt::format("{} {}", entry.value("method", ""), entry.value("status", 0)));
      }
    }
    return out;
  }

  std::unique_ptr<destination::Destination> Make(const std::string& secret) {
    config::DestinationConfig cfg;
    cfg.type = config::DestinationType::kS3;
    cfg.bucket = Env("RIVET_TEST_S3_BUCKET");
    cfg.prefix = prefix_;
    cfg.region = Env("RIVET_TEST_S3_REGION");
    cfg.endpoint = endpoint_;
    cfg.access_key = config::Secret(Env("RIVET_TEST_S3_ACCESS_KEY"));
    cfg.secret_key = config::Secret(secret);
    auto dest = destination::MakeDestination(cfg, "/");
    EXPECT_TRUE(dest.has_value()) << dest.error().message();
    return dest.has_value() ? std::move(*dest) : nullptr;
  }
  std::unique_ptr<destination::Destination> Make() { return Make(Env("RIVET_TEST_S3_SECRET_KEY")); }

  // Writes `body` as `name`; the status of Commit.
  static Status Write(destination::Destination& dest, const std::string& name,
                      const std::string& body) {
    auto writer = dest.Create(name, {});
    if (!writer.has_value()) return writer.error();
    RIVET_RETURN_IF_ERROR(
        (*writer)->Append(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
    RIVET_RETURN_IF_ERROR((*writer)->Finish());
    return (*writer)->Commit(name);
  }

  std::string OpenUploads() { return Control("GET", "/__rivet/uploads", "").body; }

  std::string endpoint_, backend_, tools_, prefix_;
};

TEST_F(S3DestinationTest, TheOfficialAwsClientAgreesWithTheTestServer) {
  CommandResult r = RunCommand(fmt::format(
      "cd {} && node s3-sdk-check.mjs {} {} {} {} {} {} {} {} {} 2>/dev/null", ShellQuote(tools_),
      ShellQuote(endpoint_), ShellQuote(Env("RIVET_TEST_S3_BUCKET")),
      ShellQuote(Env("RIVET_TEST_S3_REGION")), ShellQuote(Env("RIVET_TEST_S3_ACCESS_KEY")),
      ShellQuote(Env("RIVET_TEST_S3_SECRET_KEY")), ShellQuote(prefix_),
      ShellQuote(Env("RIVET_TEST_S3_SESSION_ACCESS_KEY")),
      ShellQuote(Env("RIVET_TEST_S3_SESSION_SECRET_KEY")),
      ShellQuote(Env("RIVET_TEST_S3_SESSION_TOKEN"))));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto results = nlohmann::json::parse(r.out);
  for (const char* ok :
       {"put", "head", "ranged_get", "multipart", "copy", "list", "delete_object.txt",
        "delete_multipart.bin", "delete_copy.txt", "session", "delete_session_object"}) {
    EXPECT_EQ(results.value(ok, ""), "ok") << ok;
  }
  EXPECT_EQ(results.value("put_if_none_match_existing", ""), "PreconditionFailed");
  EXPECT_EQ(results.value("wrong_secret", ""), "SignatureDoesNotMatch");
  EXPECT_EQ(results.value("unknown_key", ""), "InvalidAccessKeyId");
  EXPECT_EQ(results.value("wrong_region", ""), "AuthorizationHeaderMalformed");
  EXPECT_EQ(results.value("wrong_session_token", ""), "InvalidToken");
  EXPECT_TRUE(Keys().empty());
}

// One test, in this order: a store that has told the process it lacks If-None-Match is
// checked with HEAD for the rest of the process.
TEST_F(S3DestinationTest, AnExistingObjectIsNeverOverwrittenWithOrWithoutConditionalWrites) {
  auto dest = Make();
  ASSERT_NE(dest, nullptr);
  const std::string small = "the first small object\n";
  const std::string large(9 * 1024 * 1024 + 7, 'L');  // multipart: its Complete is conditional
  ASSERT_TRUE(Write(*dest, "small.csv", small).ok());
  ASSERT_TRUE(Write(*dest, "large.csv", large).ok());
  EXPECT_TRUE(*dest->Exists("small.csv"));
  EXPECT_FALSE(*dest->Exists("missing.csv"));

  for (const char* mode : {"on", "off"}) {
    SCOPED_TRACE(std::string("conditional writes ") + mode);
    ASSERT_EQ(Control("POST", "/__rivet/conditional", mode).status, 200);
    Status again = Write(*dest, "small.csv", "a replacement\n");
    EXPECT_FALSE(again.ok());
    EXPECT_NE(again.message().find("already exists"), std::string::npos) << again.message();
    EXPECT_NE(again.message().find(prefix_ + "small.csv"), std::string::npos);
    Status large_again = Write(*dest, "large.csv", std::string(9 * 1024 * 1024, 'R'));
    EXPECT_FALSE(large_again.ok());
    EXPECT_NE(large_again.message().find("already exists"), std::string::npos);
    EXPECT_EQ(Object("small.csv"), small);
    EXPECT_EQ(Object("large.csv"), large);
    EXPECT_EQ(OpenUploads(), R"({"open":[]})");  // the refused multipart upload was aborted
  }
  // With conditional writes the store refused (412); without, a HEAD found the object first.
  std::vector<std::string> log = RequestsFor("small.csv");
  EXPECT_NE(std::find(log.begin(), log.end(), "PUT 412"), log.end());
  EXPECT_NE(std::find(log.begin(), log.end(), "PUT 501"), log.end());
  EXPECT_NE(std::find(log.begin(), log.end(), "HEAD 200"), log.end());
  EXPECT_EQ(Keys(), (std::set<std::string>{prefix_ + "large.csv", prefix_ + "small.csv"}));
}

TEST_F(S3DestinationTest, TheProbeLeavesNothingBehindAndFailsOnAWrongSecret) {
  auto dest = Make();
  ASSERT_NE(dest, nullptr);
  Status probe = dest->Probe();
  EXPECT_TRUE(probe.ok()) << probe.message();
  EXPECT_TRUE(Keys().empty());

  const std::string wrong = "not-the-secret-0123456789";
  auto bad = Make(wrong);
  ASSERT_NE(bad, nullptr);
  Status refused = bad->Probe();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), ErrorCode::kAuth);
  EXPECT_NE(refused.message().find("SignatureDoesNotMatch"), std::string::npos)
      << refused.message();
  EXPECT_EQ(refused.message().find(wrong), std::string::npos);
  EXPECT_TRUE(Keys().empty());
}

TEST_F(S3DestinationTest, ADeliveredObjectIsReadBackByRanges) {
  auto dest = Make();
  ASSERT_NE(dest, nullptr);
  ASSERT_TRUE(dest->ReadsBackDelivered());
  ASSERT_TRUE(Write(*dest, "ranges.csv", "0123456789").ok());
  auto source = dest->OpenDelivered("ranges.csv");
  ASSERT_TRUE(source.has_value()) << source.error().message();
  EXPECT_EQ((*source)->size(), 10u);
  uint8_t out[4] = {};
  ASSERT_TRUE((*source)->ReadAt(3, 4, out).ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 4), "3456");
  EXPECT_FALSE((*source)->ReadAt(8, 4, out).ok());
  EXPECT_EQ(dest->Location("ranges.csv"), "s3://rivet-test/" + prefix_ + "ranges.csv");
}

}  // namespace
}  // namespace rivet::testing
