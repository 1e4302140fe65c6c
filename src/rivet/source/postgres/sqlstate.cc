#include "rivet/source/postgres/sqlstate.h"

namespace rivet::source::postgres {

ErrorCode ClassifySqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return ErrorCode::kSource;
  const std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return ErrorCode::kNetwork;
  if (sqlstate == "57P01" || sqlstate == "57P02") return ErrorCode::kNetwork;
  if (sqlstate == "57014" || sqlstate == "55P03") return ErrorCode::kTimeout;
  if (sqlstate == "53300" || sqlstate == "57P03") return ErrorCode::kCapacity;
  if (sqlstate == "40P01" || sqlstate == "40001") return ErrorCode::kDeadlock;
  if (cls == "28" || sqlstate == "42501") return ErrorCode::kAuth;
  if (cls == "42") return ErrorCode::kQuery;
  return ErrorCode::kSource;
}

config::TlsFailure ClassifyTlsFailure(std::string_view message) {
  using config::TlsFailure;
  auto has = [message](std::string_view needle) {
    return message.find(needle) != std::string_view::npos;
  };
  if (has("does not match host name")) return TlsFailure::kHostMismatch;
  if (has("certificate verify failed")) return TlsFailure::kUntrustedCertificate;
  if (has("server does not support SSL, but SSL was required")) return TlsFailure::kNoServerTls;
  // The server refusing our certificate: auth.c's FATALs, or an alert during the handshake.
  if (has("connection requires a valid client certificate") ||
      has("certificate authentication failed") || has("alert unknown ca") ||
      has("alert bad certificate") || has("alert certificate required") ||
      has("alert certificate unknown")) {
    return TlsFailure::kClientCertificate;
  }
  if (has("root certificate file") || has("certificate present, but not private key") ||
      has("could not open certificate file") || has("could not read certificate file") ||
      has("could not load private key file") || has("private key file")) {
    return TlsFailure::kLocalFile;
  }
  return TlsFailure::kNone;
}

ErrorCode ClassifyConnectionFailure(std::string_view message) {
  auto has = [message](std::string_view needle) {
    return message.find(needle) != std::string_view::npos;
  };
  // Before the rest: "certificate authentication failed" is a TLS matter, and a certificate that
  // does not verify would otherwise pass for a network failure and be retried.
  if (config::TlsFailure tls = ClassifyTlsFailure(message); tls != config::TlsFailure::kNone) {
    return config::TlsFailureCode(tls);
  }
  // The server's FATAL texts for SQLSTATE 28P01 / 28000 (src/backend/libpq/auth.c) and the
  // client's own refusals when a password is needed but none was given.
  if (has("password authentication failed") || has("no pg_hba.conf entry") ||
      has("authentication failed") || has("no password supplied") ||
      has("pg_hba.conf rejects connection") || (has("role \"") && has("\" does not exist"))) {
    return ErrorCode::kAuth;
  }
  // 53300 and 57P03 (src/backend/utils/init/postinit.c, postmaster.c).
  if (has("too many clients already") || has("remaining connection slots are reserved") ||
      has("the database system is starting up") ||
      has("the database system is not yet accepting connections") ||
      has("the database system is in recovery mode") ||
      has("the database system is shutting down")) {
    return ErrorCode::kCapacity;
  }
  if (has("database \"") && has("\" does not exist")) return ErrorCode::kSource;
  // libpq's own checks of the connection options ("invalid sslmode value", "invalid integer
  // value ... for connection option \"port\""): fix the configuration.
  if (has("invalid ") && (has(" value") || has("connection option"))) return ErrorCode::kConfig;
  return ErrorCode::kNetwork;
}

}  // namespace rivet::source::postgres
