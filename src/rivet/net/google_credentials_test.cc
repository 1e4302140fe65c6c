#include "rivet/net/google_credentials.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rivet/net/fake_aws_machine.h"
#include "rivet/net/refreshing_cache.h"

namespace rivet::net {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kDec6 = std::chrono::sys_days(std::chrono::year(2026) / 12 / 6);
constexpr const char* kEmail = "rivet@project.iam.gserviceaccount.com";
constexpr const char* kClientSecret = "d-FL95Q19q7MQmFpd7hHD0Ty";
constexpr const char* kRefreshToken = "1//0gREFRESHTOKENxyz";
// 127.0.0.1:9 (discard): nothing listens there in the test environment.
constexpr const char* kNothingListens = "http://127.0.0.1:9/token";

// ---- test helpers: keys and JWT parts ---------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey NewRsaKey() { return Pkey(EVP_RSA_gen(2048)); }

std::string PrivatePem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The test's own base64url decoder (the code under test only encodes).
std::string Base64UrlDecode(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    EXPECT_GE(v, 0) << "not base64url: " << c;
    bits = bits << 6 | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char at) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t i = s.find(at); i != std::string::npos; i = s.find(at, from)) {
    parts.push_back(s.substr(from, i - from));
    from = i + 1;
  }
  parts.push_back(s.substr(from));
  return parts;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

GoogleServiceAccount Account(const std::string& pem) {
  return GoogleServiceAccount{kEmail, pem, "0123456789abcdef",
                              "https://oauth2.googleapis.com/token"};
}

std::string ServiceAccountJson(const std::string& pem, const std::string& token_uri = "") {
  nlohmann::json j = {{"type", "service_account"},
                      {"project_id", "project"},
                      {"private_key_id", "0123456789abcdef"},
                      {"private_key", pem},
                      {"client_email", kEmail},
                      {"client_id", "1000"}};
  if (!token_uri.empty()) j["token_uri"] = token_uri;
  return j.dump(2);
}

std::string AuthorizedUserJson(const std::string& token_uri = "") {
  nlohmann::json j = {{"type", "authorized_user"},
                      {"client_id", "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps"},
                      {"client_secret", kClientSecret},
                      {"refresh_token", kRefreshToken}};
  if (!token_uri.empty()) j["token_uri"] = token_uri;
  return j.dump();
}

void ExpectIn(const std::string& message, std::initializer_list<const char*> parts) {
  for (const char* part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
  }
}

void ExpectNotIn(const std::string& message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    EXPECT_EQ(message.find(secret), std::string::npos) << "secret in: " << message;
  }
}

// A few lines of a PEM body: enough to tell whether any key material reached a message.
std::vector<std::string> KeyLines(const std::string& pem) {
  std::vector<std::string> lines;
  for (const std::string& line : Split(pem, '\n')) {
    if (line.size() > 20 && line.find("-----") == std::string::npos) lines.push_back(line);
  }
  return lines;
}

// ---- base64url ---------------------------------------------------------------------------------

TEST(Base64UrlEncode, Rfc4648VectorsWithoutPaddingAndTheUrlAlphabet) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {"\xfb\xff", "-_8"},
      {std::string("\0\0\0", 3), "AAAA"},
      {"\xff\xff\xff", "____"}};
  for (const auto& [in, out] : cases) EXPECT_EQ(Base64UrlEncode(in), out) << in;
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(all)), all);
}

// ---- credentials files -------------------------------------------------------------------------

TEST(ParseGoogleCredentialsFile, AServiceAccountKey) {
  auto file = ParseGoogleCredentialsFile(
      ServiceAccountJson("-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
                         "https://example.test/token"),
      "/etc/rivet/sa.json");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const auto& account = std::get<GoogleServiceAccount>(*file);
  EXPECT_EQ(account.client_email, kEmail);
  EXPECT_EQ(account.private_key_id, "0123456789abcdef");
  EXPECT_EQ(account.private_key, "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n");
  EXPECT_EQ(account.token_uri, "https://example.test/token");
  auto defaulted = ParseGoogleCredentialsFile(ServiceAccountJson("pem"), "/sa.json");
  ASSERT_TRUE(defaulted.has_value());
  EXPECT_EQ(std::get<GoogleServiceAccount>(*defaulted).token_uri,
            "https://oauth2.googleapis.com/token");
}

