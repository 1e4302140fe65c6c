#include "rivet/pipeline/pipeline.h"

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "rivet/common/bytes.h"
#include "rivet/common/clock.h"
#include "rivet/config/loader.h"
#include "rivet/destination/destination.h"
#include "rivet/format/writer.h"
#include "rivet/pipeline/batch_queue.h"
#include "rivet/pipeline/redact.h"
#include "rivet/pipeline/retry.h"
#include "rivet/pipeline/rss_sampler.h"
#include "rivet/source/source.h"

namespace rivet::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

// Batches in flight: one being read while one is encoded (see batch_queue.h).
constexpr size_t kBatchesInFlight = 2;

std::string ProfileLabel(const config::Tuning& t) {
  std::string label(config::ToString(t.profile));
  if (t.profile_is_default) label += " (default)";
  return label;
}

source::ReadOptions ReadOptionsFor(const config::Tuning& t) {
  source::ReadOptions o;
  o.batch_rows = t.batch_size;
  o.batch_memory_mb = t.batch_size_memory_mb.value_or(0);
  o.statement_timeout_s = t.statement_timeout_s;
  o.lock_timeout_s = t.lock_timeout_s;
  return o;
}

// One file being written: staged locally, finished, validated, committed.
struct OpenFile {
  std::string staging_path;
  std::unique_ptr<format::FileSink> sink;
  std::unique_ptr<format::FormatWriter> writer;
  uint64_t rows = 0;
};

// Everything one export run shares across attempts.
struct RunContext {
  const config::Config& config;
  const config::ExportConfig& e;
  state::StateStore& state;
  const RunOptions& options;
  ExportSummary& summary;
  SystemTime started;
  Clock::time_point started_mono;
  std::string file_base;  // "{export}_{YYYYMMDD_HHMMSS}", made unique once
  std::optional<std::vector<state::SchemaColumn>> schema_now;
};

class Attempt {
 public:
  explicit Attempt(RunContext& ctx) : ctx_(ctx) {}

  // Runs one attempt; `committed_any()` tells whether a retry would duplicate delivered files.
  Status Run();
  bool committed_any() const { return committed_any_; }

 private:
  Status Open(const columnar::SchemaPtr& schema);
  Status FinishAndCommit(bool last);
  std::string FileName(bool last) const;
  void DiscardOpen();

  RunContext& ctx_;
  std::unique_ptr<destination::Destination> dest_;
  std::optional<OpenFile> open_;
  int part_index_ = 0;
  bool committed_any_ = false;
  uint64_t encoded_bytes_done_ = 0;
};

