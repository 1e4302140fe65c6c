// Unit tests of the config loader (reference §1): every rule has a bad config whose message must
// name the file, the export, the key and the fix; good configs check that every key lands in its
// struct field. Hermetic: the environment is injected, files live in a fresh temp folder.
#include "rivet/config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "rivet/config/loader.h"
#include "rivet/config/tls.h"

namespace rivet::config {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;

// Values that must never show up in an error or a warning.
constexpr char kFilePassword[] = "hunter2FilePw";
constexpr char kEnvPassword[] = "s3cretFromEnv";

Env DefaultEnv() {
  return {
      {"DB_URL", std::string("postgresql://app:") + kEnvPassword + "@db:5432/prod"},
      {"MYSQL_URL", std::string("mysql://app:") + kEnvPassword + "@db:3306/prod"},
      {"DB_PASSWORD", kEnvPassword},
      {"AWS_KEY", "AKIAEXAMPLE"},
      {"AWS_SECRET", kEnvPassword},
      {"SLACK_URL", "https://hooks.slack.example/services/T/B/x"},
      {"COUNTRY", "DE"},
      {"EMPTY_VAR", ""},
  };
}

LoadOptions Options(std::map<std::string, std::string> params = {}, Env env = DefaultEnv()) {
  LoadOptions o;
  o.params = std::move(params);
  o.env = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

Result<Loaded> Load(const std::string& yaml, const LoadOptions& options = Options()) {
  return LoadConfigText(yaml, "rivet.yaml", options);
}

const std::string kSource = "source:\n  type: postgres\n  url_env: DB_URL\n";
const std::string kLocal = "    destination:\n      type: local\n      path: ./out\n";

// A file that exists wherever the tests run, standing in for a PEM file (the loader only checks
// that TLS files exist; the client libraries read them).
const std::string kExistingFile = std::string(RIVET_SOURCE_DIR) + "/README.md";
const std::string kStructuredSource =
    "source:\n  type: postgres\n  host: db\n  user: u\n  database: d\n";

// kSource (a URL) or `source` with a tls: block of `lines` (indented four spaces).
std::string TlsSource(const std::string& lines, const std::string& source = kSource) {
  return source + "  tls:\n" + lines;
}

// One export named orders with `lines` (indented four spaces) between its query and destination.
std::string Cfg(const std::string& lines, const std::string& destination = kLocal,
                const std::string& source = kSource) {
  return source + "exports:\n  - name: orders\n    query: SELECT 1\n" + lines + destination;
}

// ---------------------------------------------------------------------------------------------
// Bad configs.

struct BadCase {
  std::string label;
  std::string yaml;
  std::vector<std::string> parts;  // each must appear in the message
  std::map<std::string, std::string> params = {};
};

std::vector<BadCase> BadCases() {
  const std::string s3 =
      "    destination:\n      type: s3\n      bucket: lake\n      access_key_env: AWS_KEY\n";
  return {
      {"unknown_export_key",
       Cfg("    cursor_colum: id\n"),
       {"rivet.yaml: exports[0] 'orders': unknown key 'cursor_colum' (did you mean "
        "'cursor_column'?)",
        "(line 7)"}},
      {"unknown_root_key",
       "sorce:\n  type: postgres\n",
       {"rivet.yaml: unknown key 'sorce' (did you mean 'source'?)"}},
      {"unknown_source_key",
       "source:\n  type: postgres\n  hots: db\n",
       {"rivet.yaml: source: unknown key 'hots' (did you mean 'host'?)"}},
      {"unknown_destination_key",
       Cfg("", "    destination:\n      type: s3\n      buckt: lake\n"),
       {"rivet.yaml: exports[0] 'orders': destination: unknown key 'buckt' (did you mean "
        "'bucket'?)"}},
      {"transposed_key",
       Cfg("    fromat: csv\n"),
       {"exports[0] 'orders': unknown key 'fromat' (did you mean 'format'?)"}},
      {"unknown_key_no_suggestion",
       Cfg("    colour: blue\n"),
       {"exports[0] 'orders': unknown key 'colour' (allowed keys: name, query, query_file"}},
      {"destination_key_at_export_level",
       Cfg("    bucket: lake\n"),
       {"exports[0] 'orders': unknown key 'bucket' (it belongs under destination:)"}},
      {"tuning_key_at_root",
       kSource + "batch_size: 5\n",
       {"rivet.yaml: unknown key 'batch_size' (it belongs under source.tuning:)"}},
      {"unknown_tuning_key",
       Cfg("    tuning:\n      batch_sise: 5\n"),
       {"exports[0] 'orders': tuning: unknown key 'batch_sise' (did you mean 'batch_size'?)"}},
      {"tuning_under_source",
       "source:\n  type: postgres\n  url_env: DB_URL\n  batch_size: 5000\n  throttle_ms: 1\n",
       {"rivet.yaml: source: field(s) [batch_size, throttle_ms] belong under 'source.tuning:', "
        "not directly under 'source:'. Example:\n  source:\n    tuning:\n      batch_size: "
        "<value>"}},
      {"tuning_under_export",
       Cfg("    profile: safe\n"),
       {"rivet.yaml: exports[0] 'orders': field(s) [profile] belong under 'exports[].tuning:', "
        "not directly under the export. Example:\n  exports:\n    - name: orders\n      tuning:\n"
        "        profile: <value>"}},
      {"batch_size_and_memory_merged",
       Cfg("    tuning:\n      batch_size_memory_mb: 256\n", kLocal,
           kSource + "  tuning:\n    batch_size: 1000\n"),
       {"rivet.yaml: exports[0] 'orders': tuning: batch_size (from source.tuning) and "
        "batch_size_memory_mb (from this export's tuning) are both set",
        "keep only one"}},
      {"batch_size_and_memory_in_export",
       Cfg("    tuning:\n      batch_size: 10\n      batch_size_memory_mb: 256\n"),
       {"exports[0] 'orders': tuning: batch_size and batch_size_memory_mb are both set in this "
        "export's tuning; they are exclusive, keep only one"}},
      {"batch_size_and_memory_in_source",
       Cfg("", kLocal, kSource + "  tuning:\n    batch_size: 1\n    batch_size_memory_mb: 2\n"),
       {"rivet.yaml: source.tuning.batch_size_memory_mb: batch_size and batch_size_memory_mb "
        "are exclusive"}},
      {"no_connection",
       Cfg("", kLocal, "source:\n  type: postgres\n"),
       {"rivet.yaml: source: no connection given; set exactly one of url, url_env, or "
        "host/user/database"}},
      {"url_and_url_env",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  url_env: DB_URL\n  url: postgresql://u:" +
               std::string(kFilePassword) + "@h/d\n"),
       {"rivet.yaml: source: url and url_env are exclusive"}},
      {"url_and_structured",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  url: postgresql://h/d\n  host: h\n  user: u\n"),
       {"source: url and host/user are exclusive; connect in exactly one way"}},
      {"password_and_password_env",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  host: h\n  user: u\n  database: d\n  password: " +
               std::string(kFilePassword) + "\n  password_env: DB_PASSWORD\n"),
       {"rivet.yaml: source.password_env: password and password_env are exclusive"}},
      {"url_env_unset",
       Cfg("", kLocal, "source:\n  type: postgres\n  url_env: NOPE_URL\n"),
       {"rivet.yaml: source.url_env: environment variable 'NOPE_URL' is not set"}},
      {"url_env_empty",
       Cfg("", kLocal, "source:\n  type: postgres\n  url_env: EMPTY_VAR\n"),
       {"source.url_env: environment variable 'EMPTY_VAR' is empty"}},
      {"url_env_holds_url",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  url_env: postgresql://u:" + std::string(kFilePassword) +
               "@h/d\n"),
       {"source.url_env: must be the name of an environment variable"}},
      {"password_env_unset",
       Cfg("", kLocal,
           "source:\n  type: mysql\n  host: h\n  user: u\n  database: d\n  password_env: "
           "NO_PW\n"),
       {"source.password_env: environment variable 'NO_PW' is not set"}},
      {"structured_missing_database",
       Cfg("", kLocal, "source:\n  type: postgres\n  host: h\n  user: u\n"),
       {"rivet.yaml: source.database: missing; write database: <database name>"}},
      {"port_out_of_range",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  host: h\n  port: 70000\n  user: u\n  database: d\n"),
       {"source.port: must be a whole number from 1 to 65535, got 70000"}},
      {"source_type_missing",
       Cfg("", kLocal, "source:\n  url_env: DB_URL\n"),
       {"rivet.yaml: source.type: missing; write type: postgres or type: mysql"}},
      {"source_type_invalid",
       Cfg("", kLocal, "source:\n  type: oracle\n  url_env: DB_URL\n"),
       {"source.type: 'oracle' is not valid; use one of: postgres, mysql"}},
      {"url_scheme_mismatch",
       Cfg("", kLocal,
           "source:\n  type: postgres\n  url: mysql://root:" + std::string(kFilePassword) +
               "@h:3306/d\n"),
       {"rivet.yaml: source.url: the URL must start with postgresql:// or postgres:// for "
        "type: postgres"}},
      {"url_env_scheme_mismatch",
       Cfg("", kLocal, "source:\n  type: mysql\n  url_env: DB_URL\n"),
       {"source.url_env: the URL in $DB_URL must start with mysql:// for type: mysql"}},
      {"s3_access_without_secret",
       Cfg("", s3),
       {"rivet.yaml: exports[0] 'orders': destination.secret_key_env: access_key_env and "
        "secret_key_env go together"}},
      {"s3_secret_env_unset",
       Cfg("", s3 + "      secret_key_env: NO_SECRET\n"),
       {"exports[0] 'orders': destination.secret_key_env: environment variable 'NO_SECRET' is "
        "not set"}},
      {"slack_env_unset",
       kSource + "notifications:\n  slack:\n    webhook_url_env: NO_HOOK\n" + Cfg("", kLocal, ""),
       {"rivet.yaml: notifications.slack.webhook_url_env: environment variable 'NO_HOOK' is not "
        "set"}},
      {"slack_bad_event",
       kSource + "notifications:\n  slack:\n    webhook_url_env: SLACK_URL\n    on: [failures]\n" +
           Cfg("", kLocal, ""),
       {"notifications.slack.on: 'failures' is not an event (did you mean 'failure'?); use one "
        "of: failure, schema_change, degraded"}},
      {"query_and_query_file",
       Cfg("    query_file: q.sql\n"),
       {"exports[0] 'orders': query_file: query and query_file are exclusive"}},
      {"no_query",
       kSource + "exports:\n  - name: orders\n" + kLocal,
       {"rivet.yaml: exports[0] 'orders': query: missing; write query: \"SELECT ...\" or "
        "query_file:"}},
      {"query_file_dotdot",
       kSource + "exports:\n  - name: orders\n    query_file: sql/../../etc/q.sql\n" + kLocal,
       {"exports[0] 'orders': query_file: 'sql/../../etc/q.sql' contains '..'"}},
      {"query_file_absolute",
       kSource + "exports:\n  - name: orders\n    query_file: /etc/q.sql\n" + kLocal,
       {"exports[0] 'orders': query_file: '/etc/q.sql' is absolute; write a path relative"}},
      {"query_file_missing",
       kSource + "exports:\n  - name: orders\n    query_file: sql/none_such.sql\n" + kLocal,
       {"exports[0] 'orders': query_file: file 'sql/none_such.sql' not found (looked for "}},
      {"unresolved_param",
       kSource + "exports:\n  - name: orders\n    query: SELECT * FROM t WHERE c = '${REGION}'\n" +
           kLocal,
       {"rivet.yaml: exports[0] 'orders': query: ${REGION} has no value; pass --param "
        "REGION=<value> or set the environment variable REGION"}},
      {"incremental_without_cursor",
       Cfg("    mode: incremental\n"),
       {"rivet.yaml: exports[0] 'orders': cursor_column: missing; mode: incremental needs "
        "cursor_column"}},
      {"chunked_without_column",
       Cfg("    mode: chunked\n"),
       {"exports[0] 'orders': chunk_column: missing; mode: chunked needs chunk_column"}},
      {"time_window_without_column",
       Cfg("    mode: time_window\n    days_window: 7\n"),
       {"exports[0] 'orders': time_column: missing; mode: time_window needs time_column"}},
      {"time_window_without_days",
       Cfg("    mode: time_window\n    time_column: at\n"),
       {"exports[0] 'orders': days_window: missing; mode: time_window needs days_window"}},
      {"days_window_zero",
       Cfg("    mode: time_window\n    time_column: at\n    days_window: 0\n"),
       {"exports[0] 'orders': days_window: must be a whole number from 1 to 365000, got 0"}},
      {"chunk_size_zero",
       Cfg("    mode: chunked\n    chunk_column: id\n    chunk_size: 0\n"),
       {"exports[0] 'orders': chunk_size: must be a whole number >= 1, got 0"}},
      {"parallel_zero",
       Cfg("    mode: chunked\n    chunk_column: id\n    parallel: 0\n"),
       {"exports[0] 'orders': parallel: must be a whole number from 1 to 1024, got 0"}},
      {"chunk_max_attempts_without_checkpoint",
       Cfg("    mode: chunked\n    chunk_column: id\n    chunk_max_attempts: 3\n"),
       {"chunk_max_attempts: is used only with chunk_checkpoint: true"}},
      {"mode_key_with_other_mode",
       Cfg("    cursor_column: id\n"),
       {"exports[0] 'orders': cursor_column: is used only with mode: incremental (this export "
        "has mode: full); set mode: incremental or remove cursor_column"}},
      {"mode_typo",
       Cfg("    mode: ful\n"),
       {"exports[0] 'orders': mode: 'ful' is not valid (did you mean 'full'?); use one of: "
        "full, incremental, chunked, time_window"}},
      {"format_invalid",
       Cfg("    format: json\n"),
       {"exports[0] 'orders': format: 'json' is not valid; use one of: parquet, csv"}},
      {"compression_invalid",
       Cfg("    compression: brotli\n"),
       {"compression: 'brotli' is not valid; use one of: zstd, snappy, gzip, lz4, none"}},
      {"profile_invalid",
       Cfg("", kLocal, kSource + "  tuning:\n    profile: turbo\n"),
       {"rivet.yaml: source.tuning.profile: 'turbo' is not valid; use one of: fast, balanced, "
        "safe"}},
      {"time_column_type_invalid",
       Cfg("    mode: time_window\n    time_column: at\n    days_window: 1\n    "
           "time_column_type: epoch\n"),
       {"time_column_type: 'epoch' is not valid; use one of: timestamp, unix"}},
      {"destination_type_invalid",
       Cfg("", "    destination:\n      type: ftp\n"),
       {"exports[0] 'orders': destination.type: 'ftp' is not valid; use one of: local, s3, gcs, "
        "stdout"}},
      {"destination_missing",
       kSource + "exports:\n  - name: orders\n    query: SELECT 1\n",
       {"exports[0] 'orders': destination: missing; add a 'destination:' section"}},
      {"zstd_level_out_of_range",
       Cfg("    compression_level: 30\n"),
       {"exports[0] 'orders': compression_level: must be a whole number from 1 to 22, got 30"}},
      {"gzip_level_out_of_range",
       Cfg("    compression: gzip\n    compression_level: 11\n"),
       {"compression_level: must be a whole number from 0 to 10, got 11"}},
      {"level_for_snappy",
       Cfg("    compression: snappy\n    compression_level: 3\n"),
       {"exports[0] 'orders': compression_level: compression: snappy takes no level"}},
      {"compression_with_csv",
       Cfg("    format: csv\n    compression: gzip\n"),
       {"exports[0] 'orders': compression: applies to format: parquet only; remove compression "
        "for format: csv"}},
      {"local_without_path",
       Cfg("", "    destination:\n      type: local\n"),
       {"exports[0] 'orders': destination.path: missing; write path:"}},
      {"s3_without_bucket",
       Cfg("", "    destination:\n      type: s3\n"),
       {"exports[0] 'orders': destination.bucket: missing; write bucket:"}},
      {"gcs_without_bucket",
       Cfg("", "    destination:\n      type: gcs\n"),
       {"exports[0] 'orders': destination.bucket: missing; write bucket:"}},
      {"bucket_on_local",
       Cfg("", kLocal + "      bucket: lake\n"),
       {"destination.bucket: is used only by s3 and gcs destinations (this one is type: local)"}},
      {"duplicate_names",
       kSource + "exports:\n  - name: orders\n    query: SELECT 1\n" + kLocal +
           "  - name: orders\n    query: SELECT 2\n" + kLocal,
       {"rivet.yaml: exports[1] 'orders': name: 'orders' is already used by exports[0]; export "
        "names must be unique"}},
      {"invalid_name",
       kSource + "exports:\n  - name: my orders\n    query: SELECT 1\n" + kLocal,
       {"rivet.yaml: exports[0]: name: 'my orders' may only contain letters, digits, '_' and "
        "'-'"}},
      {"missing_name",
       kSource + "exports:\n  - query: SELECT 1\n" + kLocal,
       {"rivet.yaml: exports[0]: name: missing"}},
      {"empty_exports",
       kSource + "exports: []\n",
       {"rivet.yaml: exports: is empty; add at least one export"}},
      {"missing_exports", kSource, {"rivet.yaml: exports: missing; add an exports: list"}},
      {"missing_source",
       "exports:\n  - name: a\n",
       {"rivet.yaml: source: missing; add a 'source:' section"}},
      {"quoted_integer",
       Cfg("    tuning:\n      batch_size: \"1000\"\n"),
       {"exports[0] 'orders': tuning.batch_size: must be a whole number >= 1, written without "
        "quotes"}},
      {"negative_batch_size",
       Cfg("", kLocal, kSource + "  tuning:\n    batch_size: -5\n"),
       {"source.tuning.batch_size: must be a whole number >= 1, got -5"}},
      {"text_throttle",
       Cfg("    tuning:\n      throttle_ms: soon\n"),
       {"tuning.throttle_ms: must be a whole number >= 0, got 'soon'"}},
      {"share_out_of_range",
       Cfg("    tuning:\n      max_source_share: 1.5\n"),
       {"exports[0] 'orders': tuning.max_source_share: must be the share of one server core the "
        "export may keep busy, above 0 and at most 1 (e.g. 0.25), got '1.5'"}},
      {"share_zero",
       Cfg("    tuning:\n      max_source_share: 0\n"),
       {"tuning.max_source_share: must be the share of one server core", "got '0'"}},
      {"share_and_throttle",
       Cfg("    tuning:\n      max_source_share: 0.5\n      throttle_ms: 10\n"),
       {"exports[0] 'orders': tuning.max_source_share: cannot be set with throttle_ms in the same "
        "tuning block"}},
      {"bool_not_bool",
       Cfg("    skip_empty: maybe\n"),
       {"exports[0] 'orders': skip_empty: must be true or false"}},
      {"max_file_size_invalid",
       Cfg("    max_file_size: lots\n"),
       {"exports[0] 'orders': max_file_size: 'lots' is not a size; write e.g. 100KB, 512MB"}},
      {"duplicate_key",
       Cfg("    format: csv\n    format: parquet\n"),
       {"exports[0] 'orders': duplicate key 'format'; keep only one of them"}},
      {"null_ratio_out_of_range",
       Cfg("    quality:\n      null_ratio_max: {email: 1.5}\n"),
       {"exports[0] 'orders': quality.null_ratio_max.email: must be a ratio from 0 to 1"}},
      {"row_count_min_above_max",
       Cfg("    quality:\n      row_count_min: 10\n      row_count_max: 5\n"),
       {"quality.row_count_max: 5 is below row_count_min (10)"}},
      {"quality_unknown_key",
       Cfg("    quality:\n      row_count_mni: 1\n"),
       {"exports[0] 'orders': quality: unknown key 'row_count_mni' (did you mean "
        "'row_count_min'?)"}},
      {"meta_unknown_key",
       Cfg("    meta_columns:\n      row_hsh: true\n"),
       {"meta_columns: unknown key 'row_hsh' (did you mean 'row_hash'?)"}},
      {"export_not_mapping",
       kSource + "exports:\n  - orders\n",
       {"rivet.yaml: exports[0]: must be a mapping with name:, query: and destination:"}},
      {"root_is_list", "- a\n- b\n", {"rivet.yaml: the top level must be a mapping"}},
      {"yaml_syntax",
       "source:\n  type: [postgres\nexports: x\n",
       {"rivet.yaml: invalid YAML at line", "column"}},
      {"empty_file", "", {"rivet.yaml: the file is empty"}},
      {"comment_only_file", "# nothing yet\n", {"rivet.yaml: the file is empty"}},
      {"null_value",
       Cfg("    format:\n"),
       {"exports[0] 'orders': format: has no value; write format: <value>"}},
      // Values quoted back in a message are shortened and stripped of secrets: the checks in
      // FailsWithAMessageNamingFileExportKeyAndFix make sure neither password appears.
      {"unclosed_quote_swallows_the_url",
       "source:\n  type: 'postgres\n  url: postgresql://app:" + std::string(kFilePassword) +
           "@db:5432/prod\n" + Cfg("", kLocal, ""),
       {"rivet.yaml: source.type: 'postgres url: *** exports: - name: or...' is not valid; use "
        "one of: postgres, mysql"}},
      {"unclosed_quote_swallows_a_password",
       "source:\n  type: \"mysql\n  host: h\n  user: u\n  password: " + std::string(kFilePassword) +
           "\n  database: d\n" + Cfg("", kLocal, ""),
       {"rivet.yaml: source.type: 'mysql host: h user: u password: *** d...' is not valid"}},
      {"value_holding_a_url_with_its_password",
       Cfg("    mode: postgresql://reader:" + std::string(kFilePassword) + "@db/prod\n"),
       {"exports[0] 'orders': mode: 'postgresql://reader:***@db/prod' is not valid"}},
      {"value_holding_a_key_value_password",
       Cfg("    max_file_size: host=db password=" + std::string(kFilePassword) + "\n"),
       {"max_file_size: 'host=db password=***' is not a size"}},
      {"value_holding_the_password_from_the_environment",
       Cfg("    compression: " + std::string(kEnvPassword) + "\n"),
       {"exports[0] 'orders': compression: '***' is not valid; use one of: zstd"}},
      {"value_holding_the_url_from_the_file",
       Cfg("    format: postgresql://app:" + std::string(kFilePassword) + "@db/prod\n", kLocal,
           "source:\n  type: postgres\n  url: postgresql://app:" + std::string(kFilePassword) +
               "@db/prod\n"),
       {"exports[0] 'orders': format: '***' is not valid"}},
      {"value_holding_the_password_from_the_file",
       Cfg("    destination:\n      type: s3\n      bucket: a/" + std::string(kFilePassword) + "\n",
           "",
           "source:\n  type: postgres\n  host: h\n  user: u\n  database: d\n  password: " +
               std::string(kFilePassword) + "\n"),
       {"destination.bucket: 'a/***' contains '/'"}},
      {"unknown_key_holding_the_password",
       Cfg("    tuning:\n      " + std::string(kEnvPassword) + ": 1\n"),
       {"exports[0] 'orders': tuning: unknown key '***'"}},
      {"tls_unknown_key",
       Cfg("", kLocal, TlsSource("    mode: require\n    ca_fle: x.pem\n")),
       {"rivet.yaml: source.tls: unknown key 'ca_fle' (did you mean 'ca_file'?)", "(line 6)"}},
      {"tls_key_named_like_the_url",
       Cfg("", kLocal, TlsSource("    sslrootcert: ca.pem\n")),
       {"source.tls: unknown key 'sslrootcert' (write ca_file: here)"}},
      {"tls_key_directly_under_source",
       Cfg("", kLocal, kSource + "  ca_file: ca.pem\n"),
       {"rivet.yaml: source: unknown key 'ca_file' (it belongs under source.tls:)"}},
      {"tls_mode_directly_under_source",
       Cfg("", kLocal, kSource + "  mode: verify-full\n"),
       {"source: unknown key 'mode' (the TLS mode belongs under source.tls:, an export's mode "
        "inside an item of exports:)"}},
      {"url_tls_parameter_directly_under_source",
       Cfg("", kLocal, kSource + "  sslmode: require\n"),
       {"source: unknown key 'sslmode' (TLS settings go under source.tls:)"}},
      {"tls_mode_typo",
       Cfg("", kLocal, TlsSource("    mode: verify_full\n")),
       {"source.tls.mode: 'verify_full' is not valid (did you mean 'verify-full'?); use one of: "
        "disable, prefer, require, verify-ca, verify-full"}},
      {"tls_not_a_mapping",
       Cfg("", kLocal, kSource + "  tls: require\n"),
       {"source.tls: must be a mapping of keys"}},
      {"tls_empty_path",
       Cfg("", kLocal, TlsSource("    mode: verify-full\n    ca_file: ''\n")),
       {"source.tls.ca_file: is empty; write ca_file: <value> or remove the line"}},
      {"tls_missing_file",
       Cfg("", kLocal, TlsSource("    mode: verify-full\n    ca_file: certs/missing-ca.pem\n")),
       {"source.tls.ca_file: file 'certs/missing-ca.pem' not found (looked for ",
        "/certs/missing-ca.pem); check the path (a relative path is relative to the config's "
        "folder)"}},
      {"tls_not_a_file",
       Cfg("", kLocal,
           TlsSource("    mode: verify-full\n    ca_file: " + std::string(RIVET_SOURCE_DIR) +
                     "\n")),
       {"source.tls.ca_file: '", "' is not a regular file; give a PEM file"}},
      {"tls_cert_without_key",
       Cfg("", kLocal, TlsSource("    mode: require\n    cert_file: " + kExistingFile + "\n")),
       {"source.tls.key_file: is missing while cert_file is set; a client certificate is a "
        "certificate and its key: set source.tls.key_file or the URL's sslkey too"}},
      {"tls_key_without_cert_mysql",
       Cfg("", kLocal,
           TlsSource("    mode: require\n    key_file: " + kExistingFile + "\n",
                     "source:\n  type: mysql\n  url_env: MYSQL_URL\n")),
       {"source.tls.cert_file: is missing while key_file is set", "the URL's ssl-cert too"}},
      {"tls_disable_with_a_ca",
       Cfg("", kLocal, TlsSource("    mode: disable\n    ca_file: " + kExistingFile + "\n")),
       {"source.tls.mode: is disable, which uses no certificate, yet source.tls.ca_file or the "
        "URL's sslrootcert is given; remove it"}},
      {"tls_prefer_with_a_ca",
       Cfg("", kLocal, TlsSource("    mode: prefer\n    ca_file: " + kExistingFile + "\n")),
       {"source.tls.ca_file: is given with mode prefer, which connects unencrypted when the "
        "certificate does not verify",
        "use mode verify-full (or verify-ca)"}},
      {"tls_verify_without_a_ca",
       Cfg("", kLocal, TlsSource("    mode: verify-full\n", kStructuredSource)),
       {"source.tls.ca_file: is missing: mode verify-full checks the server's certificate "
        "against a CA you name; set source.tls.ca_file or the URL's sslrootcert to the PEM file",
        "/etc/ssl/certs/ca-certificates.crt"}},
      {"tls_verify_ca_without_a_ca_mysql",
       Cfg("", kLocal,
           TlsSource("    mode: verify-ca\n",
                     "source:\n  type: mysql\n  host: db\n  user: u\n  database: d\n")),
       {"source.tls.ca_file: is missing: mode verify-ca",
        "source.tls.ca_file or the URL's ssl-ca"}},
      {"tls_files_without_a_mode",
       Cfg("", kLocal, TlsSource("    ca_file: " + kExistingFile + "\n", kStructuredSource)),
       {"source.tls.mode: is missing; with certificate files, say what to check: mode: "
        "verify-full"}},
      {"yaml_error_quoting_a_url",
       "%YAML postgresql://app:" + std::string(kFilePassword) + "@db/prod\n---\n" + Cfg(""),
       {"rivet.yaml: invalid YAML at line 1, column 1: bad YAML version: "
        "postgresql://app:***@db/prod"}},
  };
}

