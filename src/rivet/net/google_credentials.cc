#include "rivet/net/google_credentials.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "rivet/common/secrets.h"
#include "rivet/net/http_client.h"
#include "rivet/net/http_errors.h"
#include "rivet/net/refreshing_cache.h"
#include "rivet/net/sigv4.h"

namespace rivet::net {

namespace {

using std::chrono::system_clock;

constexpr const char* kAdcFileName = "application_default_credentials.json";
constexpr const char* kDefaultMetadataHost = "metadata.google.internal";
constexpr const char* kMetadataAccount = "/computeMetadata/v1/instance/service-accounts/default/";
constexpr const char* kHowToFix =
    "set credentials_file to a service account key file, set GOOGLE_APPLICATION_CREDENTIALS, run "
    "`gcloud auth application-default login`, or set allow_anonymous for an emulator or a public "
    "bucket";

// Token endpoints are public services: ordinary retries. The metadata server is detected with
// a single try (off Google Cloud nothing answers, and the chain must end quickly); once found,
// its token fetches are retried like the others.
constexpr HttpRetry kTokenRetry{3, std::chrono::milliseconds(100)};
constexpr HttpRetry kMetadataDetectionRetry{1, std::chrono::milliseconds(0)};

std::optional<std::string> NonEmptyEnv(const AwsEnvironment& env, const char* name) {
  std::optional<std::string> value = env.get_env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// A server's words for a message: printable ASCII only, at most `limit` characters.
std::string Printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) out.push_back(c >= ' ' && c <= '~' ? c : ' ');
  if (text.size() > limit) out += "...";
  return out;
}

// The same error with every secret in its message masked: a last guard for a server that
// quotes what it was sent.
Status Hidden(const Status& status, const std::vector<std::string>& secrets) {
  return Status(status.code(), HideSecrets(status.message(), secrets));
}

// Each secret as sent (raw and form-encoded), for Hidden.
std::vector<std::string> AsSent(std::initializer_list<std::string_view> secrets) {
  std::vector<std::string> out;
  for (std::string_view s : secrets) {
    out.emplace_back(s);
    out.push_back(UriEncode(s, /*encode_slash=*/true));
  }
  return out;
}

// ---- credentials files -------------------------------------------------------------------------

// A string member of a credentials file: nullopt when absent or empty (Google's libraries treat
// both alike); a config error when it is there but not a string.
Result<std::optional<std::string>> FileString(const nlohmann::json& json, const char* key,
                                              std::string_view path) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Error(ErrorCode::kConfig, "credentials file {}: '{}' is not a string", path, key);
  }
  std::string value = it->get<std::string>();
  if (value.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

Result<std::string> RequiredString(const nlohmann::json& json, const char* key,
                                   std::string_view path, std::string_view type) {
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> value, FileString(json, key, path));
  if (!value) {
    return Error(ErrorCode::kConfig, "credentials file {} ({}) has no '{}'", path, type, key);
  }
  return std::move(*value);
}

Result<std::string> TokenUri(const nlohmann::json& json, std::string_view path) {
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> uri, FileString(json, "token_uri", path));
  if (!uri) return std::string(kGoogleTokenUri);
  if (uri->rfind("https://", 0) != 0 && uri->rfind("http://", 0) != 0) {
    return Error(ErrorCode::kConfig, "credentials file {}: 'token_uri' is not an http(s) URL",
                 path);
  }
  return std::move(*uri);
}

// ---- OpenSSL handles ---------------------------------------------------------------------------

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// An encrypted PEM is refused rather than prompting on the terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The RSA key of a PEM, or nullptr. OpenSSL's error queue is cleared: its strings say nothing
// useful here, and nothing of the key may reach a message.
std::unique_ptr<EVP_PKEY, PkeyFree> ReadRsaKey(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (key && EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) key.reset();
  return key;
}

std::optional<std::string> SignRs256(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                     data.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  signature.resize(length);
  return signature;
}

// ---- token answers -----------------------------------------------------------------------------

// A refusal of the credentials is final; throttling and a server's trouble may pass.
ErrorCode ClassifyTokenStatus(long status) {
  if (status == 400 || status == 401 || status == 403) return ErrorCode::kAuth;
  const ErrorCode code = ClassifyHttp(CURLE_OK, status, "");
  return code == ErrorCode::kOk && (status < 200 || status >= 300) ? ErrorCode::kNetwork : code;
}

ErrorCode ClassifyTokenAnswer(const HttpResponse& response) {
  return ClassifyTokenStatus(response.status);
}

