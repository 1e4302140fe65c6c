// Table-driven check of the PostgreSQL error classifier (reference §4).
#include "rivet/source/postgres/sqlstate.h"

#include <gtest/gtest.h>

#include <string>

namespace rivet::source::postgres {
namespace {

TEST(ClassifySqlState, Table) {
  struct Case {
    const char* sqlstate;
    ErrorCode code;
  };
  const Case cases[] = {
      {"08000", ErrorCode::kNetwork},   // connection_exception
      {"08006", ErrorCode::kNetwork},   // connection_failure
      {"08001", ErrorCode::kNetwork},   // sqlclient_unable_to_establish_sqlconnection
      {"57P01", ErrorCode::kNetwork},   // admin_shutdown
      {"57P02", ErrorCode::kNetwork},   // crash_shutdown
      {"57014", ErrorCode::kTimeout},   // query_canceled (statement_timeout)
      {"55P03", ErrorCode::kTimeout},   // lock_not_available (lock_timeout)
      {"53300", ErrorCode::kCapacity},  // too_many_connections
      {"57P03", ErrorCode::kCapacity},  // cannot_connect_now
      {"40P01", ErrorCode::kDeadlock},  // deadlock_detected
      {"40001", ErrorCode::kDeadlock},  // serialization_failure
      {"28000", ErrorCode::kAuth},      // invalid_authorization_specification
      {"28P01", ErrorCode::kAuth},      // invalid_password
      {"42501", ErrorCode::kAuth},      // insufficient_privilege
      {"42601", ErrorCode::kQuery},     // syntax_error
      {"42P01", ErrorCode::kQuery},     // undefined_table
      {"42703", ErrorCode::kQuery},     // undefined_column
      {"42883", ErrorCode::kQuery},     // undefined_function
      {"22012", ErrorCode::kSource},    // division_by_zero
      {"23505", ErrorCode::kSource},    // unique_violation
      {"53100", ErrorCode::kSource},    // disk_full
      {"3D000", ErrorCode::kSource},    // invalid_catalog_name
      {"XX000", ErrorCode::kSource},    // internal_error
      {"40002", ErrorCode::kSource},    // transaction_integrity_constraint_violation
      {"", ErrorCode::kSource},        {"0800", ErrorCode::kSource},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifySqlState(c.sqlstate), c.code) << "'" << c.sqlstate << "'";
  }
}

TEST(ClassifyConnectionFailure, Table) {
  struct Case {
    const char* message;
    ErrorCode code;
  };
  const Case cases[] = {
      {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the "
       "server running on that host and accepting TCP/IP connections?",
       ErrorCode::kNetwork},
      {"could not translate host name \"nowhere.invalid\" to address: Name or service not known",
       ErrorCode::kNetwork},
      {"connection to server at \"10.0.0.1\", port 5432 failed: timeout expired",
       ErrorCode::kNetwork},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication "
       "failed for user \"rivet_pw\"",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  no pg_hba.conf entry "
       "for host \"10.1.1.1\", user \"x\", database \"y\", no encryption",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password "
       "supplied",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  role \"ghost\" does not "
       "exist",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients "
       "already",
       ErrorCode::kCapacity},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system is "
       "starting up",
       ErrorCode::kCapacity},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" does "
       "not exist",
       ErrorCode::kSource},
      {"connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate "
       "verify failed",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.2\", port 5432 failed: server certificate for "
       "\"localhost\" (and 1 other name) does not match host name \"127.0.0.2\"",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: server does not support SSL, "
       "but SSL was required",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  connection requires a "
       "valid client certificate",
       ErrorCode::kAuth},
      {"connection to server at \"127.0.0.1\", port 5432 failed: root certificate file "
       "\"/root/.postgresql/root.crt\" does not exist\nEither provide the file or change sslmode "
       "to disable server certificate verification.",
       ErrorCode::kConfig},
      {"connection to server at \"127.0.0.1\", port 5432 failed: SSL SYSCALL error: EOF "
       "detected",
       ErrorCode::kNetwork},
      {"invalid sslmode value: \"bogus\"", ErrorCode::kConfig},
      {"invalid integer value \"x\" for connection option \"port\"", ErrorCode::kConfig},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyConnectionFailure(c.message), c.code) << c.message;
  }
}

TEST(ClassifyTlsFailure, Table) {
  using config::TlsFailure;
  struct Case {
    const char* message;
    TlsFailure failure;
  };
  const Case cases[] = {
      {"SSL error: certificate verify failed", TlsFailure::kUntrustedCertificate},
      {"server certificate for \"localhost\" does not match host name \"db\"",
       TlsFailure::kHostMismatch},
      {"server certificate for \"localhost\" (and 1 other name) does not match host name "
       "\"127.0.0.2\"",
       TlsFailure::kHostMismatch},
      {"server does not support SSL, but SSL was required", TlsFailure::kNoServerTls},
      {"FATAL:  connection requires a valid client certificate", TlsFailure::kClientCertificate},
      {"FATAL:  certificate authentication failed for user \"rivet_cert\"",
       TlsFailure::kClientCertificate},
      {"SSL error: tlsv1 alert unknown ca", TlsFailure::kClientCertificate},
      {"SSL error: sslv3 alert bad certificate", TlsFailure::kClientCertificate},
      {"SSL error: tlsv13 alert certificate required", TlsFailure::kClientCertificate},
      {"could not read root certificate file \"x\": no certificate or crl found",
       TlsFailure::kLocalFile},
      {"certificate present, but not private key file \"/root/.postgresql/postgresql.key\"",
       TlsFailure::kLocalFile},
      {"private key file \"k\" has group or world access; file must have permissions u=rw "
       "(0600) or less if owned by the current user",
       TlsFailure::kLocalFile},
      {"could not load private key file \"k\": unsupported", TlsFailure::kLocalFile},
      {"SSL SYSCALL error: Connection reset by peer", TlsFailure::kNone},
      {"FATAL:  password authentication failed for user \"rivet_pw\"", TlsFailure::kNone},
      {"Connection refused", TlsFailure::kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyTlsFailure(c.message), c.failure) << c.message;
  }
}

}  // namespace
}  // namespace rivet::source::postgres