// gtest prints a failing case by its label rather than as raw bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.label; }

class BadConfig : public testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, FailsWithAMessageNamingFileExportKeyAndFix) {
  const BadCase& c = GetParam();
  Result<Loaded> r = Load(c.yaml, Options(c.params));
  ASSERT_FALSE(r.has_value()) << c.yaml;
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  for (const std::string& part : c.parts) {
    EXPECT_NE(r.error().message().find(part), std::string::npos)
        << "message: " << r.error().message() << "\nmissing: " << part;
  }
  EXPECT_EQ(r.error().message().find(kFilePassword), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find(kEnvPassword), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(Loader, BadConfig, testing::ValuesIn(BadCases()),
                         [](const testing::TestParamInfo<BadCase>& param_info) {
                           return param_info.param.label;
                         });

// Every message starts with the path it was given, exactly once: a caller that adds the path
// again (or a loader that adds it twice) would print "rivet.yaml: rivet.yaml: ...".
TEST(Loader, EveryBadConfigNamesTheGivenPathOnceAtTheStart) {
  const std::string path = "conf/prod.yaml";
  for (const BadCase& c : BadCases()) {
    Result<Loaded> r = LoadConfigText(c.yaml, path, Options(c.params));
    ASSERT_FALSE(r.has_value()) << c.label;
    const std::string& message = r.error().message();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << c.label << ": " << message;
    EXPECT_EQ(message.find(path, path.size()), std::string::npos) << c.label << ": " << message;
  }
}

TEST(Loader, QuotedValuesAreShortenedWithoutSplittingACharacter) {
  // 36 ASCII letters, then a two-byte character straddling the cut, then more.
  const std::string value = std::string(36, 'q') + "\xc3\xa9" + std::string(60, 'z');
  Result<Loaded> r = Load(Cfg("    format: " + value + "\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("format: '" + std::string(36, 'q') + "...' is not valid"),
            std::string::npos)
      << r.error().message();
  EXPECT_EQ(r.error().message().find("zzz"), std::string::npos) << r.error().message();
  // Short values are quoted whole.
  r = Load(Cfg("    format: " + std::string(40, 'q') + "\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("'" + std::string(40, 'q') + "'"), std::string::npos)
      << r.error().message();
}

// ---------------------------------------------------------------------------------------------
// Good configs.

TEST(Loader, MinimalConfigGetsTheDefaults) {
  Result<Loaded> r = Load(Cfg(""));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const Config& c = r->config;
  EXPECT_EQ(c.path, "rivet.yaml");
  EXPECT_EQ(c.directory, fs::current_path().string());
  EXPECT_EQ(c.source.type, SourceType::kPostgres);
  ASSERT_TRUE(c.source.url.has_value());
  EXPECT_EQ(c.source.url->reveal(), DefaultEnv()["DB_URL"]);
  EXPECT_EQ(c.source.effective_port(), 5432);
  EXPECT_FALSE(c.parallel_exports);
  EXPECT_FALSE(c.parallel_export_processes);
  EXPECT_FALSE(c.slack.has_value());
  ASSERT_EQ(c.exports.size(), 1u);
  const ExportConfig& e = c.exports[0];
  EXPECT_EQ(e.name, "orders");
  EXPECT_EQ(e.query, "SELECT 1");
  EXPECT_EQ(e.mode, Mode::kFull);
  EXPECT_EQ(e.format, Format::kParquet);
  EXPECT_EQ(e.compression, Compression::kZstd);
  EXPECT_FALSE(e.compression_level.has_value());
  EXPECT_FALSE(e.skip_empty);
  EXPECT_FALSE(e.max_file_size.has_value());
  EXPECT_FALSE(e.meta_columns.exported_at);
  EXPECT_FALSE(e.meta_columns.row_hash);
  EXPECT_FALSE(e.quality.configured());
  EXPECT_EQ(e.tuning.profile, Profile::kBalanced);
  EXPECT_TRUE(e.tuning.profile_is_default);
  EXPECT_EQ(e.tuning.batch_size, 10000);
  EXPECT_EQ(e.tuning.throttle_ms, 50);
  EXPECT_EQ(e.tuning.statement_timeout_s, 300);
  EXPECT_EQ(e.tuning.lock_timeout_s, 30);
  EXPECT_EQ(e.tuning.max_retries, 3);
  EXPECT_EQ(e.tuning.retry_backoff_ms, 2000);
  EXPECT_EQ(e.destination.type, DestinationType::kLocal);
  EXPECT_EQ(e.destination.path, "./out");
  EXPECT_TRUE(r->warnings.empty());
}

TEST(Loader, EveryKeyLandsInItsField) {
  const std::string yaml = R"(
source:
  type: mysql
  host: db.example.com
  port: 3307
  user: readonly
  password_env: DB_PASSWORD
  database: production
  tuning:
    profile: safe
    batch_size: 5000
    throttle_ms: 10
    statement_timeout_s: 60
    lock_timeout_s: 5
    max_retries: 4
    retry_backoff_ms: 100
parallel_exports: true
parallel_export_processes: false
notifications:
  slack:
    webhook_url_env: SLACK_URL
    on: [failure, schema_change, degraded]
exports:
  - name: orders_inc
    query: "SELECT id, amount FROM orders WHERE country = '${COUNTRY}'"
    mode: incremental
    cursor_column: id
    format: parquet
    compression: gzip
    compression_level: 0
    skip_empty: true
    max_file_size: 512MB
    meta_columns:
      exported_at: true
      row_hash: false
    quality:
      row_count_min: 100
      row_count_max: 10000000
      null_ratio_max: {email: 0.05, id: 0}
      unique_columns: [id, email]
    tuning:
      profile: fast
      statement_timeout_s: 0
    destination:
      type: local
      path: ./output
  - name: events-chunked
    query: SELECT * FROM events
    mode: chunked
    chunk_column: id
    chunk_size: 50000
    parallel: 2
    chunk_checkpoint: true
    chunk_max_attempts: 5
    format: csv
    destination:
      type: stdout
  - name: recent
    query: SELECT * FROM events
    mode: time_window
    time_column: created_at
    time_column_type: unix
    days_window: 7
    compression: zstd
    compression_level: 22
    max_file_size: 1073741824
    destination:
      type: s3
      bucket: my-lake
      prefix: raw/events
      region: us-east-1
      endpoint: http://localhost:9000
      access_key_env: AWS_KEY
      secret_key_env: AWS_SECRET
  - name: gcs_copy
    query: SELECT 1
    compression: lz4
    destination:
      type: gcs
      bucket: my-gcs
      prefix: /raw/
      endpoint: https://gcs.local
      credentials_file: /path/sa.json
      allow_anonymous: false
  - name: anon
    query: SELECT 1
    compression: none
    destination:
      type: gcs
      bucket: emu
      allow_anonymous: true
)";
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const Config& c = r->config;
  EXPECT_TRUE(r->warnings.empty());

  EXPECT_EQ(c.source.type, SourceType::kMysql);
  EXPECT_FALSE(c.source.url.has_value());
  EXPECT_EQ(c.source.host, "db.example.com");
  EXPECT_EQ(c.source.port, 3307);
  EXPECT_EQ(c.source.user, "readonly");
  ASSERT_TRUE(c.source.password.has_value());
  EXPECT_EQ(c.source.password->reveal(), kEnvPassword);
  EXPECT_EQ(c.source.database, "production");
  EXPECT_EQ(c.source.tuning.profile, Profile::kSafe);
  EXPECT_EQ(c.source.tuning.batch_size, 5000);
  EXPECT_FALSE(c.source.tuning.batch_size_memory_mb.has_value());
  EXPECT_EQ(c.source.tuning.throttle_ms, 10);
  EXPECT_EQ(c.source.tuning.statement_timeout_s, 60);
  EXPECT_EQ(c.source.tuning.lock_timeout_s, 5);
  EXPECT_EQ(c.source.tuning.max_retries, 4);
  EXPECT_EQ(c.source.tuning.retry_backoff_ms, 100);
  EXPECT_TRUE(c.parallel_exports);
  EXPECT_FALSE(c.parallel_export_processes);
  ASSERT_TRUE(c.slack.has_value());
  EXPECT_EQ(c.slack->webhook_url->reveal(), DefaultEnv()["SLACK_URL"]);
  EXPECT_EQ(c.slack->on, (std::vector<std::string>{"failure", "schema_change", "degraded"}));

  ASSERT_EQ(c.exports.size(), 5u);
  const ExportConfig& inc = c.exports[0];
  EXPECT_EQ(inc.name, "orders_inc");
  EXPECT_EQ(inc.query, "SELECT id, amount FROM orders WHERE country = 'DE'");
  EXPECT_EQ(inc.mode, Mode::kIncremental);
  EXPECT_EQ(inc.cursor_column, "id");
  EXPECT_EQ(inc.format, Format::kParquet);
  EXPECT_EQ(inc.compression, Compression::kGzip);
  EXPECT_EQ(inc.compression_level, 0);
  EXPECT_TRUE(inc.skip_empty);
  EXPECT_EQ(inc.max_file_size, 512ULL << 20);
  EXPECT_TRUE(inc.meta_columns.exported_at);
  EXPECT_FALSE(inc.meta_columns.row_hash);
  EXPECT_EQ(inc.quality.row_count_min, 100);
  EXPECT_EQ(inc.quality.row_count_max, 10000000);
  EXPECT_EQ(inc.quality.null_ratio_max,
            (std::map<std::string, double>{{"email", 0.05}, {"id", 0.0}}));
  EXPECT_EQ(inc.quality.unique_columns, (std::vector<std::string>{"id", "email"}));
  EXPECT_EQ(inc.tuning_overrides.profile, Profile::kFast);
  EXPECT_EQ(inc.tuning_overrides.statement_timeout_s, 0);
  EXPECT_FALSE(inc.tuning_overrides.batch_size.has_value());
  // fast profile, then the source's explicit fields, then the export's.
  EXPECT_EQ(inc.tuning.profile, Profile::kFast);
  EXPECT_FALSE(inc.tuning.profile_is_default);
  EXPECT_EQ(inc.tuning.batch_size, 5000);
  EXPECT_EQ(inc.tuning.throttle_ms, 10);
  EXPECT_EQ(inc.tuning.statement_timeout_s, 0);
  EXPECT_EQ(inc.tuning.lock_timeout_s, 5);
  EXPECT_EQ(inc.tuning.max_retries, 4);
  EXPECT_EQ(inc.tuning.retry_backoff_ms, 100);
  EXPECT_EQ(inc.destination.type, DestinationType::kLocal);
  EXPECT_EQ(inc.destination.path, "./output");

  const ExportConfig& ch = c.exports[1];
  EXPECT_EQ(ch.name, "events-chunked");
  EXPECT_EQ(ch.mode, Mode::kChunked);
  EXPECT_EQ(ch.chunk_column, "id");
  EXPECT_EQ(ch.chunk_size, 50000);
  EXPECT_EQ(ch.parallel, 2);
  EXPECT_TRUE(ch.chunk_checkpoint);
  EXPECT_EQ(ch.chunk_max_attempts, 5);
  EXPECT_EQ(ch.format, Format::kCsv);
  EXPECT_EQ(ch.compression, Compression::kNone);
  EXPECT_EQ(ch.destination.type, DestinationType::kStdout);
  EXPECT_EQ(ch.tuning.profile, Profile::kSafe);

  const ExportConfig& tw = c.exports[2];
  EXPECT_EQ(tw.mode, Mode::kTimeWindow);
  EXPECT_EQ(tw.time_column, "created_at");
  EXPECT_EQ(tw.time_column_type, TimeColumnType::kUnix);
  EXPECT_EQ(tw.days_window, 7);
  EXPECT_EQ(tw.compression, Compression::kZstd);
  EXPECT_EQ(tw.compression_level, 22);
  EXPECT_EQ(tw.max_file_size, 1073741824ULL);
  EXPECT_EQ(tw.destination.type, DestinationType::kS3);
  EXPECT_EQ(tw.destination.bucket, "my-lake");
  EXPECT_EQ(tw.destination.prefix, "raw/events/");
  EXPECT_EQ(tw.destination.region, "us-east-1");
  EXPECT_EQ(tw.destination.endpoint, "http://localhost:9000");
  EXPECT_EQ(tw.destination.access_key->reveal(), "AKIAEXAMPLE");
  EXPECT_EQ(tw.destination.secret_key->reveal(), kEnvPassword);

  const ExportConfig& g = c.exports[3];
  EXPECT_EQ(g.compression, Compression::kLz4);
  EXPECT_EQ(g.destination.type, DestinationType::kGcs);
  EXPECT_EQ(g.destination.bucket, "my-gcs");
  EXPECT_EQ(g.destination.prefix, "raw/");
  EXPECT_EQ(g.destination.endpoint, "https://gcs.local");
  EXPECT_EQ(g.destination.credentials_file, "/path/sa.json");
  EXPECT_FALSE(g.destination.allow_anonymous);
  EXPECT_FALSE(g.destination.access_key.has_value());

  EXPECT_EQ(c.exports[4].compression, Compression::kNone);
  EXPECT_TRUE(c.exports[4].destination.allow_anonymous);
  EXPECT_EQ(c.exports[4].destination.prefix, "");
}

TEST(Loader, ProfileMergeIsFieldByFieldSourceThenExport) {
  const std::string yaml = kSource + R"(  tuning:
    profile: safe
    batch_size: 1000
exports:
  - name: inherits
    query: SELECT 1
    destination: {type: stdout}
  - name: switches_profile
    query: SELECT 1
    tuning:
      profile: fast
    destination: {type: stdout}
  - name: one_field
    query: SELECT 1
    tuning:
      throttle_ms: 7
      max_retries: 0
    destination: {type: stdout}
  - name: memory
    query: SELECT 1
    tuning:
      batch_size: 20
      lock_timeout_s: 0
      retry_backoff_ms: 1
    destination: {type: stdout}
)";
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const auto& ex = r->config.exports;
  ASSERT_EQ(ex.size(), 4u);

  // safe profile with the source's batch_size.
  const Tuning& a = ex[0].tuning;
  EXPECT_EQ(a.profile, Profile::kSafe);
  EXPECT_FALSE(a.profile_is_default);
  EXPECT_EQ(a.batch_size, 1000);
  EXPECT_EQ(a.throttle_ms, 500);
  EXPECT_EQ(a.statement_timeout_s, 120);
  EXPECT_EQ(a.lock_timeout_s, 10);
  EXPECT_EQ(a.max_retries, 5);
  EXPECT_EQ(a.retry_backoff_ms, 5000);

  // fast profile from the export; the source's explicit batch_size still applies.
  const Tuning& b = ex[1].tuning;
  EXPECT_EQ(b.profile, Profile::kFast);
  EXPECT_EQ(b.batch_size, 1000);
  EXPECT_EQ(b.throttle_ms, 0);
  EXPECT_EQ(b.statement_timeout_s, 0);
  EXPECT_EQ(b.lock_timeout_s, 0);
  EXPECT_EQ(b.max_retries, 1);
  EXPECT_EQ(b.retry_backoff_ms, 1000);

  // safe from the source, two fields from the export.
  const Tuning& c = ex[2].tuning;
  EXPECT_EQ(c.profile, Profile::kSafe);
  EXPECT_EQ(c.batch_size, 1000);
  EXPECT_EQ(c.throttle_ms, 7);
  EXPECT_EQ(c.statement_timeout_s, 120);
  EXPECT_EQ(c.lock_timeout_s, 10);
  EXPECT_EQ(c.max_retries, 0);
  EXPECT_EQ(c.retry_backoff_ms, 5000);

  // export fields win over the source's.
  const Tuning& d = ex[3].tuning;
  EXPECT_EQ(d.batch_size, 20);
  EXPECT_EQ(d.lock_timeout_s, 0);
  EXPECT_EQ(d.retry_backoff_ms, 1);
  EXPECT_EQ(d.throttle_ms, 500);
  EXPECT_EQ(ex[3].tuning_overrides.batch_size, 20);
  EXPECT_FALSE(ex[3].tuning_overrides.throttle_ms.has_value());
}

// A pace and a fixed pause: the more specific block wins; a pace leaves no fixed pause.
TEST(Loader, MaxSourceShareReplacesThrottleAndTheExportsChoiceWins) {
  const std::string yaml = R"(
source:
  type: postgres
  url_env: DB_URL
  tuning:
    profile: safe
    max_source_share: 0.25
exports:
  - name: paced
    query: SELECT 1
    destination: {type: stdout}
  - name: fixed
    query: SELECT 1
    tuning:
      throttle_ms: 7
    destination: {type: stdout}
  - name: own_pace
    query: SELECT 1
    tuning:
      max_source_share: 0.5
    destination: {type: stdout}
)";
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const auto& ex = r->config.exports;
  EXPECT_EQ(ex[0].tuning.max_source_share, 0.25);
  EXPECT_EQ(ex[0].tuning.throttle_ms, 0);
  EXPECT_EQ(ex[0].tuning.batch_size, 2000);  // the rest of the safe profile stays
  EXPECT_FALSE(ex[1].tuning.max_source_share.has_value());
  EXPECT_EQ(ex[1].tuning.throttle_ms, 7);
  EXPECT_EQ(ex[2].tuning.max_source_share, 0.5);
  EXPECT_EQ(ex[2].tuning.throttle_ms, 0);
}

TEST(Loader, MemoryBatchSizingAloneIsAccepted) {
  Result<Loaded> r = Load(Cfg("", kLocal, kSource + "  tuning:\n    batch_size_memory_mb: 256\n"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].tuning.batch_size_memory_mb, 256);
}

TEST(Loader, ParamWinsOverEnvironment) {
  const std::string yaml =
      kSource + "exports:\n  - name: a\n    query: SELECT '${COUNTRY}', ${LIMIT_N}\n" + kLocal;
  Env env = DefaultEnv();
  env["LIMIT_N"] = "10";
  Result<Loaded> r = Load(yaml, Options({{"COUNTRY", "US"}}, env));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].query, "SELECT 'US', 10");
  EXPECT_TRUE(r->warnings.empty());