// expires_in is a number of seconds; some servers send it as a string of digits.
std::optional<int64_t> ExpiresIn(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds > 1e12 || seconds < -1e12) return std::nullopt;
    return static_cast<int64_t>(seconds);
  }
  if (!value.is_string()) return std::nullopt;
  const std::string text = value.get<std::string>();
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t seconds = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

// ---- providers ---------------------------------------------------------------------------------

class AnonymousProvider final : public GoogleTokenProvider {
 public:
  Result<std::string> Token() override { return std::string(); }
  std::string Identity() const override { return "anonymous"; }
};

class RefreshingTokenProvider final : public GoogleTokenProvider {
 public:
  RefreshingTokenProvider(std::string identity, RefreshingCache<GoogleAccessToken>::Fetch fetch,
                          CredentialClock now)
      : cache_(
            "access token", std::move(identity), std::move(fetch),
            [](const GoogleAccessToken& t) { return std::optional<SystemTime>(t.expiration); },
            std::move(now),
            RefreshPolicy{kGoogleRefreshBeforeExpiry, kGoogleUsableAfterFailedRefresh,
                          kGoogleRefreshRetryAfter, /*half_life_for_short_lived=*/true}) {}

  Result<std::string> Token() override {
    RIVET_ASSIGN_OR_RETURN(GoogleAccessToken token, cache_.Get());
    return std::move(token.token);
  }
  std::string Identity() const override { return cache_.source(); }

 private:
  RefreshingCache<GoogleAccessToken> cache_;
};

using TokenFetch = std::function<Result<GoogleAccessToken>(HttpClient&)>;

// A provider over its own HTTP client, its first token already fetched (fail early).
Result<std::shared_ptr<GoogleTokenProvider>> Started(std::string identity,
                                                     const HttpOptions& options, TokenFetch fetch,
                                                     const CredentialClock& now) {
  RIVET_ASSIGN_OR_RETURN(HttpClient client, HttpClient::Create(options));
  auto http = std::make_shared<HttpClient>(std::move(client));
  auto provider = std::make_shared<RefreshingTokenProvider>(
      std::move(identity), [http, fetch = std::move(fetch)] { return fetch(*http); }, now);
  RIVET_RETURN_IF_ERROR(provider->Token());
  return std::shared_ptr<GoogleTokenProvider>(std::move(provider));
}