TEST(ParseGoogleCredentialsFile, AnAuthorizedUser) {
  auto file = ParseGoogleCredentialsFile(AuthorizedUserJson(), "/home/etl/adc.json");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const auto& user = std::get<GoogleAuthorizedUser>(*file);
  EXPECT_EQ(user.client_id, "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps");
  EXPECT_EQ(user.client_secret, kClientSecret);
  EXPECT_EQ(user.refresh_token, kRefreshToken);
  EXPECT_EQ(user.token_uri, "https://oauth2.googleapis.com/token");
  auto own = ParseGoogleCredentialsFile(AuthorizedUserJson("http://127.0.0.1:1/token"), "/a");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(std::get<GoogleAuthorizedUser>(*own).token_uri, "http://127.0.0.1:1/token");
}

TEST(ParseGoogleCredentialsFile, OtherTypesAreRefusedByName) {
  for (const char* type : {"external_account", "impersonated_service_account",
                           "external_account_authorized_user", "gdch_service_account"}) {
    auto file = ParseGoogleCredentialsFile(nlohmann::json{{"type", type}}.dump(), "/wif.json");
    ASSERT_FALSE(file.has_value()) << type;
    EXPECT_EQ(file.error().code(), ErrorCode::kNotSupported);
    ExpectIn(file.error().message(), {"credentials file /wif.json has type '", type,
                                      "which Rivet does not support yet", "service account key"});
  }
}

TEST(ParseGoogleCredentialsFile, MalformedFilesNameTheFileAndTheKeyNeverTheText) {
  const std::string pem = "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIALSECRETKEYMATERIAL\n";
  auto broken = ParseGoogleCredentialsFile("{\"private_key\": \"" + pem, "/sa.json");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), ErrorCode::kConfig);
  ExpectIn(broken.error().message(), {"/sa.json", "not a JSON object"});
  ExpectNotIn(broken.error().message(), {"SECRETKEYMATERIAL"});
  for (const char* text : {"[]", "\"x\"", "", "{\"type\": 1}"}) {
    auto bad = ParseGoogleCredentialsFile(text, "/sa.json");
    ASSERT_FALSE(bad.has_value()) << text;
    EXPECT_EQ(bad.error().code(), ErrorCode::kConfig) << text;
  }
  auto no_type = ParseGoogleCredentialsFile("{}", "/x.json");
  ExpectIn(no_type.error().message(), {"/x.json", "'type'"});

  for (const char* key : {"client_email", "private_key"}) {
    nlohmann::json j = nlohmann::json::parse(ServiceAccountJson(pem));
    j.erase(key);
    auto missing = ParseGoogleCredentialsFile(j.dump(), "/sa.json");
    ASSERT_FALSE(missing.has_value()) << key;
    EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
    ExpectIn(missing.error().message(), {"/sa.json", key, "service_account"});
    ExpectNotIn(missing.error().message(), {"SECRETKEYMATERIAL"});
  }
  for (const char* key : {"client_id", "client_secret", "refresh_token"}) {
    nlohmann::json j = nlohmann::json::parse(AuthorizedUserJson());
    j[key] = "";
    auto missing = ParseGoogleCredentialsFile(j.dump(), "/adc.json");
    ASSERT_FALSE(missing.has_value()) << key;
    ExpectIn(missing.error().message(), {"/adc.json", key});
    ExpectNotIn(missing.error().message(), {kClientSecret, kRefreshToken});
  }
  nlohmann::json number = nlohmann::json::parse(ServiceAccountJson(pem));
  number["client_email"] = 7;
  ExpectIn(ParseGoogleCredentialsFile(number.dump(), "/sa.json").error().message(),
           {"'client_email' is not a string"});
  nlohmann::json uri = nlohmann::json::parse(ServiceAccountJson(pem));
  uri["token_uri"] = "file:///etc/passwd";
  ExpectIn(ParseGoogleCredentialsFile(uri.dump(), "/sa.json").error().message(), {"token_uri"});
}

// ---- the service account JWT -------------------------------------------------------------------

