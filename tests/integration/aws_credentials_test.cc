// The network sources of the AWS credential chain end to end, through MakeAwsCredentialProvider,
// against a local stand-in for STS, the ECS container endpoint and EC2 instance metadata
// (tests/support/aws_credentials_fake.mjs). Needs node only. The environment the chain reads is
// injected (a map), never the process's; instance metadata always points at 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rivet/net/aws_credential_provider.h"
#include "rivet/net/http_client.h"
#include "support/test_env.h"

namespace rivet::net {
namespace {

using std::chrono::minutes;
using std::chrono::system_clock;

constexpr const char* kRole = "arn:aws:iam::123456789012:role/rivet-exporter";
constexpr const char* kWebToken = "web-identity-token-1";
constexpr const char* kRotatedToken = "web-identity-token-2";
constexpr const char* kEcsToken = "ecs-authorization-token";
// 127.0.0.1:9 (discard): nothing listens there in the test environment.
constexpr const char* kNothingListens = "http://127.0.0.1:9";

class AwsCredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string command =
        std::string("node ") + RIVET_SOURCE_DIR + "/tests/support/aws_credentials_fake.mjs";
    server_ = popen(command.c_str(), "r");
    ASSERT_NE(server_, nullptr);
    char line[32] = {};
    ASSERT_NE(fgets(line, sizeof line, server_), nullptr) << "the fake did not start";
    base_ = "http://127.0.0.1:" + std::string(line).substr(0, std::string(line).find('\n'));
  }
  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    auto client = HttpClient::Create();
    if (client.has_value()) (void)client->Send({"GET", base_ + "/quit", {}, {}});
    pclose(server_);
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    Control("/control/reset");
    dir_ = rivet::testing::MakeTempDir("aws_credentials");
    // A machine with no credentials of its own: its home is empty, instance metadata is local.
    env_["HOME"] = dir_;
    env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = kNothingListens;
  }

  static nlohmann::json Control(const std::string& path_and_query) {
    auto client = HttpClient::Create();
    EXPECT_TRUE(client.has_value());
    auto r = client->Send({"GET", base_ + path_and_query, {}, {}});
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r.has_value()) return {};
    EXPECT_EQ(r->status, 200) << path_and_query;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  // How many requests the fake's endpoint got.
  static int Count(const std::string& name) { return Control("/control/counts").value(name, 0); }

  AwsEnvironment Environment() {
    AwsEnvironment env = SystemAwsEnvironment();  // real files: the token files of the test
    env.get_env = [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return env;
  }

  Result<std::shared_ptr<AwsCredentialProvider>> Chain() {
    return MakeAwsCredentialProvider(std::nullopt, std::nullopt, Environment());
  }

  void UseWebIdentity(const std::string& token = kWebToken) {
    const std::string file = dir_ + "/web-identity-token";
    rivet::testing::WriteFile(file, token);
    env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = file;
    env_["AWS_ROLE_ARN"] = kRole;
    env_["AWS_ROLE_SESSION_NAME"] = "rivet-integration";
    env_["AWS_ENDPOINT_URL_STS"] = base_ + "/sts";
  }
  void UseContainer() {
    const std::string file = dir_ + "/ecs-token";
    rivet::testing::WriteFile(file, std::string(kEcsToken) + "\n");
    env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = base_ + "/ecs/creds";
    env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = file;
  }
  void UseInstanceMetadata() { env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = base_ + "/imds"; }

  // Every secret the tests or the fake handed out so far: none may be in a message.
  static void ExpectNoSecret(const std::string& message) {
    for (const char* secret : {kWebToken, kRotatedToken, kEcsToken, "-secret-", "-session-",
                               "imds-token-", "wrong-token"}) {
      EXPECT_EQ(message.find(secret), std::string::npos) << secret << " in: " << message;
    }
  }

  static FILE* server_;
  static std::string base_;
  std::string dir_;
  std::map<std::string, std::string> env_;
};

FILE* AwsCredentialsTest::server_ = nullptr;
std::string AwsCredentialsTest::base_;

void ExpectExpiresIn(const AwsCredentials& c, minutes lifetime) {
  ASSERT_TRUE(c.expiration.has_value());
  const auto left = *c.expiration - system_clock::now();
  EXPECT_GT(left, lifetime - minutes(1));
  EXPECT_LE(left, lifetime);
}

