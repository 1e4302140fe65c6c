// Loads a rivet YAML config into the structs of config.h and validates it (reference §1).
//
// Steps, in order: parse the YAML (syntax errors name line and column); check the keys of every
// mapping (unknown keys suggest the closest known one; tuning keys written one level too high get
// the guide §6 message); read `source` (exactly one way to connect, secrets from the
// environment); read the top-level switches and `notifications`; read each export (query or
// query_file with ${KEY} substitution, mode and its keys, format, compression, destination,
// tuning merged over source.tuning); finally warn about --param values no query used.
//
// Every error is kConfig and reads "<file>: <export>: <key>: <problem>; <fix>" (parts that do not
// apply are left out). Secret values (passwords, URLs, keys, webhook URLs) are never formatted
// into an error or a warning; only the names of the keys and variables that hold them are.
// A value that is quoted back (an invalid enum, number, key, path...) goes through Echo(): it may
// hold a secret all the same, e.g. `type: 'postgres` with no closing quote swallows the rest of
// the file, URL included, so it is shortened and stripped of every secret read so far and of
// anything shaped like a credential.
#include "rivet/config/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <span>
#include <sstream>
#include <system_error>

#include "rivet/common/bytes.h"
#include "rivet/common/secrets.h"
#include "rivet/common/text.h"
#include "rivet/common/url.h"
#include "rivet/config/tls.h"

