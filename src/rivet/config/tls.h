// The TLS settings of a source connection: the source.tls block combined with the connection
// URL's own parameters (PostgreSQL: sslmode, sslrootcert, sslcert, sslkey; MySQL: ssl-mode,
// ssl-ca, ssl-cert, ssl-key), and the rules every combination must satisfy. Engine-neutral: each
// source reads its URL's parameters its own way (libpq's parser, mysql_url.h) and hands them
// here, so both engines follow the same rules (README "TLS to the source").
//
// Rules, in the order they are checked:
//   1. A setting given both in the block and in the URL must agree (the same mode; paths naming
//      the same file), else kConfig naming both. The URL usually comes from the environment and
//      the block from the repository: when they disagree one of them is wrong, and letting
//      either win silently could pick the weaker one.
//   2. cert_file and key_file go together (a client certificate is a pair).
//   3. mode disable uses no file: a CA, certificate or key beside it is a contradiction.
//   4. mode prefer takes no CA: libpq falls back to an unencrypted connection when the
//      certificate does not verify, so a CA would protect nothing while looking like it does.
//   5. verify-ca and verify-full need a CA from the block or the URL. Rivet never verifies
//      against a file nobody named (libpq's ~/.postgresql/root.crt, PGSSLROOTCERT), so what a
//      run trusts does not depend on whose home directory it runs in; and Connector/C checks no
//      chain at all without a CA unless it also checks the host name.
// mode require with a CA is allowed: both libraries then verify the chain, as verify-ca does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::config {

// One TLS setting as a connection URL gives it.
struct UrlTlsParam {
  std::string_view name;             // the URL's key, for messages: "sslmode", "ssl-ca", ...
  std::optional<std::string> value;  // as written (decoded); nullopt when the URL lacks it
};

// The TLS parameters of a connection URL, with the engine's names for them.
struct UrlTls {
  UrlTlsParam mode;
  UrlTlsParam ca_file;
  UrlTlsParam cert_file;
  UrlTlsParam key_file;
  // mode.value in Rivet's terms; nullopt also for a value Rivet has no mode for (libpq's
  // sslmode=allow), which then stays the library's business.
  std::optional<TlsMode> parsed_mode;
};

// Rivet's mode names, which are also libpq's sslmode values: "verify-full" -> kVerifyFull.
std::optional<TlsMode> ParseTlsMode(std::string_view name);

// The URL parameter names of each engine, with no value.
UrlTls PostgresUrlTlsNames();
UrlTls MysqlUrlTlsNames();

// A broken rule: the key of source.tls it concerns ("mode", "ca_file", ...) and what to do.
struct TlsProblem {
  std::string_view key;
  std::string problem;
};

// Rules 2-5 on `tls` (rule 5 only when `ca_from_url_possible` is false: a URL not read yet may
// still give the CA). `url` names the URL's equivalents in the messages.
std::optional<TlsProblem> CheckTls(const TlsConfig& tls, const UrlTls& url,
                                   bool ca_from_url_possible);

// The settings a connection uses: `block` with what `url` adds, after every rule. Paths from
// the URL stay as written (the client libraries resolve them against the working directory); a
// mode the URL gives without a Rivet name leaves `mode` empty. kConfig errors read
// "source.tls.<key>: <problem>".
Result<TlsConfig> CombineTls(const TlsConfig& block, const UrlTls& url);

// Why a TLS connection failed, as each engine's classifier reads its library's message.
enum class TlsFailure {
  kNone,                  // not a TLS failure
  kUntrustedCertificate,  // the chain does not lead to the CA given (or none was given)
  kHostMismatch,          // verify-full: the certificate does not name the host
  kNoServerTls,           // TLS required, the server offers none
  kClientCertificate,     // the server refused (or demanded) a client certificate
  kLocalFile,             // a CA, certificate or key file that the client cannot use
};

// The error class of a TLS failure: kConfig for a local file (fix the config), else kAuth
// (the server could not be authenticated, or refused us): never retried, since trying again
// cannot change a certificate.
ErrorCode TlsFailureCode(TlsFailure failure);

// What to do about `failure`, naming the block's keys and the URL's (`url`): the text after
// "; " in a connection error. Empty for kNone.
std::string TlsFailureHint(TlsFailure failure, const UrlTls& url);

}  // namespace rivet::config
