#include "rivet/net/aws_remote_credentials.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "rivet/common/interrupt.h"
#include "rivet/common/secrets.h"
#include "rivet/common/text.h"
#include "rivet/net/http_errors.h"
#include "rivet/net/xml.h"

namespace rivet::net {

namespace {

constexpr const char* kWebIdentitySource = "web identity";
constexpr const char* kContainerSource = "ECS container endpoint";
constexpr const char* kImdsSource = "EC2 instance metadata";

std::optional<std::string> NonEmptyEnv(const AwsEnvironment& env, const char* name) {
  std::optional<std::string> value = env.get_env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<std::string> Setting(const std::map<std::string, std::string>& section,
                                   const char* key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The URL without its query, for messages.
std::string_view WithoutQuery(std::string_view url) { return url.substr(0, url.find('?')); }

// A service's words for a message: printable ASCII only, at most `limit` characters.
std::string Printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) out.push_back(c >= ' ' && c <= '~' ? c : ' ');
  if (text.size() > limit) out += "...";
  return out;
}

// application/x-www-form-urlencoded, every byte but the unreserved ones escaped.
std::string FormEncode(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at > s.size() || s.size() - at < n) return false;
  int value = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

// A token read from a file (or a variable): trimmed; an error when it is empty or spans lines.
Result<std::string> TokenText(std::string_view text, std::string_view source,
                              std::string_view what) {
  std::string token(TrimSpace(text));
  if (token.empty()) return Error(ErrorCode::kConfig, "{}: {} is empty", source, what);
  if (token.find_first_of("\r\n") != std::string::npos) {
    return Error(ErrorCode::kConfig, "{}: {} holds a line break", source, what);
  }
  return token;
}

// The same error with every secret in its message masked: a last guard for a service that
// quotes what it was sent.
Status Hidden(const Status& status, const std::vector<std::string>& secrets) {
  return Status(status.code(), HideSecrets(status.message(), secrets));
}

ErrorCode ClassifyStatus(const HttpResponse& response) {
  return ClassifyHttp(CURLE_OK, response.status, "");
}

// STS's error codes: a refused token or role cannot be retried; a hiccup of the identity
// provider can.
ErrorCode ClassifySts(long status, std::string_view code) {
  for (std::string_view auth : {"InvalidIdentityToken", "ExpiredTokenException", "IDPRejectedClaim",
                                "AccessDenied", "InvalidClientTokenId"}) {
    if (code == auth) return ErrorCode::kAuth;
  }
  if (code == "IDPCommunicationError") return ErrorCode::kNetwork;
  return ClassifyHttp(CURLE_OK, status, code);
}

ErrorCode ClassifyStsResponse(const HttpResponse& response) {
  return ClassifySts(response.status, S3ErrorCode(response.body));
}

Status AnsweredStatus(ErrorCode code, std::string_view where, long status) {
  if (code == ErrorCode::kOk) code = ErrorCode::kNetwork;  // a non-2xx status the table missed
  return Error(code, "{} answered HTTP {}", where, status);
}

// The JSON credentials of the container endpoint and of instance metadata.
Result<AwsCredentials> ParseJsonCredentials(std::string_view body, std::string_view where,
                                            const char* source, bool check_code) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(ErrorCode::kCorrupt, "{}: the answer is not a JSON object", where);
  }
  auto field = [&json](const char* name) -> std::optional<std::string> {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (check_code) {
    std::optional<std::string> code = field("Code");
    if (code && *code != "Success") {
      return Error(ErrorCode::kAuth, "{}: the answer's Code is {}, not Success", where,
                   Printable(*code, 64));
    }
  }
  AwsCredentials credentials;
  credentials.source = source;
  struct Required {
    const char* name;
    std::string* into;
  };
  for (const Required& r : {Required{"AccessKeyId", &credentials.access_key_id},
                            Required{"SecretAccessKey", &credentials.secret_access_key},
                            Required{"Token", &credentials.session_token}}) {
    std::optional<std::string> value = field(r.name);
    if (!value || value->empty()) {
      return Error(ErrorCode::kCorrupt, "{}: the answer has no {}", where, r.name);
    }
    *r.into = std::move(*value);
  }
  if (json.contains("Expiration")) {
    std::optional<std::string> text = field("Expiration");
    credentials.expiration = text ? ParseIso8601(*text) : std::nullopt;
    if (!credentials.expiration) {
      return Error(ErrorCode::kCorrupt, "{}: the answer's Expiration is not an ISO-8601 time",
                   where);
    }
  }
  return credentials;
}

bool IsLoopbackIpv4(std::string_view host) {
  int parts[4] = {};
  size_t at = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = at;
    while (end < host.size() && end - at < 3 && host[end] >= '0' && host[end] <= '9') ++end;
    if (end == at || !Digits(host, at, end - at, &parts[i]) || parts[i] > 255) return false;
    if (i < 3 && (end >= host.size() || host[end] != '.')) return false;
    at = end + 1;
  }
  return at == host.size() + 1 && parts[0] == 127;
}