namespace rivet::config {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace {

namespace fs = std::filesystem;
using Keys = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------
// The schema: the keys each mapping accepts (reference §1).

constexpr std::string_view kRootKeys[] = {
    "source", "parallel_exports", "parallel_export_processes", "notifications", "state", "exports"};
constexpr std::string_view kStateKeys[] = {"url_env"};
constexpr std::string_view kSourceKeys[] = {"type",     "url",  "url_env",  "host",
                                            "port",     "user", "password", "password_env",
                                            "database", "tls",  "tuning"};
constexpr std::string_view kTlsKeys[] = {"mode", "ca_file", "cert_file", "key_file"};
constexpr std::string_view kTuningKeys[] = {
    "profile",        "batch_size",       "batch_size_memory_mb",
    "throttle_ms",    "max_source_share", "statement_timeout_s",
    "lock_timeout_s", "max_retries",      "retry_backoff_ms"};
constexpr std::string_view kNotificationKeys[] = {"slack"};
constexpr std::string_view kSlackKeys[] = {"webhook_url", "webhook_url_env", "on"};
// clang-format off
constexpr std::string_view kExportKeys[] = {
    "name", "query", "query_file", "mode",
    "cursor_column",                                                          // incremental
    "chunk_column", "chunk_size", "parallel", "chunk_checkpoint", "chunk_max_attempts",  // chunked
    "time_column", "time_column_type", "days_window",                         // time_window
    "format", "compression", "compression_level", "skip_empty", "max_file_size",
    "meta_columns", "quality", "tuning", "destination"};
// clang-format on
constexpr std::string_view kMetaColumnKeys[] = {"exported_at", "row_hash"};
constexpr std::string_view kQualityKeys[] = {"row_count_min", "row_count_max", "null_ratio_max",
                                             "unique_columns"};
constexpr std::string_view kDestinationKeys[] = {
    "type",     "path",           "bucket",         "prefix",           "region",
    "endpoint", "access_key_env", "secret_key_env", "credentials_file", "allow_anonymous"};
constexpr std::string_view kSlackEvents[] = {"failure", "schema_change", "degraded"};

// Keys that only mean something for one destination type; written for another type they are an
// error rather than silently ignored (a forgotten `type: s3` would otherwise write locally).
constexpr unsigned Bit(DestinationType t) { return 1u << static_cast<unsigned>(t); }
struct DestinationKeyUse {
  std::string_view key;
  unsigned types;  // Bit(type) | ...
  std::string_view types_text;
};
constexpr unsigned kS3OrGcs = Bit(DestinationType::kS3) | Bit(DestinationType::kGcs);
constexpr DestinationKeyUse kDestinationKeyUses[] = {
    {"path", Bit(DestinationType::kLocal), "local"},
    {"bucket", kS3OrGcs, "s3 and gcs"},
    {"prefix", kS3OrGcs, "s3 and gcs"},
    {"region", Bit(DestinationType::kS3), "s3"},
    {"endpoint", kS3OrGcs, "s3 and gcs"},
    {"access_key_env", Bit(DestinationType::kS3), "s3"},
    {"secret_key_env", Bit(DestinationType::kS3), "s3"},
    {"credentials_file", Bit(DestinationType::kGcs), "gcs"},
    {"allow_anonymous", Bit(DestinationType::kGcs), "gcs"},
};

// Keys that only mean something for one mode; with another mode they are an error, because the
// usual cause is a forgotten `mode:` line (an "incremental" export that re-exports everything).
struct ModeKeyUse {
  std::string_view key;
  Mode mode;
};
constexpr ModeKeyUse kModeKeyUses[] = {
    {"cursor_column", Mode::kIncremental}, {"chunk_column", Mode::kChunked},
    {"chunk_size", Mode::kChunked},        {"parallel", Mode::kChunked},
    {"chunk_checkpoint", Mode::kChunked},  {"chunk_max_attempts", Mode::kChunked},
    {"time_column", Mode::kTimeWindow},    {"time_column_type", Mode::kTimeWindow},
    {"days_window", Mode::kTimeWindow},
};

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};
constexpr EnumName<SourceType> kSourceTypes[] = {{"postgres", SourceType::kPostgres},
                                                 {"mysql", SourceType::kMysql}};
constexpr EnumName<TlsMode> kTlsModes[] = {{"disable", TlsMode::kDisable},
                                           {"prefer", TlsMode::kPrefer},
                                           {"require", TlsMode::kRequire},
                                           {"verify-ca", TlsMode::kVerifyCa},
                                           {"verify-full", TlsMode::kVerifyFull}};
constexpr EnumName<Profile> kProfiles[] = {
    {"fast", Profile::kFast}, {"balanced", Profile::kBalanced}, {"safe", Profile::kSafe}};
constexpr EnumName<Mode> kModes[] = {{"full", Mode::kFull},
                                     {"incremental", Mode::kIncremental},
                                     {"chunked", Mode::kChunked},
                                     {"time_window", Mode::kTimeWindow}};
constexpr EnumName<Format> kFormats[] = {{"parquet", Format::kParquet}, {"csv", Format::kCsv}};
constexpr EnumName<Compression> kCompressions[] = {{"zstd", Compression::kZstd},
                                                   {"snappy", Compression::kSnappy},
                                                   {"gzip", Compression::kGzip},
                                                   {"lz4", Compression::kLz4},
                                                   {"none", Compression::kNone}};
constexpr EnumName<TimeColumnType> kTimeColumnTypes[] = {{"timestamp", TimeColumnType::kTimestamp},
                                                         {"unix", TimeColumnType::kUnix}};
constexpr EnumName<DestinationType> kDestinationTypes[] = {{"local", DestinationType::kLocal},
                                                           {"s3", DestinationType::kS3},
                                                           {"gcs", DestinationType::kGcs},
                                                           {"stdout", DestinationType::kStdout}};

// PostgreSQL keeps statement_timeout and lock_timeout in milliseconds as a 32-bit int.
constexpr int64_t kMaxTimeoutSeconds = std::numeric_limits<int32_t>::max() / 1000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// How much of a value a message quotes: enough to recognize it, too little to reprint the lines
// that an unclosed quote swallowed.
constexpr size_t kEchoChars = 40;
// Paths are longer by nature; every secret of the file is known by the time an export's paths
// are read (source and notifications come first), so a longer quote is safe.
constexpr size_t kEchoPathChars = 160;
// yaml-cpp's own words, which may quote a key.
constexpr size_t kEchoYamlErrorChars = 120;

// ---------------------------------------------------------------------------------------------
// Small helpers.

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so "fromat" is
// one edit from "format".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool Contains(Keys keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The candidate closest to `word`, when it is close enough to be a plausible typo.
std::optional<std::string_view> Closest(std::string_view word, Keys candidates) {
  std::string lower = AsciiLower(word);
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view c : candidates) {
    size_t d = EditDistance(lower, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  if (!best) return std::nullopt;
  size_t allowed = best->size() <= 4 ? 1 : best->size() <= 9 ? 2 : 3;
  if (best_distance > allowed) return std::nullopt;
  return best;
}

template <typename Range>
std::string JoinViews(const Range& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

template <typename E, size_t N>
std::string EnumList(const EnumName<E> (&table)[N]) {
  std::string out;
  for (const auto& e : table) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

bool IsEnvName(std::string_view s) {
  if (s.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsExportName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// True when a connection URL carries a password: "scheme://user:pass@host" or "?password=".
bool UrlHasPassword(std::string_view url) {
  if (url.find("://") == std::string_view::npos) return false;
  if (!UrlPasswords(url).empty()) return true;
  size_t query = url.find('?');
  return query != std::string_view::npos && url.find("password=", query) != std::string_view::npos;
}

// An unquoted scalar that is a number and nothing else; yaml-cpp tags quoted scalars "!".
std::optional<double> PlainNumber(const YAML::Node& v) {
  if (!v.IsScalar() || v.Tag() == "!") return std::nullopt;
  return ParseWhole<double>(v.Scalar());
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Queries are wrapped by the modes (`SELECT * FROM (<query>) AS _rivet ...`), so surrounding
// blanks and trailing semicolons, common at the end of a .sql file, are dropped.
std::string NormalizeQuery(std::string_view q) {
  q = Trim(q);
  while (!q.empty() && q.back() == ';') q = Trim(q.substr(0, q.size() - 1));
  return std::string(q);
}

// An unknown key that is known elsewhere, and where it belongs.
using KeyHint = std::pair<std::string_view, std::string_view>;

// A mapping being read, and where it sits, for messages.
struct Section {
  YAML::Node node;     // a mapping, or undefined/null when absent
  std::string scope;   // "" or "exports[2] 'orders'"
  std::string prefix;  // key path of the mapping: "source", "destination", "" (export level)

  std::string Path(std::string_view key) const {
    return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
  }
  YAML::Node Get(std::string_view key) const {
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node;
    return map[std::string(key)];
  }
  bool Has(std::string_view key) const { return Get(key).IsDefined(); }
};

// TLS settings written with the names of a connection URL or one level too high.
const std::vector<KeyHint>& TlsHints() {
  static const std::vector<KeyHint> hints = {
      {"sslmode", "write mode: here"},       {"ssl-mode", "write mode: here"},
      {"ssl_mode", "write mode: here"},      {"sslrootcert", "write ca_file: here"},
      {"ssl-ca", "write ca_file: here"},     {"ssl_ca", "write ca_file: here"},
      {"ca", "write ca_file: here"},         {"sslcert", "write cert_file: here"},
      {"ssl-cert", "write cert_file: here"}, {"ssl_cert", "write cert_file: here"},
      {"cert", "write cert_file: here"},     {"sslkey", "write key_file: here"},
      {"ssl-key", "write key_file: here"},   {"ssl_key", "write key_file: here"},
      {"key", "write key_file: here"},
  };
  return hints;
}

const std::vector<KeyHint>& SourceHints() {
  static const std::vector<KeyHint> hints = [] {
    std::vector<KeyHint> h;
    for (std::string_view k : kTlsKeys) {
      h.emplace_back(k, k == "mode" ? "the TLS mode belongs under source.tls:, an export's mode "
                                      "inside an item of exports:"
                                    : "it belongs under source.tls:");
    }
    for (const auto& [k, hint] : TlsHints()) h.emplace_back(k, "TLS settings go under source.tls:");
    h.emplace_back("ssl", "TLS settings go under source.tls: (mode: ...)");
    return h;
  }();
  return hints;
}

// ---------------------------------------------------------------------------------------------
// The loader.

class Loader {
 public:
  Loader(std::string file, std::string directory, const LoadOptions& options)
      : file_(std::move(file)), directory_(std::move(directory)), options_(options) {}

  Result<Loaded> Load(std::string_view text);

  // `value` as a message may quote it: secrets read so far and credential-shaped parts masked,
  // blanks folded to one line, at most `max_chars` bytes (then cut, with "...").
  std::string Echo(std::string_view value, size_t max_chars = kEchoChars) const;

 private:
  // --- messages
  Status Fail(std::string_view scope, std::string_view key, const YAML::Node& at,
              std::string_view problem) const {
    std::string message = file_;
    if (!scope.empty()) message += fmt::format(": {}", scope);
    if (!key.empty()) message += fmt::format(": {}", key);
    message += fmt::format(": {}", problem);
    if (at.IsDefined() && !at.Mark().is_null()) {
      message += fmt::format(" (line {})", at.Mark().line + 1);
    }
    return Status(ErrorCode::kConfig, std::move(message));
  }
  Status Fail(const Section& s, std::string_view key, std::string_view problem) const {
    return Fail(s.scope, s.Path(key), s.Get(key), problem);
  }
  Status Missing(const Section& s, std::string_view key, std::string_view fix) const {
    return Fail(s.scope, s.Path(key), s.node, fmt::format("missing; {}", fix));
  }

  // --- structure
  Status CheckKeys(const Section& s, Keys allowed, std::span<const KeyHint> hints = {});
  Status CheckMisplacedTuning(const Section& s, bool is_export, std::string_view export_name);
  Result<Section> SubSection(const Section& parent, std::string_view key, bool required);

  // --- typed values; nullopt when the key is absent
  Result<std::optional<std::string>> String(const Section& s, std::string_view key,
                                            bool allow_empty = false);
  Result<std::optional<int64_t>> Int(const Section& s, std::string_view key, int64_t min,
                                     int64_t max);
  Result<std::optional<bool>> Bool(const Section& s, std::string_view key);
  template <typename E, size_t N>
  Result<std::optional<E>> Enum(const Section& s, std::string_view key,
                                const EnumName<E> (&table)[N]);
  Result<std::vector<std::string>> StringList(const Section& s, std::string_view key);
  Result<std::optional<Secret>> EnvSecret(const Section& s, std::string_view key);

  // --- sections
  Status ReadSource(const Section& root, SourceConfig& source);
  Status ReadTls(const Section& source_section, SourceType type, bool has_url, TlsConfig& tls);
  // A file the config names: absolute as written, or resolved against the config's folder;
  // it must be a regular file (unless only the state DB is needed, see require_secrets).
  Result<std::string> ExistingFile(const Section& s, std::string_view key, const std::string& path);
  Result<TuningOverrides> ReadTuning(const Section& s);
  Status ReadNotifications(const Section& root, Config& config);
  Status ReadState(const Section& root, Config& config);
  Status ReadExport(const YAML::Node& node, size_t index, const Config& config,
                    const std::map<std::string, size_t>& names, ExportConfig& e);
  Status ReadQuery(const Section& s, ExportConfig& e);
  Status ReadMode(const Section& s, ExportConfig& e);
  Status ReadOutput(const Section& s, ExportConfig& e);
  Status ReadQuality(const Section& s, QualityConfig& quality);
  Status ReadDestination(const Section& s, DestinationConfig& d);
  Result<std::string> Substitute(const Section& s, std::string_view key, std::string_view origin,
                                 std::string_view query);
  void WarnPasswordInFile(std::string_view key);
  // Wraps a resolved secret and remembers it (and a URL's password) for Echo().
  Secret Keep(std::string value);
  std::optional<std::string> Env(const std::string& name) const {
    return options_.env ? options_.env(name) : std::nullopt;
  }

  std::string file_;
  std::string directory_;
  const LoadOptions& options_;
  std::vector<std::string> warnings_;
  std::set<std::string> used_params_;
  bool password_warned_ = false;
  std::vector<std::string> secrets_;  // every secret read so far, for Echo()
};

std::string Loader::Echo(std::string_view value, size_t max_chars) const {
  std::string text = HideCredentialShapes(HideSecrets(std::string(value), secrets_));
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() <= max_chars) return text;
  constexpr std::string_view kEllipsis = "...";
  size_t cut = max_chars - kEllipsis.size();
  // Never split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += kEllipsis;
  return text;
}

Secret Loader::Keep(std::string value) {
  for (std::string& password : UrlPasswords(value)) secrets_.push_back(std::move(password));
  secrets_.push_back(value);
  return Secret(std::move(value));
}

Status Loader::CheckKeys(const Section& s, Keys allowed, std::span<const KeyHint> hints) {
  std::set<std::string> seen;
  for (const auto& pair : s.node) {
    const YAML::Node& key_node = pair.first;
    if (!key_node.IsScalar()) {
      return Fail(s.scope, s.prefix, key_node, "keys must be plain names");
    }
    const std::string& key = key_node.Scalar();
    if (!seen.insert(key).second) {
      return Fail(s.scope, s.prefix, key_node,
                  fmt::format("duplicate key '{}'; keep only one of them", Echo(key)));
    }
    if (Contains(allowed, key)) continue;
    for (const auto& [name, hint] : hints) {
      if (name == key) {
        return Fail(s.scope, s.prefix, key_node, fmt::format("unknown key '{}' ({})", key, hint));
      }
    }
    if (auto best = Closest(key, allowed)) {
      return Fail(s.scope, s.prefix, key_node,
                  fmt::format("unknown key '{}' (did you mean '{}'?)", Echo(key), *best));
    }
    return Fail(
        s.scope, s.prefix, key_node,
        fmt::format("unknown key '{}' (allowed keys: {})", Echo(key), JoinViews(allowed, ", ")));
  }
  return Status::Ok();
}

// The guide §6 message: tuning keys one level too high are silently useless elsewhere, so they
// get an explicit error that shows the right nesting.
Status Loader::CheckMisplacedTuning(const Section& s, bool is_export,
                                    std::string_view export_name) {
  std::vector<std::string> misplaced;
  for (const auto& pair : s.node) {
    if (!pair.first.IsScalar()) continue;
    const std::string& key = pair.first.Scalar();
    if (Contains(kTuningKeys, key)) {
      misplaced.push_back(key);
    }
  }
  if (misplaced.empty()) return Status::Ok();
  std::string list = JoinViews(misplaced, ", ");
  if (!is_export) {
    return Status(ErrorCode::kConfig,
                  fmt::format("{}: source: field(s) [{}] belong under 'source.tuning:', not "
                              "directly under 'source:'. Example:\n  source:\n    tuning:\n"
                              "      {}: <value>",
                              file_, list, misplaced.front()));
  }
  return Status(ErrorCode::kConfig,
                fmt::format("{}: {}: field(s) [{}] belong under 'exports[].tuning:', not "
                            "directly under the export. Example:\n  exports:\n    - name: {}\n"
                            "      tuning:\n        {}: <value>",
                            file_, s.scope, list, export_name, misplaced.front()));
}

Result<Section> Loader::SubSection(const Section& parent, std::string_view key, bool required) {
  // yaml-cpp nodes are references: assigning to one would write into the document (or throw
  // on a missing key), so absent sections are built fresh, never assigned.
  YAML::Node node = parent.Get(key);
  if (!node.IsDefined() || node.IsNull()) {
    if (required) return Missing(parent, key, fmt::format("add a '{}:' section", key));
    return Section{YAML::Node(YAML::NodeType::Undefined), parent.scope, parent.Path(key)};
  }
  if (!node.IsMap()) {
    return Fail(parent, key, "must be a mapping of keys (indented 'key: value' lines)");
  }
  return Section{node, parent.scope, parent.Path(key)};
}

Result<std::optional<std::string>> Loader::String(const Section& s, std::string_view key,
                                                  bool allow_empty) {
  YAML::Node v = s.Get(key);
  if (!v.IsDefined()) return std::optional<std::string>();
  if (v.IsNull()) {
    return Fail(s, key, fmt::format("has no value; write {}: <value> or remove the line", key));
  }
  if (!v.IsScalar()) return Fail(s, key, "must be a single value, not a list or a mapping");
  if (!allow_empty && Trim(v.Scalar()).empty()) {
    return Fail(s, key, fmt::format("is empty; write {}: <value> or remove the line", key));
  }
  return std::optional<std::string>(v.Scalar());
}

Result<std::optional<int64_t>> Loader::Int(const Section& s, std::string_view key, int64_t min,
                                           int64_t max) {
  YAML::Node v = s.Get(key);
  if (!v.IsDefined()) return std::optional<int64_t>();
  std::string rule = max == kMax ? fmt::format("a whole number >= {}", min)
                                 : fmt::format("a whole number from {} to {}", min, max);
  if (!v.IsScalar()) return Fail(s, key, fmt::format("must be {}", rule));
  const std::string& text = v.Scalar();
  // yaml-cpp tags quoted scalars "!"; a quoted number is a string, which usually means a typo.
  if (v.Tag() == "!") {
    return Fail(s, key, fmt::format("must be {}, written without quotes", rule));
  }
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return Fail(s, key, fmt::format("must be {}; '{}' is out of range", rule, Echo(text)));
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Fail(s, key, fmt::format("must be {}, got '{}'", rule, Echo(text)));
  }
  if (value < min || value > max) {
    return Fail(s, key, fmt::format("must be {}, got {}", rule, value));
  }
  return std::optional<int64_t>(value);
}

Result<std::optional<bool>> Loader::Bool(const Section& s, std::string_view key) {
  YAML::Node v = s.Get(key);
  if (!v.IsDefined()) return std::optional<bool>();
  if (v.IsScalar() && v.Tag() != "!") {
    std::string text = AsciiLower(v.Scalar());
    if (text == "true") return std::optional<bool>(true);
    if (text == "false") return std::optional<bool>(false);
  }
  return Fail(s, key, "must be true or false");
}

template <typename E, size_t N>
Result<std::optional<E>> Loader::Enum(const Section& s, std::string_view key,
                                      const EnumName<E> (&table)[N]) {
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> text, String(s, key));
  if (!text) return std::optional<E>();
  for (const auto& e : table) {
    if (e.name == *text) return std::optional<E>(e.value);
  }
  std::string list = EnumList(table);
  std::string lower = AsciiLower(*text);
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& e : table) {
    size_t d = EditDistance(lower, e.name);
    if (d < best_distance) best_distance = d, best = e.name;
  }
  if (best && best_distance <= (best->size() <= 4 ? 1u : 2u)) {
    return Fail(s, key,
                fmt::format("'{}' is not valid (did you mean '{}'?); use one of: {}", Echo(*text),
                            *best, list));
  }
  return Fail(s, key, fmt::format("'{}' is not valid; use one of: {}", Echo(*text), list));
}

Result<std::vector<std::string>> Loader::StringList(const Section& s, std::string_view key) {
  YAML::Node v = s.Get(key);
  std::vector<std::string> out;
  if (!v.IsDefined()) return out;
  if (!v.IsSequence()) {
    return Fail(s, key, fmt::format("must be a list, e.g. {}: [a, b]", key));
  }
  for (const auto& item : v) {
    if (!item.IsScalar() || Trim(item.Scalar()).empty()) {
      return Fail(s.scope, s.Path(key), item, "every item must be a non-empty name");
    }
    out.push_back(item.Scalar());
  }
  return out;
}

// Reads `<key>: VARIABLE` and resolves the variable. Errors name the variable, never its value;
// a value that is not a variable name (say, the secret itself) is not printed either.
Result<std::optional<Secret>> Loader::EnvSecret(const Section& s, std::string_view key) {
  YAML::Node v = s.Get(key);
  if (!v.IsDefined()) return std::optional<Secret>();
  if (!v.IsScalar() || !IsEnvName(v.Scalar())) {
    return Fail(s, key,
                "must be the name of an environment variable (letters, digits and '_'), not "
                "the secret itself; e.g. " +
                    std::string(key) + ": MY_VARIABLE");
  }
  const std::string& name = v.Scalar();
  std::optional<std::string> value = Env(name);
  if (!value && !options_.require_secrets) return std::optional<Secret>(Secret());
  if (!value) {
    return Fail(s, key,
                fmt::format("environment variable '{}' is not set; export {}=... before running "
                            "rivet",
                            Echo(name), Echo(name)));
  }
  if (value->empty()) {
    return Fail(s, key,
                fmt::format("environment variable '{}' is empty; give it a value", Echo(name)));
  }
  return std::optional<Secret>(Keep(std::move(*value)));
}

void Loader::WarnPasswordInFile(std::string_view key) {
  if (password_warned_) return;
  password_warned_ = true;
  warnings_.push_back(fmt::format(
      "{}: source.{}: a password is written in the config file; keep it in an environment "
      "variable instead (source.password_env or source.url_env)",
      file_, key));
}

Status Loader::ReadSource(const Section& root, SourceConfig& source) {
  RIVET_ASSIGN_OR_RETURN(Section s, SubSection(root, "source", true));
  RIVET_RETURN_IF_ERROR(CheckMisplacedTuning(s, false, ""));
  RIVET_RETURN_IF_ERROR(CheckKeys(s, kSourceKeys, SourceHints()));

  RIVET_ASSIGN_OR_RETURN(std::optional<SourceType> type, Enum(s, "type", kSourceTypes));
  if (!type) return Missing(s, "type", "write type: postgres or type: mysql");
  source.type = *type;
  std::string_view schemes = *type == SourceType::kPostgres
                                 ? "postgresql:// or postgres:// for type: postgres"
                                 : "mysql:// for type: mysql";
  auto scheme_ok = [&](std::string_view url) {
    return *type == SourceType::kPostgres
               ? HasPrefix(url, "postgresql://") || HasPrefix(url, "postgres://")
               : HasPrefix(url, "mysql://");
  };

  bool has_url = s.Has("url");
  bool has_url_env = s.Has("url_env");
  std::vector<std::string_view> structured;
  for (std::string_view k : {"host", "port", "user", "password", "password_env", "database"}) {
    if (s.Has(k)) structured.push_back(k);
  }
  int ways = int{has_url} + int{has_url_env} + int{!structured.empty()};
  if (ways == 0) {
    return Fail("", "source", s.node,
                "no connection given; set exactly one of url, url_env, or host/user/database "
                "(with password_env)");
  }
  if (ways > 1) {
    std::vector<std::string> used;
    if (has_url) used.emplace_back("url");
    if (has_url_env) used.emplace_back("url_env");
    if (!structured.empty()) used.emplace_back(JoinViews(structured, "/"));
    return Fail("", "source", s.node,
                fmt::format("{} are exclusive; connect in exactly one way: url, url_env, or "
                            "host/user/database",
                            JoinViews(used, " and ")));
  }

  if (has_url) {
    // Never format the URL itself: it may embed a password.
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> url, String(s, "url"));
    source.url = Keep(std::move(*url));  // kept before any check, so no message can quote it
    const std::string& text = source.url->reveal();
    if (!scheme_ok(text)) {
      return Fail(s, "url", fmt::format("the URL must start with {}", schemes));
    }
    if (UrlHasPassword(text)) WarnPasswordInFile("url");
  } else if (has_url_env) {
    RIVET_ASSIGN_OR_RETURN(std::optional<Secret> url, EnvSecret(s, "url_env"));
    // An unresolved variable (state-only commands) has nothing to check yet.
    if (!url->empty() && !scheme_ok(url->reveal())) {
      return Fail(s, "url_env",
                  fmt::format("the URL in ${} must start with {}", Echo(s.Get("url_env").Scalar()),
                              schemes));
    }
    source.url = std::move(*url);
  } else {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> host, String(s, "host"));
    if (!host) return Missing(s, "host", "write host: <server name>");
    source.host = *host;
    RIVET_ASSIGN_OR_RETURN(std::optional<int64_t> port, Int(s, "port", 1, 65535));
    if (port) source.port = static_cast<int>(*port);
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> user, String(s, "user"));
    if (!user) return Missing(s, "user", "write user: <database user>");
    source.user = *user;
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> database, String(s, "database"));
    if (!database) return Missing(s, "database", "write database: <database name>");
    source.database = *database;
    if (s.Has("password") && s.Has("password_env")) {
      return Fail(s, "password_env",
                  "password and password_env are exclusive; keep password_env and remove "
                  "password");
    }
    if (s.Has("password")) {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> password, String(s, "password", true));
      WarnPasswordInFile("password");
      source.password = Keep(std::move(*password));
    } else {
      RIVET_ASSIGN_OR_RETURN(source.password, EnvSecret(s, "password_env"));
    }
  }
  RIVET_RETURN_IF_ERROR(ReadTls(s, *type, has_url || has_url_env, source.tls));
  RIVET_ASSIGN_OR_RETURN(Section tuning, SubSection(s, "tuning", false));
  RIVET_ASSIGN_OR_RETURN(source.tuning, ReadTuning(tuning));
  if (source.tuning.batch_size && source.tuning.batch_size_memory_mb) {
    return Fail(tuning, "batch_size_memory_mb",
                "batch_size and batch_size_memory_mb are exclusive; keep only one");
  }
  return Status::Ok();
}

