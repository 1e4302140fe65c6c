#include "rivet/net/aws_credential_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "rivet/net/fake_aws_machine.h"

namespace rivet::net {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;

// A clock that moves only when told, and a source that counts its fetches and answers what
// the test says.
struct FakeSource {
  Time now = Time(std::chrono::sys_days(std::chrono::year(2026) / 12 / 6));
  int fetches = 0;
  std::optional<Status> fail;         // the next fetches fail with this
  std::chrono::minutes lifetime{60};  // of the credentials each fetch gives

  std::shared_ptr<AwsCredentialProvider> Provider() {
    return MakeRefreshingAwsCredentialProvider(
        "web identity",
        [this]() -> Result<AwsCredentials> {
          ++fetches;
          if (fail) return *fail;
          return AwsCredentials{"ASIA" + std::to_string(fetches), "secret", "token", "web identity",
                                now + lifetime};
        },
        [this] { return now; });
  }
};

std::string KeyOf(AwsCredentialProvider& provider) {
  Result<AwsCredentials> c = provider.Current();
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.has_value() ? c->access_key_id : "";
}

TEST(RefreshingProvider, FetchesAtFirstUseThenWhenFewerThanFiveMinutesRemain) {
  FakeSource source;
  auto provider = source.Provider();
  EXPECT_EQ(source.fetches, 0);  // nothing before the first use
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(provider->Source(), "web identity");
  source.now += minutes(54);  // 6 minutes left: still cached
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(source.fetches, 1);
  source.now += minutes(2);  // 4 minutes left: fetched again
  EXPECT_EQ(KeyOf(*provider), "ASIA2");
  EXPECT_EQ(source.fetches, 2);
  EXPECT_EQ(KeyOf(*provider), "ASIA2");
  source.now += hours(3);  // long expired: fetched at once
  EXPECT_EQ(KeyOf(*provider), "ASIA3");
  EXPECT_EQ(source.fetches, 3);
}

TEST(RefreshingProvider, ShortLivedCredentialsAreFetchedAtEveryUse) {
  FakeSource source;
  source.lifetime = minutes(2);
  auto provider = source.Provider();
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(KeyOf(*provider), "ASIA2");
  EXPECT_EQ(source.fetches, 2);
}

TEST(RefreshingProvider, CredentialsWithoutExpirationAreNeverFetchedAgain) {
  int fetches = 0;
  auto provider = MakeRefreshingAwsCredentialProvider("x", [&]() -> Result<AwsCredentials> {
    ++fetches;
    return AwsCredentials{"AKIA", "s", "", "x", std::nullopt};
  });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(KeyOf(*provider), "AKIA");
  EXPECT_EQ(fetches, 1);
}

TEST(RefreshingProvider, AFailedRefreshKeepsCredentialsThatStillWork) {
  FakeSource source;
  auto provider = source.Provider();
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  source.fail = Error(ErrorCode::kNetwork, "STS is down");
  source.now += minutes(57);  // 3 minutes left: a refresh, which fails
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(source.fetches, 2);
  source.now += seconds(5);  // the failure is recent: not tried again yet
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(source.fetches, 2);
  source.now += seconds(10);
  EXPECT_EQ(KeyOf(*provider), "ASIA1");
  EXPECT_EQ(source.fetches, 3);
  source.now += seconds(110);  // 55 seconds left: too few to keep using them
  Result<AwsCredentials> c = provider->Current();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(c.error().message(), "STS is down");
  source.fail.reset();  // the endpoint is back
  EXPECT_EQ(KeyOf(*provider), "ASIA5");
}

TEST(RefreshingProvider, TheFirstFailureIsTheError) {
  FakeSource source;
  source.fail = Error(ErrorCode::kAuth, "refused");
  auto provider = source.Provider();
  EXPECT_EQ(provider->Current().error().code(), ErrorCode::kAuth);
  EXPECT_EQ(provider->Current().error().code(), ErrorCode::kAuth);
  EXPECT_EQ(source.fetches, 2);  // nothing cached: every use tries again
}

TEST(RefreshingProvider, CredentialsExpiredWhenFetchedAreAnAuthError) {
  FakeSource source;
  source.lifetime = minutes(-1);
  auto provider = source.Provider();
  Result<AwsCredentials> c = provider->Current();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kAuth);
  EXPECT_NE(c.error().message().find("clock"), std::string::npos) << c.error().message();
  EXPECT_EQ(c.error().message().find("secret"), std::string::npos) << c.error().message();
}

