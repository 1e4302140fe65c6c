#include "rivet/net/aws_credentials.h"

#include <gtest/gtest.h>

#include <map>

#include "rivet/net/fake_aws_machine.h"

namespace rivet::net {
namespace {

using FakeMachine = FakeAwsMachine;

constexpr const char* kCredentials = R"(# written by the AWS CLI
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default/secret

[nightly]
aws_access_key_id=AKIANIGHTLY
aws_secret_access_key=nightly/secret
aws_session_token = nightly-token
)";

constexpr const char* kConfig = R"([default]
region = eu-west-1

[profile nightly]
region = us-east-2
s3 =
  max_concurrent_requests = 20

[profile keys-in-config]
aws_access_key_id = AKIACONFIG
aws_secret_access_key = config/secret
)";

FakeMachine Machine() {
  FakeMachine m;
  m.env["HOME"] = "/home/etl";
  m.files["/home/etl/.aws/credentials"] = kCredentials;
  m.files["/home/etl/.aws/config"] = kConfig;
  return m;
}

std::optional<AwsCredentials> Found(const FakeMachine& m,
                                    const std::optional<std::string>& key = std::nullopt,
                                    const std::optional<std::string>& secret = std::nullopt) {
  auto c = StaticAwsCredentials(key, secret, m.Environment());
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.has_value() ? *c : std::nullopt;
}

TEST(AwsCredentials, EachSourceInTheOrderOfTheChain) {
  FakeMachine m = Machine();
  m.env["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  m.env["AWS_SECRET_ACCESS_KEY"] = "env/secret";
  m.env["AWS_SESSION_TOKEN"] = "env-token";
  // 1. The export's own variables win over everything.
  EXPECT_EQ(
      Found(m, "AKIACFG", "cfg/secret"),
      (AwsCredentials{"AKIACFG", "cfg/secret", "", "access_key_env/secret_key_env", std::nullopt}));
  // 2. The environment.
  EXPECT_EQ(Found(m),
            (AwsCredentials{"AKIAENV", "env/secret", "env-token", "environment", std::nullopt}));
  // 3. The shared credentials file, default profile.
  m.env.erase("AWS_ACCESS_KEY_ID");
  m.env.erase("AWS_SECRET_ACCESS_KEY");
  m.env.erase("AWS_SESSION_TOKEN");
  EXPECT_EQ(Found(m)->access_key_id, "AKIADEFAULT");
  // ... or AWS_PROFILE's, with its session token.
  m.env["AWS_PROFILE"] = "nightly";
  EXPECT_EQ(Found(m),
            (AwsCredentials{"AKIANIGHTLY", "nightly/secret", "nightly-token",
                            "profile 'nightly' of the shared credentials file", std::nullopt}));
  // 4. Keys in the config file's "[profile NAME]".
  m.env["AWS_PROFILE"] = "keys-in-config";
  EXPECT_EQ(Found(m)->access_key_id, "AKIACONFIG");
  // Nothing anywhere: the network sources come next.
  m.env["AWS_PROFILE"] = "nobody";
  EXPECT_EQ(Found(m), std::nullopt);
}

TEST(AwsCredentials, FileLocationsFollowTheirVariables) {
  FakeMachine m;
  m.env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/rivet/aws-credentials";
  m.files["/etc/rivet/aws-credentials"] = kCredentials;
  EXPECT_EQ(Found(m)->access_key_id, "AKIADEFAULT");
  m.env["AWS_CONFIG_FILE"] = "/unreadable";
  m.env["AWS_PROFILE"] = "nobody";
  auto unreadable = StaticAwsCredentials(std::nullopt, std::nullopt, m.Environment());
  ASSERT_FALSE(unreadable.has_value());
  EXPECT_NE(unreadable.error().message().find("/unreadable"), std::string::npos);
  // No HOME and no variables: no file to read, nothing found.
  EXPECT_EQ(Found(FakeMachine{}), std::nullopt);
}

TEST(AwsCredentials, HalfAPairIsAnErrorThatNamesTheMissingHalfNotTheValue) {
  FakeMachine m = Machine();
  m.env["AWS_ACCESS_KEY_ID"] = "AKIAHALF";
  auto half = StaticAwsCredentials(std::nullopt, std::nullopt, m.Environment());
  ASSERT_FALSE(half.has_value());
  EXPECT_EQ(half.error().code(), ErrorCode::kConfig);
  EXPECT_NE(half.error().message().find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos)
      << half.error().message();
  EXPECT_EQ(half.error().message().find("AKIAHALF"), std::string::npos);

  FakeMachine f;
  f.env["HOME"] = "/h";
  f.files["/h/.aws/credentials"] = "[default]\naws_secret_access_key = only/secret\n";
  auto file_half = StaticAwsCredentials(std::nullopt, std::nullopt, f.Environment());
  ASSERT_FALSE(file_half.has_value());
  EXPECT_NE(file_half.error().message().find("has aws_secret_access_key but not "
                                             "aws_access_key_id"),
            std::string::npos)
      << file_half.error().message();
  EXPECT_EQ(file_half.error().message().find("only/secret"), std::string::npos);
}

TEST(AwsIni, SectionsKeysCommentsNestedSettingsAndBadLines) {
  auto ini = ParseAwsIni(kConfig, "config");
  ASSERT_TRUE(ini.has_value()) << ini.error().message();
  EXPECT_EQ((*ini)["profile nightly"]["region"], "us-east-2");
  EXPECT_EQ((*ini)["profile nightly"]["s3"], "");
  EXPECT_EQ((*ini)["profile nightly"].count("max_concurrent_requests"), 0u);
  EXPECT_EQ((*ini)["default"]["region"], "eu-west-1");

  auto no_section = ParseAwsIni("aws_secret_access_key = s3cret\n", "credentials");
  ASSERT_FALSE(no_section.has_value());
  EXPECT_NE(no_section.error().message().find("credentials line 1"), std::string::npos);
  EXPECT_EQ(no_section.error().message().find("s3cret"), std::string::npos);
  auto no_equals = ParseAwsIni("[default]\nwhat is this s3cret\n", "credentials");
  ASSERT_FALSE(no_equals.has_value());
  EXPECT_NE(no_equals.error().message().find("line 2"), std::string::npos);
  EXPECT_EQ(no_equals.error().message().find("s3cret"), std::string::npos);
  EXPECT_FALSE(ParseAwsIni("[default\n", "config").has_value());
}

TEST(AwsRegion, ConfigThenEnvironmentThenProfile) {
  FakeMachine m = Machine();
  auto region = [&](const std::string& configured) {
    auto r = AwsRegion(configured, m.Environment());
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : std::nullopt;
  };
  EXPECT_EQ(region(""), "eu-west-1");  // the default profile
  m.env["AWS_PROFILE"] = "nightly";
  EXPECT_EQ(region(""), "us-east-2");
  m.env["AWS_DEFAULT_REGION"] = "ap-south-1";
  EXPECT_EQ(region(""), "ap-south-1");
  m.env["AWS_REGION"] = "sa-east-1";
  EXPECT_EQ(region(""), "sa-east-1");
  EXPECT_EQ(region("eu-central-1"), "eu-central-1");
  EXPECT_EQ(AwsRegion("", FakeMachine{}.Environment()).value(), std::nullopt);
}

}  // namespace
}  // namespace rivet::net