TEST(BuildServiceAccountJwt, SignedWithTheKeyAndCarryingTheClaimsGoogleChecks) {
  Pkey key = NewRsaKey();
  ASSERT_TRUE(key);
  const GoogleServiceAccount account = Account(PrivatePem(key.get()));
  auto jwt = BuildServiceAccountJwt(account, kDec6 + std::chrono::milliseconds(1500));
  ASSERT_TRUE(jwt.has_value()) << jwt.error().message();
  EXPECT_EQ(jwt->find_first_of("=+/ \n"), std::string::npos) << *jwt;
  const std::vector<std::string> parts = Split(*jwt, '.');
  ASSERT_EQ(parts.size(), 3u);

  const auto header = nlohmann::json::parse(Base64UrlDecode(parts[0]));
  EXPECT_EQ(header,
            (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "0123456789abcdef"}}));
  const auto claims = nlohmann::json::parse(Base64UrlDecode(parts[1]));
  const int64_t iat = 1796515201;  // 2026-12-06T00:00:01.5Z in whole seconds
  EXPECT_EQ(claims,
            (nlohmann::json{{"iss", kEmail},
                            {"scope", "https://www.googleapis.com/auth/devstorage.read_write"},
                            {"aud", "https://oauth2.googleapis.com/token"},
                            {"iat", iat},
                            {"exp", iat + 3600}}));

  const std::string signature = Base64UrlDecode(parts[2]);
  EXPECT_EQ(signature.size(), 256u);  // RSA 2048
  EXPECT_TRUE(VerifyRs256(key.get(), parts[0] + "." + parts[1], signature));
  EXPECT_FALSE(VerifyRs256(key.get(), parts[0] + "." + parts[1] + "x", signature));
  Pkey other = NewRsaKey();
  EXPECT_FALSE(VerifyRs256(other.get(), parts[0] + "." + parts[1], signature));
}

TEST(BuildServiceAccountJwt, NoKidWithoutAKeyId) {
  Pkey key = NewRsaKey();
  GoogleServiceAccount account = Account(PrivatePem(key.get()));
  account.private_key_id.clear();
  auto jwt = BuildServiceAccountJwt(account, kDec6);
  ASSERT_TRUE(jwt.has_value());
  EXPECT_EQ(nlohmann::json::parse(Base64UrlDecode(Split(*jwt, '.')[0])),
            (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}}));
}

TEST(BuildServiceAccountJwt, AKeyThatIsNotAnRsaPrivateKeyIsAConfigErrorWithoutTheKey) {
  Pkey key = NewRsaKey();
  std::string pem = PrivatePem(key.get());
  const std::vector<std::string> lines = KeyLines(pem);
  pem.erase(pem.size() / 2, 40);  // a damaged key
  Pkey ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  for (const std::string& bad : {pem, std::string("not a key"), PrivatePem(ec.get())}) {
    auto jwt = BuildServiceAccountJwt(Account(bad), kDec6);
    ASSERT_FALSE(jwt.has_value());
    EXPECT_EQ(jwt.error().code(), ErrorCode::kConfig);
    ExpectIn(jwt.error().message(), {kEmail, "private_key"});
    ExpectNotIn(jwt.error().message(), lines);
    ExpectNotIn(jwt.error().message(), KeyLines(bad));
  }
}

// ---- token requests and answers ----------------------------------------------------------------

TEST(TokenRequestBodies, FormEncoded) {
  EXPECT_EQ(
      ServiceAccountTokenRequestBody("aa.bb-_.cc"),
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aa.bb-_.cc");
  GoogleAuthorizedUser user{"id.apps", "s/e+c=r&t", "1//r t", "https://x"};
  EXPECT_EQ(AuthorizedUserTokenRequestBody(user),
            "grant_type=refresh_token&client_id=id.apps&client_secret=s%2Fe%2Bc%3Dr%26t&"
            "refresh_token=1%2F%2Fr%20t");
}

constexpr const char* kIdentity = "service account rivet@p (credentials_file /sa.json)";
constexpr const char* kWhere = "the token endpoint https://oauth2.googleapis.com/token";

TEST(ParseGoogleTokenResponse, TheAccessTokenAndWhenItExpires) {
  auto token = ParseGoogleTokenResponse(
      200, R"({"access_token":"ya29.abc","expires_in":3599,"token_type":"Bearer"})", kIdentity,
      kWhere, kDec6);
  ASSERT_TRUE(token.has_value()) << token.error().message();
  EXPECT_EQ(token->token, "ya29.abc");
  EXPECT_EQ(token->expiration, kDec6 + seconds(3599));
  auto text = ParseGoogleTokenResponse(200, R"({"access_token":"t","expires_in":"60"})", kIdentity,
                                       kWhere, kDec6);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->expiration, kDec6 + seconds(60));
}