Status Loader::ReadTls(const Section& source_section, SourceType type, bool has_url,
                       TlsConfig& tls) {
  RIVET_ASSIGN_OR_RETURN(Section ts, SubSection(source_section, "tls", false));
  if (!ts.node.IsMap()) return Status::Ok();
  RIVET_RETURN_IF_ERROR(CheckKeys(ts, kTlsKeys, TlsHints()));
  RIVET_ASSIGN_OR_RETURN(tls.mode, Enum(ts, "mode", kTlsModes));
  for (auto [key, field] :
       {std::pair{"ca_file", &tls.ca_file}, std::pair{"cert_file", &tls.cert_file},
        std::pair{"key_file", &tls.key_file}}) {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> path, String(ts, key));
    if (path) {
      RIVET_ASSIGN_OR_RETURN(*field, ExistingFile(ts, key, *path));
    }
  }
  // The rules of tls.h; the URL's own parameters are combined by the source, which can read
  // them (a CA or mode may still come from there).
  const UrlTls names = type == SourceType::kPostgres ? PostgresUrlTlsNames() : MysqlUrlTlsNames();
  if (std::optional<TlsProblem> problem = CheckTls(tls, names, has_url)) {
    return Fail(ts, problem->key, problem->problem);
  }
  return Status::Ok();
}

