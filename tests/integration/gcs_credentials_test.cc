// The Google credential chain end to end, through MakeGoogleTokenProvider, against the GCS test
// server (scripts/servers/gcs.sh: its OAuth token endpoint, its metadata server, and its storage
// API, which checks every token). Each source is tried for real; the environment the chain reads
// is injected (a map), never the process's, and the machine's own credentials are never seen
// (HOME is an empty folder, the metadata server is off unless a test points at the fake's).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rivet/net/google_credentials.h"
#include "rivet/net/http_client.h"
#include "support/test_env.h"

namespace rivet::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* kSaEmail = "rivet-test@rivet-test.iam.gserviceaccount.com";

class GcsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(endpoint, "RIVET_TEST_GCS_ENDPOINT");
    RIVET_REQUIRE_ENV(sa_file, "RIVET_TEST_GCS_SA_FILE");
    RIVET_REQUIRE_ENV(wrong_sa_file, "RIVET_TEST_GCS_WRONG_SA_FILE");
    RIVET_REQUIRE_ENV(adc_file, "RIVET_TEST_GCS_ADC_FILE");
    RIVET_REQUIRE_ENV(metadata_host, "RIVET_TEST_GCS_METADATA_HOST");
    RIVET_REQUIRE_ENV(metadata_email, "RIVET_TEST_GCS_METADATA_EMAIL");
    RIVET_REQUIRE_ENV(bucket, "RIVET_TEST_GCS_BUCKET");
    endpoint_ = endpoint;
    sa_file_ = sa_file;
    wrong_sa_file_ = wrong_sa_file;
    adc_file_ = adc_file;
    metadata_host_ = metadata_host;
    metadata_email_ = metadata_email;
    bucket_ = bucket;
    Control("POST", "/__rivet/reset");
    dir_ = rivet::testing::MakeTempDir("gcs_credentials");
    env_["HOME"] = dir_;
    env_["METADATA_SERVER_DETECTION"] = "none";
  }

  nlohmann::json Control(const std::string& method, const std::string& path,
                         const std::string& body = "") {
    auto client = HttpClient::Create();
    EXPECT_TRUE(client.has_value());
    if (!client.has_value()) return {};
    auto r = client->Send({method, endpoint_ + path, {{"Content-Type", "application/json"}}, body});
    EXPECT_TRUE(r.has_value()) << r.error().message();
    if (!r.has_value()) return {};
    EXPECT_EQ(r->status, 200) << method << " " << path;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  // The storage API's verdict on a token: 200 when it opens the bucket, 401 otherwise.
  long BucketStatus(const std::string& token) {
    auto client = HttpClient::Create();
    EXPECT_TRUE(client.has_value());
    if (!client.has_value()) return -1;
    auto r = client->Send({"GET",
                           endpoint_ + "/storage/v1/b/" + bucket_,
                           {{"Authorization", "Bearer " + token}},
                           {}});
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r.has_value() ? r->status : -1;
  }

  // How many requests the fake logged for `path` (and `grant`, on /token).
  int Requests(const std::string& path, const std::string& grant = "") {
    int n = 0;
    for (const auto& entry : Control("GET", "/__rivet/requests")) {
      if (entry.value("path", "") != path) continue;
      if (!grant.empty() && entry.value("grant", "") != grant) continue;
      ++n;
    }
    return n;
  }

  AwsEnvironment Environment() {
    AwsEnvironment env = SystemAwsEnvironment();  // real files: the fake's key files
    env.get_env = [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return env;
  }

  Result<std::shared_ptr<GoogleTokenProvider>> Chain(const std::string& credentials_file = "") {
    GoogleCredentialOptions options;
    options.credentials_file = credentials_file;
    return MakeGoogleTokenProvider(options, Environment());
  }

  // A gcloud configuration folder holding the fake's application default credentials.
  std::string CloudSdkConfig() {
    const std::string config = dir_ + "/gcloud-config";
    rivet::testing::RunCommand("mkdir -p " + rivet::testing::ShellQuote(config));
    rivet::testing::WriteFile(config + "/application_default_credentials.json",
                              rivet::testing::ReadFile(adc_file_));
    return config;
  }

  void UseMetadataServer() {
    env_.erase("METADATA_SERVER_DETECTION");
    env_["GCE_METADATA_HOST"] = metadata_host_;
  }

  // The secrets of a credentials file: the lines of a private key, a client secret, a refresh
  // token.
  static std::vector<std::string> SecretsOf(const std::string& file) {
    const auto json = nlohmann::json::parse(rivet::testing::ReadFile(file));
    std::vector<std::string> secrets;
    for (const char* key : {"client_secret", "refresh_token"}) {
      if (json.contains(key)) secrets.push_back(json[key].get<std::string>());
    }
    for (const std::string& line : rivet::testing::SplitLines(json.value("private_key", ""))) {
      if (line.size() > 20 && line.find("-----") == std::string::npos) secrets.push_back(line);
    }
    return secrets;
  }

  static void ExpectNoSecret(const std::string& message, const std::vector<std::string>& secrets) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(message.find(secret), std::string::npos) << "a secret in: " << message;
    }
    EXPECT_EQ(message.find("ya29."), std::string::npos) << "an access token in: " << message;
    EXPECT_EQ(message.find("eyJ"), std::string::npos) << "an assertion in: " << message;
  }

  std::string Token(GoogleTokenProvider& provider) {
    Result<std::string> token = provider.Token();
    EXPECT_TRUE(token.has_value()) << token.error().message();
    return token.has_value() ? *token : "";
  }

  // With tokens of 4 seconds: each is used for half its life, then a new one is fetched;
  // whatever the moment, Token() gives one the storage API accepts.
  void ExpectShortTokensRefreshed(GoogleTokenProvider& provider) {
    const std::string first = Token(provider);
    std::set<std::string> seen;
    const auto until = steady_clock::now() + milliseconds(5'500);
    while (steady_clock::now() < until) {
      const std::string current = Token(provider);
      EXPECT_EQ(BucketStatus(current), 200);
      seen.insert(current);
      std::this_thread::sleep_for(milliseconds(250));
    }
    EXPECT_GE(seen.size(), 3u);           // 5.5 s of tokens fetched again every 2 s
    EXPECT_EQ(BucketStatus(first), 401);  // long expired
  }

  std::string endpoint_, sa_file_, wrong_sa_file_, adc_file_, metadata_host_, metadata_email_,
      bucket_, dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(GcsCredentialsTest, CredentialsFileServiceAccountKey) {
  auto provider = Chain(sa_file_);
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Identity(),
            std::string("service account ") + kSaEmail + " (credentials_file " + sa_file_ + ")");
  const std::string token = Token(**provider);
  EXPECT_EQ(BucketStatus(token), 200);
  EXPECT_EQ(BucketStatus("ya29.made-up"), 401);
  // Fetched once, in MakeGoogleTokenProvider; reused while it lives.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Token(**provider), token);
  EXPECT_EQ(Requests("/token", "jwt-bearer"), 1);
}

