#include "rivet/config/tls.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

namespace rivet::config {

namespace {

namespace fs = std::filesystem;

// True when `a` and `b` name the same file: the same inode when both exist, else the same
// absolute path after normalising (a URL may give a relative path for the block's absolute one).
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::equivalent(a, b, ec) && !ec) return true;
  auto normal = [](const std::string& p) {
    std::error_code e;
    fs::path absolute = fs::absolute(p, e);
    return (e ? fs::path(p) : absolute).lexically_normal();
  };
  return normal(a) == normal(b);
}

// "source.tls.ca_file or the URL's sslrootcert".
std::string EitherName(std::string_view key, const UrlTlsParam& url) {
  return fmt::format("source.tls.{} or the URL's {}", key, url.name);
}

}  // namespace

std::optional<TlsMode> ParseTlsMode(std::string_view name) {
  for (TlsMode mode : {TlsMode::kDisable, TlsMode::kPrefer, TlsMode::kRequire, TlsMode::kVerifyCa,
                       TlsMode::kVerifyFull}) {
    if (name == ToString(mode)) return mode;
  }
  return std::nullopt;
}

UrlTls PostgresUrlTlsNames() {
  return UrlTls{{"sslmode", {}}, {"sslrootcert", {}}, {"sslcert", {}}, {"sslkey", {}}, {}};
}

UrlTls MysqlUrlTlsNames() {
  return UrlTls{{"ssl-mode", {}}, {"ssl-ca", {}}, {"ssl-cert", {}}, {"ssl-key", {}}, {}};
}

std::optional<TlsProblem> CheckTls(const TlsConfig& tls, const UrlTls& url,
                                   bool ca_from_url_possible) {
  const bool has_cert = !tls.cert_file.empty();
  const bool has_key = !tls.key_file.empty();
  if (has_cert != has_key) {
    std::string_view missing = has_cert ? "key_file" : "cert_file";
    std::string_view given = has_cert ? "cert_file" : "key_file";
    const UrlTlsParam& url_missing = has_cert ? url.key_file : url.cert_file;
    return TlsProblem{missing, fmt::format("is missing while {} is set; a client certificate is a "
                                           "certificate and its key: set {} too",
                                           given, EitherName(missing, url_missing))};
  }
  const bool any_file = !tls.ca_file.empty() || has_cert;
  if (!tls.mode) {
    // A mode the URL gives without a Rivet name (sslmode=allow) is the library's business.
    if (ca_from_url_possible || url.mode.value || !any_file) return std::nullopt;
    return TlsProblem{"mode",
                      fmt::format("is missing; with certificate files, say what to check: "
                                  "mode: verify-full (the chain and the host name) or verify-ca "
                                  "(the chain only), here or as the URL's {}",
                                  url.mode.name)};
  }
  switch (*tls.mode) {
    case TlsMode::kDisable:
      if (!any_file) return std::nullopt;
      return TlsProblem{
          "mode", fmt::format("is disable, which uses no certificate, yet {} is given; remove it "
                              "or choose a mode that uses it (verify-full, verify-ca, require)",
                              !tls.ca_file.empty() ? EitherName("ca_file", url.ca_file)
                                                   : EitherName("cert_file", url.cert_file))};
    case TlsMode::kPrefer:
      if (tls.ca_file.empty()) return std::nullopt;
      return TlsProblem{
          "ca_file", fmt::format("is given with mode prefer, which connects unencrypted when the "
                                 "certificate does not verify (libpq), so the CA would protect "
                                 "nothing; use mode verify-full (or verify-ca), or remove {}",
                                 EitherName("ca_file", url.ca_file))};
    case TlsMode::kRequire:
      return std::nullopt;
    case TlsMode::kVerifyCa:
    case TlsMode::kVerifyFull:
      if (!tls.ca_file.empty() || ca_from_url_possible) return std::nullopt;
      return TlsProblem{
          "ca_file",
          fmt::format("is missing: mode {} checks the server's certificate against a CA you name; "
                      "set {} to the PEM file of the CA that signed it (for a server with a "
                      "publicly trusted certificate, the system bundle, e.g. "
                      "/etc/ssl/certs/ca-certificates.crt)",
                      ToString(*tls.mode), EitherName("ca_file", url.ca_file))};
  }
  return std::nullopt;
}

Result<TlsConfig> CombineTls(const TlsConfig& block, const UrlTls& url) {
  auto fail = [](std::string_view key, std::string_view problem) {
    return Error(ErrorCode::kConfig, "source.tls.{}: {}", key, problem);
  };
  TlsConfig tls = block;
  if (url.mode.value) {
    if (block.mode && url.parsed_mode != block.mode) {
      return fail("mode", fmt::format("is {} but the URL sets {}={}; give each TLS setting in one "
                                      "place (remove it from the URL or from source.tls), or make "
                                      "both agree",
                                      ToString(*block.mode), url.mode.name, *url.mode.value));
    }
    tls.mode = url.parsed_mode;
  }
  struct PathPair {
    std::string_view key;
    std::string* combined;
    const UrlTlsParam& from_url;
  };
  for (const PathPair& pair : {PathPair{"ca_file", &tls.ca_file, url.ca_file},
                               PathPair{"cert_file", &tls.cert_file, url.cert_file},
                               PathPair{"key_file", &tls.key_file, url.key_file}}) {
    if (!pair.from_url.value) continue;
    if (pair.combined->empty()) {
      *pair.combined = *pair.from_url.value;
    } else if (!SameFile(*pair.combined, *pair.from_url.value)) {
      return fail(pair.key,
                  fmt::format("is '{}' but the URL sets {}='{}', another file; give each TLS "
                              "setting in one place (remove it from the URL or from source.tls), "
                              "or make both name the same file",
                              *pair.combined, pair.from_url.name, *pair.from_url.value));
    }
  }
  if (std::optional<TlsProblem> problem = CheckTls(tls, url, false)) {
    return fail(problem->key, problem->problem);
  }
  return tls;
}

ErrorCode TlsFailureCode(TlsFailure failure) {
  return failure == TlsFailure::kLocalFile ? ErrorCode::kConfig : ErrorCode::kAuth;
}

std::string TlsFailureHint(TlsFailure failure, const UrlTls& url) {
  switch (failure) {
    case TlsFailure::kNone:
      return "";
    case TlsFailure::kUntrustedCertificate:
      return fmt::format(
          "TLS: the server's certificate is not signed by the CA rivet was given; set {} to the "
          "CA certificate that issued the server's certificate",
          EitherName("ca_file", url.ca_file));
    case TlsFailure::kHostMismatch:
      return "TLS: the server's certificate does not name the host rivet connects to; connect "
             "by a name or address the certificate holds, or use mode verify-ca to check the "
             "chain only";
    case TlsFailure::kNoServerTls:
      return "TLS: the server does not offer TLS; enable TLS on the server, or set "
             "source.tls.mode to prefer or disable to connect unencrypted";
    case TlsFailure::kClientCertificate:
      return fmt::format(
          "TLS: the server refused the client certificate or requires one; check {} and {} and "
          "that the server trusts the CA that issued the certificate",
          EitherName("cert_file", url.cert_file), EitherName("key_file", url.key_file));
    case TlsFailure::kLocalFile:
      return fmt::format(
          "TLS: a certificate or key file cannot be used; check source.tls.ca_file, cert_file "
          "and key_file (or the URL's {}, {}, {}): PEM files, a key readable by its owner only",
          url.ca_file.name, url.cert_file.name, url.key_file.name);
  }
  return "";
}

}  // namespace rivet::config