Result<std::string> Loader::ExistingFile(const Section& s, std::string_view key,
                                         const std::string& path) {
  fs::path full = fs::path(path).is_absolute() ? fs::path(path) : fs::path(directory_) / path;
  full = full.lexically_normal();
  if (!options_.require_secrets) return full.string();
  std::error_code ec;
  const std::string quoted = Echo(path, kEchoPathChars);
  if (!fs::exists(full, ec)) {
    return Fail(s, key,
                fmt::format("file '{}' not found (looked for {}); check the path (a relative path "
                            "is relative to the config's folder)",
                            quoted, Echo(full.string(), kEchoPathChars)));
  }
  if (!fs::is_regular_file(full, ec)) {
    return Fail(s, key, fmt::format("'{}' is not a regular file; give a PEM file", quoted));
  }
  return full.string();
}

Result<TuningOverrides> Loader::ReadTuning(const Section& s) {
  TuningOverrides t;
  if (!s.node.IsMap()) return t;
  RIVET_RETURN_IF_ERROR(CheckKeys(s, kTuningKeys));
  RIVET_ASSIGN_OR_RETURN(t.profile, Enum(s, "profile", kProfiles));
  RIVET_ASSIGN_OR_RETURN(t.batch_size, Int(s, "batch_size", 1, kMax));
  // mb * 1 MiB must stay far from overflow; a terabyte per batch is already absurd.
  RIVET_ASSIGN_OR_RETURN(t.batch_size_memory_mb, Int(s, "batch_size_memory_mb", 1, 1 << 20));
  RIVET_ASSIGN_OR_RETURN(t.throttle_ms, Int(s, "throttle_ms", 0, kMax));
  if (s.Has("max_source_share")) {
    const YAML::Node v = s.Get("max_source_share");
    const std::optional<double> share = PlainNumber(v);
    if (!share || !(*share > 0.0 && *share <= 1.0)) {
      return Fail(s, "max_source_share",
                  fmt::format("must be the share of one server core the export may keep busy, "
                              "above 0 and at most 1 (e.g. 0.25), got '{}'",
                              Echo(v.IsScalar() ? v.Scalar() : "")));
    }
    if (t.throttle_ms) {
      return Fail(s, "max_source_share",
                  "cannot be set with throttle_ms in the same tuning block: throttle_ms is a "
                  "fixed pause, max_source_share a pace that sets the pause; keep one");
    }
    t.max_source_share = *share;
  }
  RIVET_ASSIGN_OR_RETURN(t.statement_timeout_s,
                         Int(s, "statement_timeout_s", 0, kMaxTimeoutSeconds));
  RIVET_ASSIGN_OR_RETURN(t.lock_timeout_s, Int(s, "lock_timeout_s", 0, kMaxTimeoutSeconds));
  // The backoff doubles per attempt (reference §4); these bounds keep it from overflowing.
  RIVET_ASSIGN_OR_RETURN(t.max_retries, Int(s, "max_retries", 0, 30));
  RIVET_ASSIGN_OR_RETURN(t.retry_backoff_ms, Int(s, "retry_backoff_ms", 0, 3'600'000));
  return t;
}