TEST(RefreshingProvider, ParallelUsersShareOneFetch) {
  std::atomic<int> fetches{0};
  auto provider = MakeRefreshingAwsCredentialProvider("x", [&]() -> Result<AwsCredentials> {
    ++fetches;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return AwsCredentials{"ASIA", "s", "t", "x",
                          std::chrono::system_clock::now() + std::chrono::hours(1)};
  });
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (provider->Current().has_value()) ++good;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(fetches.load(), 1);
  EXPECT_EQ(good.load(), 8 * 200);
}

// ---- the chain, without the network ------------------------------------------------------------

FakeAwsMachine NoCredentialsMachine() {
  FakeAwsMachine m;
  m.env["HOME"] = "/home/etl";
  m.env["AWS_EC2_METADATA_DISABLED"] = "true";  // never reach for 169.254.169.254 here
  return m;
}

TEST(CredentialChain, StaticKeysComeFirst) {
  FakeAwsMachine m = NoCredentialsMachine();
  m.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/token";
  m.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";
  m.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  m.env["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  m.env["AWS_SECRET_ACCESS_KEY"] = "env/secret";
  auto env = MakeAwsCredentialProvider(std::nullopt, std::nullopt, m.Environment());
  ASSERT_TRUE(env.has_value()) << env.error().message();
  EXPECT_EQ((*env)->Source(), "environment");
  EXPECT_EQ((*env)->Current()->access_key_id, "AKIAENV");
  auto configured = MakeAwsCredentialProvider("AKIACFG", "cfg/secret", m.Environment());
  ASSERT_TRUE(configured.has_value());
  EXPECT_EQ((*configured)->Current()->access_key_id, "AKIACFG");
}

TEST(CredentialChain, NoSourceIsAnAuthErrorNamingEverySourceTried) {
  FakeAwsMachine m = NoCredentialsMachine();
  m.env["AWS_PROFILE"] = "nightly";
  auto none = MakeAwsCredentialProvider(std::nullopt, std::nullopt, m.Environment());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kAuth);
  const std::string& message = none.error().message();
  size_t at = 0;
  for (const char* source :
       {"no AWS credentials found", "access_key_env/secret_key_env", "AWS_ACCESS_KEY_ID",
        "profile 'nightly'", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "EC2 instance metadata (turned off by AWS_EC2_METADATA_DISABLED)"}) {
    const size_t found = message.find(source, at);
    EXPECT_NE(found, std::string::npos) << source << " in order in: " << message;
    if (found != std::string::npos) at = found;
  }
}

TEST(CredentialChain, AConfiguredNetworkSourceThatIsWrongIsTheError) {
  FakeAwsMachine m = NoCredentialsMachine();
  m.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/token";
  auto half = MakeAwsCredentialProvider(std::nullopt, std::nullopt, m.Environment());
  ASSERT_FALSE(half.has_value());
  EXPECT_EQ(half.error().code(), ErrorCode::kConfig);
  EXPECT_NE(half.error().message().find("AWS_ROLE_ARN"), std::string::npos);

  m.env["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/r";  // the token file does not exist
  auto missing = MakeAwsCredentialProvider(std::nullopt, std::nullopt, m.Environment());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_NE(missing.error().message().find("/token"), std::string::npos);

  FakeAwsMachine c = NoCredentialsMachine();
  c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.1/creds";
  auto plain = MakeAwsCredentialProvider(std::nullopt, std::nullopt, c.Environment());
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.error().code(), ErrorCode::kConfig);
  EXPECT_NE(plain.error().message().find("192.0.2.1"), std::string::npos);
}

}  // namespace
}  // namespace rivet::net