  Result<Loaded> from_env = Load(yaml, Options({}, env));
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message();
  EXPECT_EQ(from_env->config.exports[0].query, "SELECT 'DE', 10");
}

TEST(Loader, UnusedParamIsAWarning) {
  Result<Loaded> r = Load(Cfg(""), Options({{"MAX_AGE", "30"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("--param MAX_AGE is not used by any query"), std::string::npos)
      << r->warnings[0];
}

TEST(Loader, OnlyNamedPlaceholdersAreReplaced) {
  const std::string yaml = kSource +
                           "exports:\n  - name: a\n    query: \"SELECT '${1x}', '$COUNTRY', "
                           "'${ COUNTRY}', '${COUNTRY', '${COUNTRY}${COUNTRY}'\"\n" +
                           kLocal;
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].query,
            "SELECT '${1x}', '$COUNTRY', '${ COUNTRY}', '${COUNTRY', 'DEDE'");
}

TEST(Loader, SubstitutedValuesAreNotSubstitutedAgain) {
  const std::string yaml = kSource + "exports:\n  - name: a\n    query: SELECT '${P}'\n" + kLocal;
  Result<Loaded> r = Load(yaml, Options({{"P", "${COUNTRY}"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].query, "SELECT '${COUNTRY}'");
}

TEST(Loader, QueryIsTrimmedOfBlanksAndTrailingSemicolons) {
  const std::string yaml =
      kSource + "exports:\n  - name: a\n    query: |\n      SELECT 1\n      FROM t;\n" + kLocal;
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].query, "SELECT 1\nFROM t");
}

// A fresh folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rivet_config_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const std::string& relative, const std::string& content) const {
    fs::path p = path_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }

 private:
  fs::path path_;
};

