#include "rivet/pipeline/unit_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "rivet/common/clock.h"
#include "rivet/common/interrupt.h"
#include "rivet/pipeline/batch_queue.h"
#include "rivet/plan/cursor.h"
#include "rivet/rowhash/row_hash.h"

namespace rivet::pipeline {

std::chrono::nanoseconds PauseForShare(std::chrono::nanoseconds waited, double share) {
  if (!(share > 0.0) || share >= 1.0 || waited.count() <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(
      static_cast<int64_t>(static_cast<double>(waited.count()) * (1.0 - share) / share));
}

namespace {

// Batches in flight: one being read while one is encoded (see batch_queue.h).
constexpr size_t kBatchesInFlight = 2;

constexpr std::string_view kMetaPrefix = "_rivet_";

// The query's fields followed by the enabled meta columns, in the order exported_at, row_hash.
columnar::SchemaPtr WithMetaColumns(const columnar::SchemaPtr& query,
                                    const config::MetaColumns& meta) {
  if (!meta.exported_at && !meta.row_hash) return query;
  auto out = std::make_shared<columnar::Schema>(*query);
  if (meta.exported_at) {
    out->push_back({"_rivet_exported_at", columnar::DataType::Of(columnar::TypeId::kTimestampTz)});
  }
  if (meta.row_hash) {
    out->push_back({"_rivet_row_hash", columnar::DataType::Of(columnar::TypeId::kInt64)});
  }
  return out;
}

// --validate: `count` reads the file back; its rows must be `rows`.
Status Validate(RunContext& ctx, uint64_t rows, const std::function<Result<uint64_t>()>& count) {
  Result<uint64_t> counted = count();
  const bool pass = counted.has_value() && *counted == rows;
  {
    std::lock_guard lock(ctx.mu);
    ctx.summary.validated = pass && ctx.summary.validated.value_or(true);
  }
  if (!counted.has_value()) {
    return Error(ErrorCode::kValidation, "validation FAIL: cannot read back the file: {}",
                 counted.error().message());
  }
  if (!pass) {
    return Error(ErrorCode::kValidation,
                 "validation FAIL: the file holds {} rows but {} were exported", *counted, rows);
  }
  return Status::Ok();
}

}  // namespace

source::ReadOptions ReadOptionsFor(const config::Tuning& t) {
  source::ReadOptions o;
  o.batch_rows = t.batch_size;
  o.batch_memory_mb = t.batch_size_memory_mb.value_or(0);
  o.statement_timeout_s = t.statement_timeout_s;
  o.lock_timeout_s = t.lock_timeout_s;
  return o;
}

Status UnitRunner::Run(source::Source& src) {
  const config::ExportConfig& e = ctx_.e;
  RIVET_ASSIGN_OR_RETURN(auto stream, src.Stream(unit_.sql));
  columnar::SchemaPtr schema = stream->schema();
  RIVET_ASSIGN_OR_RETURN(
      const std::optional<size_t> cursor_index,
      plan::CheckKeyColumns(*schema, e.name, unit_.cursor_column, unit_.chunk_column));
  const config::MetaColumns& meta = e.meta_columns;
  if (meta.exported_at || meta.row_hash) {
    for (const columnar::Field& f : *schema) {
      if (f.name.starts_with(kMetaPrefix)) {
        return Error(ErrorCode::kConfig,
                     "export '{}': query column '{}' collides with the meta columns (names "
                     "starting with {} are reserved); alias it in the query or turn "
                     "meta_columns off",
                     e.name, f.name, kMetaPrefix);
      }
    }
  }
  // What the writer sees: the query's columns, then the meta columns computed per batch.
  const columnar::SchemaPtr out_schema = WithMetaColumns(schema, meta);
  const size_t query_columns = schema->size();
  // Runs on the reader thread: hashing overlaps the encoding of the previous batch instead of
  // adding to it.
  rowhash::RowHasher hasher;
  std::vector<uint64_t> hashes;
  auto add_meta_columns = [&](columnar::Batch& batch) {
    batch.ExtendColumns(out_schema);
    size_t next = query_columns;
    const size_t n = batch.num_rows();
    if (meta.exported_at) {
      columnar::Column& c = batch.mutable_column(next++);
      for (size_t r = 0; r < n; ++r) c.Append<int64_t>(ctx_.exported_at_micros);
    }
    if (meta.row_hash) {
      hasher.Hash(batch, query_columns, hashes);
      columnar::Column& c = batch.mutable_column(next++);
      for (uint64_t h : hashes) c.Append<int64_t>(static_cast<int64_t>(h));
    }
  };

  if (ctx_.quality) {
    RIVET_RETURN_IF_ERROR(ctx_.quality->Bind(*schema));
    tally_ = ctx_.quality->NewTally(UnitOrder());
  }

  const source::ReadOptions read = ReadOptionsFor(e.tuning);
  const int64_t rows_per_batch = source::RowsPerBatch(read, *schema);
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.summary.batch_size = rows_per_batch;
    if (!ctx_.schema_now) {
      if (e.tuning.batch_size_memory_mb) {
        spdlog::info("batch_size_memory_mb={}: estimated row ~{}B, computed batch_size={}",
                     *e.tuning.batch_size_memory_mb, columnar::EstimatedRowBytes(*schema),
                     rows_per_batch);
      }
      std::vector<state::SchemaColumn> columns;
      for (const columnar::Field& f : *out_schema) {
        columns.push_back({f.name, f.type.ToString()});
      }
      ctx_.schema_now = std::move(columns);
    }
  }

  BatchQueue queue(schema, kBatchesInFlight, static_cast<size_t>(rows_per_batch));
  const auto throttle = std::chrono::milliseconds(e.tuning.throttle_ms);
  std::chrono::nanoseconds paused{0};
  std::thread reader([&] {
    for (;;) {
      columnar::Batch* batch = queue.AcquireEmpty();
      if (batch == nullptr) return;  // the writer gave up
      batch->DropExtraColumns();     // the source fills the query's columns only
      const auto asked = std::chrono::steady_clock::now();
      Result<bool> more = stream->Next(*batch);
      const auto waited = std::chrono::steady_clock::now() - asked;
      if (!more.has_value() || !*more) {
        queue.Release(batch);
        queue.Close(more.status());
        return;
      }
      if (out_schema != schema) add_meta_columns(*batch);
      queue.PushFull(batch);
      // The pause that protects the source: no read while it lasts. Either fixed
      // (tuning.throttle_ms) or paced by how long the batch took to arrive
      // (tuning.max_source_share).
      const std::chrono::nanoseconds pause = e.tuning.max_source_share
                                                 ? PauseForShare(waited, *e.tuning.max_source_share)
                                                 : std::chrono::nanoseconds(throttle);
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
      paused += pause;
    }
  });

  Status status;
  bool rotate = false;  // the open file passed max_file_size: finish it if more rows come
  while (columnar::Batch* batch = queue.PopFull()) {
    if (Interrupted()) {
      queue.Release(batch);
      status = InterruptedError();
      break;
    }
    if (rotate) {
      status = FinishAndCommit(/*last=*/false);
      rotate = false;
    }
    if (status.ok() && !open_) status = Open(out_schema);
    if (status.ok()) status = open_->writer->Write(*batch);
    if (status.ok() && tally_) status = tally_->Observe(*batch);
    if (status.ok() && cursor_index) {
      auto last = plan::LastCursorValue(unit_.cursor_column, batch->column(*cursor_index));
      if (!last.has_value())
        status = last.error();
      else if (last->has_value())
        last_cursor_ = std::move(*last);
    }
    uint64_t total_rows = 0;
    if (status.ok()) {
      open_->rows += batch->num_rows();
      rows_ += batch->num_rows();
      std::lock_guard lock(ctx_.mu);
      ctx_.summary.rows += batch->num_rows();
      total_rows = ctx_.summary.rows;
    }
    queue.Release(batch);
    if (!status.ok()) break;
    const uint64_t file_size = open_->writer->EstimatedFileSize();
    if (ctx_.options.on_progress) {
      Progress p;
      p.rows = total_rows;
      p.bytes = encoded_bytes_done_ + file_size;
      p.elapsed_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx_.started_mono)
              .count();
      ctx_.options.on_progress(e.name, p);
    }
    if (e.max_file_size && file_size >= *e.max_file_size) rotate = true;
  }
  queue.Cancel();
  // A reader blocked on the network would wait for the next rows (or statement_timeout_s,
  // forever with 0) before it sees the cancelled queue: stop the statement too.
  if (!status.ok()) src.Cancel();
  reader.join();
  {
    std::lock_guard lock(ctx_.mu);
    ctx_.summary.paused_ms += std::chrono::duration_cast<std::chrono::milliseconds>(paused).count();
  }
  if (status.ok()) status = queue.closed_status();
  if (!status.ok()) {
    DiscardOpen();
    return status;
  }
  if (!open_) {
    if (unit_.empty_makes_no_file || e.skip_empty) {
      skipped_ = true;
      return Status::Ok();
    }
    RIVET_RETURN_IF_ERROR(Open(out_schema));  // a 0-row file still carries the schema
  }
  RIVET_RETURN_IF_ERROR(FinishAndCommit(/*last=*/true));
  if (!ctx_.quality) return Status::Ok();
  // The try succeeded: its counts and files are the export's (a failed try's die with it).
  RIVET_RETURN_IF_ERROR(ctx_.quality->Accept(std::move(tally_)));
  std::lock_guard lock(ctx_.mu);
  for (FinishedFile& f : held_) ctx_.held.push_back(std::move(f));
  held_.clear();
  return Status::Ok();
}