TEST(ParseGoogleTokenResponse, AnswersWithoutAUsableTokenAreCorrupt) {
  for (const char* body :
       {"", "[]", "{}", R"({"access_token":"","expires_in":10})", R"({"access_token":"t"})",
        R"({"access_token":"t","expires_in":0})", R"({"access_token":"t","expires_in":-5})",
        R"({"access_token":"t","expires_in":"1h"})",
        R"({"access_token":"ya29.secret","expires_in":10,"token_type":"MAC"})"}) {
    auto token = ParseGoogleTokenResponse(200, body, kIdentity, kWhere, kDec6);
    ASSERT_FALSE(token.has_value()) << body;
    EXPECT_EQ(token.error().code(), ErrorCode::kCorrupt) << body;
    ExpectIn(token.error().message(), {kIdentity});
    ExpectNotIn(token.error().message(), {"ya29.secret"});
  }
}

TEST(ParseGoogleTokenResponse, ErrorAnswersNameTheIdentityAndTheDescription) {
  auto refused = ParseGoogleTokenResponse(
      400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})", kIdentity,
      kWhere, kDec6);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(refused.error().message(),
            std::string(kIdentity) + ": " + kWhere +
                " answered HTTP 400 invalid_grant: Invalid JWT Signature.");
  auto client =
      ParseGoogleTokenResponse(401, R"({"error":"invalid_client"})", kIdentity, kWhere, kDec6);
  EXPECT_EQ(client.error().code(), ErrorCode::kAuth);
  ExpectIn(client.error().message(), {"HTTP 401 invalid_client"});
  auto busy = ParseGoogleTokenResponse(503, "<html>down\n</html>", kIdentity, kWhere, kDec6);
  EXPECT_TRUE(IsRetryable(busy.error().code()));
  ExpectIn(busy.error().message(), {"HTTP 503: <html>down </html>"});
  EXPECT_TRUE(
      IsRetryable(ParseGoogleTokenResponse(429, "{}", kIdentity, kWhere, kDec6).error().code()));
  EXPECT_TRUE(
      IsRetryable(ParseGoogleTokenResponse(500, "{}", kIdentity, kWhere, kDec6).error().code()));
}

// ---- where the chain looks ---------------------------------------------------------------------

FakeAwsMachine Machine() {
  FakeAwsMachine m;
  m.env["HOME"] = "/home/etl";
  m.env["METADATA_SERVER_DETECTION"] = "none";  // never reach for metadata.google.internal here
  return m;
}

constexpr const char* kHomeAdc = "/home/etl/.config/gcloud/application_default_credentials.json";

TEST(FindGoogleCredentialsFile, TheOrderOfGooglesLibraries) {
  FakeAwsMachine m = Machine();
  GoogleCredentialOptions options;
  auto none = FindGoogleCredentialsFile(options, m.Environment());
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  m.files[kHomeAdc] = "home adc";
  auto home = FindGoogleCredentialsFile(options, m.Environment());
  ASSERT_TRUE(home.has_value() && home->has_value());
  EXPECT_EQ((*home)->path, kHomeAdc);
  EXPECT_EQ((*home)->origin, "application default credentials");
  EXPECT_EQ((*home)->text, "home adc");

  m.env["CLOUDSDK_CONFIG"] = "/etc/gcloud";  // its folder replaces ~/.config/gcloud
  EXPECT_FALSE(FindGoogleCredentialsFile(options, m.Environment())->has_value());
  m.files["/etc/gcloud/application_default_credentials.json"] = "sdk adc";
  EXPECT_EQ((*FindGoogleCredentialsFile(options, m.Environment()))->text, "sdk adc");

  m.env["GOOGLE_APPLICATION_CREDENTIALS"] = "/var/gac.json";
  m.files["/var/gac.json"] = "gac";
  auto variable = FindGoogleCredentialsFile(options, m.Environment());
  EXPECT_EQ((*variable)->origin, "GOOGLE_APPLICATION_CREDENTIALS");
  EXPECT_EQ((*variable)->text, "gac");

  options.credentials_file = "/etc/rivet/sa.json";
  m.files["/etc/rivet/sa.json"] = "configured";
  auto configured = FindGoogleCredentialsFile(options, m.Environment());
  EXPECT_EQ((*configured)->origin, "credentials_file");
  EXPECT_EQ((*configured)->path, "/etc/rivet/sa.json");
  EXPECT_EQ((*configured)->text, "configured");
}