TEST(Loader, QueryFileIsReadRelativeToTheConfigWithParams) {
  TempDir dir;
  dir.Write("sql/filtered.sql",
            "SELECT id FROM users\nWHERE country = '${COUNTRY}'\n  AND id > "
            "${MIN_ID};\n");
  dir.Write("rivet.yaml",
            kSource + "exports:\n  - name: filtered\n    query_file: sql/filtered.sql\n" + kLocal);
  std::string path = (dir.path() / "rivet.yaml").string();
  Result<Loaded> r = LoadConfigFile(path, Options({{"MIN_ID", "42"}}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.exports[0].query,
            "SELECT id FROM users\nWHERE country = 'DE'\n  AND id > 42");
  EXPECT_EQ(r->config.path, path);
  EXPECT_EQ(r->config.directory, dir.path().string());
  EXPECT_TRUE(r->warnings.empty());
}

TEST(Loader, QueryFileErrorsNameThePath) {
  TempDir dir;
  dir.Write("outside.sql", "SELECT 1");
  dir.Write("conf/rivet.yaml",
            kSource + "exports:\n  - name: q\n    query_file: ../outside.sql\n" + kLocal);
  Result<Loaded> r = LoadConfigFile((dir.path() / "conf/rivet.yaml").string(), Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find("exports[0] 'q': query_file: '../outside.sql' contains '..'"),
            std::string::npos)
      << r.error().message();

  dir.Write("conf/rivet.yaml",
            kSource + "exports:\n  - name: q\n    query_file: sql/missing.sql\n" + kLocal);
  r = LoadConfigFile((dir.path() / "conf/rivet.yaml").string(), Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("file 'sql/missing.sql' not found (looked for " +
                                     (dir.path() / "conf/sql/missing.sql").string() + ")"),
            std::string::npos)
      << r.error().message();

  dir.Write("conf/empty.sql", "  ;\n");
  dir.Write("conf/rivet.yaml",
            kSource + "exports:\n  - name: q\n    query_file: empty.sql\n" + kLocal);
  r = LoadConfigFile((dir.path() / "conf/rivet.yaml").string(), Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("query_file: 'empty.sql' is empty"), std::string::npos)
      << r.error().message();

  dir.Write("conf/p.sql", "SELECT ${NOT_SET_ANYWHERE}");
  dir.Write("conf/rivet.yaml", kSource + "exports:\n  - name: q\n    query_file: p.sql\n" + kLocal);
  r = LoadConfigFile((dir.path() / "conf/rivet.yaml").string(), Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("exports[0] 'q': query_file: ${NOT_SET_ANYWHERE} in "
                                     "'p.sql' has no value; pass --param NOT_SET_ANYWHERE="),
            std::string::npos)
      << r.error().message();
}

TEST(Loader, MissingConfigFileIsAConfigError) {
  Result<Loaded> r = LoadConfigFile("/nonexistent/dir/rivet.yaml", Options());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find("/nonexistent/dir/rivet.yaml: config file not found"),
            std::string::npos)
      << r.error().message();
}