// Unlike the source's secrets, state.url_env is needed by every command, the state commands
// included (they read the store it names): an unset variable is always an error.
Status Loader::ReadState(const Section& root, Config& config) {
  if (!root.Has("state")) return Status::Ok();
  RIVET_ASSIGN_OR_RETURN(Section s, SubSection(root, "state", true));
  RIVET_RETURN_IF_ERROR(CheckKeys(s, kStateKeys));
  if (!s.Has("url_env")) {
    return Missing(s, "url_env",
                   "write url_env: <variable holding the postgresql:// URL of the state store>, "
                   "or remove state: to keep the SQLite file next to the config");
  }
  YAML::Node v = s.Get("url_env");
  if (!v.IsScalar() || !IsEnvName(v.Scalar())) {
    return Fail(s, "url_env",
                "must be the name of an environment variable (letters, digits and '_'), not "
                "the URL itself; e.g. url_env: RIVET_STATE_DB_URL");
  }
  const std::string& name = v.Scalar();
  std::optional<std::string> value = Env(name);
  if (!value || value->empty()) {
    return Fail(s, "url_env",
                fmt::format("environment variable '{}' is {}; export {}=postgresql://... before "
                            "running rivet",
                            Echo(name), value ? "empty" : "not set", Echo(name)));
  }
  StateConfig state;
  state.url_env = name;
  state.url = Keep(std::move(*value));
  if (!HasPrefix(state.url.reveal(), "postgresql://") &&
      !HasPrefix(state.url.reveal(), "postgres://")) {
    return Fail(s, "url_env",
                fmt::format("the URL in ${} must start with postgresql:// (the state store is "
                            "SQLite next to the config, or PostgreSQL)",
                            Echo(name)));
  }
  config.state = std::move(state);
  return Status::Ok();
}

Status Loader::ReadNotifications(const Section& root, Config& config) {
  RIVET_ASSIGN_OR_RETURN(Section n, SubSection(root, "notifications", false));
  if (!n.node.IsMap()) return Status::Ok();
  RIVET_RETURN_IF_ERROR(CheckKeys(n, kNotificationKeys));
  if (!n.Has("slack")) return Status::Ok();
  RIVET_ASSIGN_OR_RETURN(Section s, SubSection(n, "slack", true));
  RIVET_RETURN_IF_ERROR(CheckKeys(s, kSlackKeys));
  SlackConfig slack;
  bool has_url = s.Has("webhook_url");
  bool has_env = s.Has("webhook_url_env");
  if (has_url && has_env) {
    return Fail(s, "webhook_url",
                "webhook_url and webhook_url_env are exclusive; keep webhook_url_env");
  }
  if (!has_url && !has_env) {
    return Missing(s, "webhook_url_env",
                   "write webhook_url_env: <variable holding the Slack webhook URL>");
  }
  if (has_url) {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> url, String(s, "webhook_url"));
    slack.webhook_url = Keep(std::move(*url));
    const std::string& text = slack.webhook_url->reveal();
    if (!HasPrefix(text, "https://") && !HasPrefix(text, "http://")) {
      return Fail(s, "webhook_url", "the webhook URL must start with https://");
    }
    warnings_.push_back(fmt::format(
        "{}: notifications.slack.webhook_url: the webhook URL is written in the config file; "
        "keep it in an environment variable instead (webhook_url_env)",
        file_));
  } else {
    RIVET_ASSIGN_OR_RETURN(slack.webhook_url, EnvSecret(s, "webhook_url_env"));
    // The state commands load without the secrets exported: an unset variable is empty then.
    const bool unset_allowed = slack.webhook_url->empty() && !options_.require_secrets;
    if (!unset_allowed && !HasPrefix(slack.webhook_url->reveal(), "https://") &&
        !HasPrefix(slack.webhook_url->reveal(), "http://")) {
      return Fail(s, "webhook_url_env",
                  fmt::format("the webhook URL in ${} must start with https://",
                              Echo(s.Get("webhook_url_env").Scalar())));
    }
  }
  if (s.Has("on")) {
    RIVET_ASSIGN_OR_RETURN(std::vector<std::string> on, StringList(s, "on"));
    if (on.empty()) {
      return Fail(s, "on",
                  fmt::format("is empty, so nothing would be sent; list one or more of: {}",
                              JoinViews(kSlackEvents, ", ")));
    }
    for (const std::string& event : on) {
      if (Contains(kSlackEvents, event)) {
        if (std::find(slack.on.begin(), slack.on.end(), event) == slack.on.end()) {
          slack.on.push_back(event);
        }
        continue;
      }
      std::string hint;
      if (auto best = Closest(event, kSlackEvents))
        hint = fmt::format(" (did you mean '{}'?)", *best);
      return Fail(s, "on",
                  fmt::format("'{}' is not an event{}; use one of: {}", Echo(event), hint,
                              JoinViews(kSlackEvents, ", ")));
    }
  } else {
    slack.on = {"failure"};  // the one event nobody wants to miss
  }
  config.slack = std::move(slack);
  return Status::Ok();
}

Result<std::string> Loader::Substitute(const Section& s, std::string_view key,
                                       std::string_view origin, std::string_view query) {
  std::string out;
  size_t i = 0;
  while (i < query.size()) {
    size_t start = query.find("${", i);
    if (start == std::string_view::npos) {
      out.append(query.substr(i));
      break;
    }
    out.append(query.substr(i, start - i));
    size_t close = query.find('}', start + 2);
    if (close != std::string_view::npos) {
      std::string name(query.substr(start + 2, close - start - 2));
      if (IsEnvName(name)) {
        if (auto it = options_.params.find(name); it != options_.params.end()) {
          out += it->second;
          used_params_.insert(name);
        } else if (std::optional<std::string> value = Env(name)) {
          out += *value;
        } else {
          return Fail(s, key,
                      fmt::format("${{{}}}{} has no value; pass --param {}=<value> or set the "
                                  "environment variable {}",
                                  name, origin, name, name));
        }
        i = close + 1;
        continue;
      }
    }
    // Not a ${NAME} placeholder: kept as written.
    out.append("${");
    i = start + 2;
  }
  return out;
}