uint64_t UnitRunner::UnitOrder() const {
  return static_cast<uint64_t>(unit_.chunk_index.value_or(0));
}

Status UnitRunner::Open(const columnar::SchemaPtr& schema) {
  const config::ExportConfig& e = ctx_.e;
  OpenFile f;
  destination::ObjectOptions options;
  options.readable_before_commit = ctx_.options.validate && !dest_.ReadsBackDelivered();
  options.name_may_change = part_index_ == 0 && e.max_file_size.has_value();
  options.held = ctx_.quality != nullptr;
  RIVET_ASSIGN_OR_RETURN(f.object, dest_.Create(FileName(/*last=*/true), options));
  format::WriterOptions wo;
  wo.format = e.format;
  wo.compression = e.compression;
  wo.compression_level = e.compression_level;
  wo.created_by = fmt::format("rivet version {}", ctx_.options.version);
  wo.metadata = {{"rivet.export", e.name},
                 {"rivet.run_id", ctx_.summary.run_id},
                 {"rivet.version", ctx_.options.version}};
  auto writer = format::MakeWriter(wo, schema, *f.object);
  if (!writer.has_value()) {
    f.object->Abort();
    return writer.error();
  }
  f.writer = std::move(*writer);
  open_ = std::move(f);
  return Status::Ok();
}

