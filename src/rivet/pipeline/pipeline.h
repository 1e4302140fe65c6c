// Runs one export end to end: source -> batches -> format writer -> destination, recording
// runs, files and schemas in the state store.
//
// Order of effects for every file (reference §4): finish the file, validate it (--validate),
// commit it to the destination, then record it in the manifest. An attempt that fails with a
// retryable error before any file was committed is retried with exponential backoff; once a
// file is at the destination nothing is retried, so a row is never silently skipped and never
// written twice by one run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/destination/destination.h"
#include "rivet/plan/shard.h"
#include "rivet/plan/sql.h"
#include "rivet/source/source.h"
#include "rivet/state/state.h"

namespace rivet::pipeline {

struct Progress {
  uint64_t rows = 0;
  uint64_t bytes = 0;  // encoded bytes so far
  double elapsed_s = 0;
};

// How an export builds its source and destination; tests substitute fakes, so orchestration
// (retries, parts, skip_empty, discards) is tested without servers.
struct Factories {
  std::function<Result<std::unique_ptr<source::Source>>(const config::SourceConfig&,
                                                        const source::ReadOptions&)>
      make_source = source::MakeSource;
  std::function<Result<std::unique_ptr<destination::Destination>>(const config::DestinationConfig&,
                                                                  const std::string& config_dir)>
      make_destination = destination::MakeDestination;
};

struct RunOptions {
  bool validate = false;  // --validate: read every file back before committing it
  bool resume = false;    // --resume: continue the export's in-progress chunk plan
  // --shard: a chunked export runs only the chunks this shard owns (plan/shard.h); the run_id
  // names the shard, so runs of one plan started at the same instant stay apart.
  std::optional<plan::Shard> shard;
  // --worker: a checkpointed chunked export joins (or creates) the export's shared plan and
  // claims chunks from the state store until none is left; each claim is a lease of `lease`,
  // renewed while the chunk runs, after which another worker may take the chunk over.
  bool worker = false;
  std::chrono::milliseconds lease{60000};
  std::string version;  // rivet's version, written into file metadata
  // --snapshot: a PostgreSQL snapshot held by `rivet snapshot hold` (checked by
  // source::CheckSnapshotId); every source of the run reads it, "" = none.
  std::string snapshot_id;
  // Called from the writing thread after every batch (the CLI draws a progress line).
  std::function<void(const std::string& export_name, const Progress&)> on_progress;
  Factories factories;
};

// kDegraded: every row was delivered, but not cleanly (reference §6, README "Degraded runs"):
// the run needed retries (a retried connection or unit), or a chunked export that started in
// one shared snapshot ended with chunks reading their own (consistency: per-chunk). It counts
// as a success for the exit code and fires the `degraded` notification trigger.
enum class ExportStatus { kSuccess, kFailed, kSkipped, kDegraded };

struct ExportSummary {
  std::string export_name;
  std::string run_id;
  ExportStatus status = ExportStatus::kFailed;
  std::string tuning;   // "profile=balanced (default), batch_size=10000"
  std::string profile;  // "balanced (default)"
  int64_t batch_size = 0;
  std::optional<double> max_source_share;  // the pace asked for, when set
  int64_t paused_ms = 0;                   // time the readers paused to protect the source
  uint64_t rows = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;
  uint64_t peak_rss_bytes = 0;
  int64_t retries = 0;
  std::optional<bool> validated;  // set with --validate
  bool schema_changed = false;
  std::optional<bool> quality_passed;  // set once the quality gates were evaluated
  std::string consistency;             // chunked or --snapshot: "snapshot" | "per-chunk"
  std::string resumed;                 // --resume: how much of the plan earlier runs had done
  std::string worker;                  // --worker: this worker's share of the shared plan
  Status error;                        // redacted: never holds a secret
};

// How `src` spells SQL for the config's engine (quoting by the live session).
plan::Dialect DialectOf(const config::Config& config, const source::Source& src);

ExportSummary RunExport(const config::Config& config, const config::ExportConfig& e,
                        state::StateStore& state, const RunOptions& options);

// The summary block of reference §3 (ends with a newline).
std::string FormatSummary(const ExportSummary& s);

std::string_view ToString(ExportStatus status);

}  // namespace rivet::pipeline