TEST_F(GcsCredentialsTest, GoogleApplicationCredentials) {
  env_["GOOGLE_APPLICATION_CREDENTIALS"] = sa_file_;
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Identity(), std::string("service account ") + kSaEmail +
                                         " (GOOGLE_APPLICATION_CREDENTIALS " + sa_file_ + ")");
  EXPECT_EQ(BucketStatus(Token(**provider)), 200);
}

TEST_F(GcsCredentialsTest, ApplicationDefaultCredentialsOfCloudSdkConfig) {
  const std::string config = CloudSdkConfig();
  env_["CLOUDSDK_CONFIG"] = config;
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Identity(), "authorized user (application default credentials " + config +
                                         "/application_default_credentials.json)");
  EXPECT_EQ(BucketStatus(Token(**provider)), 200);
  EXPECT_EQ(Requests("/token", "refresh_token"), 1);
}

TEST_F(GcsCredentialsTest, ApplicationDefaultCredentialsUnderHome) {
  const std::string gcloud = dir_ + "/.config/gcloud";
  rivet::testing::RunCommand("mkdir -p " + rivet::testing::ShellQuote(gcloud));
  rivet::testing::WriteFile(gcloud + "/application_default_credentials.json",
                            rivet::testing::ReadFile(adc_file_));
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_NE((*provider)->Identity().find(gcloud), std::string::npos) << (*provider)->Identity();
  EXPECT_EQ(BucketStatus(Token(**provider)), 200);
}

TEST_F(GcsCredentialsTest, MetadataServer) {
  UseMetadataServer();
  auto provider = Chain();
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Identity(), "metadata server " + metadata_host_ +
                                         " (default service account " + metadata_email_ + ")");
  EXPECT_EQ(BucketStatus(Token(**provider)), 200);
  EXPECT_EQ(Requests("/computeMetadata/v1/instance/service-accounts/default/token"), 1);
}

TEST_F(GcsCredentialsTest, AServerThatIsNotAMetadataServerIsNotUsed) {
  // The storage API answers there, without "Metadata-Flavor: Google".
  env_.erase("METADATA_SERVER_DETECTION");
  env_["GCE_METADATA_HOST"] = endpoint_ + "/storage/v1";
  auto provider = Chain();
  ASSERT_FALSE(provider.has_value());
  EXPECT_EQ(provider.error().code(), ErrorCode::kAuth);
  const std::string& message = provider.error().message();
  EXPECT_NE(message.find("no Google credentials found"), std::string::npos) << message;
  EXPECT_NE(message.find("without the header Metadata-Flavor: Google"), std::string::npos)
      << message;
  EXPECT_NE(message.find("gcloud auth application-default login"), std::string::npos) << message;
}