// "{base}{suffix}.ext", or "{base}{suffix}_part{i}.ext" when the unit is split into several
// files (reference §3).
std::string UnitRunner::FileName(bool last) const {
  const std::string ext(format::FileExtension(ctx_.e.format));
  const std::string stem = ctx_.file_base + unit_.name_suffix;
  if (last && part_index_ == 0) return fmt::format("{}.{}", stem, ext);
  return fmt::format("{}_part{}.{}", stem, part_index_, ext);
}

Status UnitRunner::FinishAndCommit(bool last) {
  OpenFile f = std::move(*open_);
  open_.reset();
  auto fail = [&](Status s) {
    if (f.object->PartlyDelivered()) committed_any_ = true;
    f.object->Abort();
    return s;
  };
  Status s = f.writer->Finish();
  if (s.ok()) s = f.object->Finish();
  if (!s.ok()) return fail(s);
  f.writer.reset();  // its buffers are not needed while the file waits
  const std::optional<std::string> staged = f.object->StagedPath();
  if (ctx_.options.validate && !staged && !dest_.ReadsBackDelivered()) {
    spdlog::warn(
        "export '{}': --validate cannot read this destination's file back before it is "
        "delivered; not validated",
        ctx_.e.name);
  } else if (ctx_.options.validate && staged) {
    s = Validate(ctx_, f.rows, [&] { return format::CountRows(ctx_.e.format, *staged); });
    if (!s.ok()) return fail(s);
  }
  encoded_bytes_done_ += f.object->bytes_written();
  FinishedFile done{std::move(f.object), &dest_, FileName(last), f.rows, part_index_, UnitOrder()};
  ++part_index_;
  if (ctx_.quality) {
    // Held until the whole export passes its gates; nothing of it is delivered before.
    s = done.object->Park();
    if (!s.ok()) {
      done.object->Abort();
      return s;
    }
    held_.push_back(std::move(done));
    return Status::Ok();
  }
  if (!unit_.claim_token.empty()) {
    // --worker: the fence before delivery. A claim renewed here holds for a lease, which the
    // commit does not outlast; a claim that no longer holds belongs to the worker that took the
    // chunk over, and this file is dropped rather than delivered twice.
    Result<bool> held = ctx_.state.RenewChunkLease(ctx_.summary.run_id, *unit_.chunk_index,
                                                   unit_.claim_token, ctx_.options.lease);
    if (!held.has_value() || !*held) {
      done.object->Abort();
      if (!held.has_value()) return held.error();
      taken_over_ = true;
      spdlog::warn(
          "export '{}': chunk {} was taken over by another worker while this one held it past "
          "its lease; this worker's file is dropped and the other worker delivers the chunk",
          ctx_.e.name, *unit_.chunk_index);
      return Error(ErrorCode::kSource, "chunk {} was taken over by another worker",
                   *unit_.chunk_index);
    }
  }
  bool delivered = false;
  s = CommitFile(ctx_, done, files_, delivered);
  if (delivered) committed_any_ = true;
  return s;
}

