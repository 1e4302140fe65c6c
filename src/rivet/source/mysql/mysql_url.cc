#include "rivet/source/mysql/mysql_url.h"

#include <cctype>
#include <optional>
#include <utility>

#include "rivet/common/text.h"
#include "rivet/common/url.h"

namespace rivet::source::mysql {
namespace {

Status UrlError(std::string_view what) {
  return Error(ErrorCode::kConfig, "source.url: {} (expected mysql://user:password@host:3306/db)",
               what);
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// ssl-mode as the mysql client spells it (any case), or Rivet's own names.
std::optional<config::TlsMode> ParseSslMode(std::string_view text) {
  using config::TlsMode;
  const std::string upper = Upper(text);
  const std::pair<std::string_view, TlsMode> names[] = {{"DISABLED", TlsMode::kDisable},
                                                        {"PREFERRED", TlsMode::kPrefer},
                                                        {"REQUIRED", TlsMode::kRequire},
                                                        {"VERIFY_CA", TlsMode::kVerifyCa},
                                                        {"VERIFY_IDENTITY", TlsMode::kVerifyFull}};
  for (const auto& [name, mode] : names) {
    if (upper == name) return mode;
  }
  return config::ParseTlsMode(text);
}

// The query string after '?': the TLS parameters, each at most once.
Status ParseQuery(std::string_view query, config::UrlTls& tls) {
  if (query.empty()) return UrlError("an empty query string is not allowed");
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key.empty()) return UrlError("a query parameter without a name");
    config::UrlTlsParam* param = nullptr;
    for (config::UrlTlsParam* p : {&tls.mode, &tls.ca_file, &tls.cert_file, &tls.key_file}) {
      if (p->name == key) param = p;
    }
    // Keys are not secret: naming the first unknown one helps the user.
    if (!param) {
      return Error(ErrorCode::kConfig,
                   "source.url: query parameter '{}' is not supported by the mysql source (it "
                   "takes ssl-mode, ssl-ca, ssl-cert and ssl-key)",
                   std::string(key));
    }
    if (param->value) {
      return Error(ErrorCode::kConfig, "source.url: query parameter '{}' is given twice",
                   std::string(key));
    }
    std::string value;
    if (eq == std::string_view::npos || !PercentDecode(pair.substr(eq + 1), &value) ||
        value.empty()) {
      return Error(ErrorCode::kConfig,
                   "source.url: query parameter '{}' needs a value, e.g. {}=VERIFY_IDENTITY or "
                   "ssl-ca=/path/ca.pem",
                   std::string(key), std::string(key));
    }
    if (param == &tls.mode) {
      tls.parsed_mode = ParseSslMode(value);
      if (!tls.parsed_mode) {
        return Error(ErrorCode::kConfig,
                     "source.url: ssl-mode '{}' is not valid; use DISABLED, PREFERRED, REQUIRED, "
                     "VERIFY_CA or VERIFY_IDENTITY",
                     value);
      }
    }
    param->value = std::move(value);
  }
  return Status::Ok();
}

}  // namespace

Result<ConnectParams> ParseMysqlUrl(std::string_view url) {
  ConnectParams params;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return UrlError("missing scheme");
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "mysql" && scheme != "mariadb") {
    return UrlError("the scheme must be mysql://");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (size_t fragment = rest.find('#'); fragment != std::string_view::npos) {
    return UrlError("a fragment (#...) is not allowed; percent-encode '#' in a password as %23");
  }

  // Authority runs to the first '/' or '?'; userinfo is everything before its last '@'.
  size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  std::string_view hostport = authority;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    hostport = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    if (!PercentDecode(user, &params.user)) return UrlError("bad percent-escape in the user");
    if (colon != std::string_view::npos) {
      if (!PercentDecode(userinfo.substr(colon + 1), &params.password)) {
        return UrlError("bad percent-escape in the password");
      }
    }
  }

  std::string_view host;
  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return UrlError("unterminated [IPv6] host");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError("unexpected text after the [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) return UrlError("empty port");
    }
  } else {
    size_t colon = hostport.find(':');
    host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = hostport.substr(colon + 1);
      if (port_text.empty()) return UrlError("empty port");
    }
  }
  if (host.empty()) return UrlError("missing host");
  params.host = std::string(host);
  if (!port_text.empty()) {
    const std::optional<int> port = ParseWhole<int>(port_text);
    if (!port || *port < 1 || *port > 65535) {
      return UrlError("the port must be a number from 1 to 65535");
    }
    params.port = *port;
  }

  if (!tail.empty() && tail.front() == '/') {
    size_t query = tail.find('?');
    std::string_view db = tail.substr(1, query == std::string_view::npos ? query : query - 1);
    if (db.find('/') != std::string_view::npos) return UrlError("the path must be one database");
    if (!PercentDecode(db, &params.database)) return UrlError("bad percent-escape in the database");
    tail = query == std::string_view::npos ? std::string_view() : tail.substr(query);
  }
  if (!tail.empty()) RIVET_RETURN_IF_ERROR(ParseQuery(tail.substr(1), params.url_tls));
  return params;
}

Result<ConnectParams> ConnectParamsFrom(const config::SourceConfig& config) {
  if (config.url) {
    RIVET_ASSIGN_OR_RETURN(ConnectParams params, ParseMysqlUrl(config.url->reveal()));
    RIVET_ASSIGN_OR_RETURN(params.tls, config::CombineTls(config.tls, params.url_tls));
    return params;
  }
  ConnectParams params;
  RIVET_ASSIGN_OR_RETURN(params.tls, config::CombineTls(config.tls, params.url_tls));
  if (config.host.empty()) {
    return Error(ErrorCode::kConfig, "source: set either url or host for the mysql source");
  }
  params.host = config.host;
  params.port = config.port.value_or(kDefaultMysqlPort);
  if (params.port < 1 || params.port > 65535) {
    return Error(ErrorCode::kConfig, "source.port must be from 1 to 65535, got {}", params.port);
  }
  params.user = config.user;
  if (config.password) params.password = config.password->reveal();
  params.database = config.database;
  return params;
}

}  // namespace rivet::source::mysql