TEST(FindGoogleCredentialsFile, ANamedFileThatIsMissingIsTheErrorNotTheNextSource) {
  FakeAwsMachine m = Machine();
  m.files[kHomeAdc] = "home adc";
  m.env["GOOGLE_APPLICATION_CREDENTIALS"] = "/missing.json";
  auto variable = FindGoogleCredentialsFile({}, m.Environment());
  ASSERT_FALSE(variable.has_value());
  EXPECT_EQ(variable.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(variable.error().message(),
            "GOOGLE_APPLICATION_CREDENTIALS /missing.json does not exist");
  GoogleCredentialOptions options;
  options.credentials_file = "/unreadable";
  auto configured = FindGoogleCredentialsFile(options, m.Environment());
  ASSERT_FALSE(configured.has_value());
  ExpectIn(configured.error().message(), {"credentials_file /unreadable"});
  m.env["GOOGLE_APPLICATION_CREDENTIALS"] = "";  // empty: not set
  EXPECT_EQ((*FindGoogleCredentialsFile({}, m.Environment()))->path, kHomeAdc);
}

TEST(GoogleMetadataHost, TheVariableTheDefaultAndOff) {
  FakeAwsMachine m;
  EXPECT_EQ(GoogleMetadataHost(m.Environment()), "metadata.google.internal");
  m.env["GCE_METADATA_HOST"] = "127.0.0.1:8080";
  EXPECT_EQ(GoogleMetadataHost(m.Environment()), "127.0.0.1:8080");
  m.env["METADATA_SERVER_DETECTION"] = "none";
  EXPECT_EQ(GoogleMetadataHost(m.Environment()), std::nullopt);
}

// ---- the chain, without a token endpoint -------------------------------------------------------

TEST(GoogleCredentialChain, AnonymousAsksNothing) {
  FakeAwsMachine m = Machine();
  m.env["GOOGLE_APPLICATION_CREDENTIALS"] = "/missing.json";  // not even read
  GoogleCredentialOptions options;
  options.allow_anonymous = true;
  auto provider = MakeGoogleTokenProvider(options, m.Environment());
  ASSERT_TRUE(provider.has_value()) << provider.error().message();
  EXPECT_EQ((*provider)->Identity(), "anonymous");
  EXPECT_EQ(*(*provider)->Token(), "");
}

TEST(GoogleCredentialChain, NoSourceIsAnAuthErrorNamingEachSourceAndTheFix) {
  FakeAwsMachine m = Machine();
  auto none = MakeGoogleTokenProvider({}, m.Environment());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kAuth);
  const std::string& message = none.error().message();
  size_t at = 0;
  for (const char* part :
       {"no Google credentials found", "credentials_file", "GOOGLE_APPLICATION_CREDENTIALS",
        kHomeAdc, "metadata server (turned off by METADATA_SERVER_DETECTION=none)",
        "gcloud auth application-default login", "allow_anonymous"}) {
    const size_t found = message.find(part, at);
    EXPECT_NE(found, std::string::npos) << part << " in order in: " << message;
    if (found != std::string::npos) at = found;
  }
}

TEST(GoogleCredentialChain, AMetadataServerThatDoesNotAnswerEndsInNoCredentialsQuickly) {
  FakeAwsMachine m = Machine();
  m.env.erase("METADATA_SERVER_DETECTION");
  m.env["GCE_METADATA_HOST"] = "127.0.0.1:9";
  const auto start = std::chrono::steady_clock::now();
  auto none = MakeGoogleTokenProvider({}, m.Environment());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kAuth);
  ExpectIn(none.error().message(),
           {"no Google credentials found", "the metadata server 127.0.0.1:9"});
}

TEST(GoogleCredentialChain, AConfiguredFileThatFailsIsTheChainsError) {
  FakeAwsMachine m = Machine();
  m.files[kHomeAdc] = AuthorizedUserJson();  // never reached
  m.env["GOOGLE_APPLICATION_CREDENTIALS"] = "/wif.json";
  m.files["/wif.json"] = R"({"type": "external_account", "audience": "x"})";
  auto external = MakeGoogleTokenProvider({}, m.Environment());
  ASSERT_FALSE(external.has_value());
  EXPECT_EQ(external.error().code(), ErrorCode::kNotSupported);
  ExpectIn(external.error().message(), {"/wif.json", "external_account"});

  m.files["/wif.json"] = "{";
  auto broken = MakeGoogleTokenProvider({}, m.Environment());
  EXPECT_EQ(broken.error().code(), ErrorCode::kConfig);
}