Status CommitFile(RunContext& ctx, FinishedFile& f, std::vector<state::FileRecord>& files,
                  bool& delivered) {
  const config::ExportConfig& e = ctx.e;
  const uint64_t bytes = f.object->bytes_written();
  const bool read_back =
      ctx.options.validate && !f.object->StagedPath() && f.dest->ReadsBackDelivered();
  Status s = f.object->Commit(f.name);
  if (!s.ok()) {
    delivered = f.object->PartlyDelivered();
    f.object->Abort();
    return s;
  }
  delivered = true;
  {
    std::lock_guard lock(ctx.mu);
    ++ctx.summary.files;
    ctx.summary.bytes += bytes;
  }
  state::FileRecord record;
  record.run_id = ctx.summary.run_id;
  record.export_name = e.name;
  record.file_name = f.name;
  record.location = f.dest->Location(f.name);
  record.rows = static_cast<int64_t>(f.rows);
  record.bytes = static_cast<int64_t>(bytes);
  record.format = std::string(config::ToString(e.format));
  record.compression =
      e.format == config::Format::kParquet ? std::string(config::ToString(e.compression)) : "none";
  record.part_index = f.part_index;
  record.created_at = FormatIsoSeconds(std::chrono::system_clock::now());
  files.push_back(record);
  if (!ctx.files_recorded_by_hooks) RIVET_RETURN_IF_ERROR(ctx.state.RecordFile(record));
  if (!read_back) return Status::Ok();
  // Delivered and recorded (it is there, whatever it holds); a mismatch fails the run before
  // any cursor or chunk moves past these rows.
  return Validate(ctx, f.rows, [&]() -> Result<uint64_t> {
    RIVET_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> back, f.dest->OpenDelivered(f.name));
    return format::CountRows(e.format, *back);
  });
}

void UnitRunner::DiscardOpen() {
  held_.clear();  // aborts them: a failed try delivers none of its held files
  if (!open_) return;
  // Bytes a stream already handed over cannot be taken back: no retry may send them again.
  if (open_->object->PartlyDelivered()) committed_any_ = true;
  open_->object->Abort();
  open_.reset();
}

}  // namespace rivet::pipeline