Status Attempt::Run() {
  const config::ExportConfig& e = ctx_.e;
  RIVET_ASSIGN_OR_RETURN(dest_, destination::MakeDestination(e.destination, ctx_.config.directory));
  source::ReadOptions read = ReadOptionsFor(e.tuning);
  RIVET_ASSIGN_OR_RETURN(auto src, source::MakeSource(ctx_.config.source, read));
  RIVET_RETURN_IF_ERROR(src->Connect());
  RIVET_ASSIGN_OR_RETURN(auto stream, src->Stream(e.query));
  columnar::SchemaPtr schema = stream->schema();

  const int64_t rows_per_batch = source::RowsPerBatch(read, *schema);
  ctx_.summary.batch_size = rows_per_batch;
  if (e.tuning.batch_size_memory_mb) {
    spdlog::info("batch_size_memory_mb={}: estimated row ~{}B, computed batch_size={}",
                 *e.tuning.batch_size_memory_mb, columnar::EstimatedRowBytes(*schema),
                 rows_per_batch);
  }
  std::vector<state::SchemaColumn> columns;
  for (const columnar::Field& f : *schema) columns.push_back({f.name, f.type.ToString()});
  ctx_.schema_now = std::move(columns);

  BatchQueue queue(schema, kBatchesInFlight, static_cast<size_t>(rows_per_batch));
  const auto throttle = std::chrono::milliseconds(e.tuning.throttle_ms);
  std::thread reader([&] {
    for (;;) {
      columnar::Batch* batch = queue.AcquireEmpty();
      if (batch == nullptr) return;  // the writer gave up
      Result<bool> more = stream->Next(*batch);
      if (!more.has_value() || !*more) {
        queue.Release(batch);
        queue.Close(more.status());
        return;
      }
      queue.PushFull(batch);
      // The pause that protects the source: no read while it lasts (tuning.throttle_ms).
      if (throttle.count() > 0) std::this_thread::sleep_for(throttle);
    }
  });

  Status status;
  bool rotate = false;  // the open file passed max_file_size: finish it if more rows come
  while (columnar::Batch* batch = queue.PopFull()) {
    if (rotate) {
      status = FinishAndCommit(/*last=*/false);
      rotate = false;
    }
    if (status.ok() && !open_) status = Open(schema);
    if (status.ok()) status = open_->writer->Write(*batch);
    if (status.ok()) {
      open_->rows += batch->num_rows();
      ctx_.summary.rows += batch->num_rows();
    }
    queue.Release(batch);
    if (!status.ok()) break;
    uint64_t file_size = open_->writer->EstimatedFileSize();
    if (ctx_.options.on_progress) {
      Progress p;
      p.rows = ctx_.summary.rows;
      p.bytes = encoded_bytes_done_ + file_size;
      p.elapsed_s = std::chrono::duration<double>(Clock::now() - ctx_.started_mono).count();
      ctx_.options.on_progress(e.name, p);
    }
    if (e.max_file_size && file_size >= *e.max_file_size) rotate = true;
  }
  queue.Cancel();
  reader.join();
  if (status.ok()) status = queue.closed_status();
  if (!status.ok()) {
    DiscardOpen();
    return status;
  }
  if (!open_) {
    if (e.skip_empty) {
      ctx_.summary.status = ExportStatus::kSkipped;
      return Status::Ok();
    }
    RIVET_RETURN_IF_ERROR(Open(schema));  // a 0-row file still carries the schema
  }
  return FinishAndCommit(/*last=*/true);
}

Status Attempt::Open(const columnar::SchemaPtr& schema) {
  const config::ExportConfig& e = ctx_.e;
  OpenFile f;
  RIVET_ASSIGN_OR_RETURN(f.staging_path, dest_->StagingPath(ctx_.file_base));
  RIVET_ASSIGN_OR_RETURN(f.sink, format::FileSink::Create(f.staging_path));
  format::WriterOptions wo;
  wo.format = e.format;
  wo.compression = e.compression;
  wo.compression_level = e.compression_level;
  wo.created_by = fmt::format("rivet version {}", ctx_.options.version);
  wo.metadata = {{"rivet.export", e.name},
                 {"rivet.run_id", ctx_.summary.run_id},
                 {"rivet.version", ctx_.options.version}};
  auto writer = format::MakeWriter(wo, schema, *f.sink);
  if (!writer.has_value()) {
    dest_->Discard(f.staging_path);
    return writer.error();
  }
  f.writer = std::move(*writer);
  open_ = std::move(f);
  return Status::Ok();
}

// "{base}.ext", or "{base}_part{i}.ext" when the export is split into several files.
std::string Attempt::FileName(bool last) const {
  std::string ext(format::FileExtension(ctx_.e.format));
  if (last && part_index_ == 0) return fmt::format("{}.{}", ctx_.file_base, ext);
  return fmt::format("{}_part{}.{}", ctx_.file_base, part_index_, ext);
}

Status Attempt::FinishAndCommit(bool last) {
  OpenFile f = std::move(*open_);
  open_.reset();
  auto fail = [&](Status s) {
    dest_->Discard(f.staging_path);
    return s;
  };
  Status s = f.writer->Finish();
  if (s.ok()) s = f.sink->Close();
  if (!s.ok()) return fail(s);
  uint64_t bytes = f.sink->bytes_written();
  if (ctx_.options.validate) {
    Result<uint64_t> counted = format::CountRows(ctx_.e.format, f.staging_path);
    bool pass = counted.has_value() && *counted == f.rows;
    ctx_.summary.validated = pass && ctx_.summary.validated.value_or(true);
    if (!counted.has_value()) {
      return fail(Error(ErrorCode::kValidation, "validation FAIL: cannot read back the file: {}",
                        counted.error().message()));
    }
    if (!pass) {
      return fail(Error(ErrorCode::kValidation,
                        "validation FAIL: the file holds {} rows but {} were exported", *counted,
                        f.rows));
    }
  }
  std::string name = FileName(last);
  s = dest_->Commit(f.staging_path, name);
  if (!s.ok()) return fail(s);
  committed_any_ = true;
  ++part_index_;
  ++ctx_.summary.files;
  ctx_.summary.bytes += bytes;
  encoded_bytes_done_ += bytes;
  state::FileRecord record;
  record.run_id = ctx_.summary.run_id;
  record.export_name = ctx_.e.name;
  record.file_name = name;
  record.location = dest_->Location(name);
  record.rows = static_cast<int64_t>(f.rows);
  record.bytes = static_cast<int64_t>(bytes);
  record.format = std::string(config::ToString(ctx_.e.format));
  record.compression = ctx_.e.format == config::Format::kParquet
                           ? std::string(config::ToString(ctx_.e.compression))
                           : "none";
  record.part_index = part_index_ - 1;
  record.created_at = FormatIsoSeconds(std::chrono::system_clock::now());
  return ctx_.state.RecordFile(record);
}