TEST(Loader, YamlSyntaxErrorNamesLineAndColumn) {
  // "mode" is indented one column less than its siblings.
  Result<Loaded> r =
      Load(kSource + "exports:\n  - name: a\n    query: SELECT 1\n   mode: full\n" + kLocal);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find("rivet.yaml: invalid YAML at line 7, column 4: "),
            std::string::npos)
      << r.error().message();
}

TEST(Loader, PasswordInFileWarnsOnceWithoutTheValue) {
  const std::string source =
      "source:\n  type: postgres\n  host: h\n  user: u\n  database: d\n"
      "  password: " +
      std::string(kFilePassword) + "\n";
  Result<Loaded> r = Load(Cfg("", kLocal, source));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.source.password->reveal(), kFilePassword);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("rivet.yaml: source.password: a password is written in the "
                                "config file"),
            std::string::npos)
      << r->warnings[0];
  EXPECT_EQ(r->warnings[0].find(kFilePassword), std::string::npos);
}

TEST(Loader, SecretsInTheUrlNeverReachMessages) {
  const std::string source =
      "source:\n  type: postgres\n  url: \"postgresql://app:" + std::string(kFilePassword) +
      "@db:5432/prod\"\n";
  // A good config warns (once) about the password in the URL, without printing it.
  Result<Loaded> good = Load(Cfg("", kLocal, source));
  ASSERT_TRUE(good.has_value()) << good.error().message();
  EXPECT_EQ(good->config.source.url->reveal(),
            "postgresql://app:" + std::string(kFilePassword) + "@db:5432/prod");
  ASSERT_EQ(good->warnings.size(), 1u);
  EXPECT_NE(good->warnings[0].find("source.url: a password is written"), std::string::npos);
  EXPECT_EQ(good->warnings[0].find(kFilePassword), std::string::npos);

  // Every bad export below the same source fails without the password in the message.
  for (const BadCase& c : BadCases()) {
    const std::string marker = "source:\n  type: postgres\n  url_env: DB_URL\n";
    if (c.yaml.rfind(marker, 0) != 0) continue;
    std::string yaml = source + c.yaml.substr(marker.size());
    Result<Loaded> r = Load(yaml, Options(c.params));
    if (r.has_value()) {
      for (const auto& w : r->warnings) EXPECT_EQ(w.find(kFilePassword), std::string::npos);
      continue;
    }
    EXPECT_EQ(r.error().message().find(kFilePassword), std::string::npos)
        << c.label << ": " << r.error().message();
    EXPECT_EQ(r.error().message().find("app:"), std::string::npos) << r.error().message();
  }
}

