#include "rivet/net/aws_remote_credentials.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rivet/net/fake_aws_machine.h"

namespace rivet::net {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::sys_days;

// The secrets of these tests: none may ever appear in a message.
constexpr const char* kKey = "ASIAKEYKEYKEY";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET";
constexpr const char* kSessionToken = "FwoGZXIvYXdzSESSIONTOKEN";
constexpr const char* kWebToken = "eyJhbGciOiJSUzI1NiJ9.WEBIDENTITYTOKEN";

void ExpectNoSecret(const Status& status) {
  for (const char* secret : {kKey, kSecret, kSessionToken, kWebToken}) {
    EXPECT_EQ(status.message().find(secret), std::string::npos)
        << "secret in: " << status.message();
  }
}

const SystemTime kDec6 = sys_days(std::chrono::year(2026) / 12 / 6);

TEST(ParseIso8601, TheFormsAwsAnswers) {
  EXPECT_EQ(ParseIso8601("2026-12-06T10:00:00Z"), kDec6 + hours(10));
  EXPECT_EQ(ParseIso8601("2026-12-06t10:00:00z"), kDec6 + hours(10));
  EXPECT_EQ(ParseIso8601("2026-12-06T10:00:00.5Z"), kDec6 + hours(10) + milliseconds(500));
  EXPECT_EQ(ParseIso8601("2026-12-06T10:00:00.123456789123Z"),
            kDec6 + hours(10) + std::chrono::nanoseconds(123456789));
  EXPECT_EQ(ParseIso8601("2026-12-06T12:30:00+02:30"), kDec6 + hours(10));
  EXPECT_EQ(ParseIso8601("2026-12-06T05:00:00-05:00"), kDec6 + hours(10));
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z"), SystemTime());
  EXPECT_EQ(ParseIso8601("2028-02-29T00:00:00Z"), sys_days(std::chrono::year(2028) / 2 / 29));
}

TEST(ParseIso8601, AnythingElseIsNothing) {
  for (const char* bad :
       {"", "2026-12-06", "2026-12-06T10:00:00", "2026-12-06 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-12-32T00:00:00Z", "2026-12-06T24:00:00Z",
        "2026-12-06T10:60:00Z", "2026-12-06T10:00:61Z", "2026-12-06T10:00:00.Z",
        "2026-12-06T10:00:00Zjunk", "2026-12-06T10:00:00+02", "2026-12-06T10:00:00+0200",
        "2026-12-06T10:00:00+24:00", "+026-12-06T10:00:00Z", "2026-1a-06T10:00:00Z",
        "1796551200"}) {
    EXPECT_EQ(ParseIso8601(bad), std::nullopt) << bad;
  }
  const std::string whole = "2026-12-06T10:00:00.250+01:00";
  for (size_t n = 0; n < whole.size(); ++n) {
    EXPECT_EQ(ParseIso8601(whole.substr(0, n)), std::nullopt) << whole.substr(0, n);
  }
}

// ---- web identity -----------------------------------------------------------------------------

FakeAwsMachine WebIdentityMachine() {
  FakeAwsMachine m;
  m.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/var/run/secrets/eks/token";
  m.env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/exporter";
  m.files["/var/run/secrets/eks/token"] = std::string(kWebToken) + "\n";
  return m;
}

TEST(WebIdentitySettings, FromTheEnvironment) {
  FakeAwsMachine m = WebIdentityMachine();
  auto s = WebIdentitySettingsFrom(m.Environment(), kDec6 + hours(10));
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->role_arn, "arn:aws:iam::123456789012:role/exporter");
  EXPECT_EQ((*s)->token_file, "/var/run/secrets/eks/token");
  EXPECT_EQ((*s)->session_name, "rivet-1796551200");
  EXPECT_EQ((*s)->endpoint, "https://sts.amazonaws.com");
  EXPECT_EQ((*s)->origin, "AWS_WEB_IDENTITY_TOKEN_FILE");

  m.env["AWS_ROLE_SESSION_NAME"] = "nightly";
  m.env["AWS_REGION"] = "eu-west-1";
  s = WebIdentitySettingsFrom(m.Environment(), kDec6);
  ASSERT_TRUE(s.has_value() && s->has_value());
  EXPECT_EQ((*s)->session_name, "nightly");
  EXPECT_EQ((*s)->endpoint, "https://sts.eu-west-1.amazonaws.com");

