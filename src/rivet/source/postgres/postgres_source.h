// PostgreSQL source (libpq, binary COPY).
//
// Connect: PQconnectdbParams from the URL (expanded, so Rivet's own keywords combine with it)
// or the structured fields; application_name=rivet, client_encoding=UTF8; the session runs in
// UTC with ISO 8601 intervals and statement_timeout_s as the server's statement_timeout (which
// bounds QueryText).
// Stream(query), in order:
//   1. BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY, then SET LOCAL TimeZone,
//      IntervalStyle, extra_float_digits, lock_timeout (lock_timeout_s) and statement_timeout;
//   2. PQprepare + PQdescribePrepared: the result columns' names, type OIDs and typmods; unknown
//      OIDs are read from pg_type (pg_types.h maps them, reference §5);
//   3. SET LOCAL statement_timeout = 0 and send COPY (...) TO STDOUT (FORMAT binary), with casts
//      to text for types without a binary decoder;
//   4. RowStream::Next reads CopyData with PQgetCopyData(async) + poll(): statement_timeout_s
//      bounds the wait for the first row and every stall between rows, never the whole COPY
//      (reference §4); on expiry the query is cancelled and Next returns kTimeout;
//   5. the end of the COPY is checked (an error after partial data is returned, classified),
//      then the transaction is rolled back (it only read).
// The Source must outlive its RowStream, and runs one stream at a time.
#pragma once

#include <memory>

#include "rivet/source/source.h"

namespace rivet::source::postgres {

Result<std::unique_ptr<Source>> MakePostgresSource(const config::SourceConfig& config,
                                                   const ReadOptions& options);

}  // namespace rivet::source::postgres
