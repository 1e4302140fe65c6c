#include "rivet/pipeline/pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "rivet/common/bytes.h"
#include "rivet/common/clock.h"
#include "rivet/config/loader.h"
#include "rivet/destination/destination.h"
#include "rivet/format/writer.h"
#include "rivet/pipeline/redact.h"
#include "rivet/pipeline/retry.h"
#include "rivet/pipeline/rss_sampler.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/source/source.h"

namespace rivet::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

std::string ProfileLabel(const config::Tuning& t) {
  std::string label(config::ToString(t.profile));
  if (t.profile_is_default) label += " (default)";
  return label;
}

// A base name no earlier file uses: two runs in the same second get "_1", "_2", ...
Result<std::string> UniqueFileBase(const config::Config& config, const config::ExportConfig& e,
                                   const Factories& factories, SystemTime started) {
  RIVET_ASSIGN_OR_RETURN(auto dest, factories.make_destination(e.destination, config.directory));
  std::string stamp = fmt::format("{}_{}", e.name, FormatFileTime(started));
  std::string ext(format::FileExtension(e.format));
  for (int n = 0;; ++n) {
    std::string base = n == 0 ? stamp : fmt::format("{}_{}", stamp, n);
    RIVET_ASSIGN_OR_RETURN(bool whole, dest->Exists(fmt::format("{}.{}", base, ext)));
    RIVET_ASSIGN_OR_RETURN(bool part, dest->Exists(fmt::format("{}_part0.{}", base, ext)));
    if (!whole && !part) return base;
  }
}

void TrackSchema(RunContext& ctx) {
  if (!ctx.schema_now) return;
  auto previous = ctx.state.LastSchema(ctx.e.name);
  if (!previous.has_value()) {
    spdlog::warn("export '{}': cannot read the schema history: {}", ctx.e.name,
                 previous.error().message());
    return;
  }
  if (previous->has_value()) {
    state::SchemaDiff diff = state::DiffSchemas(**previous, *ctx.schema_now);
    if (diff.changed()) {
      ctx.summary.schema_changed = true;
      for (const std::string& line : state::SchemaChangeWarnings(ctx.e.name, diff)) {
        spdlog::warn("{}", line);
      }
    }
  }
}

Status RecordRun(RunContext& ctx, SystemTime started) {
  const ExportSummary& s = ctx.summary;
  state::RunRecord r;
  r.run_id = s.run_id;
  r.export_name = s.export_name;
  r.status = s.status == ExportStatus::kSuccess   ? state::RunStatus::kSuccess
             : s.status == ExportStatus::kSkipped ? state::RunStatus::kSkipped
                                                  : state::RunStatus::kFailed;
  r.started_at = FormatIsoSeconds(started);
  r.finished_at = FormatIsoSeconds(std::chrono::system_clock::now());
  r.rows = static_cast<int64_t>(s.rows);
  r.files = static_cast<int64_t>(s.files);
  r.bytes = static_cast<int64_t>(s.bytes);
  r.duration_ms = s.duration_ms;
  r.peak_rss_bytes = static_cast<int64_t>(s.peak_rss_bytes);
  r.retries = s.retries;
  r.profile = s.profile;
  r.batch_size = s.batch_size;
  r.validated = s.validated;
  r.schema_changed = s.schema_changed;
  if (!s.error.ok()) {
    r.error_message = s.error.message();
    r.error_code = s.error.code();
  }
  return ctx.state.RecordRun(r);
}

// One try of `unit`: a fresh destination and source, then the unit runner.
Status RunOnce(RunContext& ctx, const plan::WorkUnit& unit, bool* committed) {
  const Factories& f = ctx.options.factories;
  RIVET_ASSIGN_OR_RETURN(auto dest, f.make_destination(ctx.e.destination, ctx.config.directory));
  RIVET_ASSIGN_OR_RETURN(auto src, f.make_source(ctx.config.source, ReadOptionsFor(ctx.e.tuning)));
  UnitRunner runner(ctx, unit, *dest);
  Status status = runner.Run(*src);
  *committed = runner.committed_any();
  if (status.ok() && runner.skipped()) ctx.summary.status = ExportStatus::kSkipped;
  return status;
}

}  // namespace

