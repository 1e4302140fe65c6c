// Connection parameters for the MySQL / MariaDB source, from a URL or the structured fields.
//
// URL form (reference §1): mysql://user:password@host:3306/database
//   - scheme `mysql` (or `mariadb`); user, password and database are percent-decoded;
//   - host is a name, an IPv4 address or a bracketed IPv6 address ([::1]); port 1..65535,
//     default 3306;
//   - query parameters: the TLS settings ssl-mode (DISABLED, PREFERRED, REQUIRED, VERIFY_CA,
//     VERIFY_IDENTITY as the mysql client spells them, any case, or Rivet's disable ...
//     verify-full), ssl-ca, ssl-cert and ssl-key (paths, percent-decoded, as written: relative to
//     the working directory); any other parameter is refused rather than silently ignored.
// Host `localhost` is kept as written; note that MariaDB Connector/C then connects through the
// Unix socket rather than TCP, as every MySQL client does. Use 127.0.0.1 to force TCP.
// Errors never contain the URL or the password (the URL usually embeds it).
#pragma once

#include <string>
#include <string_view>

#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/config/tls.h"

namespace rivet::source::mysql {

inline constexpr int kDefaultMysqlPort = 3306;

struct ConnectParams {
  std::string host;
  int port = kDefaultMysqlPort;
  std::string user;
  std::string password;  // a secret: never formatted into messages
  std::string database;  // empty: no default database
  config::UrlTls url_tls = config::MysqlUrlTlsNames();  // what the URL's query says
  // What the connection uses: source.tls combined with url_tls (ConnectParamsFrom).
  config::TlsConfig tls;
};

// Pure and bounds-checked; errors are kConfig and say which part is wrong, never its value
// for user or password.
Result<ConnectParams> ParseMysqlUrl(std::string_view url);

// From SourceConfig: the URL when set, else host / port / user / password / database; the TLS
// settings are source.tls combined with the URL's (config/tls.h CombineTls).
Result<ConnectParams> ConnectParamsFrom(const config::SourceConfig& config);

}  // namespace rivet::source::mysql
