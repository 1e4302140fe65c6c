// PostgreSQL source (libpq, binary COPY).
//
// Connect: PQconnectdbParams from the URL (expanded, so Rivet's own keywords combine with it)
// or the structured fields; application_name=rivet, client_encoding=UTF8; the session runs in
// UTC with ISO 8601 intervals, standard_conforming_strings (QuoteLiteral doubles quotes only)
// and statement_timeout_s as the server's statement_timeout (which bounds QueryText).
// Stream(query), in order:
//   1. BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY (an idle connection found
//      dead at this point is replaced once), then, for a worker of a shared snapshot, SET
//      TRANSACTION SNAPSHOT '<id>' (when the import fails because the coordinator is gone, the
//      worker warns once, forgets the id and uses its own snapshot); then SET LOCAL TimeZone,
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
// ShareSnapshot (coordinator): BEGIN ... REPEATABLE READ READ ONLY, SELECT pg_export_snapshot();
// the transaction stays open until the source is destroyed or its connection lost. Its
// QueryText and Streams run inside it, each behind a savepoint (SAVEPOINT, then RELEASE or
// ROLLBACK TO SAVEPOINT) so that a failing statement leaves the snapshot usable; the stream's
// step 1 is then the savepoint.
// Cancel(): PQcancel with the cancel key taken at connect (guarded by a mutex, so any thread may
// call it); the interrupted call returns kTimeout naming Source::Cancel.
// The Source must outlive its RowStream, and runs one stream at a time.
#pragma once

#include <memory>

#include "rivet/source/source.h"

namespace rivet::source::postgres {

Result<std::unique_ptr<Source>> MakePostgresSource(const config::SourceConfig& config,
                                                   const ReadOptions& options);

}  // namespace rivet::source::postgres