Status Loader::ReadQuery(const Section& s, ExportConfig& e) {
  bool has_query = s.Has("query");
  bool has_file = s.Has("query_file");
  if (has_query && has_file) {
    return Fail(s, "query_file", "query and query_file are exclusive; keep only one");
  }
  if (!has_query && !has_file) {
    return Missing(s, "query", "write query: \"SELECT ...\" or query_file: <path to a .sql file>");
  }
  std::string text;
  if (has_query) {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> query, String(s, "query"));
    RIVET_ASSIGN_OR_RETURN(text, Substitute(s, "query", "", *query));
  } else {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> file, String(s, "query_file"));
    const std::string quoted = Echo(*file, kEchoPathChars);
    fs::path relative(*file);
    if (relative.is_absolute()) {
      return Fail(s, "query_file",
                  fmt::format("'{}' is absolute; write a path relative to the config's folder ({})",
                              quoted, directory_));
    }
    for (const fs::path& part : relative) {
      if (part == "..") {
        return Fail(s, "query_file",
                    fmt::format("'{}' contains '..'; query files must stay inside the config's "
                                "folder ({})",
                                quoted, directory_));
      }
    }
    fs::path full = fs::path(directory_) / relative;
    std::error_code ec;
    if (!fs::exists(full, ec)) {
      return Fail(s, "query_file",
                  fmt::format("file '{}' not found (looked for {}); check the path, which is "
                              "relative to the config's folder",
                              quoted, Echo(full.string(), kEchoPathChars)));
    }
    if (!fs::is_regular_file(full, ec)) {
      return Fail(s, "query_file", fmt::format("'{}' is not a regular file", quoted));
    }
    std::ifstream in(full, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) {
      return Fail(
          s, "query_file",
          fmt::format("cannot read '{}' ({})", quoted, Echo(full.string(), kEchoPathChars)));
    }
    RIVET_ASSIGN_OR_RETURN(
        text, Substitute(s, "query_file", fmt::format(" in '{}'", quoted), content.str()));
    if (NormalizeQuery(text).empty()) {
      return Fail(s, "query_file", fmt::format("'{}' is empty; write the SELECT in it", quoted));
    }
  }
  e.query = NormalizeQuery(text);
  if (e.query.empty()) return Fail(s, "query", "is empty; write the SELECT to export");
  return Status::Ok();
}

Status Loader::ReadMode(const Section& s, ExportConfig& e) {
  RIVET_ASSIGN_OR_RETURN(std::optional<Mode> mode, Enum(s, "mode", kModes));
  e.mode = mode.value_or(Mode::kFull);
  for (const ModeKeyUse& use : kModeKeyUses) {
    if (s.Has(use.key) && use.mode != e.mode) {
      return Fail(s, use.key,
                  fmt::format("is used only with mode: {} (this export has mode: {}); set "
                              "mode: {} or remove {}",
                              ToString(use.mode), ToString(e.mode), ToString(use.mode), use.key));
    }
  }
  switch (e.mode) {
    case Mode::kFull:
      break;
    case Mode::kIncremental: {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> cursor, String(s, "cursor_column"));
      if (!cursor) {
        return Missing(s, "cursor_column",
                       "mode: incremental needs cursor_column: <an ever-increasing column, e.g. "
                       "id or updated_at>");
      }
      e.cursor_column = *cursor;
      break;
    }
    case Mode::kChunked: {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> column, String(s, "chunk_column"));
      if (!column) {
        return Missing(s, "chunk_column",
                       "mode: chunked needs chunk_column: <an integer column, e.g. id>");
      }
      e.chunk_column = *column;
      RIVET_ASSIGN_OR_RETURN(std::optional<int64_t> size, Int(s, "chunk_size", 1, kMax));
      if (size) e.chunk_size = *size;
      RIVET_ASSIGN_OR_RETURN(std::optional<int64_t> parallel, Int(s, "parallel", 1, 1024));
      if (parallel) e.parallel = *parallel;
      RIVET_ASSIGN_OR_RETURN(std::optional<bool> checkpoint, Bool(s, "chunk_checkpoint"));
      e.chunk_checkpoint = checkpoint.value_or(false);
      RIVET_ASSIGN_OR_RETURN(e.chunk_max_attempts, Int(s, "chunk_max_attempts", 1, 1000));
      if (e.chunk_max_attempts && !e.chunk_checkpoint) {
        return Fail(s, "chunk_max_attempts",
                    "is used only with chunk_checkpoint: true; add chunk_checkpoint: true or "
                    "remove chunk_max_attempts");
      }
      break;
    }
    case Mode::kTimeWindow: {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> column, String(s, "time_column"));
      if (!column) {
        return Missing(s, "time_column",
                       "mode: time_window needs time_column: <a timestamp column, e.g. "
                       "created_at>");
      }
      e.time_column = *column;
      RIVET_ASSIGN_OR_RETURN(std::optional<TimeColumnType> type,
                             Enum(s, "time_column_type", kTimeColumnTypes));
      e.time_column_type = type.value_or(TimeColumnType::kTimestamp);
      // 1000 years: far beyond any real window, and safe for date arithmetic.
      RIVET_ASSIGN_OR_RETURN(std::optional<int64_t> days, Int(s, "days_window", 1, 365'000));
      if (!days) {
        return Missing(s, "days_window", "mode: time_window needs days_window: <days, e.g. 7>");
      }
      e.days_window = *days;
      break;
    }
  }
  return Status::Ok();
}

Status Loader::ReadOutput(const Section& s, ExportConfig& e) {
  RIVET_ASSIGN_OR_RETURN(std::optional<Format> format, Enum(s, "format", kFormats));
  e.format = format.value_or(Format::kParquet);
  if (e.format == Format::kCsv) {
    for (std::string_view key : {"compression", "compression_level"}) {
      if (s.Has(key)) {
        return Fail(s, key,
                    fmt::format("applies to format: parquet only; remove {} for format: csv", key));
      }
    }
  }
  RIVET_ASSIGN_OR_RETURN(std::optional<Compression> compression,
                         Enum(s, "compression", kCompressions));
  // CSV is written uncompressed; say so in the struct rather than carry a meaningless zstd.
  e.compression =
      compression.value_or(e.format == Format::kCsv ? Compression::kNone : Compression::kZstd);
  if (s.Has("compression_level")) {
    int64_t min = 0;
    int64_t max = 0;
    switch (e.compression) {
      case Compression::kZstd:
        min = 1, max = 22;
        break;
      case Compression::kGzip:
        min = 0, max = 10;
        break;
      default:
        return Fail(s, "compression_level",
                    fmt::format("compression: {} takes no level; remove compression_level "
                                "(levels exist for zstd 1-22 and gzip 0-10)",
                                ToString(e.compression)));
    }
    RIVET_ASSIGN_OR_RETURN(std::optional<int64_t> level, Int(s, "compression_level", min, max));
    e.compression_level = static_cast<int>(*level);
  }
  RIVET_ASSIGN_OR_RETURN(std::optional<bool> skip_empty, Bool(s, "skip_empty"));
  e.skip_empty = skip_empty.value_or(false);
  if (s.Has("max_file_size")) {
    RIVET_ASSIGN_OR_RETURN(std::optional<std::string> size, String(s, "max_file_size"));
    e.max_file_size = ParseByteSize(*size);
    if (!e.max_file_size) {
      return Fail(s, "max_file_size",
                  fmt::format("'{}' is not a size; write e.g. 100KB, 512MB, 1GB or a number of "
                              "bytes (1024-based)",
                              Echo(*size)));
    }
  }
  if (s.Has("meta_columns")) {
    RIVET_ASSIGN_OR_RETURN(Section m, SubSection(s, "meta_columns", true));
    RIVET_RETURN_IF_ERROR(CheckKeys(m, kMetaColumnKeys));
    RIVET_ASSIGN_OR_RETURN(std::optional<bool> exported_at, Bool(m, "exported_at"));
    RIVET_ASSIGN_OR_RETURN(std::optional<bool> row_hash, Bool(m, "row_hash"));
    e.meta_columns.exported_at = exported_at.value_or(false);
    e.meta_columns.row_hash = row_hash.value_or(false);
  }
  return Status::Ok();
}

