// The HTTP client against a real local server (tests/support/http_fixture.mjs): keep-alive,
// bodies both ways, headers, an object store's error, a reset, a stalled transfer.
#include "rivet/net/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "rivet/net/http_errors.h"
#include "support/test_env.h"

namespace rivet::net {
namespace {

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string command =
        std::string("node ") + RIVET_SOURCE_DIR + "/tests/support/http_fixture.mjs";
    server_ = popen(command.c_str(), "r");
    ASSERT_NE(server_, nullptr);
    char line[32] = {};
    ASSERT_NE(fgets(line, sizeof line, server_), nullptr) << "the fixture server did not start";
    base_ = "http://127.0.0.1:" + std::string(line).substr(0, std::string(line).find('\n'));
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    auto client = HttpClient::Create();
    if (client.has_value()) (void)client->Send({"GET", base_ + "/quit", {}, {}});
    pclose(server_);
  }

  FILE* server_ = nullptr;
  std::string base_;
};

TEST_F(HttpClientTest, BodiesHeadersAndStatusesOverOneKeptAliveConnection) {
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  auto ok = client->Send({"GET", base_ + "/ok", {}, {}});
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "hello");
  EXPECT_EQ(ok->headers["x-test"], "yes");

  const std::string payload(3 * 1024 * 1024 + 7, 'p');  // larger than any buffer on the way
  auto put = client->Send({"PUT", base_ + "/echo", {{"X-Amz-Meta-Test", "1"}}, payload});
  ASSERT_TRUE(put.has_value()) << put.error().message();
  EXPECT_EQ(put->headers["x-method"], "PUT");
  EXPECT_EQ(put->headers["x-length"], std::to_string(payload.size()));
  EXPECT_EQ(put->body.size(), payload.size());

  auto post = client->Send({"POST", base_ + "/echo?uploads=", {}, "<xml/>"});
  ASSERT_TRUE(post.has_value());
  EXPECT_EQ(post->headers["x-method"], "POST");
  EXPECT_EQ(post->body, "<xml/>");
  auto del = client->Send({"DELETE", base_ + "/echo", {}, {}});
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->headers["x-method"], "DELETE");
  auto head = client->Send({"HEAD", base_ + "/ok", {}, {}});
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");

  auto missing = client->Send({"GET", base_ + "/nothing-here", {}, {}});
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);

  auto connections = client->Send({"GET", base_ + "/connections", {}, {}});
  ASSERT_TRUE(connections.has_value());
  EXPECT_EQ(connections->body, "1");  // every request above reused the first connection
}

TEST_F(HttpClientTest, AThrottlingAnswerIsAResponseTheCallerClassifies) {
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  auto slow = client->Send({"GET", base_ + "/slowdown", {}, {}});
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->status, 503);
  EXPECT_EQ(ClassifyHttp(CURLE_OK, slow->status, S3ErrorCode(slow->body)), ErrorCode::kCapacity);
}

TEST_F(HttpClientTest, AResetAndAStallAreRetryableErrorsWithoutTheQuery) {
  HttpOptions options;
  options.low_speed_time_s = 1;
  auto client = HttpClient::Create(options);
  ASSERT_TRUE(client.has_value());
  auto reset = client->Send({"GET", base_ + "/reset?X-Amz-Signature=abc123", {}, {}});
  ASSERT_FALSE(reset.has_value());
  EXPECT_EQ(reset.error().code(), ErrorCode::kNetwork) << reset.error().message();
  EXPECT_EQ(reset.error().message().find("abc123"), std::string::npos) << reset.error().message();

  const auto start = std::chrono::steady_clock::now();
  auto stall = client->Send({"GET", base_ + "/stall", {}, {}});
  ASSERT_FALSE(stall.has_value());
  EXPECT_EQ(stall.error().code(), ErrorCode::kTimeout) << stall.error().message();
  EXPECT_TRUE(IsRetryable(stall.error().code()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));

  // The handle is still good after both.
  auto ok = client->Send({"GET", base_ + "/ok", {}, {}});
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->body, "hello");
}

TEST_F(HttpClientTest, ATotalTimeoutEndsARequestThatKeepsTrickling) {
  HttpOptions options;
  options.total_timeout_ms = 500;  // the low-speed limit alone would wait 60 s
  auto client = HttpClient::Create(options);
  ASSERT_TRUE(client.has_value());
  const auto start = std::chrono::steady_clock::now();
  auto stall = client->Send({"GET", base_ + "/stall", {}, {}});
  ASSERT_FALSE(stall.has_value());
  EXPECT_EQ(stall.error().code(), ErrorCode::kTimeout) << stall.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto ok = client->Send({"GET", base_ + "/ok", {}, {}});  // fast requests are unaffected
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->body, "hello");
}

TEST_F(HttpClientTest, BypassProxyIgnoresTheProxyVariables) {
  // A proxy that refuses every connection: a request through it fails.
  struct SavedEnv {
    std::string name;
    std::optional<std::string> value;
  };
  std::vector<SavedEnv> saved;
  for (const char* name : {"http_proxy", "no_proxy", "NO_PROXY"}) {
    const char* value = std::getenv(name);
    saved.push_back({name, value ? std::optional<std::string>(value) : std::nullopt});
    unsetenv(name);
  }
  setenv("http_proxy", "http://127.0.0.1:9", 1);
  auto proxied = HttpClient::Create();
  ASSERT_TRUE(proxied.has_value());
  auto refused = proxied->Send({"GET", base_ + "/ok", {}, {}});
  HttpOptions options;
  options.bypass_proxy = true;
  auto direct = HttpClient::Create(options);
  ASSERT_TRUE(direct.has_value());
  auto ok = direct->Send({"GET", base_ + "/ok", {}, {}});
  for (const SavedEnv& env : saved) {
    if (env.value) {
      setenv(env.name.c_str(), env.value->c_str(), 1);
    } else {
      unsetenv(env.name.c_str());
    }
  }
  EXPECT_FALSE(refused.has_value());
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->body, "hello");
}

TEST(HttpClient, NothingListeningIsANetworkError) {
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  // Port 9 (discard) on 127.0.0.1: nothing listens there in the test environment.
  auto refused = client->Send({"GET", "http://127.0.0.1:9/", {}, {}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNetwork) << refused.error().message();
}

}  // namespace
}  // namespace rivet::net
