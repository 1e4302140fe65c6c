#include "rivet/config/config.h"

namespace rivet::config {

std::string_view ToString(SourceType v) {
  return v == SourceType::kPostgres ? "postgres" : "mysql";
}

std::string_view ToString(Profile v) {
  switch (v) {
    case Profile::kFast:
      return "fast";
    case Profile::kBalanced:
      return "balanced";
    case Profile::kSafe:
      return "safe";
  }
  return "balanced";
}

std::string_view ToString(Mode v) {
  switch (v) {
    case Mode::kFull:
      return "full";
    case Mode::kIncremental:
      return "incremental";
    case Mode::kChunked:
      return "chunked";
    case Mode::kTimeWindow:
      return "time_window";
  }
  return "full";
}

std::string_view ToString(Format v) { return v == Format::kParquet ? "parquet" : "csv"; }

std::string_view ToString(Compression v) {
  switch (v) {
    case Compression::kZstd:
      return "zstd";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kGzip:
      return "gzip";
    case Compression::kLz4:
      return "lz4";
    case Compression::kNone:
      return "none";
  }
  return "zstd";
}

std::string_view ToString(DestinationType v) {
  switch (v) {
    case DestinationType::kLocal:
      return "local";
    case DestinationType::kS3:
      return "s3";
    case DestinationType::kGcs:
      return "gcs";
    case DestinationType::kStdout:
      return "stdout";
  }
  return "local";
}

std::string_view ToString(TlsMode v) {
  switch (v) {
    case TlsMode::kDisable:
      return "disable";
    case TlsMode::kPrefer:
      return "prefer";
    case TlsMode::kRequire:
      return "require";
    case TlsMode::kVerifyCa:
      return "verify-ca";
    case TlsMode::kVerifyFull:
      return "verify-full";
  }
  return "disable";
}

namespace {
Tuning ProfileDefaults(Profile p) {
  Tuning t;
  t.profile = p;
  switch (p) {
    case Profile::kFast:
      t.batch_size = 50000;
      t.throttle_ms = 0;
      t.statement_timeout_s = 0;
      t.lock_timeout_s = 0;
      t.max_retries = 1;
      t.retry_backoff_ms = 1000;
      break;
    case Profile::kBalanced:
      break;  // the struct's defaults are the balanced profile
    case Profile::kSafe:
      t.batch_size = 2000;
      t.throttle_ms = 500;
      t.statement_timeout_s = 120;
      t.lock_timeout_s = 10;
      t.max_retries = 5;
      t.retry_backoff_ms = 5000;
      break;
  }
  return t;
}

template <typename T>
std::optional<T> Pick(const std::optional<T>& source, const std::optional<T>& overrides) {
  return overrides ? overrides : source;
}
}  // namespace

Tuning MergeTuning(const TuningOverrides& source, const TuningOverrides& overrides) {
  std::optional<Profile> profile = Pick(source.profile, overrides.profile);
  Tuning t = ProfileDefaults(profile.value_or(Profile::kBalanced));
  t.profile_is_default = !profile.has_value();
  if (auto v = Pick(source.batch_size, overrides.batch_size)) t.batch_size = *v;
  t.batch_size_memory_mb = Pick(source.batch_size_memory_mb, overrides.batch_size_memory_mb);
  // The more specific block wins between a fixed pause and a pace (one block cannot set both).
  if (overrides.throttle_ms) {
    t.throttle_ms = *overrides.throttle_ms;
  } else if (overrides.max_source_share) {
    t.max_source_share = overrides.max_source_share;
  } else if (source.throttle_ms) {
    t.throttle_ms = *source.throttle_ms;
  } else {
    t.max_source_share = source.max_source_share;
  }
  if (t.max_source_share) t.throttle_ms = 0;
  if (auto v = Pick(source.statement_timeout_s, overrides.statement_timeout_s)) {
    t.statement_timeout_s = *v;
  }
  if (auto v = Pick(source.lock_timeout_s, overrides.lock_timeout_s)) t.lock_timeout_s = *v;
  if (auto v = Pick(source.max_retries, overrides.max_retries)) t.max_retries = *v;
  if (auto v = Pick(source.retry_backoff_ms, overrides.retry_backoff_ms)) t.retry_backoff_ms = *v;
  return t;
}

}  // namespace rivet::config