TEST(Loader, UrlWithoutPasswordDoesNotWarn) {
  Result<Loaded> r = Load(Cfg("", kLocal, "source:\n  type: mysql\n  url: mysql://app@db/x\n"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.source.type, SourceType::kMysql);
  EXPECT_TRUE(r->warnings.empty());
}

TEST(Loader, PostgresAcceptsBothSchemes) {
  for (const char* url : {"postgresql://h/d", "postgres://h/d"}) {
    Result<Loaded> r =
        Load(Cfg("", kLocal, std::string("source:\n  type: postgres\n  url: ") + url + "\n"));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->config.source.url->reveal(), url);
  }
}

TEST(Loader, SlackDefaultsToFailureAndWarnsAboutAnInlineUrl) {
  const std::string yaml = kSource +
                           "notifications:\n  slack:\n    webhook_url: "
                           "https://hooks.example/abc\n" +
                           Cfg("", kLocal, "");
  Result<Loaded> r = Load(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_TRUE(r->config.slack.has_value());
  EXPECT_EQ(r->config.slack->on, std::vector<std::string>{"failure"});
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0].find("hooks.example"), std::string::npos);
}

TEST(Loader, ByteSizesUseTheCommonParser) {
  for (auto [text, bytes] : std::vector<std::pair<std::string, uint64_t>>{
           {"100KB", 100ULL << 10}, {"1GB", 1ULL << 30}, {"2048", 2048}}) {
    Result<Loaded> r = Load(Cfg("    max_file_size: " + text + "\n"));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->config.exports[0].max_file_size, bytes) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// Destination size limits.

TEST(LoaderLimits, S3RefusesSplitFilesAboveFourGigabytes) {
  const std::string s3 = "    destination:\n      type: s3\n      bucket: b\n";
  EXPECT_TRUE(Load(kSource + Cfg("", s3, "")).has_value());
  Result<Loaded> big = Load(kSource + Cfg("    max_file_size: 5GB\n", s3, ""));
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().message().find("max_file_size"), std::string::npos);
  EXPECT_NE(big.error().message().find("4GB or less"), std::string::npos);
  EXPECT_TRUE(Load(kSource + Cfg("    max_file_size: 4GB\n", s3, "")).has_value());
}