// A token endpoint is a public service: ordinary timeouts.
HttpOptions TokenEndpointHttpOptions() {
  return CredentialHttpOptions(5, 20, 30'000, /*local=*/false);
}

// The metadata server is link-local (or a local emulator): short timeouts, never a proxy.
HttpOptions MetadataHttpOptions() { return CredentialHttpOptions(1, 2, 1'500, /*local=*/true); }

// POSTs a grant's form `body` to `token_uri`; `secrets` are masked in every message.
Result<GoogleAccessToken> Exchange(HttpClient& http, const std::string& token_uri,
                                   const std::string& body, const std::string& identity,
                                   const std::vector<std::string>& secrets, SystemTime now) {
  const std::string where =
      fmt::format("the token endpoint {}", token_uri.substr(0, token_uri.find('?')));
  HttpRequest request{
      "POST",
      token_uri,
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
      body};
  Result<HttpResponse> response = SendRetried(http, request, kTokenRetry, ClassifyTokenAnswer);
  if (!response.has_value()) {
    return Hidden(response.error().WithContext(fmt::format("{}: {}", identity, where)), secrets);
  }
  Result<GoogleAccessToken> token =
      ParseGoogleTokenResponse(response->status, response->body, identity, where, now);
  if (!token.has_value()) return Hidden(token.error(), secrets);
  return token;
}

Result<std::shared_ptr<GoogleTokenProvider>> ServiceAccountProvider(
    GoogleServiceAccount account, const GoogleCredentialsLocation& location,
    const CredentialClock& now) {
  std::string identity = fmt::format("service account {} ({} {})", account.client_email,
                                     location.origin, location.path);
  TokenFetch fetch = [account = std::move(account), identity,
                      now](HttpClient& http) -> Result<GoogleAccessToken> {
    const SystemTime at = now();
    RIVET_ASSIGN_OR_RETURN(std::string assertion, BuildServiceAccountJwt(account, at));
    const std::string body = ServiceAccountTokenRequestBody(assertion);
    return Exchange(http, account.token_uri, body, identity,
                    AsSent({assertion, account.private_key}), at);
  };
  return Started(std::move(identity), TokenEndpointHttpOptions(), std::move(fetch), now);
}

Result<std::shared_ptr<GoogleTokenProvider>> AuthorizedUserProvider(
    GoogleAuthorizedUser user, const GoogleCredentialsLocation& location,
    const CredentialClock& now) {
  std::string identity = fmt::format("authorized user ({} {})", location.origin, location.path);
  TokenFetch fetch = [user = std::move(user), identity, now](HttpClient& http) {
    return Exchange(http, user.token_uri, AuthorizedUserTokenRequestBody(user), identity,
                    AsSent({user.client_secret, user.refresh_token}), now());
  };
  return Started(std::move(identity), TokenEndpointHttpOptions(), std::move(fetch), now);
}

std::string MetadataBase(const std::string& host) {
  return host.find("://") == std::string::npos ? "http://" + host : host;
}

bool FromMetadataServer(const HttpResponse& response) {
  auto it = response.headers.find("metadata-flavor");
  return it != response.headers.end() && it->second == "Google";
}

// GET of a metadata path; an answer without "Metadata-Flavor: Google" is not from a metadata
// server (a captive portal, a proxy's page) and is refused.
Result<HttpResponse> MetadataGet(HttpClient& http, const std::string& host, const std::string& path,
                                 const HttpRetry& retry) {
  const std::string where = fmt::format("the metadata server {}", host);
  HttpRequest request{"GET", MetadataBase(host) + path, {{"Metadata-Flavor", "Google"}}, {}};
  Result<HttpResponse> response = SendRetried(http, request, retry, ClassifyTokenAnswer);
  if (!response.has_value()) return response.error().WithContext(where);
  if (!FromMetadataServer(*response)) {
    return Error(ErrorCode::kNetwork,
                 "{}: GET {} answered HTTP {} without the header Metadata-Flavor: Google (not a "
                 "GCE metadata server)",
                 where, path, response->status);
  }
  return response;
}

// Whether a metadata server answers at `host` (one short try), and who it runs as: the identity
// for messages (the email is best-effort: only a 200 names the account).
Result<std::string> DetectMetadataServer(const std::string& host) {
  RIVET_ASSIGN_OR_RETURN(HttpClient client, HttpClient::Create(MetadataHttpOptions()));
  RIVET_ASSIGN_OR_RETURN(
      HttpResponse email,
      MetadataGet(client, host, std::string(kMetadataAccount) + "email", kMetadataDetectionRetry));
  std::string account = "default service account";
  if (email.status == 200 && !email.body.empty()) {
    account += " " + Printable(email.body.substr(0, email.body.find('\n')), 200);
  }
  return fmt::format("metadata server {} ({})", host, account);
}

Result<std::shared_ptr<GoogleTokenProvider>> MetadataProvider(const std::string& host,
                                                              std::string identity,
                                                              const CredentialClock& now) {
  TokenFetch fetch = [host, identity, now](HttpClient& http) -> Result<GoogleAccessToken> {
    const std::string path = std::string(kMetadataAccount) + "token";
    const SystemTime at = now();
    RIVET_ASSIGN_OR_RETURN(HttpResponse response, MetadataGet(http, host, path, kTokenRetry));
    return ParseGoogleTokenResponse(response.status, response.body, identity,
                                    fmt::format("GET {}", path), at);
  };
  return Started(std::move(identity), MetadataHttpOptions(), std::move(fetch), now);
}

std::optional<std::string> AdcPath(const AwsEnvironment& env) {
  if (auto config = NonEmptyEnv(env, "CLOUDSDK_CONFIG")) return *config + "/" + kAdcFileName;
  if (auto home = NonEmptyEnv(env, "HOME")) {
    return *home + "/.config/gcloud/" + std::string(kAdcFileName);
  }
  return std::nullopt;
}

// `metadata` says how the last source failed.
Status NoCredentials(const AwsEnvironment& env, std::string_view metadata) {
  const std::optional<std::string> adc = AdcPath(env);
  return Error(ErrorCode::kAuth,
               "no Google credentials found; tried, in order: credentials_file of the destination "
               "(not set); GOOGLE_APPLICATION_CREDENTIALS (not set); the application default "
               "credentials file {}; {}. To fix it, {}",
               adc ? fmt::format("{} (does not exist)", *adc)
                   : std::string("(neither CLOUDSDK_CONFIG nor HOME is set)"),
               metadata, kHowToFix);
}

}  // namespace

// ---- pure parts --------------------------------------------------------------------------------

Result<GoogleCredentialsFile> ParseGoogleCredentialsFile(std::string_view text,
                                                         std::string_view path) {
  // The parser's own message is not quoted: it shows the text near the error, which may be a
  // private key.
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorCode::kConfig, "credentials file {} is not a JSON object", path);
  }
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> type, FileString(json, "type", path));
  if (!type) return Error(ErrorCode::kConfig, "credentials file {} has no 'type'", path);
  if (*type == "service_account") {
    GoogleServiceAccount account;
    RIVET_ASSIGN_OR_RETURN(account.client_email, RequiredString(json, "client_email", path, *type));
    RIVET_ASSIGN_OR_RETURN(account.private_key, RequiredString(json, "private_key", path, *type));
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> key_id,
                           FileString(json, "private_key_id", path));
    account.private_key_id = key_id.value_or("");
    RIVET_ASSIGN_OR_RETURN(account.token_uri, TokenUri(json, path));
    return GoogleCredentialsFile(std::move(account));
  }
  if (*type == "authorized_user") {
    GoogleAuthorizedUser user;
    RIVET_ASSIGN_OR_RETURN(user.client_id, RequiredString(json, "client_id", path, *type));
    RIVET_ASSIGN_OR_RETURN(user.client_secret, RequiredString(json, "client_secret", path, *type));
    RIVET_ASSIGN_OR_RETURN(user.refresh_token, RequiredString(json, "refresh_token", path, *type));
    RIVET_ASSIGN_OR_RETURN(user.token_uri, TokenUri(json, path));
    return GoogleCredentialsFile(std::move(user));
  }
  return Error(ErrorCode::kNotSupported,
               "credentials file {} has type '{}', which Rivet does not support yet; use a "
               "service account key file (type service_account), the application default "
               "credentials of `gcloud auth application-default login` (type authorized_user), "
               "or the metadata server on Google Cloud",
               path, Printable(*type, 64));
}

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&bytes](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  const size_t rest = bytes.size() - i;  // 0, 1 or 2 bytes: 0, 2 or 3 characters, no '='
  if (rest > 0) {
    const uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

Result<std::string> BuildServiceAccountJwt(const GoogleServiceAccount& account,
                                           system_clock::time_point now) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key = ReadRsaKey(account.private_key);
  if (!key) {
    return Error(ErrorCode::kConfig,
                 "service account {}: private_key is not an unencrypted PEM RSA private key",
                 account.client_email);
  }
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!account.private_key_id.empty()) header["kid"] = account.private_key_id;
  const int64_t iat =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const nlohmann::json claims = {{"iss", account.client_email},
                                 {"scope", kGcsScope},
                                 {"aud", account.token_uri},
                                 {"iat", iat},
                                 {"exp", iat + kGoogleJwtLifetime.count()}};
  const std::string signed_part =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::optional<std::string> signature = SignRs256(key.get(), signed_part);
  if (!signature) {
    return Error(ErrorCode::kConfig, "service account {}: signing the JWT with private_key failed",
                 account.client_email);
  }
  return signed_part + "." + Base64UrlEncode(*signature);
}