  m.env["AWS_REGION"] = "cn-north-1";
  EXPECT_EQ(StsEndpoint(m.Environment()).value(), "https://sts.cn-north-1.amazonaws.com.cn");
  m.env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566/";
  EXPECT_EQ(StsEndpoint(m.Environment()).value(), "http://127.0.0.1:4566");
  m.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:5000";
  EXPECT_EQ(StsEndpoint(m.Environment()).value(), "http://127.0.0.1:5000");
  m.env["AWS_ENDPOINT_URL_STS"] = "";
  EXPECT_EQ(StsEndpoint(m.Environment()).value(), "http://127.0.0.1:4566");
  m.env["AWS_ENDPOINT_URL"] = "";
  m.env["AWS_REGION"] = "eu-west-1/../x";
  EXPECT_EQ(StsEndpoint(m.Environment()).error().code(), ErrorCode::kConfig);
}

TEST(WebIdentitySettings, FromTheProfileOfTheConfigFile) {
  FakeAwsMachine m;
  m.env["HOME"] = "/home/etl";
  m.env["AWS_PROFILE"] = "eks";
  m.files["/home/etl/.aws/config"] =
      "[profile eks]\nregion = us-east-2\nweb_identity_token_file = ~/token\n"
      "role_arn = arn:aws:iam::1:role/r\nrole_session_name = from-profile\n"
      "[profile broken]\nweb_identity_token_file = /t\n";
  auto s = WebIdentitySettingsFrom(m.Environment(), kDec6);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->token_file, "/home/etl/token");
  EXPECT_EQ((*s)->role_arn, "arn:aws:iam::1:role/r");
  EXPECT_EQ((*s)->session_name, "from-profile");
  EXPECT_EQ((*s)->endpoint, "https://sts.us-east-2.amazonaws.com");
  EXPECT_EQ((*s)->origin, "profile 'eks' of the shared config file");

  m.env["AWS_PROFILE"] = "broken";
  s = WebIdentitySettingsFrom(m.Environment(), kDec6);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kConfig);
  EXPECT_NE(s.error().message().find("role_arn"), std::string::npos) << s.error().message();

  m.env["AWS_PROFILE"] = "absent";
  s = WebIdentitySettingsFrom(m.Environment(), kDec6);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->has_value());
  EXPECT_FALSE(WebIdentitySettingsFrom(FakeAwsMachine().Environment(), kDec6).value());
}

TEST(WebIdentitySettings, ATokenFileWithoutARoleIsAConfigError) {
  FakeAwsMachine m = WebIdentityMachine();
  m.env.erase("AWS_ROLE_ARN");
  auto s = WebIdentitySettingsFrom(m.Environment(), kDec6);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kConfig);
  EXPECT_NE(s.error().message().find("AWS_ROLE_ARN"), std::string::npos);
  // A role ARN alone is something else's setting: not web identity.
  m = WebIdentityMachine();
  m.env.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  EXPECT_FALSE(WebIdentitySettingsFrom(m.Environment(), kDec6).value());
}

WebIdentitySettings Settings() {
  return {"arn:aws:iam::123456789012:role/exporter", "/var/run/secrets/eks/token", "rivet-1",
          "http://127.0.0.1:9", "AWS_WEB_IDENTITY_TOKEN_FILE"};
}

TEST(WebIdentity, TheRequestBodyIsFormEncoded) {
  EXPECT_EQ(AssumeRoleWithWebIdentityBody(Settings(), "a+b/c=d e"),
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fexporter"
            "&RoleSessionName=rivet-1&WebIdentityToken=a%2Bb%2Fc%3Dd%20e");
}

std::string StsAnswer(const std::string& expiration) {
  return std::string(
             R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:etl:rivet</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/exporter/rivet-1</Arn></AssumedRoleUser>
    <Credentials>
      <SessionToken>)") +
         kSessionToken + "</SessionToken>\n      <SecretAccessKey>" + kSecret +
         "</SecretAccessKey>\n      <Expiration>" + expiration +
         "</Expiration>\n      <AccessKeyId>" + kKey + R"(</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";
}

std::string StsError(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
         "<Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message +
         "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
}

TEST(WebIdentity, TheCredentialsOfStsAnswer) {
  auto c =
      ParseAssumeRoleWithWebIdentityResponse(200, StsAnswer("2026-12-06T10:00:00Z"), Settings());
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(*c, (AwsCredentials{kKey, kSecret, kSessionToken, "web identity", kDec6 + hours(10)}));
}