// The host of an http(s) URL, lowercased, without brackets, port or user.
std::string UrlHost(std::string_view url) {
  std::string_view rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') return AsciiLower(rest.substr(1, rest.find(']') - 1));
  return AsciiLower(rest.substr(0, rest.find(':')));
}

Status CheckFullUri(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? "" : AsciiLower(url.substr(0, scheme_end));
  if (scheme == "https") return Status::Ok();
  if (scheme != "http") {
    return Error(ErrorCode::kConfig,
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http:// or https:// URL");
  }
  const std::string host = UrlHost(url);
  for (std::string_view allowed :
       {"localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"}) {
    if (host == allowed) return Status::Ok();
  }
  if (IsLoopbackIpv4(host)) return Status::Ok();
  return Error(ErrorCode::kConfig,
               "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain http to '{}', which is not a "
               "loopback address: credentials must not cross a network unencrypted. Use https, "
               "or http to 127.0.0.1, localhost, ::1 or the ECS / EKS agent (169.254.170.2, "
               "169.254.170.23, fd00:ec2::23)",
               Printable(host, 100));
}

bool IsRoleName(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) ||
                  std::string_view("+=,.@_-").find(static_cast<char>(c)) != std::string_view::npos;
         });
}

}  // namespace

std::optional<SystemTime> ParseIso8601(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, 0, 4, &y) || text.size() < 20 || text[4] != '-' || !Digits(text, 5, 2, &mo) ||
      text[7] != '-' || !Digits(text, 8, 2, &d) || (text[10] != 'T' && text[10] != 't') ||
      !Digits(text, 11, 2, &h) || text[13] != ':' || !Digits(text, 14, 2, &mi) || text[16] != ':' ||
      !Digits(text, 17, 2, &s)) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (text[i] == '.') {
    const size_t start = ++i;
    int64_t scale = 100'000'000;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      nanos += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  if (i >= text.size()) return std::nullopt;
  std::chrono::minutes offset{0};
  if (text[i] == 'Z' || text[i] == 'z') {
    ++i;
  } else if (text[i] == '+' || text[i] == '-') {
    int oh = 0, om = 0;
    if (!Digits(text, i + 1, 2, &oh) || i + 3 >= text.size() || text[i + 3] != ':' ||
        !Digits(text, i + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes((text[i] == '-' ? -1 : 1) * (oh * 60 + om));
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!day.ok()) return std::nullopt;
  const auto utc = std::chrono::sys_days(day) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                   std::chrono::seconds(s) - offset;
  return std::chrono::time_point_cast<SystemTime::duration>(utc) +
         std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
}

// ---- 1. Web identity ---------------------------------------------------------------------------

Result<std::optional<WebIdentitySettings>> WebIdentitySettingsFrom(const AwsEnvironment& env,
                                                                   SystemTime now) {
  WebIdentitySettings settings;
  if (auto file = NonEmptyEnv(env, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
    std::optional<std::string> role = NonEmptyEnv(env, "AWS_ROLE_ARN");
    if (!role) {
      return Error(ErrorCode::kConfig,
                   "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web identity "
                   "credentials need both");
    }
    settings.token_file = *file;
    settings.role_arn = *role;
    settings.session_name = NonEmptyEnv(env, "AWS_ROLE_SESSION_NAME").value_or("");
    settings.origin = "AWS_WEB_IDENTITY_TOKEN_FILE";
  } else {
    RIVET_ASSIGN_OR_RETURN(auto profile, AwsConfigProfile(env));
    std::optional<std::string> profile_file = Setting(profile, "web_identity_token_file");
    if (!profile_file) return std::optional<WebIdentitySettings>();
    settings.origin = fmt::format("profile '{}' of the shared config file", AwsProfileName(env));
    std::optional<std::string> role = Setting(profile, "role_arn");
    if (!role) {
      return Error(ErrorCode::kConfig, "{} has web_identity_token_file but no role_arn",
                   settings.origin);
    }
    std::optional<std::string> home = NonEmptyEnv(env, "HOME");
    settings.token_file =
        profile_file->starts_with("~/") && home ? *home + profile_file->substr(1) : *profile_file;
    settings.role_arn = *role;
    settings.session_name = Setting(profile, "role_session_name").value_or("");
  }
  if (settings.session_name.empty()) {
    settings.session_name = fmt::format(
        "rivet-{}",
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  }
  RIVET_ASSIGN_OR_RETURN(settings.endpoint, StsEndpoint(env));
  return std::optional<WebIdentitySettings>(std::move(settings));
}

Result<std::string> StsEndpoint(const AwsEnvironment& env) {
  for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
    if (auto url = NonEmptyEnv(env, name)) return WithoutTrailingSlash(*url);
  }
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> region, AwsRegion("", env));
  if (!region) return std::string("https://sts.amazonaws.com");
  const bool valid = std::all_of(region->begin(), region->end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-';
  });
  if (!valid) {
    return Error(ErrorCode::kConfig, "the AWS region '{}' is not a region name",
                 Printable(*region, 64));
  }
  return fmt::format("https://sts.{}.{}", *region,
                     region->starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com");
}

std::string AssumeRoleWithWebIdentityBody(const WebIdentitySettings& settings,
                                          std::string_view token) {
  return fmt::format(
      "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}"
      "&WebIdentityToken={}",
      FormEncode(settings.role_arn), FormEncode(settings.session_name), FormEncode(token));
}

Result<AwsCredentials> ParseAssumeRoleWithWebIdentityResponse(long status, std::string_view body,
                                                              const WebIdentitySettings& settings) {
  const std::string where = fmt::format(
      "web identity: STS AssumeRoleWithWebIdentity at {} for role {} with the token in {} ({})",
      WithoutQuery(settings.endpoint), settings.role_arn, settings.token_file, settings.origin);
  if (status < 200 || status >= 300) {
    const std::string code = S3ErrorCode(body);
    std::optional<std::string_view> error = XmlElement(body, "Error");
    const std::string message =
        error ? Printable(XmlText(*error, "Message").value_or(""), 300) : "";
    const Status answered = AnsweredStatus(ClassifySts(status, code), where, status);
    return Status(answered.code(),
                  fmt::format("{}{}{}{}", answered.message(), code.empty() ? "" : " ", code,
                              message.empty() ? "" : ": " + message));
  }
  std::optional<std::string_view> result = XmlElement(body, "AssumeRoleWithWebIdentityResult");
  std::optional<std::string_view> xml = result ? XmlElement(*result, "Credentials") : std::nullopt;
  if (!xml) {
    return Error(ErrorCode::kCorrupt,
                 "{}: the answer has no AssumeRoleWithWebIdentityResult/Credentials", where);
  }
  AwsCredentials credentials;
  credentials.source = kWebIdentitySource;
  std::string expiration;
  struct Required {
    const char* name;
    std::string* into;
  };
  for (const Required& r : {Required{"AccessKeyId", &credentials.access_key_id},
                            Required{"SecretAccessKey", &credentials.secret_access_key},
                            Required{"SessionToken", &credentials.session_token},
                            Required{"Expiration", &expiration}}) {
    std::optional<std::string> value = XmlText(*xml, r.name);
    if (!value || value->empty()) {
      return Error(ErrorCode::kCorrupt, "{}: the answer's Credentials have no {}", where, r.name);
    }
    *r.into = std::move(*value);
  }
  credentials.expiration = ParseIso8601(TrimSpace(expiration));
  if (!credentials.expiration) {
    return Error(ErrorCode::kCorrupt, "{}: the answer's Expiration is not an ISO-8601 time", where);
  }
  return credentials;
}

Result<AwsCredentials> FetchWebIdentityCredentials(HttpClient& http,
                                                   const WebIdentitySettings& settings,
                                                   const AwsEnvironment& env,
                                                   const AwsFetchRetry& retry) {
  // Read at every fetch: the file is rotated (hourly on EKS).
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> text, env.read_file(settings.token_file));
  if (!text) {
    return Error(ErrorCode::kConfig, "web identity: the token file {} ({}) does not exist",
                 settings.token_file, settings.origin);
  }
  RIVET_ASSIGN_OR_RETURN(
      std::string token,
      TokenText(*text, kWebIdentitySource, fmt::format("the token file {}", settings.token_file)));
  const std::string body = AssumeRoleWithWebIdentityBody(settings, token);
  HttpRequest request{"POST",
                      settings.endpoint + "/",
                      {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                       {"Accept", "application/xml"}},
                      body};
  Result<HttpResponse> response = SendRetried(http, request, retry, ClassifyStsResponse);
  if (!response.has_value()) {
    return Hidden(
        response.error().WithContext(fmt::format(
            "web identity: STS AssumeRoleWithWebIdentity for role {}", settings.role_arn)),
        {token});
  }
  // An error answer may quote the token, and its message is cut short when quoted: masked
  // before, so no part of the token is left (raw, or as it was encoded in the request).
  const std::vector<std::string> secrets = {token, FormEncode(token), XmlEscape(token)};
  const bool ok = response->status >= 200 && response->status < 300;
  const std::string answer = ok ? std::move(response->body) : HideSecrets(response->body, secrets);
  Result<AwsCredentials> credentials =
      ParseAssumeRoleWithWebIdentityResponse(response->status, answer, settings);
  if (!credentials.has_value()) return Hidden(credentials.error(), secrets);
  return credentials;
}

// ---- 2. The container endpoint -----------------------------------------------------------------

Result<std::optional<ContainerSettings>> ContainerSettingsFrom(const AwsEnvironment& env) {
  if (auto relative = NonEmptyEnv(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    return std::optional<ContainerSettings>(ContainerSettings{
        fmt::format("http://169.254.170.2{}{}", relative->front() == '/' ? "" : "/", *relative),
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"});
  }
  std::optional<std::string> full = NonEmptyEnv(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!full) return std::optional<ContainerSettings>();
  RIVET_RETURN_IF_ERROR(CheckFullUri(*full));
  return std::optional<ContainerSettings>(
      ContainerSettings{*full, "AWS_CONTAINER_CREDENTIALS_FULL_URI"});
}

Result<AwsCredentials> ParseContainerCredentials(long status, std::string_view body,
                                                 const ContainerSettings& settings) {
  const std::string where =
      fmt::format("{} {} ({})", kContainerSource, WithoutQuery(settings.url), settings.origin);
  if (status < 200 || status >= 300) {
    return AnsweredStatus(ClassifyHttp(CURLE_OK, status, ""), where, status);
  }
  return ParseJsonCredentials(body, where, kContainerSource, /*check_code=*/false);
}

Result<AwsCredentials> FetchContainerCredentials(HttpClient& http,
                                                 const ContainerSettings& settings,
                                                 const AwsEnvironment& env,
                                                 const AwsFetchRetry& retry) {
  HttpRequest request{"GET", settings.url, {{"Accept", "application/json"}}, {}};
  std::vector<std::string> secrets;
  if (auto file = NonEmptyEnv(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> text, env.read_file(*file));
    const std::string what = fmt::format(
        "the authorization token file {} (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)", *file);
    if (!text) return Error(ErrorCode::kConfig, "{}: {} does not exist", kContainerSource, what);
    RIVET_ASSIGN_OR_RETURN(std::string token, TokenText(*text, kContainerSource, what));
    secrets.push_back(token);
  } else if (auto value = NonEmptyEnv(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    RIVET_ASSIGN_OR_RETURN(std::string token, TokenText(*value, kContainerSource,
                                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN"));
    secrets.push_back(token);
  }
  if (!secrets.empty()) request.headers.emplace_back("Authorization", secrets.front());
  Result<HttpResponse> response = SendRetried(http, request, retry, ClassifyStatus);
  if (!response.has_value()) {
    return Hidden(
        response.error().WithContext(fmt::format("{} ({})", kContainerSource, settings.origin)),
        secrets);
  }
  Result<AwsCredentials> credentials =
      ParseContainerCredentials(response->status, response->body, settings);
  if (!credentials.has_value()) return Hidden(credentials.error(), secrets);
  return credentials;
}

// ---- 3. EC2 instance metadata ------------------------------------------------------------------

std::optional<ImdsSettings> ImdsSettingsFrom(const AwsEnvironment& env) {
  std::optional<std::string> disabled = NonEmptyEnv(env, "AWS_EC2_METADATA_DISABLED");
  if (disabled && AsciiLower(TrimSpace(*disabled)) == "true") return std::nullopt;
  if (auto endpoint = NonEmptyEnv(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    return ImdsSettings{WithoutTrailingSlash(*endpoint)};
  }
  std::optional<std::string> mode = NonEmptyEnv(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
  if (mode && AsciiLower(TrimSpace(*mode)) == "ipv6") return ImdsSettings{"http://[fd00:ec2::254]"};
  return ImdsSettings{"http://169.254.169.254"};
}

Result<AwsCredentials> ParseImdsCredentials(long status, std::string_view body,
                                            const ImdsSettings& settings) {
  const std::string where =
      fmt::format("{} at {}: the role's credentials", kImdsSource, settings.endpoint);
  if (status < 200 || status >= 300) {
    return AnsweredStatus(ClassifyHttp(CURLE_OK, status, ""), where, status);
  }
  return ParseJsonCredentials(body, where, kImdsSource, /*check_code=*/true);
}

Result<AwsCredentials> FetchImdsCredentials(HttpClient& http, const ImdsSettings& settings,
                                            const AwsFetchRetry& retry) {
  const std::string where = fmt::format("{} at {}", kImdsSource, settings.endpoint);
  HttpRequest put{"PUT",
                  settings.endpoint + "/latest/api/token",
                  {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                  {}};
  Result<HttpResponse> token_answer = SendRetried(http, put, retry, ClassifyStatus);
  if (!token_answer.has_value()) return token_answer.error().WithContext(where);
  if (token_answer->status != 200) {
    return AnsweredStatus(ClassifyStatus(*token_answer),
                          where + ": the session token (PUT /latest/api/token)",
                          token_answer->status);
  }
  const std::string token(TrimSpace(token_answer->body));
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    return Error(ErrorCode::kCorrupt, "{}: the session token answer is not a token", where);
  }
  const std::vector<std::string> secrets = {token};
  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  HttpRequest roles{
      "GET", settings.endpoint + roles_path, {{"X-aws-ec2-metadata-token", token}}, {}};
  Result<HttpResponse> roles_answer = SendRetried(http, roles, retry, ClassifyStatus);
  if (!roles_answer.has_value()) return Hidden(roles_answer.error().WithContext(where), secrets);
  const std::string_view roles_body = roles_answer->body;
  const std::string role(TrimSpace(roles_body.substr(0, roles_body.find('\n'))));
  if (roles_answer->status == 404 || (roles_answer->status == 200 && role.empty())) {
    return Error(ErrorCode::kAuth,
                 "{}: no IAM role is attached to this instance (give it an instance profile)",
                 where);
  }
  if (roles_answer->status != 200) {
    return AnsweredStatus(ClassifyStatus(*roles_answer),
                          fmt::format("{}: GET {}", where, roles_path), roles_answer->status);
  }
  if (!IsRoleName(role)) {
    return Error(ErrorCode::kCorrupt, "{}: GET {} did not answer a role name", where, roles_path);
  }
  HttpRequest get{"GET",
                  fmt::format("{}{}{}", settings.endpoint, roles_path, role),
                  {{"X-aws-ec2-metadata-token", token}},
                  {}};
  Result<HttpResponse> answer = SendRetried(http, get, retry, ClassifyStatus);
  if (!answer.has_value()) return Hidden(answer.error().WithContext(where), secrets);
  Result<AwsCredentials> credentials = ParseImdsCredentials(answer->status, answer->body, settings);
  if (!credentials.has_value()) return Hidden(credentials.error(), secrets);
  return credentials;
}

HttpOptions StsHttpOptions() { return CredentialHttpOptions(5, 20, 30'000, /*local=*/false); }

HttpOptions ContainerHttpOptions() { return CredentialHttpOptions(2, 5, 5'000, /*local=*/true); }

HttpOptions ImdsHttpOptions() { return CredentialHttpOptions(1, 2, 2'000, /*local=*/true); }

}  // namespace rivet::net