Status Loader::ReadQuality(const Section& s, QualityConfig& quality) {
  if (!s.Has("quality")) return Status::Ok();
  RIVET_ASSIGN_OR_RETURN(Section q, SubSection(s, "quality", true));
  RIVET_RETURN_IF_ERROR(CheckKeys(q, kQualityKeys));
  RIVET_ASSIGN_OR_RETURN(quality.row_count_min, Int(q, "row_count_min", 0, kMax));
  RIVET_ASSIGN_OR_RETURN(quality.row_count_max, Int(q, "row_count_max", 0, kMax));
  if (quality.row_count_min && quality.row_count_max &&
      *quality.row_count_min > *quality.row_count_max) {
    return Fail(q, "row_count_max",
                fmt::format("{} is below row_count_min ({}); no row count could pass",
                            *quality.row_count_max, *quality.row_count_min));
  }
  if (q.Has("null_ratio_max")) {
    YAML::Node ratios = q.Get("null_ratio_max");
    if (!ratios.IsMap()) {
      return Fail(q, "null_ratio_max", "must map columns to ratios, e.g. {email: 0.05}");
    }
    Section r{ratios, q.scope, q.Path("null_ratio_max")};
    std::set<std::string> seen;
    for (const auto& pair : ratios) {
      if (!pair.first.IsScalar() || Trim(pair.first.Scalar()).empty()) {
        return Fail(r.scope, r.prefix, pair.first, "keys must be column names");
      }
      const std::string& column = pair.first.Scalar();
      if (!seen.insert(column).second) {
        return Fail(r.scope, r.prefix, pair.first,
                    fmt::format("duplicate column '{}'; keep only one of them", Echo(column)));
      }
      const YAML::Node& v = pair.second;
      const std::optional<double> ratio = PlainNumber(v);
      if (!ratio || !(*ratio >= 0.0 && *ratio <= 1.0)) {
        return Fail(r.scope, r.Path(Echo(column)), v,
                    fmt::format("must be a ratio from 0 to 1 (e.g. 0.05), got '{}'",
                                Echo(v.IsScalar() ? v.Scalar() : "")));
      }
      quality.null_ratio_max[column] = *ratio;
    }
  }
  RIVET_ASSIGN_OR_RETURN(quality.unique_columns, StringList(q, "unique_columns"));
  return Status::Ok();
}

Status Loader::ReadDestination(const Section& s, DestinationConfig& d) {
  RIVET_ASSIGN_OR_RETURN(Section ds, SubSection(s, "destination", true));
  RIVET_RETURN_IF_ERROR(CheckKeys(ds, kDestinationKeys));
  RIVET_ASSIGN_OR_RETURN(std::optional<DestinationType> type, Enum(ds, "type", kDestinationTypes));
  if (!type) {
    return Missing(ds, "type", fmt::format("write type: <{}>", EnumList(kDestinationTypes)));
  }
  d.type = *type;
  for (const DestinationKeyUse& use : kDestinationKeyUses) {
    if (ds.Has(use.key) && (use.types & Bit(d.type)) == 0) {
      return Fail(ds, use.key,
                  fmt::format("is used only by {} destinations (this one is type: {}); remove it",
                              use.types_text, ToString(d.type)));
    }
  }
  switch (d.type) {
    case DestinationType::kLocal: {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> path, String(ds, "path"));
      if (!path) return Missing(ds, "path", "write path: <output folder, e.g. ./output>");
      d.path = *path;  // resolved against the config's folder by the destination
      break;
    }
    case DestinationType::kS3:
    case DestinationType::kGcs: {
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> bucket, String(ds, "bucket"));
      if (!bucket) return Missing(ds, "bucket", "write bucket: <bucket name>");
      if (bucket->find('/') != std::string::npos) {
        return Fail(ds, "bucket",
                    fmt::format("'{}' contains '/'; write only the bucket name and put the "
                                "folder in prefix:",
                                Echo(*bucket)));
      }
      d.bucket = *bucket;
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> prefix, String(ds, "prefix", true));
      if (prefix) {
        // Object names never start with '/', and the prefix is a folder (reference §1).
        std::string_view p = *prefix;
        while (!p.empty() && p.front() == '/') p.remove_prefix(1);
        d.prefix = std::string(p);
        if (!d.prefix.empty() && d.prefix.back() != '/') d.prefix += '/';
      }
      RIVET_ASSIGN_OR_RETURN(std::optional<std::string> endpoint, String(ds, "endpoint"));
      if (endpoint) {
        if (!HasPrefix(*endpoint, "http://") && !HasPrefix(*endpoint, "https://")) {
          return Fail(ds, "endpoint",
                      "must start with http:// or https://, e.g. http://localhost:9000");
        }
        d.endpoint = *endpoint;
      }
      if (d.type == DestinationType::kS3) {
        RIVET_ASSIGN_OR_RETURN(std::optional<std::string> region, String(ds, "region"));
        d.region = region.value_or("");
        bool has_access = ds.Has("access_key_env");
        bool has_secret = ds.Has("secret_key_env");
        if (has_access != has_secret) {
          return Fail(ds, has_access ? "secret_key_env" : "access_key_env",
                      "access_key_env and secret_key_env go together; set both, or neither to "
                      "use the default AWS credential chain");
        }
        RIVET_ASSIGN_OR_RETURN(d.access_key, EnvSecret(ds, "access_key_env"));
        RIVET_ASSIGN_OR_RETURN(d.secret_key, EnvSecret(ds, "secret_key_env"));
      } else {
        RIVET_ASSIGN_OR_RETURN(std::optional<std::string> credentials,
                               String(ds, "credentials_file"));
        d.credentials_file = credentials.value_or("");
        RIVET_ASSIGN_OR_RETURN(std::optional<bool> anonymous, Bool(ds, "allow_anonymous"));
        d.allow_anonymous = anonymous.value_or(false);
        if (d.allow_anonymous && credentials) {
          return Fail(ds, "allow_anonymous",
                      "allow_anonymous: true and credentials_file are exclusive; keep one");
        }
      }
      break;
    }
    case DestinationType::kStdout:
      break;
  }
  return Status::Ok();
}

// Keys that belong one level deeper than where they were written, for a precise hint.
const std::vector<KeyHint>& ExportLevelHints() {
  static const std::vector<KeyHint> hints = [] {
    std::vector<KeyHint> h;
    for (std::string_view k : kDestinationKeys) h.emplace_back(k, "it belongs under destination:");
    for (std::string_view k : kQualityKeys) h.emplace_back(k, "it belongs under quality:");
    for (std::string_view k : kMetaColumnKeys) h.emplace_back(k, "it belongs under meta_columns:");
    return h;
  }();
  return hints;
}

const std::vector<KeyHint>& RootHints() {
  static const std::vector<KeyHint> hints = [] {
    std::vector<KeyHint> h;
    for (std::string_view k : kSourceKeys) h.emplace_back(k, "it belongs under source:");
    for (std::string_view k : kTuningKeys) h.emplace_back(k, "it belongs under source.tuning:");
    h.emplace_back("slack", "it belongs under notifications:");
    for (std::string_view k : kExportKeys) {
      if (k != "tuning") h.emplace_back(k, "it belongs inside an item of exports:");
    }
    return h;
  }();
  return hints;
}

