// MySQL and MariaDB source (MariaDB Connector/C, streamed results).
//
// Steps, in order (source.h gives the contract):
//   1. Connect(): opens one connection (host "localhost" means the Unix socket to Connector/C,
//      as to every MySQL client; 127.0.0.1 forces TCP), reads the server flavour and version
//      once, then sets the session: time_zone '+00:00' (TIMESTAMP values arrive in UTC),
//      innodb_lock_wait_timeout and lock_wait_timeout (row and metadata locks) from
//      lock_timeout_s, and a long net_write_timeout so that a slow writer downstream does not
//      make the server drop a stream it is waiting to send.
//   2. Stream(query): START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY (not when pinned to
//      a shared snapshot, see ShareSnapshot below); runs the query unbuffered (by default a
//      prepared statement on the binary protocol without mysql_stmt_store_result, or the text
//      protocol with mysql_use_result) and maps the result metadata to Rivet types
//      (mysql_types.h). Next() decodes rows straight into the batch.
//   3. At the end of the result the transaction is committed (unless pinned). A stream that
//      stops early (an error, or destroyed before its end) closes the connection instead of
//      reading the rest: the server rolls back and stops, and the next Stream or QueryText
//      reconnects and applies the same session settings again.
// ShareSnapshot (this source coordinates): SET SESSION lock_wait_timeout = min(lock_timeout_s,
// 10) (10 when 0), FLUSH TABLES WITH READ LOCK (needs RELOAD: kAuth without it), the session's
// lock_wait_timeout restored; each worker, then this source, START TRANSACTION WITH CONSISTENT
// SNAPSHOT, READ ONLY and is "pinned"; UNLOCK TABLES, always (after a failure part-way the
// pinned ones roll back). A pinned source's Streams neither start nor commit a transaction,
// and its QueryText reads the snapshot too; a failed query keeps the pin, but whatever closes
// the connection (a stream abandoned or failing mid-result, a timeout, a lost connection) ends
// it, with a warning, and later Streams use their own transaction again.
// Cancel() sends KILL QUERY over a side connection like the watchdog (any thread; a no-op
// without a connection); the interrupted call returns kTimeout naming Source::Cancel, and the
// connection is closed (the next call reconnects).
// QuoteLiteral: mysql_real_escape_string (by the session's character set and
// NO_BACKSLASH_ESCAPES) in single quotes; it needs a connection.
// Session settings come only from this source's ReadOptions and are set once per connection,
// so every Stream on a source runs with the same settings; each export builds its own source
// (and connection), so one export's settings can never reach another's session. Transaction
// characteristics (snapshot, READ ONLY) belong to one transaction and end with its stream.
//
// statement_timeout_s (reference §4) bounds the time to the first row and every stall between
// rows, never the length of a stream that keeps delivering: a watchdog thread watches a row
// counter while the source waits on the server and, after statement_timeout_s without a row,
// sends KILL QUERY <connection id> over a second, short-lived connection; the interrupted read
// is then reported as ErrorCode::kTimeout. Time spent outside the source (the writer encoding,
// throttle_ms) does not count. The server-side caps (max_execution_time, max_statement_time)
// are not used because they bound the whole statement. As a last resort against a silent
// network, reads also time out (MYSQL_OPT_READ_TIMEOUT, one bound per read in Connector/C)
// 30 s after the watchdog should have acted.
//
// Only one stream may be open on a source at a time, and a stream must not outlive its source.
#pragma once

#include <memory>

#include "rivet/source/source.h"

namespace rivet::source::mysql {

// How result rows travel. The binary protocol is the default: it is exact for every type
// (the text protocol prints FLOAT with 6 significant digits, so the text path refuses FLOAT
// columns rather than round them) and costs the server less (no integer and temporal
// formatting); on the 5M-row benchmark (bench/mysql_protocols.cc) it was as fast or faster.
// The text path stays for comparison and tests.
enum class Protocol { kText, kBinary };
inline constexpr Protocol kDefaultProtocol = Protocol::kBinary;

Result<std::unique_ptr<Source>> MakeMysqlSource(const config::SourceConfig& config,
                                                const ReadOptions& options);

// Same, with the wire protocol chosen (benchmarks and tests).
Result<std::unique_ptr<Source>> MakeMysqlSourceWithProtocol(const config::SourceConfig& config,
                                                            const ReadOptions& options,
                                                            Protocol protocol);

}  // namespace rivet::source::mysql