TEST(WebIdentity, StsErrorsAreClassifiedAndNameTheRoleAndTheFile) {
  struct Case {
    long status;
    std::string body;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {400, StsError("InvalidIdentityToken", "Incorrect token audience"), ErrorCode::kAuth},
      {403, StsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
       ErrorCode::kAuth},
      {400, StsError("ExpiredTokenException", "Token expired: current date/time 1 &gt; 0"),
       ErrorCode::kAuth},
      {400, StsError("IDPCommunicationError", "try again"), ErrorCode::kNetwork},
      {400, StsError("Throttling", "Rate exceeded"), ErrorCode::kCapacity},
      {503, "", ErrorCode::kCapacity},
      {500, "<html>oops</html>", ErrorCode::kNetwork},
      {400, StsError("ValidationError", "1 validation error"), ErrorCode::kConfig},
  };
  for (const Case& c : cases) {
    auto r = ParseAssumeRoleWithWebIdentityResponse(c.status, c.body, Settings());
    ASSERT_FALSE(r.has_value()) << c.body;
    EXPECT_EQ(r.error().code(), c.code) << r.error().message();
    const std::string& m = r.error().message();
    EXPECT_NE(m.find("arn:aws:iam::123456789012:role/exporter"), std::string::npos) << m;
    EXPECT_NE(m.find("/var/run/secrets/eks/token"), std::string::npos) << m;
    EXPECT_NE(m.find("HTTP " + std::to_string(c.status)), std::string::npos) << m;
  }
  auto r = ParseAssumeRoleWithWebIdentityResponse(
      400, StsError("InvalidIdentityToken", "Couldn't\nverify &amp; check"), Settings());
  EXPECT_NE(r.error().message().find("InvalidIdentityToken: Couldn't verify & check"),
            std::string::npos)
      << r.error().message();
}

TEST(WebIdentity, AnAnswerWithoutCredentialsIsCorrupt) {
  const std::string good = StsAnswer("2026-12-06T10:00:00Z");
  std::vector<std::string> bodies = {"",
                                     "not xml",
                                     "<AssumeRoleWithWebIdentityResponse/>",
                                     StsAnswer("tomorrow"),
                                     StsAnswer(""),
                                     good.substr(0, good.find("</AccessKeyId>"))};
  for (const char* field : {"<SessionToken>", "<SecretAccessKey>", "<AccessKeyId>"}) {
    std::string body = good;
    body.replace(body.find(field), std::string(field).size(), "<Other>");
    bodies.push_back(body);
  }
  for (const std::string& body : bodies) {
    auto r = ParseAssumeRoleWithWebIdentityResponse(200, body, Settings());
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << r.error().message();
    ExpectNoSecret(r.error());
  }
}

TEST(WebIdentity, FetchErrorsNeverCarryTheToken) {
  FakeAwsMachine m = WebIdentityMachine();
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  const AwsFetchRetry once{1, milliseconds(0)};
  // Nothing listens on 127.0.0.1:9: the request fails; the message names the role, not the
  // token that was in its body.
  auto refused = FetchWebIdentityCredentials(*client, Settings(), m.Environment(), once);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNetwork) << refused.error().message();
  EXPECT_NE(refused.error().message().find("role/exporter"), std::string::npos);
  ExpectNoSecret(refused.error());

  m.files.erase("/var/run/secrets/eks/token");
  auto missing = FetchWebIdentityCredentials(*client, Settings(), m.Environment(), once);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_NE(missing.error().message().find("/var/run/secrets/eks/token"), std::string::npos);

  m.files["/var/run/secrets/eks/token"] = " \n";
  auto empty = FetchWebIdentityCredentials(*client, Settings(), m.Environment(), once);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kConfig);
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
}

// ---- the container endpoint -------------------------------------------------------------------

Result<std::optional<ContainerSettings>> Container(const std::string& variable,
                                                   const std::string& value) {
  FakeAwsMachine m;
  m.env[variable] = value;
  return ContainerSettingsFrom(m.Environment());
}

