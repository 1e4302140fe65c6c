// Runs one work unit (plan/plan.h) on one source connection: its rows to finished, validated,
// committed files, each recorded in the manifest (reference §4 order of effects).
//
// One Run() is one try. The reader thread fills batches from the stream while the calling
// thread encodes them (batch_queue.h); when the open file passes max_file_size and more rows
// come, the part is finished and a new one opened. On failure the open file is discarded;
// committed_any() tells the retry policy whether a retry would deliver bytes twice (a committed
// file, or a stream that already handed some over).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/destination/destination.h"
#include "rivet/format/writer.h"
#include "rivet/pipeline/pipeline.h"
#include "rivet/plan/plan.h"
#include "rivet/plan/sql.h"
#include "rivet/quality/gate.h"
#include "rivet/source/source.h"
#include "rivet/state/state.h"

namespace rivet::pipeline {

// tuning.max_source_share: the pause after a batch whose rows took `waited` to arrive, so that
// waiting for rows is `share` of the time (waited / (waited + pause) = share). The wait stands
// for the server's work on the batch (an estimate: the server works ahead into the socket
// buffers during a pause, so its measured share can come out a little above `share`).
std::chrono::nanoseconds PauseForShare(std::chrono::nanoseconds waited, double share);

// A finished file on its way to the destination: committed at once, or held until the
// export's quality gates pass.
struct FinishedFile {
  std::unique_ptr<destination::ObjectWriter> object;
  destination::Destination* dest = nullptr;
  std::string name;  // its final name
  uint64_t rows = 0;
  int part_index = 0;
  uint64_t unit_order = 0;  // held files are delivered in plan order
};

// What the units of one export run share. Counters are updated under `mu` so that several
// workers can run units at once.
struct RunContext {
  const config::Config& config;
  const config::ExportConfig& e;
  state::StateStore& state;
  const RunOptions& options;
  ExportSummary& summary;
  std::chrono::steady_clock::time_point started_mono;
  std::string file_base;  // "{export}_{YYYYMMDD_HHMMSS}", made unique once per run
  std::mutex mu;
  std::optional<std::vector<state::SchemaColumn>> schema_now;
  // chunk_checkpoint: the files of a unit enter the manifest with its checkpoint (UnitHooks),
  // not one by one as they are committed.
  bool files_recorded_by_hooks = false;
  // _rivet_exported_at: the run's start, one value for every row of every unit.
  int64_t exported_at_micros = 0;
  // The destinations of the run's workers: they outlive every file they created.
  std::vector<std::unique_ptr<destination::Destination>> destinations;
  // quality configured: the export's gates and, from every unit that succeeded, its finished
  // files, held until the gates pass (declared after `destinations`, so destroyed first).
  std::unique_ptr<quality::Gate> quality;
  std::vector<FinishedFile> held;
  // --worker: only the worker that finishes the shared plan records the run.
  bool records_run = true;
};

// Commits `f` under its name, counts it in the summary and adds it to `files` (and to the
// manifest unless the hooks record it), then, with --validate on a destination that reads back
// what it delivered, checks it. `delivered` says whether any byte reached the destination.
Status CommitFile(RunContext& ctx, FinishedFile& f, std::vector<state::FileRecord>& files,
                  bool& delivered);

// Source read options from the merged tuning.
source::ReadOptions ReadOptionsFor(const config::Tuning& t);

class UnitRunner {
 public:
  UnitRunner(RunContext& ctx, const plan::WorkUnit& unit, destination::Destination& dest)
      : ctx_(ctx), unit_(unit), dest_(dest) {}

  // One try of the unit on `src` (connected or not: Stream connects when needed, so a worker
  // keeps its connection, and its shared snapshot, across units).
  Status Run(source::Source& src);
  bool committed_any() const { return committed_any_; }
  // --worker: the chunk's claim was taken over by another worker before a file of this try was
  // delivered; that worker delivers the chunk, so this try ends without it.
  bool taken_over() const { return taken_over_; }
  // Rows and files of this try (the summary holds the run's totals).
  uint64_t rows() const { return rows_; }
  const std::vector<state::FileRecord>& files() const { return files_; }
  bool skipped() const { return skipped_; }
  // incremental: the last non-NULL value of the unit's cursor column exported by this try.
  const std::optional<plan::CursorValue>& last_cursor() const { return last_cursor_; }

 private:
  struct OpenFile {
    std::unique_ptr<destination::ObjectWriter> object;
    std::unique_ptr<format::FormatWriter> writer;
    uint64_t rows = 0;
  };

  Status Open(const columnar::SchemaPtr& schema);
  Status FinishAndCommit(bool last);
  // Work units in plan order (chunk index; 0 for the single unit).
  uint64_t UnitOrder() const;
  std::string FileName(bool last) const;
  void DiscardOpen();

  RunContext& ctx_;
  const plan::WorkUnit& unit_;
  destination::Destination& dest_;
  std::optional<OpenFile> open_;
  int part_index_ = 0;
  bool committed_any_ = false;
  bool taken_over_ = false;
  bool skipped_ = false;
  uint64_t rows_ = 0;
  uint64_t encoded_bytes_done_ = 0;
  std::vector<state::FileRecord> files_;
  std::optional<plan::CursorValue> last_cursor_;
  // quality configured: this try's counts and finished files, the export's once it succeeds.
  std::unique_ptr<quality::Tally> tally_;
  std::vector<FinishedFile> held_;
};

}  // namespace rivet::pipeline