TEST_F(AwsCredentialsTest, WebIdentityAssumesTheRoleWithTheTokenOfTheFile) {
  UseWebIdentity();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Source(), "web identity");
  auto c = (*provider)->Current();
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIASTS1");
  EXPECT_EQ(c->secret_access_key, "sts-secret-1");
  EXPECT_EQ(c->session_token, "sts-session-1");
  EXPECT_EQ(c->source, "web identity");
  ExpectExpiresIn(*c, minutes(60));
  EXPECT_EQ(Control("/control/counts").value("last_session", ""), "rivet-integration");
  // Long-lived: later uses ask nothing more.
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*provider)->Current()->access_key_id, "ASIASTS1");
  EXPECT_EQ(Count("sts"), 1);
  EXPECT_EQ(Count("ecs") + Count("imds_token"), 0);
}

TEST_F(AwsCredentialsTest, ShortLivedCredentialsAreFetchedAgainWithTheRotatedToken) {
  Control("/control/set?sts_expires=120");  // 2 minutes: under the 5-minute margin
  UseWebIdentity();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ(Count("sts"), 1);
  // The token file rotates; STS now accepts only the new token.
  rivet::testing::WriteFile(env_["AWS_WEB_IDENTITY_TOKEN_FILE"], kRotatedToken);
  Control(std::string("/control/set?sts_token=") + kRotatedToken + "&sts_expires=3600");
  auto c = (*provider)->Current();
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ASIASTS2");
  ExpectExpiresIn(*c, minutes(60));
  EXPECT_EQ(Count("sts"), 2);
  EXPECT_EQ((*provider)->Current()->access_key_id, "ASIASTS2");
  EXPECT_EQ(Count("sts"), 2);
}

TEST_F(AwsCredentialsTest, AThrottledStsIsTriedAgain) {
  Control("/control/set?sts_fail=2");
  UseWebIdentity();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Current()->access_key_id, "ASIASTS1");
  EXPECT_EQ(Count("sts"), 3);
}

TEST_F(AwsCredentialsTest, ARefusedTokenIsAnAuthErrorNamingTheRoleAndTheFileNotTheToken) {
  // Long, like a real JWT: the fake quotes it back and the message is cut at 300 characters,
  // which must leave no prefix of it either.
  UseWebIdentity("wrong-token-" + std::string(1000, 'x'));
  auto provider = Chain();
  ASSERT_FALSE(provider.has_value());
  EXPECT_EQ(provider.error().code(), ErrorCode::kAuth);
  const std::string& m = provider.error().message();
  EXPECT_NE(m.find("InvalidIdentityToken"), std::string::npos) << m;
  EXPECT_NE(m.find(kRole), std::string::npos) << m;
  EXPECT_NE(m.find(env_["AWS_WEB_IDENTITY_TOKEN_FILE"]), std::string::npos) << m;
  ExpectNoSecret(m);           // the fake quoted the token back: it must be masked
  EXPECT_EQ(Count("sts"), 1);  // an auth error is not retried
  EXPECT_EQ(Count("ecs") + Count("imds_token"), 0);  // a configured source's failure is final
}

TEST_F(AwsCredentialsTest, TheContainerEndpointWithItsAuthorizationToken) {
  UseContainer();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Source(), "ECS container endpoint");
  auto c = (*provider)->Current();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "ASIAECS1");
  EXPECT_EQ(c->session_token, "ecs-session-1");
  ExpectExpiresIn(*c, minutes(60));

  // The token from the variable when there is no file.
  env_.erase("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kEcsToken;
  auto from_variable = Chain();
  ASSERT_TRUE(from_variable.has_value()) << from_variable.error().message();
  EXPECT_EQ((*from_variable)->Current()->access_key_id, "ASIAECS2");

  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong-token";
  auto refused = Chain();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth);
  EXPECT_NE(refused.error().message().find("HTTP 401"), std::string::npos)
      << refused.error().message();
  ExpectNoSecret(refused.error().message());
  EXPECT_EQ(Count("ecs"), 3);
}