TEST(ContainerSettings, TheRelativeUriGoesToTheEcsAgent) {
  auto s = Container("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  ASSERT_TRUE(s.has_value() && s->has_value());
  EXPECT_EQ((*s)->url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ((*s)->origin, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  s = Container("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x");
  EXPECT_EQ((*s)->url, "http://169.254.170.2/v2/x");
  FakeAwsMachine m;
  m.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/rel";
  m.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/full";
  EXPECT_EQ(ContainerSettingsFrom(m.Environment()).value()->url, "http://169.254.170.2/rel");
  EXPECT_FALSE(ContainerSettingsFrom(FakeAwsMachine().Environment()).value());
}

TEST(ContainerSettings, AFullUriIsHttpsOrLoopback) {
  for (const char* allowed :
       {"https://creds.example.com/v1", "http://127.0.0.1:51679/creds", "http://127.1.2.3/x",
        "http://localhost:8080/creds", "HTTP://LOCALHOST/creds", "http://[::1]:80/creds",
        "http://169.254.170.2/v1", "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials", "http://user@127.0.0.1/x"}) {
    auto s = Container("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed);
    ASSERT_TRUE(s.has_value()) << allowed << ": " << s.error().message();
    ASSERT_TRUE(s->has_value());
    EXPECT_EQ((*s)->url, allowed);
    EXPECT_EQ((*s)->origin, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  }
  for (const char* refused :
       {"http://example.com/creds", "http://10.0.0.1/creds", "http://127.0.0.1.evil.com/x",
        "http://127.0.0.256/x", "http://128.0.0.1/x", "http://169.254.169.254/x",
        "http://127.0.0.1@evil.com/x", "ftp://127.0.0.1/x", "127.0.0.1/x"}) {
    auto s = Container("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused);
    ASSERT_FALSE(s.has_value()) << refused;
    EXPECT_EQ(s.error().code(), ErrorCode::kConfig);
    EXPECT_NE(s.error().message().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
  }
  auto s = Container("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com:80/creds");
  EXPECT_NE(s.error().message().find("'example.com'"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("https"), std::string::npos);
}

std::string JsonCredentials(const std::string& extra, const std::string& expiration) {
  return std::string("{") + extra + R"("AccessKeyId": ")" + kKey + R"(", "SecretAccessKey": ")" +
         kSecret + R"(", "Token": ")" + kSessionToken + R"(", "Expiration": ")" + expiration +
         R"(", "RoleArn": "arn:aws:iam::1:role/task"})";
}

const ContainerSettings kContainer{"http://127.0.0.1:9/creds?id=1",
                                   "AWS_CONTAINER_CREDENTIALS_FULL_URI"};

TEST(Container, TheJsonCredentials) {
  auto c = ParseContainerCredentials(200, JsonCredentials("", "2026-12-06T10:00:00Z"), kContainer);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(*c, (AwsCredentials{kKey, kSecret, kSessionToken, "ECS container endpoint",
                                kDec6 + hours(10)}));
}

TEST(Container, ErrorsAreClassifiedWithoutSecrets) {
  auto denied = ParseContainerCredentials(401, R"({"code":"x","message":"no"})", kContainer);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code(), ErrorCode::kAuth);
  EXPECT_NE(denied.error().message().find("http://127.0.0.1:9/creds ("), std::string::npos)
      << denied.error().message();
  EXPECT_EQ(denied.error().message().find("id=1"), std::string::npos);  // no query
  EXPECT_EQ(ParseContainerCredentials(500, "", kContainer).error().code(), ErrorCode::kNetwork);
  EXPECT_EQ(ParseContainerCredentials(429, "", kContainer).error().code(), ErrorCode::kCapacity);

  const std::string good = JsonCredentials("", "2026-12-06T10:00:00Z");
  std::vector<std::string> bodies = {"",
                                     "[]",
                                     "null",
                                     good.substr(0, good.size() - 2),
                                     JsonCredentials("", "soon"),
                                     R"({"AccessKeyId": 1, "SecretAccessKey": "s", "Token": "t"})"};
  for (const char* field : {"\"AccessKeyId\"", "\"SecretAccessKey\"", "\"Token\""}) {
    std::string body = good;
    body.replace(body.find(field), std::string(field).size(), "\"Other\"");
    bodies.push_back(body);
  }
  for (const std::string& body : bodies) {
    auto r = ParseContainerCredentials(200, body, kContainer);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << r.error().message();
    ExpectNoSecret(r.error());
  }
}

TEST(Container, TheAuthorizationTokenIsCheckedAndNeverQuoted) {
  auto client = HttpClient::Create();
  ASSERT_TRUE(client.has_value());
  const AwsFetchRetry once{1, milliseconds(0)};
  FakeAwsMachine m;
  m.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = kWebToken;
  auto refused = FetchContainerCredentials(*client, kContainer, m.Environment(), once);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kNetwork);
  ExpectNoSecret(refused.error());

  m.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kWebToken) + "\r\nX-Injected: 1";
  auto injected = FetchContainerCredentials(*client, kContainer, m.Environment(), once);
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(injected.error().code(), ErrorCode::kConfig);
  EXPECT_NE(injected.error().message().find("line break"), std::string::npos);
  ExpectNoSecret(injected.error());

  m.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = "/var/run/token";  // beats the variable
  auto missing = FetchContainerCredentials(*client, kContainer, m.Environment(), once);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_NE(missing.error().message().find("/var/run/token"), std::string::npos);
}

// ---- instance metadata ------------------------------------------------------------------------

TEST(ImdsSettings, TheEndpointAndItsSwitch) {
  FakeAwsMachine m;
  EXPECT_EQ(ImdsSettingsFrom(m.Environment())->endpoint, "http://169.254.169.254");
  m.env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = "IPv6";
  EXPECT_EQ(ImdsSettingsFrom(m.Environment())->endpoint, "http://[fd00:ec2::254]");
  m.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:1338/";
  EXPECT_EQ(ImdsSettingsFrom(m.Environment())->endpoint, "http://127.0.0.1:1338");
  m.env["AWS_EC2_METADATA_DISABLED"] = "false";
  EXPECT_TRUE(ImdsSettingsFrom(m.Environment()).has_value());
  m.env["AWS_EC2_METADATA_DISABLED"] = "true";
  EXPECT_FALSE(ImdsSettingsFrom(m.Environment()).has_value());
  m.env["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  EXPECT_FALSE(ImdsSettingsFrom(m.Environment()).has_value());
}

TEST(Imds, TheRoleCredentials) {
  const ImdsSettings settings{"http://127.0.0.1:9"};
  auto c = ParseImdsCredentials(
      200,
      JsonCredentials(
          R"("Code": "Success", "LastUpdated": "2026-12-06T04:00:00Z", "Type": "AWS-HMAC", )",
          "2026-12-06T10:00:00Z"),
      settings);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(*c, (AwsCredentials{kKey, kSecret, kSessionToken, "EC2 instance metadata",
                                kDec6 + hours(10)}));
  auto failed = ParseImdsCredentials(200, JsonCredentials(R"("Code": "Failure", )", "x"), settings);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kAuth);
  EXPECT_NE(failed.error().message().find("Failure"), std::string::npos);
  ExpectNoSecret(failed.error());
  auto unauthorized = ParseImdsCredentials(401, "", settings);
  EXPECT_EQ(unauthorized.error().code(), ErrorCode::kAuth);
  EXPECT_NE(unauthorized.error().message().find("http://127.0.0.1:9"), std::string::npos);
}

TEST(Imds, NothingListeningIsANetworkErrorNamingTheEndpoint) {
  HttpOptions options = ImdsHttpOptions();
  auto client = HttpClient::Create(options);
  ASSERT_TRUE(client.has_value());
  const auto start = std::chrono::steady_clock::now();
  auto r = FetchImdsCredentials(*client, ImdsSettings{"http://127.0.0.1:9"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNetwork) << r.error().message();
  EXPECT_NE(r.error().message().find("EC2 instance metadata at http://127.0.0.1:9"),
            std::string::npos)
      << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HttpOptionsOfTheSources, LocalEndpointsAreQuickAndDirect) {
  EXPECT_LE(ImdsHttpOptions().connect_timeout_s, 1);
  EXPECT_GT(ImdsHttpOptions().total_timeout_ms, 0);
  EXPECT_LE(ImdsHttpOptions().total_timeout_ms, 5'000);
  EXPECT_TRUE(ImdsHttpOptions().bypass_proxy);
  EXPECT_TRUE(ContainerHttpOptions().bypass_proxy);
  EXPECT_FALSE(StsHttpOptions().bypass_proxy);  // a public endpoint: the proxy applies
  EXPECT_GT(StsHttpOptions().total_timeout_ms, 0);
}

}  // namespace
}  // namespace rivet::net
