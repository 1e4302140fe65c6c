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
      {"invalid sslmode value: \"bogus\"", ErrorCode::kConfig},
      {"invalid integer value \"x\" for connection option \"port\"", ErrorCode::kConfig},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyConnectionFailure(c.message), c.code) << c.message;
  }
}

}  // namespace
}  // namespace rivet::source::postgres
