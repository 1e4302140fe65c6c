// The configuration as plain structs (reference §1). The loader (loader.h) fills and validates
// them; every other module reads them. Secrets are resolved at load time into Secret fields,
// which never print themselves.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rivet::config {

// A credential resolved from the file or the environment. Redacted wherever it is formatted.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

enum class SourceType { kPostgres, kMysql };
enum class Profile { kFast, kBalanced, kSafe };
enum class Mode { kFull, kIncremental, kChunked, kTimeWindow };
enum class Format { kParquet, kCsv };
enum class Compression { kZstd, kSnappy, kGzip, kLz4, kNone };
enum class DestinationType { kLocal, kS3, kGcs, kStdout };
enum class TimeColumnType { kTimestamp, kUnix };
// In order of strength: each mode checks everything the one before it does.
enum class TlsMode { kDisable, kPrefer, kRequire, kVerifyCa, kVerifyFull };

// Tuning as written in one place (source.tuning or exports[].tuning): every field optional.
struct TuningOverrides {
  std::optional<Profile> profile;
  std::optional<int64_t> batch_size;
  std::optional<int64_t> batch_size_memory_mb;
  std::optional<int64_t> throttle_ms;
  std::optional<double> max_source_share;
  std::optional<int64_t> statement_timeout_s;
  std::optional<int64_t> lock_timeout_s;
  std::optional<int64_t> max_retries;
  std::optional<int64_t> retry_backoff_ms;
};

// Tuning after merging source then export over the profile defaults (reference §1 table).
struct Tuning {
  Profile profile = Profile::kBalanced;
  bool profile_is_default = true;  // no profile set anywhere: prints "balanced (default)"
  int64_t batch_size = 10000;      // rows per batch (ignored when batch_size_memory_mb set)
  std::optional<int64_t> batch_size_memory_mb;  // MiB target per batch
  int64_t throttle_ms = 50;                     // pause between batches
  // A pace instead of a fixed pause: after each batch, pause so that the time spent waiting for
  // rows is at most this share of the time (0 < share <= 1). Set, it replaces throttle_ms.
  std::optional<double> max_source_share;
  int64_t statement_timeout_s = 300;  // 0 = none; time to first row and stalls between rows
  int64_t lock_timeout_s = 30;        // 0 = none
  int64_t max_retries = 3;            // retries after the first attempt
  int64_t retry_backoff_ms = 2000;    // base of the exponential backoff
};

// source.tls (reference §6; README "TLS to the source" says what each mode checks per engine).
// Every field may be absent: the connection URL's own TLS parameters fill what this block leaves
// out (a setting given in both with different values is an error, see tls.h), and a connection
// that neither configures keeps the client library's default (PostgreSQL: libpq's, `prefer`
// unless PGSSLMODE says otherwise; MySQL: unencrypted).
struct TlsConfig {
  std::optional<TlsMode> mode;
  // PEM files; absolute once loaded (a relative path is resolved against the config's folder
  // and must exist). cert_file and key_file go together (a client certificate).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  bool configured() const {
    return mode || !ca_file.empty() || !cert_file.empty() || !key_file.empty();
  }
};

struct SourceConfig {
  SourceType type = SourceType::kPostgres;
  // Exactly one way to connect: a URL (from url or url_env) or the structured fields.
  std::optional<Secret> url;  // resolved URL, may embed a password
  std::string host;
  std::optional<int> port;  // default 5432 / 3306
  std::string user;
  std::optional<Secret> password;
  std::string database;
  TlsConfig tls;
  TuningOverrides tuning;

  int effective_port() const { return port.value_or(type == SourceType::kPostgres ? 5432 : 3306); }
};

struct DestinationConfig {
  DestinationType type = DestinationType::kLocal;
  std::string path;    // local: directory, relative paths resolved against the config's folder
  std::string bucket;  // s3, gcs
  std::string prefix;  // s3, gcs; ends with '/' when not empty
  std::string region;  // s3
  std::string endpoint;
  std::optional<Secret> access_key;  // s3: both or neither
  std::optional<Secret> secret_key;
  std::string credentials_file;  // gcs
  bool allow_anonymous = false;  // gcs
};

struct MetaColumns {
  bool exported_at = false;
  bool row_hash = false;
};

struct QualityConfig {
  std::optional<int64_t> row_count_min;
  std::optional<int64_t> row_count_max;
  std::map<std::string, double> null_ratio_max;
  std::vector<std::string> unique_columns;
  bool configured() const {
    return row_count_min || row_count_max || !null_ratio_max.empty() || !unique_columns.empty();
  }
};

struct ExportConfig {
  std::string name;
  std::string query;  // after query_file reading and ${KEY} substitution
  Mode mode = Mode::kFull;
  std::string cursor_column;  // incremental
  std::string chunk_column;   // chunked
  int64_t chunk_size = 100000;
  int64_t parallel = 1;
  bool chunk_checkpoint = false;
  std::optional<int64_t> chunk_max_attempts;
  std::string time_column;  // time_window
  TimeColumnType time_column_type = TimeColumnType::kTimestamp;
  int64_t days_window = 0;
  Format format = Format::kParquet;
  Compression compression = Compression::kZstd;
  std::optional<int> compression_level;
  bool skip_empty = false;
  std::optional<uint64_t> max_file_size;  // bytes
  MetaColumns meta_columns;
  QualityConfig quality;
  TuningOverrides tuning_overrides;
  Tuning tuning;  // merged: profile defaults <- source.tuning <- export tuning
  DestinationConfig destination;
};

struct SlackConfig {
  std::optional<Secret> webhook_url;
  std::vector<std::string> on;  // failure | schema_change | degraded
};

// `state:`: where the state store lives when it is not SQLite next to the config.
struct StateConfig {
  std::string url_env;  // the variable named by state.url_env
  Secret url;           // its value: a postgresql:// URL, a secret like the source URL
};

struct Config {
  std::string path;       // the config file as given
  std::string directory;  // its folder: base for query_file, local paths and the state DB
  SourceConfig source;
  bool parallel_exports = false;
  bool parallel_export_processes = false;
  std::optional<SlackConfig> slack;
  std::optional<StateConfig> state;  // nullopt: RIVET_STATE_URL, else SQLite next to the config
  std::vector<ExportConfig> exports;
};

std::string_view ToString(SourceType v);
std::string_view ToString(Profile v);
std::string_view ToString(Mode v);
std::string_view ToString(Format v);
std::string_view ToString(Compression v);
std::string_view ToString(DestinationType v);
std::string_view ToString(TlsMode v);  // "disable", ..., "verify-full", as written in source.tls

// Profile defaults, then `source`, then `overrides`, field by field (reference §1).
Tuning MergeTuning(const TuningOverrides& source, const TuningOverrides& overrides);

}  // namespace rivet::config
