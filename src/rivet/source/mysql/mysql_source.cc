#include "rivet/source/mysql/mysql_source.h"

#include <mysql.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "rivet/common/text.h"
#include "rivet/source/mysql/mysql_decode.h"
#include "rivet/source/mysql/mysql_errors.h"
#include "rivet/source/mysql/mysql_types.h"
#include "rivet/source/mysql/mysql_url.h"

namespace rivet::source::mysql {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::Int128;
using columnar::Schema;
using columnar::SchemaPtr;
using columnar::Storage;
using columnar::TypeId;

// Seconds to wait for a TCP connection and the handshake.
constexpr unsigned kConnectTimeoutS = 30;
// The read timeout backstop fires this long after the watchdog should have cancelled the query.
constexpr unsigned kReadTimeoutGraceS = 30;
// How long the server waits for Rivet to read the next packet of a result before dropping the
// connection: the writer may be busy with the previous batch (a slow upload) for minutes.
constexpr int64_t kNetWriteTimeoutS = 3600;
// The watchdog's side connection gives up quickly: it only sends one KILL QUERY.
constexpr unsigned kKillConnectTimeoutS = 10;
// ER_NO_SUCH_THREAD: KILL named a connection that is already closed.
constexpr unsigned int kNoSuchThread = 1094;
// FLUSH TABLES WITH READ LOCK blocks every writer while it waits for running statements, so
// ShareSnapshot bounds that wait by lock_timeout_s but never beyond this many seconds.
constexpr int64_t kMaxGlobalLockWaitS = 10;
// The largest lock_wait_timeout the server accepts (one year).
constexpr int64_t kMaxLockWaitTimeoutS = 31536000;
constexpr const char* kStartSnapshot = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
// A batch stops growing past this many bytes whatever RowsPerBatch says (wide rows).
constexpr size_t kMaxBatchBytes = size_t{256} << 20;

struct MysqlCloser {
  void operator()(MYSQL* conn) const { mysql_close(conn); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;
struct ResultFreer {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using ResultPtr = std::unique_ptr<MYSQL_RES, ResultFreer>;
struct StmtCloser {
  void operator()(MYSQL_STMT* stmt) const { mysql_stmt_close(stmt); }
};
using StmtPtr = std::unique_ptr<MYSQL_STMT, StmtCloser>;

Status InitLibrary() {
  // mysql_library_init is not thread-safe: run it once, before any connection (static init is).
  static const int rc = mysql_library_init(0, nullptr, nullptr);
  if (rc != 0) return Error(ErrorCode::kInternal, "mysql: client library initialisation failed");
  return Status::Ok();
}

// Server messages name the user and host, never the password; Rivet adds neither URL nor
// password.
Status ServerError(unsigned int errnum, const char* message, std::string_view what) {
  return Error(ClassifyMysqlError(errnum), "mysql: {}: {} (error {})", what, message, errnum);
}
Status ConnError(MYSQL* conn, std::string_view what) {
  return ServerError(mysql_errno(conn), mysql_error(conn), what);
}
Status StmtError(MYSQL_STMT* stmt, std::string_view what) {
  return ServerError(mysql_stmt_errno(stmt), mysql_stmt_error(stmt), what);
}

// source.tls on MariaDB Connector/C 3.3 (mariadb_lib.c, plugins/auth/my_auth.c,
// secure/openssl.c):
//   - MYSQL_OPT_SSL_ENFORCE, despite its name, only turns TLS on, as any CA, certificate or key
//     option does; a server that offers no TLS then gets a plain connection unless the host
//     name is checked too, so OpenConnection checks require and verify-ca after connecting;
//   - with a CA, OpenSSL verifies the chain during the handshake (SSL_VERIFY_PEER), and
//     MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host-name check (X509_check_host, or
//     X509_check_ip_asc for an address) against the host connected to: verify-ca is a CA
//     without that option, verify-full a CA with it;
//   - disable turns TLS off explicitly (Connector/C 3.4 turns it on by default); with no mode
//     anywhere nothing is set, which on 3.3 means no TLS, as before source.tls existed.
void ApplyTls(MYSQL* conn, const config::TlsConfig& tls) {
  if (!tls.mode) return;  // CombineTls allows no file without a mode
  my_bool use_tls = *tls.mode != config::TlsMode::kDisable;
  my_bool check_host = *tls.mode == config::TlsMode::kVerifyFull;
  mysql_options(conn, MYSQL_OPT_SSL_ENFORCE, &use_tls);
  mysql_options(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &check_host);
  if (!tls.ca_file.empty()) mysql_options(conn, MYSQL_OPT_SSL_CA, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) mysql_options(conn, MYSQL_OPT_SSL_CERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) mysql_options(conn, MYSQL_OPT_SSL_KEY, tls.key_file.c_str());
}

// "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" when the connection is not encrypted.
std::string DescribeTls(MYSQL* conn) {
  const char* cipher = mysql_get_ssl_cipher(conn);
  if (cipher == nullptr) return "";
  const char* version = nullptr;
  if (mariadb_get_infov(conn, MARIADB_CONNECTION_TLS_VERSION, &version) != 0 || !version) {
    version = "TLS";
  }
  return fmt::format("{} {}", version, cipher);
}

Result<MysqlPtr> OpenConnection(const ConnectParams& params, unsigned connect_timeout_s,
                                unsigned read_timeout_s) {
  RIVET_RETURN_IF_ERROR(InitLibrary());
  MysqlPtr conn(mysql_init(nullptr));
  if (!conn) return Error(ErrorCode::kInternal, "mysql: out of memory");
  mysql_options(conn.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s);
  if (read_timeout_s > 0) mysql_options(conn.get(), MYSQL_OPT_READ_TIMEOUT, &read_timeout_s);
  mysql_options(conn.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned int local_infile = 0;  // an export never needs LOAD DATA LOCAL
  mysql_options(conn.get(), MYSQL_OPT_LOCAL_INFILE, &local_infile);
  ApplyTls(conn.get(), params.tls);
  auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  const std::string what = fmt::format("cannot connect to {}:{}", params.host, params.port);
  if (!mysql_real_connect(conn.get(), params.host.c_str(), or_null(params.user),
                          or_null(params.password), or_null(params.database),
                          static_cast<unsigned>(params.port), nullptr, 0)) {
    const unsigned int errnum = mysql_errno(conn.get());
    const config::TlsFailure tls = ClassifyMysqlTlsFailure(errnum, mysql_error(conn.get()));
    Status status = ConnError(conn.get(), what);
    if (tls == config::TlsFailure::kNone) return status;
    return Error(config::TlsFailureCode(tls), "{}; {}", status.message(),
                 config::TlsFailureHint(tls, config::MysqlUrlTlsNames()));
  }
  if (params.tls.mode >= config::TlsMode::kRequire && mysql_get_ssl_cipher(conn.get()) == nullptr) {
    return Error(
        ErrorCode::kAuth,
        "mysql: {}: the connection is not encrypted although the TLS mode is {}; {}", what,
        config::ToString(*params.tls.mode),
        config::TlsFailureHint(config::TlsFailure::kNoServerTls, config::MysqlUrlTlsNames()));
  }
  return conn;
}

// "10.11.6-MariaDB-0+deb12u1" -> "MariaDB 10.11.6"; "8.0.36" -> "MySQL 8.0.36".
std::string DescribeServer(std::string_view info) {
  size_t end = 0;
  while (end < info.size() && ((info[end] >= '0' && info[end] <= '9') || info[end] == '.')) ++end;
  std::string_view version = info.substr(0, end);
  bool mariadb = info.find("MariaDB") != std::string_view::npos;
  return fmt::format("{} {}", mariadb ? "MariaDB" : "MySQL", version.empty() ? info : version);
}

// Cancels a statement that delivers no row for `timeout` while the source waits on it
// (reference §4 statement_timeout_s). The reader bumps a counter per row; the watchdog thread
// samples it while armed and calls on_stall once when it stayed unchanged for `timeout`.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  Watchdog(std::chrono::seconds timeout, std::function<void()> on_stall)
      : timeout_(timeout), on_stall_(std::move(on_stall)), thread_([this] { Run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts a new operation (a Stream or a QueryText): forgets an earlier cancellation.
  void Reset() {
    std::lock_guard lock(mu_);
    fired_ = false;
  }
  // Entering a wait on the server. A cancellation stays visible until Reset(), so that the
  // error surfacing in a later Next() is still reported as the timeout it is.
  void Arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
    last_seen_ = progress_.load(std::memory_order_relaxed);
    last_change_ = Clock::now();
  }
  void Disarm() {
    std::lock_guard lock(mu_);
    armed_ = false;
  }
  // Only the reading thread writes the counter: a relaxed load and store, no locked RMW.
  void Progress() {
    progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  bool fired() const {
    std::lock_guard lock(mu_);
    return fired_;
  }
  int64_t timeout_s() const { return timeout_.count(); }

 private:
  void Run() {
    using std::chrono::milliseconds;
    const auto tick =
        std::clamp<Clock::duration>(timeout_ / 10, milliseconds(50), milliseconds(500));
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, tick);
      if (stop_ || !armed_ || fired_) continue;
      uint64_t seen = progress_.load(std::memory_order_relaxed);
      auto now = Clock::now();
      if (seen != last_seen_) {
        last_seen_ = seen;
        last_change_ = now;
        continue;
      }
      if (now - last_change_ < timeout_) continue;
      fired_ = true;
      lock.unlock();
      on_stall_();
      lock.lock();
    }
  }

  const std::chrono::seconds timeout_;
  const std::function<void()> on_stall_;
  std::atomic<uint64_t> progress_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool armed_ = false;
  bool fired_ = false;
  uint64_t last_seen_ = 0;
  Clock::time_point last_change_;
  std::thread thread_;  // last: starts once every other member is built
};

// Arms the watchdog (if any) for the lifetime of a blocking call.
class ArmGuard {
 public:
  explicit ArmGuard(Watchdog* watchdog) : watchdog_(watchdog) {
    if (watchdog_) watchdog_->Arm();
  }
  ~ArmGuard() {
    if (watchdog_) watchdog_->Disarm();
  }
  ArmGuard(const ArmGuard&) = delete;
  ArmGuard& operator=(const ArmGuard&) = delete;

 private:
  Watchdog* watchdog_;
};

// ---------------------------------------------------------------------------------------------
// Value decoding shared by both protocols.

// The whole text must be a number (read exactly, no locale).
template <typename T>
bool AppendFloatText(const char* data, size_t length, Column& column) {
  const std::optional<T> value = ParseWhole<T>(std::string_view(data, length));
  if (!value) return false;
  column.Append<T>(*value);
  return true;
}

inline void AppendInt(const ColumnPlan& plan, int64_t value, Column& column) {
  if (plan.storage == Storage::kI64) {
    column.Append<int64_t>(value);
  } else {
    column.Append<int32_t>(static_cast<int32_t>(value));
  }
}

inline void AppendDecimal(const ColumnPlan& plan, Int128 unscaled, Column& column) {
  if (plan.storage == Storage::kI64) {
    column.Append<int64_t>(static_cast<int64_t>(unscaled));
  } else {
    column.Append<Int128>(unscaled);
  }
}

// BIT(1) -> bool, BIT(2..63) -> int64, BIT(64) -> uint64 bit pattern.
inline bool AppendBit(const ColumnPlan& plan, uint64_t value, Column& column) {
  if (plan.type.id == TypeId::kBool) {
    if (value > 1) return false;
    column.Append<uint8_t>(static_cast<uint8_t>(value));
    return true;
  }
  column.Append<int64_t>(static_cast<int64_t>(value));
  return true;
}

inline bool AppendDateStatus(ParseStatus status, int32_t days, Column& column) {
  if (status == ParseStatus::kOk) {
    column.Append<int32_t>(days);
  } else if (status == ParseStatus::kZero) {
    column.AppendNull();  // zero dates export as NULL (reference §5, documented)
  } else {
    return false;
  }
  return true;
}

inline bool AppendMicrosStatus(ParseStatus status, int64_t micros, Column& column) {
  if (status == ParseStatus::kOk) {
    column.Append<int64_t>(micros);
  } else if (status == ParseStatus::kZero) {
    column.AppendNull();
  } else {
    return false;
  }
  return true;
}

// Text protocol: one value as the server printed it. False when it cannot be exported exactly;
// ValueError then says why.
inline bool DecodeText(const ColumnPlan& plan, const char* data, unsigned long length,
                       Column& column) {
  const std::string_view text(data, length);
  switch (plan.decoder) {
    case Decoder::kBool:
      if (length != 1 || (data[0] != '0' && data[0] != '1')) return false;
      column.Append<uint8_t>(static_cast<uint8_t>(data[0] - '0'));
      return true;
    case Decoder::kBit: {
      uint64_t value = 0;
      if (!BitBytesToUInt64(reinterpret_cast<const uint8_t*>(data), length, &value)) return false;
      return AppendBit(plan, value, column);
    }
    case Decoder::kInt: {
      const std::optional<int64_t> value = ParseWhole<int64_t>(text);
      if (!value || *value < plan.min || *value > plan.max) return false;
      AppendInt(plan, *value, column);
      return true;
    }
    case Decoder::kUInt64: {
      const std::optional<uint64_t> value = ParseWhole<uint64_t>(text);
      if (!value) return false;
      column.Append<int64_t>(static_cast<int64_t>(*value));  // bit pattern (types.h)
      return true;
    }
    case Decoder::kFloat32:
      return AppendFloatText<float>(data, length, column);
    case Decoder::kFloat64:
      return AppendFloatText<double>(data, length, column);
    case Decoder::kDecimal: {
      Int128 unscaled = 0;
      if (ParseDecimalText(text, plan.type.precision, plan.type.scale, &unscaled) !=
          ParseStatus::kOk) {
        return false;
      }
      AppendDecimal(plan, unscaled, column);
      return true;
    }
    case Decoder::kBytes:
      column.AppendBytes(data, length);
      return true;
    case Decoder::kDate: {
      int32_t days = 0;
      ParseStatus status = ParseDateText(text, &days);  // before `days` is read
      return AppendDateStatus(status, days, column);
    }
    case Decoder::kTime: {
      int64_t micros = 0;
      ParseStatus status = ParseTimeText(text, &micros);
      if (status != ParseStatus::kOk) return false;
      column.Append<int64_t>(micros);
      return true;
    }
    case Decoder::kDatetime: {
      int64_t micros = 0;
      ParseStatus status = ParseDatetimeText(text, &micros);
      return AppendMicrosStatus(status, micros, column);
    }
  }
  return false;
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Why `value` (the server's text form) of `plan` in `row` (1-based within the stream, as in
// PostgreSQL's errors) cannot be exported; names column, row and value.
Status ValueError(const ColumnPlan& plan, int64_t row, std::string_view value) {
  switch (plan.decoder) {
    case Decoder::kBool:
      return Error(
          ErrorCode::kData,
          "column '{}' (row {}): tinyint(1) value {} is not a boolean (0 or 1); cast the column "
          "(CAST(col AS SIGNED)) to export it as an integer",
          plan.name, row, value);
    case Decoder::kBit:
      return Error(ErrorCode::kData, "column '{}' (row {}): BIT value {} does not fit {}",
                   plan.name, row, HexOf(value), plan.type.ToString());
    case Decoder::kTime: {
      int64_t micros = 0;
      if (ParseTimeText(value, &micros) == ParseStatus::kOutOfRange) {
        return Error(ErrorCode::kData,
                     "column '{}' (row {}): TIME value '{}' is not a time of day (00:00:00 to "
                     "23:59:59.999999), which is all a TIME column can hold; cast it to text "
                     "(CAST(col AS CHAR)) to export durations",
                     plan.name, row, value);
      }
      break;
    }
    case Decoder::kDate:
    case Decoder::kDatetime:
      return Error(
          ErrorCode::kData,
          "column '{}' (row {}): '{}' is not a valid date (zero month or day?); only the full "
          "zero date 0000-00-00 is exported, as NULL",
          plan.name, row, value);
    case Decoder::kInt:
    case Decoder::kUInt64:
    case Decoder::kDecimal:
      return Error(ErrorCode::kData, "column '{}' (row {}): value {} is out of range for {}",
                   plan.name, row, value, plan.type.ToString());
    default:
      break;
  }
  return Error(ErrorCode::kData, "column '{}' (row {}): cannot decode value '{}' as {}", plan.name,
               row, value, plan.type.ToString());
}

FieldMeta MetaOf(const MYSQL_FIELD& field) {
  FieldMeta meta;
  meta.name.assign(field.name, field.name_length);
  meta.type = field.type;
  meta.flags = field.flags;
  meta.length = field.length;
  meta.decimals = field.decimals;
  meta.charsetnr = field.charsetnr;
  // MariaDB sends JSON columns as LONGTEXT; with extended metadata (Connector/C 3.3 and
  // MariaDB 10.5.7+) the column's format name says "json".
  MARIADB_CONST_STRING format{nullptr, 0};
  if (mariadb_field_attr(&format, &field, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 && format.str) {
    meta.json_format = std::string_view(format.str, format.length) == "json";
  }
  return meta;
}

// Validity byte plus fixed-width storage (or one offset) per column: the part of
// Batch::ByteSize() a row adds besides its variable-length bytes.
size_t FixedRowBytes(const std::vector<ColumnPlan>& plans) {
  size_t total = 0;
  for (const ColumnPlan& plan : plans) {
    switch (plan.storage) {
      case Storage::kU8:
        total += 2;
        break;
      case Storage::kI32:
      case Storage::kF32:
        total += 5;
        break;
      case Storage::kI128:
        total += 17;
        break;
      default:
        total += 9;
        break;
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------

class MysqlSource final : public Source {
 public:
  MysqlSource(ConnectParams params, ReadOptions options, Protocol protocol)
      : params_(std::move(params)), options_(options), protocol_(protocol) {}
  ~MysqlSource() override {
    watchdog_.reset();  // joins the thread before the connection goes away
    conn_.reset();
  }

  Status Connect() override {
    DropConnection();
    unsigned read_timeout = 0;
    if (options_.statement_timeout_s > 0) {
      read_timeout = static_cast<unsigned>(
          std::min<int64_t>(options_.statement_timeout_s + kReadTimeoutGraceS, 365 * 86400));
    }
    RIVET_ASSIGN_OR_RETURN(conn_, OpenConnection(params_, kConnectTimeoutS, read_timeout));
    if (description_.empty()) description_ = DescribeServer(mysql_get_server_info(conn_.get()));
    tls_description_ = DescribeTls(conn_.get());
    connection_id_.store(mysql_thread_id(conn_.get()));
    if (options_.statement_timeout_s > 0 && !watchdog_) {
      watchdog_ = std::make_unique<Watchdog>(std::chrono::seconds(options_.statement_timeout_s),
                                             [this] { OnStall(); });
    }
    std::string session =
        fmt::format("SET time_zone = '+00:00', SESSION net_write_timeout = {}", kNetWriteTimeoutS);
    if (options_.lock_timeout_s > 0) {
      // Row locks (InnoDB) and metadata locks (a concurrent ALTER TABLE): both answer 1205.
      session +=
          fmt::format(", SESSION innodb_lock_wait_timeout = {0}, SESSION lock_wait_timeout = {0}",
                      std::min<int64_t>(options_.lock_timeout_s, kMaxLockWaitTimeoutS));
    }
    Status status = Exec(session, "setting up the session");
    if (!status.ok()) DropConnection();
    return status;
  }

  Result<std::unique_ptr<RowStream>> Stream(const std::string& query) override;

  Result<std::vector<std::vector<std::optional<std::string>>>> QueryText(
      const std::string& sql) override {
    if (stream_open_) return Error(ErrorCode::kInternal, "mysql: a stream is open on this source");
    RIVET_RETURN_IF_ERROR(EnsureConnected());
    cancel_requested_.store(false);
    if (watchdog_) watchdog_->Reset();
    ArmGuard arm(watchdog_.get());
    if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) {
      return Failed(ConnError(conn_.get(), "query failed"));
    }
    ResultPtr result(mysql_store_result(conn_.get()));
    if (watchdog_ && watchdog_->fired()) {
      return Failed(Error(ErrorCode::kTimeout, "mysql: the query was cancelled by the watchdog"));
    }
    // An interrupted statement may still end "normally" (SLEEP() returns 1).
    if (cancel_requested()) return Failed(CancelledError());
    std::vector<std::vector<std::optional<std::string>>> rows;
    if (!result) {
      if (mysql_field_count(conn_.get()) == 0) return rows;  // a statement without rows
      return Failed(ConnError(conn_.get(), "reading the result failed"));
    }
    const unsigned int columns = mysql_num_fields(result.get());
    while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
      const unsigned long* lengths = mysql_fetch_lengths(result.get());
      auto& out = rows.emplace_back();
      out.reserve(columns);
      for (unsigned int c = 0; c < columns; ++c) {
        if (row[c] == nullptr) {
          out.emplace_back(std::nullopt);
        } else {
          out.emplace_back(std::string(row[c], lengths[c]));
        }
      }
    }
    return rows;
  }

  std::string ServerDescription() const override {
    return description_.empty() ? "MySQL (not connected)" : description_;
  }

  std::string TlsDescription() const override { return tls_description_; }
  Status InReadOnlyTransaction(const std::function<Status()>& body) override {
    if (pinned_) return body();  // the shared snapshot's transaction is read-only already
    RIVET_RETURN_IF_ERROR(QueryText("START TRANSACTION READ ONLY").status());
    Status status = body();
    (void)QueryText("ROLLBACK");
    return status;
  }

  std::string QuoteIdentifier(std::string_view name) const override {
    std::string quoted = "`";
    for (char c : name) {
      if (c == '`') quoted.push_back('`');
      quoted.push_back(c);
    }
    quoted.push_back('`');
    return quoted;
  }

  Result<std::string> QuoteLiteral(std::string_view text) const override {
    if (!conn_) {
      return Error(ErrorCode::kInternal,
                   "mysql: quoting a literal needs a connection (its escapes follow the "
                   "session's sql_mode): Connect() first");
    }
    // Connector/C escapes by the connection's character set and by the server status the
    // last reply carried: with NO_BACKSLASH_ESCAPES it only doubles quotes, otherwise it
    // backslash-escapes quotes, backslashes, NUL, CR, LF and Ctrl-Z. Connector/C has no
    // mysql_real_escape_string_quote; inside '...' both forms are exact.
    std::string quoted(text.size() * 2 + 2, '\0');
    quoted[0] = '\'';
    const unsigned long length =
        mysql_real_escape_string(conn_.get(), quoted.data() + 1, text.data(), text.size());
    if (length == static_cast<unsigned long>(-1)) {
      return Error(ErrorCode::kData, "mysql: cannot escape the text as a string literal");
    }
    quoted.resize(length + 1);
    quoted.push_back('\'');
    return quoted;
  }

  // KILL QUERY over a side connection (the source's own connection is busy waiting for the
  // server); a no-op without a connection.
  void Cancel() override {
    cancel_requested_.store(true);
    KillQuery("cancelling the query (Source::Cancel)");
  }

  Status ShareSnapshot(std::span<Source* const> workers) override;
  bool InSharedSnapshot() const override { return pinned_; }
  // A consistent snapshot belongs to its connection on MySQL: no other process can join it.
  Result<std::string> HoldSnapshot() override {
    return CheckSnapshotEngine(config::SourceType::kMysql, "rivet snapshot hold");
  }

  // --- for the streams ---
  MYSQL* conn() { return conn_.get(); }
  Watchdog* watchdog() { return watchdog_.get(); }
  const ReadOptions& options() const { return options_; }
  void set_stream_open(bool open) { stream_open_ = open; }
  // In the shared snapshot's transaction, which streams neither start nor commit.
  bool pinned() const { return pinned_; }
  // True once Cancel() was called during the current Stream or QueryText.
  bool cancel_requested() const { return cancel_requested_.load(); }
  static Status CancelledError() {
    return Error(ErrorCode::kTimeout, "mysql: the query was cancelled (Source::Cancel)");
  }
  // Closes the connection without reading what the server still sends; the server rolls the
  // transaction back (a shared snapshot's too). The next call reconnects.
  void DropConnection() {
    if (pinned_) {
      spdlog::warn(
          "mysql: the connection holding the shared snapshot was closed; later streams of this "
          "source read a snapshot of their own");
      pinned_ = false;
    }
    connection_id_.store(0);
    conn_.reset();
  }

  // Runs a statement whose result (if any) is discarded.
  Status Exec(const std::string& sql, std::string_view what) {
    if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) {
      return ConnError(conn_.get(), what);
    }
    if (mysql_field_count(conn_.get()) > 0) ResultPtr discard(mysql_store_result(conn_.get()));
    return Status::Ok();
  }

  // An error from the server during an operation: a statement cancelled by the watchdog is a
  // timeout whatever the server called it; a lost connection is dropped so the next call
  // starts afresh.
  Status Failed(Status status) {
    if (watchdog_ && watchdog_->fired()) {
      status = Error(ErrorCode::kTimeout,
                     "mysql: no row from the server for {} s: the query was cancelled "
                     "(statement_timeout_s = {})",
                     watchdog_->timeout_s(), watchdog_->timeout_s());
    } else if (cancel_requested() && status.code() != ErrorCode::kData) {
      // KILL QUERY surfaces as 1317 (interrupted) or, mid-result, as a broken read.
      if (status.message() != CancelledError().message()) {
        status = Error(ErrorCode::kTimeout, "mysql: the query was cancelled (Source::Cancel): {}",
                       status.message());
      }
    }
    if (status.code() == ErrorCode::kNetwork || status.code() == ErrorCode::kTimeout) {
      DropConnection();
    }
    return status;
  }

 private:
  Status EnsureConnected() {
    if (conn_) return Status::Ok();
    return Connect();
  }

  // Back to the session's own lock_wait_timeout after FLUSH TABLES WITH READ LOCK.
  Status RestoreLockWaitTimeout() {
    const std::string value =
        options_.lock_timeout_s > 0
            ? std::to_string(std::min<int64_t>(options_.lock_timeout_s, kMaxLockWaitTimeoutS))
            : "DEFAULT";
    return Exec(fmt::format("SET SESSION lock_wait_timeout = {}", value),
                "restoring lock_wait_timeout");
  }

  // Ends the shared snapshot's transaction of a ShareSnapshot that failed part-way.
  void Unpin() {
    pinned_ = false;
    if (conn_ && !Exec("ROLLBACK", "ending the shared snapshot").ok()) DropConnection();
  }

  // Runs on the watchdog thread.
  void OnStall() {
    spdlog::warn(
        "mysql: no row from the server for {} s (statement_timeout_s); cancelling the "
        "query",
        options_.statement_timeout_s);
    KillQuery("cancelling the stalled query");
  }

  // KILL QUERY over a second connection (the first one is busy waiting for the result); KILL
  // QUERY stops the statement and keeps the connection. Safe on any thread: it reads only the
  // connection id (atomic, 0 while not connected) and the immutable connect parameters. Ids
  // are never reused while the server runs, so a stale id kills nothing else.
  void KillQuery(std::string_view why) {
    const unsigned long id = connection_id_.load();
    if (id == 0) return;
    spdlog::debug("mysql: {}: KILL QUERY {}", why, id);
    auto side = OpenConnection(params_, kKillConnectTimeoutS, kKillConnectTimeoutS);
    if (!side.has_value()) {
      spdlog::warn("mysql: could not cancel the query: {}", side.error().message());
      return;
    }
    std::string kill = fmt::format("KILL QUERY {}", id);
    if (mysql_real_query(side->get(), kill.data(), kill.size()) != 0) {
      // The connection closed meanwhile (a stream abandoned or failed): nothing runs there.
      if (mysql_errno(side->get()) == kNoSuchThread) return;
      spdlog::warn("mysql: could not cancel the query: {} (error {})", mysql_error(side->get()),
                   mysql_errno(side->get()));
    }
  }

  const ConnectParams params_;
  const ReadOptions options_;
  const Protocol protocol_;
  MysqlPtr conn_;
  std::atomic<unsigned long> connection_id_{0};
  std::string description_;
  // The last connection's protocol and cipher (TlsDescription), "" when it was not encrypted.
  std::string tls_description_;
  bool stream_open_ = false;
  // Set by Cancel() (any thread), cleared when a Stream or QueryText starts: a KILL QUERY
  // that reaches the server between two statements of one call still stops it, and a
  // statement that ends "normally" after it (SLEEP) still reports the cancel.
  std::atomic<bool> cancel_requested_{false};
  // This connection's open transaction is the shared snapshot of ShareSnapshot.
  bool pinned_ = false;
  std::unique_ptr<Watchdog> watchdog_;
};

// ---------------------------------------------------------------------------------------------
// Streams. Both follow the same life: rows until the end, then free the result and COMMIT; any
// error or an early destruction closes the connection instead (never reads the rest).

class MysqlRowStream : public RowStream {
 public:
  MysqlRowStream(MysqlSource* source, std::vector<ColumnPlan> plans)
      : source_(source), plans_(std::move(plans)), fixed_row_bytes_(FixedRowBytes(plans_)) {
    Schema schema;
    schema.reserve(plans_.size());
    for (const ColumnPlan& plan : plans_) schema.push_back({plan.name, plan.type});
    schema_ = std::make_shared<const Schema>(std::move(schema));
    rows_per_batch_ = static_cast<size_t>(RowsPerBatch(source_->options(), *schema_));
    source_->set_stream_open(true);
  }
  ~MysqlRowStream() override { source_->set_stream_open(false); }

  const SchemaPtr& schema() const override { return schema_; }

  Result<bool> Next(Batch& batch) final {
    batch.Clear();
    if (!status_.ok()) return status_;
    if (done_) return false;
    if (source_->cancel_requested()) {
      // Rows already buffered are not delivered after a Cancel().
      status_ = source_->Failed(MysqlSource::CancelledError());
      Abandon();
      return status_;
    }
    batch.Reserve(rows_per_batch_);
    Status status;
    {
      ArmGuard arm(source_->watchdog());
      status = Fill(batch);
    }
    if (!status.ok()) {
      batch.Clear();
      if (status.code() != ErrorCode::kData) status = source_->Failed(status);
      status_ = status;
      Abandon();
      return status_;
    }
    return batch.num_rows() > 0;
  }

 protected:
  // Appends rows until the batch is full or the result ends (then calls Finish()).
  virtual Status Fill(Batch& batch) = 0;
  // Releases the result without reading the rest of it and closes the connection.
  virtual void Abandon() = 0;

  // After the last row, with the result already released. A statement the watchdog cancelled
  // may still end "normally" (MySQL's SLEEP() returns 1 when interrupted): it is a timeout.
  Status Finish() {
    done_ = true;
    if (Watchdog* watchdog = source_->watchdog(); watchdog && watchdog->fired()) {
      return Error(ErrorCode::kTimeout, "mysql: the query was cancelled by the watchdog");
    }
    if (source_->cancel_requested()) return MysqlSource::CancelledError();
    // The shared snapshot's transaction outlives the stream.
    if (source_->pinned()) return Status::Ok();
    return source_->Exec("COMMIT", "ending the read-only transaction");
  }
  // True when the batch is full by bytes (checked cheaply with a running estimate).
  bool BatchFullByBytes(Batch& batch, size_t* estimate) {
    if (*estimate <= kMaxBatchBytes) return false;
    *estimate = batch.ByteSize();
    return *estimate > kMaxBatchBytes;
  }
  void CountRow() {
    ++rows_;
    if (Watchdog* watchdog = source_->watchdog()) watchdog->Progress();
  }
  // The number of the row being decoded, for value errors.
  int64_t current_row() const { return rows_ + 1; }
  bool done() const { return done_; }

  MysqlSource* source_;
  std::vector<ColumnPlan> plans_;
  SchemaPtr schema_;
  size_t rows_per_batch_ = 0;
  const size_t fixed_row_bytes_;

 private:
  bool done_ = false;
  Status status_;
  int64_t rows_ = 0;  // rows committed so far in this stream
};

// Text protocol: mysql_use_result reads one row at a time from the socket buffer; values are
// decoded from the row's text in place.
class TextStream final : public MysqlRowStream {
 public:
  TextStream(MysqlSource* source, std::vector<ColumnPlan> plans, ResultPtr result)
      : MysqlRowStream(source, std::move(plans)), result_(std::move(result)) {}
  ~TextStream() override {
    if (result_) Abandon();
  }

 protected:
  Status Fill(Batch& batch) override {
    const size_t columns = plans_.size();
    size_t bytes = 0;
    while (batch.num_rows() < rows_per_batch_) {
      MYSQL_ROW row = mysql_fetch_row(result_.get());
      if (row == nullptr) {
        if (mysql_errno(source_->conn()) != 0) {
          return ConnError(source_->conn(), "reading the result failed");
        }
        result_.reset();  // at the end: nothing left to read
        return Finish();
      }
      const unsigned long* lengths = mysql_fetch_lengths(result_.get());
      for (size_t c = 0; c < columns; ++c) {
        Column& column = batch.mutable_column(c);
        if (row[c] == nullptr) {
          column.AppendNull();
          continue;
        }
        if (!DecodeText(plans_[c], row[c], lengths[c], column)) {
          return ValueError(plans_[c], current_row(), std::string_view(row[c], lengths[c]));
        }
        bytes += lengths[c];
      }
      batch.CommitRow();
      CountRow();
      bytes += fixed_row_bytes_;
      if (BatchFullByBytes(batch, &bytes)) break;
    }
    return Status::Ok();
  }

  void Abandon() override {
    if (result_) {
      // mysql_free_result would read (and discard) every remaining row of an unbuffered result
      // first; detached from its connection it only frees memory. The connection is closed
      // right after, which makes the server stop sending.
      result_->handle = nullptr;
      result_.reset();
    }
    source_->DropConnection();
  }

 private:
  ResultPtr result_;
};

// Binary protocol: a prepared statement fetched row by row (no mysql_stmt_store_result). Fixed
// values land in typed slots, strings in per-column buffers that grow on truncation.
class BinaryStream final : public MysqlRowStream {
 public:
  BinaryStream(MysqlSource* source, std::vector<ColumnPlan> plans, StmtPtr stmt)
      : MysqlRowStream(source, std::move(plans)), stmt_(std::move(stmt)) {}
  ~BinaryStream() override {
    if (stmt_) Abandon();
  }

  Status Bind() {
    const size_t n = plans_.size();
    binds_.assign(n, MYSQL_BIND{});
    lengths_.assign(n, 0);
    nulls_.assign(n, 0);
    errors_.assign(n, 0);
    fixed_.assign(n, FixedValue{});
    buffers_.resize(n);
    for (size_t c = 0; c < n; ++c) {
      const ColumnPlan& plan = plans_[c];
      MYSQL_BIND& bind = binds_[c];
      bind.length = &lengths_[c];
      bind.is_null = &nulls_[c];
      bind.error = &errors_[c];
      bind.is_unsigned = plan.is_unsigned;
      switch (plan.decoder) {
        case Decoder::kBool:
        case Decoder::kInt:
        case Decoder::kUInt64:
          // The server's own width, read back by IntValue(); YEAR travels as a SHORT and
          // MEDIUMINT as a LONG.
          bind.buffer_type = plan.field_type == MYSQL_TYPE_YEAR    ? MYSQL_TYPE_SHORT
                             : plan.field_type == MYSQL_TYPE_INT24 ? MYSQL_TYPE_LONG
                                                                   : plan.field_type;
          bind.buffer = &fixed_[c];
          bind.buffer_length = sizeof(FixedValue);
          break;
        case Decoder::kFloat32:
          bind.buffer_type = MYSQL_TYPE_FLOAT;
          bind.buffer = &fixed_[c].f32;
          break;
        case Decoder::kFloat64:
          bind.buffer_type = MYSQL_TYPE_DOUBLE;
          bind.buffer = &fixed_[c].f64;
          break;
        case Decoder::kDate:
        case Decoder::kTime:
        case Decoder::kDatetime:
          bind.buffer_type = plan.field_type;
          bind.buffer = &fixed_[c].time;
          bind.buffer_length = sizeof(MYSQL_TIME);
          break;
        case Decoder::kBit:
        case Decoder::kDecimal:
        case Decoder::kBytes:
          bind.buffer_type = plan.type.id == TypeId::kBinary || plan.decoder == Decoder::kBit
                                 ? MYSQL_TYPE_BLOB
                                 : MYSQL_TYPE_STRING;
          buffers_[c].resize(plan.initial_buffer);
          bind.buffer = buffers_[c].data();
          bind.buffer_length = static_cast<unsigned long>(buffers_[c].size());
          break;
      }
    }
    if (mysql_stmt_bind_result(stmt_.get(), binds_.data()) != 0) {
      return StmtError(stmt_.get(), "binding the result failed");
    }
    return Status::Ok();
  }

 protected:
  Status Fill(Batch& batch) override {
    const size_t columns = plans_.size();
    size_t bytes = 0;
    while (batch.num_rows() < rows_per_batch_) {
      int rc = mysql_stmt_fetch(stmt_.get());
      if (rc == MYSQL_NO_DATA) {
        stmt_.reset();  // at the end: nothing left to read
        return Finish();
      }
      if (rc == 1) {
        // An error packet met while fetching unbuffered rows is recorded on the connection
        // rather than on the statement.
        if (mysql_stmt_errno(stmt_.get()) == 0) {
          return ConnError(source_->conn(), "reading the result failed");
        }
        return StmtError(stmt_.get(), "reading the result failed");
      }
      if (rc == MYSQL_DATA_TRUNCATED) RIVET_RETURN_IF_ERROR(FetchTruncated());
      for (size_t c = 0; c < columns; ++c) {
        Column& column = batch.mutable_column(c);
        if (nulls_[c]) {
          column.AppendNull();
          continue;
        }
        if (!DecodeBinary(c, column)) return ValueError(plans_[c], current_row(), TextOf(c));
        if (plans_[c].storage == Storage::kBytes) bytes += lengths_[c];
      }
      batch.CommitRow();
      CountRow();
      bytes += fixed_row_bytes_;
      if (BatchFullByBytes(batch, &bytes)) break;
    }
    return Status::Ok();
  }

  void Abandon() override {
    // Closing the connection first marks the statement as detached, so closing it afterwards
    // reads nothing more from the server.
    source_->DropConnection();
    stmt_.reset();
  }

 private:
  union FixedValue {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    MYSQL_TIME time;
  };

  // A value longer than its buffer: grow the buffer, fetch the value whole, and rebind so the
  // next rows fit.
  Status FetchTruncated() {
    bool rebind = false;
    for (size_t c = 0; c < plans_.size(); ++c) {
      if (!errors_[c] || nulls_[c] || buffers_[c].empty()) continue;
      if (lengths_[c] <= binds_[c].buffer_length) continue;
      buffers_[c].resize(static_cast<size_t>(lengths_[c]) + 1);
      binds_[c].buffer = buffers_[c].data();
      binds_[c].buffer_length = static_cast<unsigned long>(buffers_[c].size());
      if (mysql_stmt_fetch_column(stmt_.get(), &binds_[c], static_cast<unsigned int>(c), 0) != 0) {
        return StmtError(stmt_.get(), "reading a long value failed");
      }
      rebind = true;
    }
    if (rebind && mysql_stmt_bind_result(stmt_.get(), binds_.data()) != 0) {
      return StmtError(stmt_.get(), "binding the result failed");
    }
    return Status::Ok();
  }

  int64_t SignedValue(size_t c) const {
    const FixedValue& v = fixed_[c];
    switch (binds_[c].buffer_type) {
      // Each branch widened on its own: a ?: over uint32_t and int32_t would be uint32_t.
      case MYSQL_TYPE_TINY:
        return binds_[c].is_unsigned ? int64_t{static_cast<uint8_t>(v.i8)} : int64_t{v.i8};
      case MYSQL_TYPE_SHORT:
        return binds_[c].is_unsigned ? int64_t{static_cast<uint16_t>(v.i16)} : int64_t{v.i16};
      case MYSQL_TYPE_LONG:
        return binds_[c].is_unsigned ? int64_t{static_cast<uint32_t>(v.i32)} : int64_t{v.i32};
      default:
        return v.i64;
    }
  }

  std::string_view BytesOf(size_t c) const {
    return std::string_view(buffers_[c].data(), lengths_[c]);
  }

  bool DecodeBinary(size_t c, Column& column) const {
    const ColumnPlan& plan = plans_[c];
    switch (plan.decoder) {
      case Decoder::kBool: {
        int64_t value = SignedValue(c);
        if (value != 0 && value != 1) return false;
        column.Append<uint8_t>(static_cast<uint8_t>(value));
        return true;
      }
      case Decoder::kInt: {
        int64_t value = SignedValue(c);
        if (value < plan.min || value > plan.max) return false;
        AppendInt(plan, value, column);
        return true;
      }
      case Decoder::kUInt64:
        column.Append<int64_t>(fixed_[c].i64);  // bit pattern (types.h)
        return true;
      case Decoder::kFloat32:
        column.Append<float>(fixed_[c].f32);
        return true;
      case Decoder::kFloat64:
        column.Append<double>(fixed_[c].f64);
        return true;
      case Decoder::kBit: {
        uint64_t value = 0;
        std::string_view bytes = BytesOf(c);
        if (!BitBytesToUInt64(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                              &value)) {
          return false;
        }
        return AppendBit(plan, value, column);
      }
      case Decoder::kDecimal: {
        Int128 unscaled = 0;
        if (ParseDecimalText(BytesOf(c), plan.type.precision, plan.type.scale, &unscaled) !=
            ParseStatus::kOk) {
          return false;
        }
        AppendDecimal(plan, unscaled, column);
        return true;
      }
      case Decoder::kBytes:
        column.AppendBytes(buffers_[c].data(), lengths_[c]);
        return true;
      case Decoder::kDate: {
        const MYSQL_TIME& t = fixed_[c].time;
        int32_t days = 0;
        ParseStatus status = DateFromFields(t.year, t.month, t.day, &days);
        return AppendDateStatus(status, days, column);
      }
      case Decoder::kTime: {
        const MYSQL_TIME& t = fixed_[c].time;
        int64_t micros = 0;
        if (TimeFromFields(t.neg != 0, uint64_t{t.day} * 24 + t.hour, t.minute, t.second,
                           t.second_part, &micros) != ParseStatus::kOk) {
          return false;
        }
        column.Append<int64_t>(micros);
        return true;
      }
      case Decoder::kDatetime: {
        const MYSQL_TIME& t = fixed_[c].time;
        int64_t micros = 0;
        ParseStatus status = DatetimeFromFields(t.year, t.month, t.day, t.hour, t.minute, t.second,
                                                t.second_part, &micros);
        return AppendMicrosStatus(status, micros, column);
      }
    }
    return false;
  }

  // The value of column c as the text protocol would print it, for error messages.
  std::string TextOf(size_t c) const {
    const ColumnPlan& plan = plans_[c];
    const MYSQL_TIME& t = fixed_[c].time;
    switch (plan.decoder) {
      case Decoder::kBool:
      case Decoder::kInt:
        return std::to_string(SignedValue(c));
      case Decoder::kTime: {
        std::string text = fmt::format("{}{:02}:{:02}:{:02}", t.neg ? "-" : "",
                                       uint64_t{t.day} * 24 + t.hour, t.minute, t.second);
        if (t.second_part) text += fmt::format(".{:06}", t.second_part);
        return text;
      }
      case Decoder::kDate:
        return fmt::format("{:04}-{:02}-{:02}", t.year, t.month, t.day);
      case Decoder::kDatetime:
        return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", t.year, t.month, t.day,
                           t.hour, t.minute, t.second, t.second_part);
      case Decoder::kBit:
      case Decoder::kDecimal:
      case Decoder::kBytes:
        return std::string(BytesOf(c));
      default:
        return "?";
    }
  }

  StmtPtr stmt_;
  std::vector<MYSQL_BIND> binds_;
  std::vector<unsigned long> lengths_;
  std::vector<my_bool> nulls_;
  std::vector<my_bool> errors_;
  std::vector<FixedValue> fixed_;
  std::vector<std::vector<char>> buffers_;
};

std::vector<ColumnPlan> PlansOf(MYSQL_RES* metadata) {
  const unsigned int count = mysql_num_fields(metadata);
  const MYSQL_FIELD* fields = mysql_fetch_fields(metadata);
  std::vector<ColumnPlan> plans;
  plans.reserve(count);
  for (unsigned int i = 0; i < count; ++i) plans.push_back(PlanColumn(MetaOf(fields[i])));
  return plans;
}

Result<std::unique_ptr<RowStream>> MysqlSource::Stream(const std::string& query) {
  if (stream_open_) return Error(ErrorCode::kInternal, "mysql: a stream is already open");
  RIVET_RETURN_IF_ERROR(EnsureConnected());
  cancel_requested_.store(false);
  if (watchdog_) watchdog_->Reset();
  ArmGuard arm(watchdog_.get());
  // A failure below leaves the stream's transaction or a result half-way: close the
  // connection. A connection pinned to the shared snapshot is kept when no result is pending
  // (a failed statement does not end an InnoDB transaction), so the snapshot survives a bad
  // query.
  auto fail = [this](Status status, bool result_pending = true) {
    status = Failed(std::move(status));
    if (!pinned_ || result_pending) DropConnection();
    return status;
  };
  if (!pinned_) {
    Status begin = Exec(kStartSnapshot, "starting the read-only transaction");
    if (!begin.ok()) return fail(begin);
  }
  // A KILL QUERY that reached the server before the query was ignored there.
  if (cancel_requested()) return fail(CancelledError(), false);

  if (protocol_ == Protocol::kText) {
    if (mysql_real_query(conn_.get(), query.data(), query.size()) != 0) {
      return fail(ConnError(conn_.get(), "query failed"), false);
    }
    ResultPtr result(mysql_use_result(conn_.get()));
    if (!result) {
      if (mysql_field_count(conn_.get()) == 0) {
        return fail(Error(ErrorCode::kQuery, "mysql: the query returns no rows (not a SELECT)"),
                    false);
      }
      return fail(ConnError(conn_.get(), "query failed"));
    }
    std::vector<ColumnPlan> plans = PlansOf(result.get());
    for (const ColumnPlan& plan : plans) {
      if (plan.decoder == Decoder::kFloat32) {
        // The server prints FLOAT with 6 significant digits here: exact or a clear error.
        Status refused =
            Error(ErrorCode::kNotSupported,
                  "column '{}': the text protocol rounds FLOAT values to 6 digits; read it with "
                  "the binary protocol (the default) or cast it (CAST(col AS DOUBLE))",
                  plan.name);
        result->handle = nullptr;  // see TextStream::Abandon
        result.reset();
        return fail(refused);
      }
    }
    return std::unique_ptr<RowStream>(
        std::make_unique<TextStream>(this, std::move(plans), std::move(result)));
  }

  StmtPtr stmt(mysql_stmt_init(conn_.get()));
  if (!stmt) return fail(Error(ErrorCode::kInternal, "mysql: out of memory"));
  if (mysql_stmt_prepare(stmt.get(), query.data(), query.size()) != 0) {
    return fail(StmtError(stmt.get(), "query failed"), false);
  }
  if (mysql_stmt_field_count(stmt.get()) == 0) {
    return fail(Error(ErrorCode::kQuery, "mysql: the query returns no rows (not a SELECT)"), false);
  }
  if (mysql_stmt_execute(stmt.get()) != 0) {
    return fail(StmtError(stmt.get(), "query failed"), false);
  }
  ResultPtr metadata(mysql_stmt_result_metadata(stmt.get()));
  if (!metadata) return fail(StmtError(stmt.get(), "reading the result columns failed"));
  std::vector<ColumnPlan> plans = PlansOf(metadata.get());
  metadata.reset();
  auto stream = std::make_unique<BinaryStream>(this, std::move(plans), std::move(stmt));
  Status bound = stream->Bind();
  if (!bound.ok()) {
    Status status = Failed(bound);
    stream.reset();  // abandons: closes the connection
    return status;
  }
  return std::unique_ptr<RowStream>(std::move(stream));
}

Status MysqlSource::ShareSnapshot(std::span<Source* const> workers) {
  std::vector<MysqlSource*> sources;  // the workers, then this coordinator
  sources.reserve(workers.size() + 1);
  for (Source* worker : workers) {
    auto* mysql = dynamic_cast<MysqlSource*>(worker);
    if (mysql == nullptr || mysql == this) {
      return Error(ErrorCode::kInternal,
                   "mysql: ShareSnapshot: every worker must be another MySQL source");
    }
    sources.push_back(mysql);
  }
  sources.push_back(this);
  for (MysqlSource* source : sources) {
    if (source->stream_open_ || source->pinned_) {
      return Error(ErrorCode::kInternal,
                   "mysql: ShareSnapshot: a source has a stream open or already reads a shared "
                   "snapshot");
    }
  }
  for (MysqlSource* source : sources) RIVET_RETURN_IF_ERROR(source->EnsureConnected());
  cancel_requested_.store(false);

  // 1. The global read lock: no table changes while the snapshots start, so they all see the
  //    same committed state (the way mysqldump --single-transaction --master-data does it).
  const int64_t wait_s = options_.lock_timeout_s > 0
                             ? std::min(options_.lock_timeout_s, kMaxGlobalLockWaitS)
                             : kMaxGlobalLockWaitS;
  Status bounded = Exec(fmt::format("SET SESSION lock_wait_timeout = {}", wait_s),
                        "bounding the wait for the global read lock");
  if (!bounded.ok()) return Failed(bounded);
  Status locked = Exec("FLUSH TABLES WITH READ LOCK",
                       "FLUSH TABLES WITH READ LOCK for a shared snapshot (needs the RELOAD "
                       "privilege)");
  Status restored = RestoreLockWaitTimeout();
  if (!locked.ok()) {
    if (!restored.ok()) DropConnection();
    return Failed(locked);
  }

  // 2. Every snapshot starts under the lock (START TRANSACTION keeps a global read lock).
  Status status = restored.ok() ? Status::Ok() : Failed(restored);
  std::vector<MysqlSource*> pinned;
  for (MysqlSource* source : sources) {
    if (!status.ok()) break;
    Status begun = source->Exec(kStartSnapshot, "starting the shared snapshot");
    if (!begun.ok()) {
      status = source->Failed(begun);
      break;
    }
    source->pinned_ = true;
    pinned.push_back(source);
  }

  // 3. Always released, also after a failure; it does not end the coordinator's transaction.
  if (conn_) {
    Status unlocked = Exec("UNLOCK TABLES", "releasing the global read lock");
    if (!unlocked.ok()) {
      unlocked = Failed(unlocked);
      if (conn_) DropConnection();  // the server releases the lock with the connection
      if (status.ok()) status = unlocked;
    }
  }
  if (!status.ok()) {
    for (MysqlSource* source : pinned) source->Unpin();
    return status;
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Source>> MakeMysqlSourceWithProtocol(const config::SourceConfig& config,
                                                            const ReadOptions& options,
                                                            Protocol protocol) {
  RIVET_ASSIGN_OR_RETURN(ConnectParams params, ConnectParamsFrom(config));
  return std::unique_ptr<Source>(
      std::make_unique<MysqlSource>(std::move(params), options, protocol));
}

Result<std::unique_ptr<Source>> MakeMysqlSource(const config::SourceConfig& config,
                                                const ReadOptions& options) {
  return MakeMysqlSourceWithProtocol(config, options, kDefaultProtocol);
}

}  // namespace rivet::source::mysql