std::string ServiceAccountTokenRequestBody(std::string_view assertion) {
  return "grant_type=" + UriEncode("urn:ietf:params:oauth:grant-type:jwt-bearer", true) +
         "&assertion=" + UriEncode(assertion, true);
}

std::string AuthorizedUserTokenRequestBody(const GoogleAuthorizedUser& user) {
  return "grant_type=refresh_token&client_id=" + UriEncode(user.client_id, true) +
         "&client_secret=" + UriEncode(user.client_secret, true) +
         "&refresh_token=" + UriEncode(user.refresh_token, true);
}

Result<GoogleAccessToken> ParseGoogleTokenResponse(long status, std::string_view body,
                                                   std::string_view identity,
                                                   std::string_view where,
                                                   system_clock::time_point now) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const bool object = !json.is_discarded() && json.is_object();
  auto text = [&](const char* key) -> std::string {
    auto it = object ? json.find(key) : json.end();
    return object && it != json.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (status < 200 || status >= 300) {
    const std::string error = text("error");
    std::string detail = Printable(text("error_description"), 300);
    if (error.empty() && detail.empty() && !object) detail = Printable(body, 200);
    return Error(ClassifyTokenStatus(status), "{}: {} answered HTTP {}{}{}{}", identity, where,
                 status, error.empty() ? "" : " ", Printable(error, 64),
                 detail.empty() ? "" : ": " + detail);
  }
  if (!object) {
    return Error(ErrorCode::kCorrupt, "{}: {}: the token answer is not a JSON object", identity,
                 where);
  }
  GoogleAccessToken token;
  token.token = text("access_token");
  if (token.token.empty()) {
    return Error(ErrorCode::kCorrupt, "{}: {}: the token answer has no access_token", identity,
                 where);
  }
  const std::string type = text("token_type");
  if (json.contains("token_type") && type != "Bearer" && type != "bearer") {
    return Error(ErrorCode::kCorrupt, "{}: {}: the token answer's token_type is '{}', not Bearer",
                 identity, where, Printable(type, 32));
  }
  auto expires = json.find("expires_in");
  std::optional<int64_t> seconds = expires == json.end() ? std::nullopt : ExpiresIn(*expires);
  if (!seconds || *seconds <= 0) {
    return Error(ErrorCode::kCorrupt,
                 "{}: {}: the token answer has no positive number of seconds in expires_in",
                 identity, where);
  }
  token.expiration = now + std::chrono::seconds(*seconds);
  return token;
}

