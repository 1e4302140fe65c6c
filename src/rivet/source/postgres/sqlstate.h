// PostgreSQL errors -> Rivet error codes (reference §4: classify at the edge, decide in the
// middle). The retry policy reads only the ErrorCode.
#pragma once

#include <string_view>

#include "rivet/common/error.h"
#include "rivet/config/tls.h"

namespace rivet::source::postgres {

// SQLSTATE (5 characters, PostgreSQL Appendix A) -> ErrorCode:
//   class 08 (connection exception), 57P01/57P02 (admin / crash shutdown)   kNetwork
//   57014 (query canceled / statement timeout), 55P03 (lock not available) kTimeout
//   53300 (too many connections), 57P03 (cannot connect now)               kCapacity
//   40P01 (deadlock detected), 40001 (serialization failure)               kDeadlock
//   class 28 (invalid authorization), 42501 (insufficient privilege)       kAuth
//   other class 42 (syntax error or access rule violation)                 kQuery
//   anything else, or no SQLSTATE                                          kSource
ErrorCode ClassifySqlState(std::string_view sqlstate);

// A connection that failed before any SQLSTATE could be read (PQstatus bad): classified from
// libpq's message. Refused, reset, unknown host and the like are kNetwork; rejected
// credentials and pg_hba refusals kAuth; "too many clients" / "starting up" kCapacity;
// invalid connection option values (sslmode, port) kConfig; TLS failures as
// ClassifyTlsFailure says (config::TlsFailureCode).
ErrorCode ClassifyConnectionFailure(std::string_view message);

// Which TLS failure libpq's message (or the server's refusal it carries) describes, kNone when
// it is not one; from libpq 15's fe-secure-openssl.c, fe-secure-common.c and fe-connect.c, the
// server's auth.c, and OpenSSL's alert texts.
config::TlsFailure ClassifyTlsFailure(std::string_view message);

}  // namespace rivet::source::postgres