TEST_F(GcsCredentialsTest, TheFirstConfiguredSourceWins) {
  UseMetadataServer();
  env_["CLOUDSDK_CONFIG"] = CloudSdkConfig();
  env_["GOOGLE_APPLICATION_CREDENTIALS"] = wrong_sa_file_;
  // credentials_file beats GOOGLE_APPLICATION_CREDENTIALS (whose key would be refused)...
  auto configured = Chain(sa_file_);
  ASSERT_TRUE(configured.has_value()) << configured.error().message();
  EXPECT_NE((*configured)->Identity().find("(credentials_file "), std::string::npos);
  EXPECT_EQ(BucketStatus(Token(**configured)), 200);
  // ...which beats the application default credentials...
  env_["GOOGLE_APPLICATION_CREDENTIALS"] = sa_file_;
  auto variable = Chain();
  ASSERT_TRUE(variable.has_value()) << variable.error().message();
  EXPECT_NE((*variable)->Identity().find("(GOOGLE_APPLICATION_CREDENTIALS "), std::string::npos);
  // ...which beat the metadata server, never asked.
  env_.erase("GOOGLE_APPLICATION_CREDENTIALS");
  auto adc = Chain();
  ASSERT_TRUE(adc.has_value()) << adc.error().message();
  EXPECT_EQ((*adc)->Identity().rfind("authorized user", 0), 0u) << (*adc)->Identity();
  EXPECT_EQ(Requests("/token", "jwt-bearer"), 2);
  EXPECT_EQ(Requests("/token", "refresh_token"), 1);
  EXPECT_EQ(Requests("/computeMetadata/v1/instance/service-accounts/default/token"), 0);
  EXPECT_EQ(Requests("/computeMetadata/v1/instance/service-accounts/default/email"), 0);
}

TEST_F(GcsCredentialsTest, AWrongKeyIsAnAuthErrorNamingTheAccountAndNothingSecret) {
  UseMetadataServer();  // a configured file that fails does not fall through to it
  env_["CLOUDSDK_CONFIG"] = CloudSdkConfig();
  auto provider = Chain(wrong_sa_file_);
  ASSERT_FALSE(provider.has_value());
  EXPECT_EQ(provider.error().code(), ErrorCode::kAuth);
  const std::string& message = provider.error().message();
  EXPECT_NE(message.find(kSaEmail), std::string::npos) << message;
  EXPECT_NE(message.find(wrong_sa_file_), std::string::npos) << message;
  EXPECT_NE(message.find("invalid_grant"), std::string::npos) << message;
  ExpectNoSecret(message, SecretsOf(wrong_sa_file_));
  ExpectNoSecret(message, SecretsOf(sa_file_));
  EXPECT_EQ(Requests("/token", "jwt-bearer"), 1);  // refused at once: not retried
  EXPECT_EQ(Requests("/token", "refresh_token"), 0);
  EXPECT_EQ(Requests("/computeMetadata/v1/instance/service-accounts/default/token"), 0);
}

TEST_F(GcsCredentialsTest, AWrongClientSecretIsAnAuthErrorWithoutTheSecrets) {
  auto adc = nlohmann::json::parse(rivet::testing::ReadFile(adc_file_));
  adc["client_secret"] = "rivet-wrong-client-secret";
  const std::string file = dir_ + "/adc-wrong.json";
  rivet::testing::WriteFile(file, adc.dump());
  auto provider = Chain(file);
  ASSERT_FALSE(provider.has_value());
  EXPECT_EQ(provider.error().code(), ErrorCode::kAuth);
  const std::string& message = provider.error().message();
  EXPECT_NE(message.find("authorized user (credentials_file " + file + ")"), std::string::npos)
      << message;
  EXPECT_NE(message.find("invalid_client"), std::string::npos) << message;
  ExpectNoSecret(message, SecretsOf(file));
  ExpectNoSecret(message, SecretsOf(adc_file_));
}

TEST_F(GcsCredentialsTest, ATokenEndpointHiccupIsRetried) {
  Control("POST", "/__rivet/faults",
          R"([{"path": "/token", "count": 1, "action": "status", "status": 503}])");
  auto provider = Chain(sa_file_);
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ(BucketStatus(Token(**provider)), 200);
  EXPECT_EQ(Requests("/token"), 2);
}

TEST_F(GcsCredentialsTest, ShortLivedTokensAreFetchedAgainBeforeTheyExpire) {
  Control("POST", "/__rivet/token-ttl", "4");
  auto account = Chain(sa_file_);
  ASSERT_TRUE(account.has_value()) << account.error().message();
  ExpectShortTokensRefreshed(**account);

  UseMetadataServer();
  auto metadata = Chain();
  ASSERT_TRUE(metadata.has_value()) << metadata.error().message();
  ExpectShortTokensRefreshed(**metadata);
}

}  // namespace
}  // namespace rivet::net