Status Loader::ReadExport(const YAML::Node& node, size_t index, const Config& config,
                          const std::map<std::string, size_t>& names, ExportConfig& e) {
  std::string scope = fmt::format("exports[{}]", index);
  if (!node.IsMap()) {
    return Fail(scope, "", node, "must be a mapping with name:, query: and destination:");
  }
  Section s{node, scope, ""};
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> name, String(s, "name"));
  if (!name) return Missing(s, "name", "every export needs a unique name (letters, digits, _ -)");
  if (!IsExportName(*name)) {
    return Fail(s, "name",
                fmt::format("'{}' may only contain letters, digits, '_' and '-' (it names files "
                            "and state)",
                            Echo(*name)));
  }
  e.name = *name;
  s.scope = fmt::format("exports[{}] '{}'", index, *name);
  if (auto it = names.find(*name); it != names.end()) {
    return Fail(s, "name",
                fmt::format("'{}' is already used by exports[{}]; export names must be unique",
                            *name, it->second));
  }

  RIVET_RETURN_IF_ERROR(CheckMisplacedTuning(s, true, *name));
  RIVET_RETURN_IF_ERROR(CheckKeys(s, kExportKeys, ExportLevelHints()));
  RIVET_RETURN_IF_ERROR(ReadQuery(s, e));
  RIVET_RETURN_IF_ERROR(ReadMode(s, e));
  RIVET_RETURN_IF_ERROR(ReadOutput(s, e));
  RIVET_RETURN_IF_ERROR(ReadQuality(s, e.quality));
  if (e.quality.configured() && e.chunk_checkpoint) {
    // A checkpointed chunk is delivered when it completes; quality gates hold every file until
    // the whole export is checked. One promise excludes the other.
    return Fail(s, "quality",
                "cannot be combined with chunk_checkpoint: true (checkpointed chunks are "
                "delivered as they complete, quality holds every file until the whole export "
                "passes); remove one of them");
  }

  RIVET_ASSIGN_OR_RETURN(Section ts, SubSection(s, "tuning", false));
  RIVET_ASSIGN_OR_RETURN(e.tuning_overrides, ReadTuning(ts));
  e.tuning = MergeTuning(config.source.tuning, e.tuning_overrides);
  if (e.tuning.batch_size_memory_mb &&
      (config.source.tuning.batch_size || e.tuning_overrides.batch_size)) {
    auto origin = [](bool in_export) {
      return in_export ? "this export's tuning" : "source.tuning";
    };
    std::string_view size_from = origin(e.tuning_overrides.batch_size.has_value());
    std::string_view memory_from = origin(e.tuning_overrides.batch_size_memory_mb.has_value());
    if (size_from == memory_from) {
      return Fail(s, "tuning",
                  fmt::format("batch_size and batch_size_memory_mb are both set in {}; they are "
                              "exclusive, keep only one",
                              size_from));
    }
    return Fail(s, "tuning",
                fmt::format("batch_size (from {}) and batch_size_memory_mb (from {}) are both "
                            "set after merging source.tuning with this export's tuning; they "
                            "are exclusive, keep only one",
                            size_from, memory_from));
  }
  RIVET_RETURN_IF_ERROR(ReadDestination(s, e.destination));
  // The first file of a split unit is copied under its final name inside S3 (README "S3"),
  // and S3 copies at most 5 GiB in one request; parts may pass the size by a batch.
  constexpr uint64_t kS3MaxFileSize = uint64_t{4} << 30;
  if (e.destination.type == DestinationType::kS3 && e.max_file_size &&
      *e.max_file_size > kS3MaxFileSize) {
    return Fail(s, "max_file_size",
                "is above 4GB, the largest size a file split for an s3 destination may have; "
                "write 4GB or less");
  }
  return Status::Ok();
}

Result<Loaded> Loader::Load(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& ex) {
    return Error(ErrorCode::kConfig, "{}: invalid YAML at line {}, column {}: {}", file_,
                 ex.mark.line + 1, ex.mark.column + 1, Echo(ex.msg, kEchoYamlErrorChars));
  }
  if (!root.IsDefined() || root.IsNull()) {
    return Error(ErrorCode::kConfig,
                 "{}: the file is empty; a config needs a source: section and an exports: list",
                 file_);
  }
  if (!root.IsMap()) {
    return Error(ErrorCode::kConfig,
                 "{}: the top level must be a mapping with source: and exports: (found a {})",
                 file_, root.IsSequence() ? "list" : "single value");
  }
  Section r{root, "", ""};
  RIVET_RETURN_IF_ERROR(CheckKeys(r, kRootKeys, RootHints()));

  Config config;
  config.path = file_;
  config.directory = directory_;
  RIVET_RETURN_IF_ERROR(ReadSource(r, config.source));
  RIVET_ASSIGN_OR_RETURN(std::optional<bool> parallel, Bool(r, "parallel_exports"));
  config.parallel_exports = parallel.value_or(false);
  RIVET_ASSIGN_OR_RETURN(std::optional<bool> processes, Bool(r, "parallel_export_processes"));
  config.parallel_export_processes = processes.value_or(false);
  RIVET_RETURN_IF_ERROR(ReadNotifications(r, config));
  RIVET_RETURN_IF_ERROR(ReadState(r, config));

  YAML::Node exports = r.Get("exports");
  if (!exports.IsDefined() || exports.IsNull()) {
    return Fail("", "exports", exports.IsDefined() ? exports : root,
                "missing; add an exports: list with at least one export (name, query, "
                "destination)");
  }
  if (!exports.IsSequence()) {
    return Fail("", "exports", exports, "must be a list of exports (items start with '- name:')");
  }
  if (exports.size() == 0) {
    return Fail("", "exports", exports,
                "is empty; add at least one export (name, query, destination)");
  }
  std::map<std::string, size_t> names;
  size_t index = 0;
  for (const YAML::Node& item : exports) {
    ExportConfig e;
    RIVET_RETURN_IF_ERROR(ReadExport(item, index, config, names, e));
    names.emplace(e.name, index++);
    config.exports.push_back(std::move(e));
  }

  for (const auto& [key, value] : options_.params) {
    if (used_params_.count(key) == 0) {
      warnings_.push_back(fmt::format(
          "{}: --param {} is not used by any query (no ${{{}}} in a query or query_file)", file_,
          key, key));
    }
  }
  return Loaded{std::move(config), std::move(warnings_)};
}

std::string DirectoryOf(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(fs::path(path), ec);
  if (ec) absolute = fs::path(path);
  return absolute.lexically_normal().parent_path().string();
}

}  // namespace

Result<Loaded> LoadConfigText(std::string_view yaml, const std::string& path,
                              const LoadOptions& options) {
  // yaml-cpp reports misuse and some malformed input by throwing; its messages may quote a key of
  // the file, so they are echoed like any value (the loader knows the secrets read so far).
  Loader loader(path, DirectoryOf(path), options);
  try {
    return loader.Load(yaml);
  } catch (const YAML::Exception& ex) {
    if (ex.mark.is_null()) {
      return Error(ErrorCode::kConfig, "{}: cannot read the config: {}", path,
                   loader.Echo(ex.msg, kEchoYamlErrorChars));
    }
    return Error(ErrorCode::kConfig, "{}: cannot read the config at line {}, column {}: {}", path,
                 ex.mark.line + 1, ex.mark.column + 1, loader.Echo(ex.msg, kEchoYamlErrorChars));
  } catch (const std::exception& ex) {
    return Error(ErrorCode::kConfig, "{}: cannot read the config: {}", path,
                 loader.Echo(ex.what(), kEchoYamlErrorChars));
  }
}

Result<Loaded> LoadConfigFile(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error(ErrorCode::kConfig, "{}: config file not found; check the --config path", path);
  }
  if (!fs::is_regular_file(path, ec)) {
    return Error(ErrorCode::kConfig, "{}: is not a regular file; --config needs a YAML file", path);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) {
    return Error(ErrorCode::kConfig, "{}: cannot read the config file (check its permissions)",
                 path);
  }
  return LoadConfigText(content.str(), path, options);
}

}  // namespace rivet::config