Result<std::optional<GoogleCredentialsLocation>> FindGoogleCredentialsFile(
    const GoogleCredentialOptions& options, const AwsEnvironment& env) {
  using Found = std::optional<GoogleCredentialsLocation>;
  // A file that is named is read or is the error; only the well-known ADC file may be absent.
  auto named = [&env](const std::string& path, const char* origin) -> Result<Found> {
    Result<std::optional<std::string>> text = env.read_file(path);
    if (!text.has_value()) {
      return text.error().WithContext(fmt::format("{} {}", origin, path));
    }
    if (!*text) {
      return Error(ErrorCode::kConfig, "{} {} does not exist", origin, path);
    }
    return Found(GoogleCredentialsLocation{path, origin, std::move(**text)});
  };
  if (!options.credentials_file.empty()) return named(options.credentials_file, "credentials_file");
  if (auto variable = NonEmptyEnv(env, "GOOGLE_APPLICATION_CREDENTIALS")) {
    return named(*variable, "GOOGLE_APPLICATION_CREDENTIALS");
  }
  const std::optional<std::string> adc = AdcPath(env);
  if (!adc) return Found();
  constexpr const char* kAdcOrigin = "application default credentials";
  Result<std::optional<std::string>> text = env.read_file(*adc);
  if (!text.has_value()) return text.error().WithContext(fmt::format("{} {}", kAdcOrigin, *adc));
  if (!*text) return Found();
  return Found(GoogleCredentialsLocation{*adc, kAdcOrigin, std::move(**text)});
}

std::optional<std::string> GoogleMetadataHost(const AwsEnvironment& env) {
  std::optional<std::string> detection = NonEmptyEnv(env, "METADATA_SERVER_DETECTION");
  if (detection && *detection == "none") return std::nullopt;
  return NonEmptyEnv(env, "GCE_METADATA_HOST").value_or(kDefaultMetadataHost);
}

// ---- the chain ---------------------------------------------------------------------------------

Result<std::shared_ptr<GoogleTokenProvider>> MakeGoogleTokenProvider(
    const GoogleCredentialOptions& options, const AwsEnvironment& env) {
  if (options.allow_anonymous) return std::shared_ptr<GoogleTokenProvider>(new AnonymousProvider());
  const CredentialClock now =
      options.now ? options.now : CredentialClock([] { return system_clock::now(); });
  RIVET_ASSIGN_OR_RETURN(std::optional<GoogleCredentialsLocation> location,
                         FindGoogleCredentialsFile(options, env));
  if (location) {
    RIVET_ASSIGN_OR_RETURN(GoogleCredentialsFile file,
                           ParseGoogleCredentialsFile(location->text, location->path));
    if (auto* account = std::get_if<GoogleServiceAccount>(&file)) {
      return ServiceAccountProvider(std::move(*account), *location, now);
    }
    return AuthorizedUserProvider(std::get<GoogleAuthorizedUser>(std::move(file)), *location, now);
  }
  const std::optional<std::string> host = GoogleMetadataHost(env);
  if (!host) {
    return NoCredentials(env, "the metadata server (turned off by METADATA_SERVER_DETECTION=none)");
  }
  // The last resort: where no metadata server answers, none of the chain's sources is there.
  // Once one answers, its failure to give a token is the chain's.
  Result<std::string> identity = DetectMetadataServer(*host);
  if (!identity.has_value()) {
    if (identity.error().code() == ErrorCode::kInterrupted) return identity.error();
    return NoCredentials(env, identity.error().message());
  }
  return MetadataProvider(*host, std::move(*identity), now);
}

}  // namespace rivet::net