TEST(LoaderLimits, GcsHasNoSizeCap) {
  const std::string gcs = "    destination:\n      type: gcs\n      bucket: b\n";
  Result<Loaded> r = Load(kSource + Cfg("    max_file_size: 50GB\n", gcs, ""));
  ASSERT_TRUE(r.has_value()) << r.error().message();
}

}  // namespace
}  // namespace rivet::config

namespace rivet::config {
namespace {

// ---------------------------------------------------------------------------------------------
// source.tls

TEST(LoaderTls, NoBlockKeepsTheLibraryDefault) {
  Result<Loaded> r = Load(Cfg(""));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->config.source.tls.configured());
  EXPECT_FALSE(r->config.source.tls.mode.has_value());
}

TEST(LoaderTls, PathsAreResolvedAgainstTheConfigsFolderAndAbsolutePathsKept) {
  TempDir dir;
  dir.Write("conf/certs/ca.pem", "CA");
  dir.Write("conf/certs/client.pem", "CERT");
  dir.Write("conf/client.key", "KEY");
  dir.Write("conf/rivet.yaml",
            Cfg("", kLocal,
                TlsSource("    mode: verify-full\n    ca_file: certs/ca.pem\n"
                          "    cert_file: ./certs/../certs/client.pem\n    key_file: " +
                              (dir.path() / "conf/client.key").string() + "\n",
                          kStructuredSource)));
  Result<Loaded> r = LoadConfigFile((dir.path() / "conf/rivet.yaml").string(), Options());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const TlsConfig& tls = r->config.source.tls;
  EXPECT_EQ(tls.mode, TlsMode::kVerifyFull);
  EXPECT_EQ(tls.ca_file, (dir.path() / "conf/certs/ca.pem").string());
  EXPECT_EQ(tls.cert_file, (dir.path() / "conf/certs/client.pem").string());
  EXPECT_EQ(tls.key_file, (dir.path() / "conf/client.key").string());
}

TEST(LoaderTls, EveryModeIsAccepted) {
  const std::pair<std::string, TlsMode> modes[] = {{"disable", TlsMode::kDisable},
                                                   {"prefer", TlsMode::kPrefer},
                                                   {"require", TlsMode::kRequire},
                                                   {"verify-ca", TlsMode::kVerifyCa},
                                                   {"verify-full", TlsMode::kVerifyFull}};
  for (const auto& [text, mode] : modes) {
    std::string ca = mode >= TlsMode::kRequire ? "    ca_file: " + kExistingFile + "\n" : "";
    Result<Loaded> r = Load(Cfg("", kLocal, TlsSource("    mode: " + text + "\n" + ca)));
    ASSERT_TRUE(r.has_value()) << text << ": " << r.error().message();
    EXPECT_EQ(r->config.source.tls.mode, mode) << text;
    EXPECT_EQ(ToString(mode), text);
    EXPECT_EQ(ParseTlsMode(text), mode);
  }
}

// With a URL, the URL may still give the CA or the mode (the source combines them).
TEST(LoaderTls, AUrlSourceMayLeaveTheCaOrTheModeToTheUrl) {
  Result<Loaded> r = Load(Cfg("", kLocal, TlsSource("    mode: verify-full\n")));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.source.tls.mode, TlsMode::kVerifyFull);
  r = Load(Cfg("", kLocal, TlsSource("    ca_file: " + kExistingFile + "\n")));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->config.source.tls.mode.has_value());
}