void Attempt::DiscardOpen() {
  if (!open_) return;
  open_->sink.reset();
  dest_->Discard(open_->staging_path);
  open_.reset();
}

// A base name no earlier file uses: two runs in the same second get "_1", "_2", ...
Result<std::string> UniqueFileBase(const config::Config& config, const config::ExportConfig& e,
                                   SystemTime started) {
  RIVET_ASSIGN_OR_RETURN(auto dest, destination::MakeDestination(e.destination, config.directory));
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

Status RecordRun(RunContext& ctx) {
  const ExportSummary& s = ctx.summary;
  state::RunRecord r;
  r.run_id = s.run_id;
  r.export_name = s.export_name;
  r.status = s.status == ExportStatus::kSuccess  ? state::RunStatus::kSuccess
             : s.status == ExportStatus::kSkipped ? state::RunStatus::kSkipped
                                                  : state::RunStatus::kFailed;
  r.started_at = FormatIsoSeconds(ctx.started);
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

}  // namespace

std::string_view ToString(ExportStatus status) {
  switch (status) {
    case ExportStatus::kSuccess: return "success";
    case ExportStatus::kFailed: return "failed";
    case ExportStatus::kSkipped: return "skipped";
  }
  return "failed";
}

ExportSummary RunExport(const config::Config& config, const config::ExportConfig& e,
                        state::StateStore& state, const RunOptions& options) {
  RssSampler rss;
  ExportSummary summary;
  RunContext ctx{config, e, state, options, summary, std::chrono::system_clock::now(),
                 Clock::now(), "", std::nullopt};
  summary.export_name = e.name;
  summary.run_id = fmt::format("{}_{}", e.name, FormatRunIdTime(ctx.started));
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
    auto base = UniqueFileBase(config, e, ctx.started);
    if (base.has_value()) ctx.file_base = *base;
    else status = base.error();
  }
  for (int64_t attempt = 1; status.ok(); ++attempt) {
    summary.rows = summary.files = summary.bytes = 0;
    summary.status = ExportStatus::kSuccess;
    Attempt run(ctx);
    status = run.Run();
    if (status.ok()) break;
    const RetryRules rules{e.tuning.max_retries + 1, e.tuning.retry_backoff_ms};
    std::optional<int64_t> delay = RetryDelayMs(status.code(), attempt, run.committed_any(), rules);
    if (!delay) break;
    const int64_t delay_ms = *delay;
    spdlog::warn("export '{}': attempt {} failed ({}): {}; retrying in {}", e.name, attempt,
                 ErrorCodeName(status.code()), Redact(status.message(), config),
                 FormatDuration(delay_ms));
    ++summary.retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    status = Status::Ok();
  }

  if (!status.ok()) {
    summary.status = ExportStatus::kFailed;
    summary.error = Status(status.code(), Redact(status.message(), config));
  }
  TrackSchema(ctx);
  summary.tuning = fmt::format("profile={}, batch_size={}", summary.profile, summary.batch_size);
  summary.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            Clock::now() - ctx.started_mono).count();
  summary.peak_rss_bytes = rss.peak();
  if (summary.status != ExportStatus::kFailed && ctx.schema_now) {
    Status s = state.RecordSchema(e.name, summary.run_id, *ctx.schema_now);
    if (!s.ok()) spdlog::warn("export '{}': cannot record the schema: {}", e.name, s.message());
  }
  Status recorded = RecordRun(ctx);
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