TEST(GoogleCredentialChain, AnUnreachableTokenEndpointNamesTheIdentityNeverASecret) {
  Pkey key = NewRsaKey();
  const std::string pem = PrivatePem(key.get());
  FakeAwsMachine m = Machine();
  m.files["/sa.json"] = ServiceAccountJson(pem, kNothingListens);
  GoogleCredentialOptions options;
  options.credentials_file = "/sa.json";
  auto account = MakeGoogleTokenProvider(options, m.Environment());
  ASSERT_FALSE(account.has_value());
  EXPECT_TRUE(IsRetryable(account.error().code())) << account.error().message();
  ExpectIn(account.error().message(),
           {"service account rivet@project.iam.gserviceaccount.com (credentials_file /sa.json)",
            "the token endpoint http://127.0.0.1:9/token"});
  ExpectNotIn(account.error().message(), KeyLines(pem));
  ExpectNotIn(account.error().message(), {"eyJ"});  // no part of an assertion

  m.files[kHomeAdc] = AuthorizedUserJson(kNothingListens);
  auto user = MakeGoogleTokenProvider({}, m.Environment());
  ASSERT_FALSE(user.has_value());
  ExpectIn(user.error().message(), {"authorized user (application default credentials ", kHomeAdc});
  ExpectNotIn(user.error().message(), {kClientSecret, kRefreshToken, "0gREFRESH"});
}

// ---- the refresh rule of Google tokens ---------------------------------------------------------

// Google tokens in a RefreshingCache with the provider's policy: a clock that moves only when
// told, and a fetch that counts.
struct FakeTokens {
  SystemTime now = kDec6;
  int fetches = 0;
  std::optional<Status> fail;
  SystemTime::duration lifetime = minutes(60);
  RefreshingCache<GoogleAccessToken> cache{
      "access token",
      "service account x",
      [this]() -> Result<GoogleAccessToken> {
        ++fetches;
        if (fail) return *fail;
        return GoogleAccessToken{"ya29." + std::to_string(fetches), now + lifetime};
      },
      [](const GoogleAccessToken& t) { return std::optional<SystemTime>(t.expiration); },
      [this] { return now; },
      RefreshPolicy{kGoogleRefreshBeforeExpiry, kGoogleUsableAfterFailedRefresh,
                    kGoogleRefreshRetryAfter, /*half_life_for_short_lived=*/true}};

  std::string Token() {
    Result<GoogleAccessToken> t = cache.Get();
    EXPECT_TRUE(t.has_value()) << t.error().message();
    return t.has_value() ? t->token : "";
  }
};

TEST(GoogleTokenRefresh, AnHourTokenIsReusedUntilFiveMinutesRemain) {
  FakeTokens tokens;
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.now += minutes(54);
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.now += minutes(2);
  EXPECT_EQ(tokens.Token(), "ya29.2");
  EXPECT_EQ(tokens.fetches, 2);
}

TEST(GoogleTokenRefresh, AShortTokenIsReusedForHalfItsLife) {
  FakeTokens tokens;
  tokens.lifetime = seconds(60);
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.now += seconds(29);
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.now += seconds(2);
  EXPECT_EQ(tokens.Token(), "ya29.2");
  tokens.lifetime = minutes(9);  // still under twice the margin: 4.5 minutes
  tokens.now += minutes(5);
  EXPECT_EQ(tokens.Token(), "ya29.3");
  tokens.now += minutes(4);
  EXPECT_EQ(tokens.Token(), "ya29.3");
  tokens.now += minutes(1);
  EXPECT_EQ(tokens.Token(), "ya29.4");
}

TEST(GoogleTokenRefresh, AFailedRefreshKeepsATokenThatStillWorks) {
  FakeTokens tokens;
  tokens.lifetime = seconds(100);
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.fail = Error(ErrorCode::kNetwork, "the token endpoint is down");
  tokens.now += seconds(60);  // past half its life, 40 s left: kept
  EXPECT_EQ(tokens.Token(), "ya29.1");
  tokens.now += seconds(35);  // 5 s left, under a tenth of its life: the failure is the answer
  Result<GoogleAccessToken> t = tokens.cache.Get();
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message(), "the token endpoint is down");
  tokens.fail.reset();
  EXPECT_EQ(tokens.Token(), "ya29.4");
}

}  // namespace
}  // namespace rivet::net