TEST_F(AwsCredentialsTest, PlainHttpToAnotherHostIsRefusedBeforeAnyRequest) {
  UseContainer();
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.10/creds";
  auto refused = Chain();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConfig);
  EXPECT_NE(refused.error().message().find("192.0.2.10"), std::string::npos);
  ExpectNoSecret(refused.error().message());
}

TEST_F(AwsCredentialsTest, InstanceMetadataWithASessionToken) {
  UseInstanceMetadata();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Source(), "EC2 instance metadata");
  auto c = (*provider)->Current();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "ASIAIMDS1");
  EXPECT_EQ(c->secret_access_key, "imds-secret-1");
  ExpectExpiresIn(*c, minutes(60));
  EXPECT_EQ(Count("imds_token"), 1);
  EXPECT_EQ(Count("imds_role"), 1);
  EXPECT_EQ(Count("imds_credentials"), 1);
  EXPECT_EQ(Count("imds_refused"), 0);

  // The fake refuses a GET without the session token, as IMDSv2 does.
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  auto bare =
      client->Send({"GET", base_ + "/imds/latest/meta-data/iam/security-credentials/", {}, {}});
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->status, 401);
}

TEST_F(AwsCredentialsTest, ShortLivedInstanceCredentialsAreFetchedAgain) {
  Control("/control/set?imds_expires=120");
  UseInstanceMetadata();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Current()->access_key_id, "ASIAIMDS2");
  EXPECT_EQ(Count("imds_token"), 2);  // a new session token each time
  EXPECT_EQ(Count("imds_credentials"), 2);
}

TEST_F(AwsCredentialsTest, AFailedInstanceAnswerEndsTheChainWithoutItsSecrets) {
  Control("/control/set?imds_code=Failure");
  UseInstanceMetadata();
  auto none = Chain();
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kAuth);
  EXPECT_NE(none.error().message().find("no AWS credentials found"), std::string::npos);
  EXPECT_NE(none.error().message().find("Failure"), std::string::npos) << none.error().message();
  ExpectNoSecret(none.error().message());
}

TEST_F(AwsCredentialsTest, TheOrderOfTheChain) {
  UseWebIdentity();
  UseContainer();
  UseInstanceMetadata();
  env_["AWS_ACCESS_KEY_ID"] = "AKIASTATIC";
  env_["AWS_SECRET_ACCESS_KEY"] = "static/secret";
  auto static_keys = Chain();
  ASSERT_TRUE(static_keys.has_value()) << static_keys.error().message();
  EXPECT_EQ((*static_keys)->Source(), "environment");
  EXPECT_EQ(Count("sts") + Count("ecs") + Count("imds_token"), 0);

  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");
  auto web = Chain();
  ASSERT_TRUE(web.has_value()) << web.error().message();
  EXPECT_EQ((*web)->Source(), "web identity");
  EXPECT_EQ(Count("sts"), 1);
  EXPECT_EQ(Count("ecs") + Count("imds_token"), 0);

  env_.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto container = Chain();
  ASSERT_TRUE(container.has_value()) << container.error().message();
  EXPECT_EQ((*container)->Source(), "ECS container endpoint");
  EXPECT_EQ(Count("ecs"), 1);
  EXPECT_EQ(Count("imds_token"), 0);

  env_.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  auto instance = Chain();
  ASSERT_TRUE(instance.has_value()) << instance.error().message();
  EXPECT_EQ((*instance)->Source(), "EC2 instance metadata");
  EXPECT_EQ(Count("imds_token"), 1);
}

TEST_F(AwsCredentialsTest, WhenNothingAnswersTheChainEndsQuicklyNamingEverySource) {
  // Instance metadata points at a closed port on 127.0.0.1 (SetUp): nothing answers.
  const auto start = std::chrono::steady_clock::now();
  auto none = Chain();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kAuth);
  EXPECT_LT(took, std::chrono::seconds(5));
  const std::string& m = none.error().message();
  for (const char* source :
       {"no AWS credentials found", "access_key_env/secret_key_env", "AWS_ACCESS_KEY_ID",
        "shared credentials and config files", "web identity", "ECS container endpoint",
        "EC2 instance metadata", kNothingListens}) {
    EXPECT_NE(m.find(source), std::string::npos) << source << " in: " << m;
  }
  ExpectNoSecret(m);
}

}  // namespace
}  // namespace rivet::net