std::string_view ToString(ExportStatus status) {
  switch (status) {
    case ExportStatus::kSuccess:
      return "success";
    case ExportStatus::kFailed:
      return "failed";
    case ExportStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

ExportSummary RunExport(const config::Config& config, const config::ExportConfig& e,
                        state::StateStore& state, const RunOptions& options) {
  RssSampler rss;
  ExportSummary summary;
  const SystemTime started = std::chrono::system_clock::now();
  RunContext ctx{config, e, state, options, summary, Clock::now(), "", {}, std::nullopt};
  summary.export_name = e.name;
  summary.run_id = fmt::format("{}_{}", e.name, FormatRunIdTime(started));
  summary.profile = ProfileLabel(e.tuning);
  summary.batch_size = e.tuning.batch_size;

  Status status = config::CheckSupported(config, e);
  if (status.ok() && e.destination.type == config::DestinationType::kStdout && e.max_file_size) {
    status = Error(ErrorCode::kConfig,
                   "export '{}': max_file_size cannot split a stream on stdout; remove "
                   "max_file_size or write to a local directory",
                   e.name);
  }
  if (status.ok()) {
    // A killed earlier run of this export may have left staged files: never deliver them.
    auto dest = options.factories.make_destination(e.destination, config.directory);
    if (dest.has_value()) (*dest)->SweepAbandoned(e.name + "_");
    auto base = UniqueFileBase(config, e, options.factories, started);
    if (base.has_value())
      ctx.file_base = *base;
    else
      status = base.error();
  }
  plan::WorkUnit unit;
  unit.sql = e.query;
  const RetryRules rules{e.tuning.max_retries + 1, e.tuning.retry_backoff_ms};
  for (int64_t attempt = 1; status.ok(); ++attempt) {
    summary.rows = summary.files = summary.bytes = 0;
    summary.status = ExportStatus::kSuccess;
    bool committed = false;
    status = RunOnce(ctx, unit, &committed);
    if (status.ok()) break;
    std::optional<int64_t> delay = RetryDelayMs(status.code(), attempt, committed, rules);
    if (!delay) break;
    spdlog::warn("export '{}': attempt {} failed ({}): {}; retrying in {}", e.name, attempt,
                 ErrorCodeName(status.code()), Redact(status.message(), config),
                 FormatDuration(*delay));
    ++summary.retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(*delay));
    status = Status::Ok();
  }

  if (!status.ok()) {
    summary.status = ExportStatus::kFailed;
    summary.error = Status(status.code(), Redact(status.message(), config));
  }
  TrackSchema(ctx);
  summary.tuning = fmt::format("profile={}, batch_size={}", summary.profile, summary.batch_size);
  summary.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ctx.started_mono)
          .count();
  summary.peak_rss_bytes = rss.peak();
  if (summary.status != ExportStatus::kFailed && ctx.schema_now) {
    Status s = state.RecordSchema(e.name, summary.run_id, *ctx.schema_now);
    if (!s.ok()) spdlog::warn("export '{}': cannot record the schema: {}", e.name, s.message());
  }
  Status recorded = RecordRun(ctx, started);
  if (!recorded.ok()) {
    spdlog::error("export '{}': cannot record the run in the state DB: {}", e.name,
                  recorded.message());
  }
  return summary;
}

std::string FormatSummary(const ExportSummary& s) {
  std::string out = fmt::format("── {} ──\n", s.export_name);
  auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("  {:<13}{}\n", fmt::format("{}:", key), value);
  };
  line("run_id", s.run_id);
  line("status", std::string(ToString(s.status)));
  line("tuning", s.tuning);
  line("rows", std::to_string(s.rows));
  line("files", std::to_string(s.files));
  line("bytes", FormatBytes(s.bytes));
  line("duration", FormatDuration(s.duration_ms));
  line("peak RSS", fmt::format("{}MB (sampled during run)", s.peak_rss_bytes >> 20));
  if (s.retries > 0) line("retries", std::to_string(s.retries));
  if (s.validated) line("validated", *s.validated ? "pass" : "FAIL");
  line("schema", s.schema_changed ? "CHANGED" : "unchanged");
  if (!s.error.ok()) line("error", s.error.message());
  return out;
}

}  // namespace rivet::pipeline
