// MySQL / MariaDB error numbers (server ER_* and client CR_*) to Rivet error codes
// (reference §4: classify at the edge, decide retries from the code only).
#pragma once

#include <string_view>

#include "rivet/common/error.h"
#include "rivet/config/tls.h"

namespace rivet::source::mysql {

// CR_SSL_CONNECTION_ERROR: every TLS failure of Connector/C, told apart only by its message.
inline constexpr unsigned int kSslConnectionError = 2026;

ErrorCode ClassifyMysqlError(unsigned int errnum);

// Which TLS failure a connection error is (kNone when it is none): Connector/C 3.3's texts
// for error 2026 (secure/openssl.c, plugins/auth/my_auth.c) with OpenSSL's X509 and alert
// strings.
config::TlsFailure ClassifyMysqlTlsFailure(unsigned int errnum, std::string_view message);

}  // namespace rivet::source::mysql