TEST(LoaderTls, StateCommandsLoadWithoutTheFiles) {
  LoadOptions o = Options();
  o.require_secrets = false;
  Result<Loaded> r =
      Load(Cfg("", kLocal, TlsSource("    mode: verify-full\n    ca_file: /nowhere/ca.pem\n")), o);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->config.source.tls.ca_file, "/nowhere/ca.pem");
}

// CombineTls: the block with the URL's own parameters (tls.h).

UrlTls PgUrl(std::optional<std::string> mode, std::optional<std::string> ca = std::nullopt) {
  UrlTls url = PostgresUrlTlsNames();
  url.mode.value = mode;
  if (mode) url.parsed_mode = ParseTlsMode(*mode);
  url.ca_file.value = std::move(ca);
  return url;
}

TlsConfig Block(std::optional<TlsMode> mode, std::string ca = "") {
  TlsConfig tls;
  tls.mode = mode;
  tls.ca_file = std::move(ca);
  return tls;
}

TEST(CombineTls, NeitherSaysAnythingLeavesTheLibraryDefault) {
  Result<TlsConfig> tls = CombineTls(TlsConfig{}, PostgresUrlTlsNames());
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_FALSE(tls->configured());
}

TEST(CombineTls, EachSettingMayComeFromEitherPlace) {
  Result<TlsConfig> tls = CombineTls(Block(std::nullopt, kExistingFile), PgUrl("verify-full"));
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_EQ(tls->mode, TlsMode::kVerifyFull);
  EXPECT_EQ(tls->ca_file, kExistingFile);

  tls = CombineTls(Block(TlsMode::kVerifyCa), PgUrl(std::nullopt, "root.crt"));
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_EQ(tls->mode, TlsMode::kVerifyCa);
  EXPECT_EQ(tls->ca_file, "root.crt");  // as written: libpq resolves it

  UrlTls url = MysqlUrlTlsNames();
  url.mode.value = "VERIFY_IDENTITY";
  url.parsed_mode = TlsMode::kVerifyFull;
  url.ca_file.value = "ca.pem";
  url.cert_file.value = "client.pem";
  url.key_file.value = "client.key";
  tls = CombineTls(TlsConfig{}, url);
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_EQ(tls->mode, TlsMode::kVerifyFull);
  EXPECT_EQ(tls->cert_file, "client.pem");
  EXPECT_EQ(tls->key_file, "client.key");
}

TEST(CombineTls, TheSameSettingTwiceMustAgree) {
  Result<TlsConfig> tls = CombineTls(Block(TlsMode::kVerifyFull, kExistingFile), PgUrl("require"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_EQ(tls.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(tls.error().message(),
            "source.tls.mode: is verify-full but the URL sets sslmode=require; give each TLS "
            "setting in one place (remove it from the URL or from source.tls), or make both "
            "agree");

  tls = CombineTls(Block(TlsMode::kVerifyFull, kExistingFile),
                   PgUrl("verify-full", "/elsewhere/ca.pem"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_NE(tls.error().message().find("source.tls.ca_file: is '" + kExistingFile +
                                       "' but the URL sets sslrootcert='/elsewhere/ca.pem', "
                                       "another file"),
            std::string::npos)
      << tls.error().message();

  // Agreeing values are fine, also a relative path naming the same file.
  const std::string relative =
      std::filesystem::relative(kExistingFile, std::filesystem::current_path()).string();
  tls = CombineTls(Block(TlsMode::kVerifyFull, kExistingFile), PgUrl("verify-full", relative));
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_EQ(tls->ca_file, kExistingFile);
}

// libpq's sslmode=allow has no Rivet name: alone it stays libpq's; beside a mode it conflicts.
TEST(CombineTls, AUrlModeWithoutARivetNameStaysTheLibrarys) {
  Result<TlsConfig> tls = CombineTls(TlsConfig{}, PgUrl("allow"));
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
  EXPECT_FALSE(tls->mode.has_value());
  tls = CombineTls(Block(TlsMode::kRequire), PgUrl("allow"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_NE(tls.error().message().find("is require but the URL sets sslmode=allow"),
            std::string::npos)
      << tls.error().message();
}

TEST(CombineTls, TheRulesHoldWhereverEachPartCameFrom) {
  // A verify mode from the URL with no CA anywhere.
  Result<TlsConfig> tls = CombineTls(TlsConfig{}, PgUrl("verify-full"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_NE(tls.error().message().find("source.tls.ca_file: is missing: mode verify-full"),
            std::string::npos)
      << tls.error().message();
  // disable from the URL, a CA from the block.
  tls = CombineTls(Block(std::nullopt, kExistingFile), PgUrl("disable"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_NE(tls.error().message().find("source.tls.mode: is disable"), std::string::npos)
      << tls.error().message();
  // A CA from the URL without any mode.
  tls = CombineTls(TlsConfig{}, PgUrl(std::nullopt, "root.crt"));
  ASSERT_FALSE(tls.has_value());
  EXPECT_NE(tls.error().message().find("source.tls.mode: is missing"), std::string::npos)
      << tls.error().message();
  // require with a CA is allowed (both libraries then verify the chain).
  tls = CombineTls(Block(TlsMode::kRequire), PgUrl(std::nullopt, "root.crt"));
  ASSERT_TRUE(tls.has_value()) << tls.error().message();
}

TEST(TlsFailure, CodesAndHintsNameEachEnginesParameters) {
  EXPECT_EQ(TlsFailureCode(TlsFailure::kLocalFile), ErrorCode::kConfig);
  for (TlsFailure f : {TlsFailure::kUntrustedCertificate, TlsFailure::kHostMismatch,
                       TlsFailure::kNoServerTls, TlsFailure::kClientCertificate}) {
    EXPECT_EQ(TlsFailureCode(f), ErrorCode::kAuth);
    EXPECT_EQ(TlsFailureHint(f, PostgresUrlTlsNames()).rfind("TLS: ", 0), 0u);
  }
  EXPECT_EQ(TlsFailureHint(TlsFailure::kNone, PostgresUrlTlsNames()), "");
  EXPECT_NE(TlsFailureHint(TlsFailure::kUntrustedCertificate, PostgresUrlTlsNames())
                .find("source.tls.ca_file or the URL's sslrootcert"),
            std::string::npos);
  EXPECT_NE(TlsFailureHint(TlsFailure::kUntrustedCertificate, MysqlUrlTlsNames())
                .find("source.tls.ca_file or the URL's ssl-ca"),
            std::string::npos);
  EXPECT_NE(TlsFailureHint(TlsFailure::kClientCertificate, MysqlUrlTlsNames())
                .find("source.tls.cert_file or the URL's ssl-cert and source.tls.key_file or the "
                      "URL's ssl-key"),
            std::string::npos);
}

TEST(Loader, StateCommandsLoadWithoutTheSecretsExported) {
  LoadOptions o;
  o.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  o.require_secrets = false;
  const char* yaml =
      "source:\n  type: postgres\n  url_env: NOT_EXPORTED\n"
      "notifications:\n  slack:\n    webhook_url_env: HOOK_NOT_EXPORTED\n"
      "exports:\n  - name: a\n    query: SELECT 1\n    destination:\n      type: stdout\n";
  auto loaded = LoadConfigText(yaml, "rivet.yaml", o);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_TRUE(loaded->config.source.url.has_value());
  EXPECT_TRUE(loaded->config.source.url->empty());
  o.require_secrets = true;
  auto strict = LoadConfigText(yaml, "rivet.yaml", o);
  ASSERT_FALSE(strict.has_value());
  EXPECT_NE(strict.error().message().find("'NOT_EXPORTED' is not set"), std::string::npos);
}

}  // namespace
}  // namespace rivet::config
