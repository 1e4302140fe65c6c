#include "rivet/source/mysql/mysql_errors.h"

namespace rivet::source::mysql {

ErrorCode ClassifyMysqlError(unsigned int errnum) {
  switch (errnum) {
    // Connection refused, lost or killed: retry on a fresh connection.
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST (resolver hiccups are transient as often as typos)
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
      return ErrorCode::kNetwork;
    // Timeouts: lock waits and interrupted statements.
    case 1205:  // ER_LOCK_WAIT_TIMEOUT (row locks and metadata locks)
    case 1317:  // ER_QUERY_INTERRUPTED (KILL QUERY, Rivet's statement watchdog)
    case 1969:  // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    case 3024:  // ER_QUERY_TIMEOUT (MySQL max_execution_time)
      return ErrorCode::kTimeout;
    case 1213:  // ER_LOCK_DEADLOCK
      return ErrorCode::kDeadlock;
    case 1040:  // ER_CON_COUNT_ERROR (too many connections)
    case 1203:  // ER_TOO_MANY_USER_CONNECTIONS
    case 1226:  // ER_USER_LIMIT_REACHED
      return ErrorCode::kCapacity;
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1370:  // ER_PROCACCESS_DENIED_ERROR
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    // The server could not be authenticated (certificate, host name) or TLS was required and
    // not offered: trying again cannot change a certificate.
    case kSslConnectionError:
      return ErrorCode::kAuth;
    case 1046:  // ER_NO_DB_ERROR
    case 1049:  // ER_BAD_DB_ERROR
    case 1052:  // ER_NON_UNIQ_ERROR (ambiguous column)
    case 1054:  // ER_BAD_FIELD_ERROR
    case 1064:  // ER_PARSE_ERROR
    case 1109:  // ER_UNKNOWN_TABLE
    case 1146:  // ER_NO_SUCH_TABLE
    case 1149:  // ER_SYNTAX_ERROR
    case 1305:  // ER_SP_DOES_NOT_EXIST (unknown function)
      return ErrorCode::kQuery;
    default:
      return ErrorCode::kSource;
  }
}

config::TlsFailure ClassifyMysqlTlsFailure(unsigned int errnum, std::string_view message) {
  using config::TlsFailure;
  if (errnum != kSslConnectionError) return TlsFailure::kNone;
  auto has = [message](std::string_view needle) {
    return message.find(needle) != std::string_view::npos;
  };
  // ma_tls_verify_server_cert: the host-name check of MYSQL_OPT_SSL_VERIFY_SERVER_CERT.
  if (has("Validation of SSL server certificate failed")) return TlsFailure::kHostMismatch;
  if (has("SSL is required, but the server does not support it")) {
    return TlsFailure::kNoServerTls;
  }
  // The server refusing our certificate during the handshake.
  if (has("alert unknown ca") || has("alert bad certificate") ||
      has("alert certificate required") || has("alert certificate unknown")) {
    return TlsFailure::kClientCertificate;
  }
  // X509_verify_cert_error_string of the chain check against the CA.
  if (has("certificate verify failed") || has("unable to get local issuer certificate") ||
      has("self-signed certificate") || has("self signed certificate") ||
      has("unable to verify the first certificate") || has("unable to get issuer certificate") ||
      has("certificate has expired") || has("certificate signature failure")) {
    return TlsFailure::kUntrustedCertificate;
  }
  // ma_tls_set_certs: OpenSSL could not load a CA, certificate or key.
  if (has("No such file") || has("PEM") || has("private key") || has("system lib") ||
      has("no certificate or crl found") || has("key values mismatch")) {
    return TlsFailure::kLocalFile;
  }
  return TlsFailure::kNone;
}

}  // namespace rivet::source::mysql
