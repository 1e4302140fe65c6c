#include "rivet/pipeline/pipeline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "rivet/common/bytes.h"
#include "rivet/common/clock.h"
#include "rivet/common/interrupt.h"
#include "rivet/config/loader.h"
#include "rivet/destination/destination.h"
#include "rivet/format/writer.h"
#include "rivet/pipeline/executor.h"
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

// Delivered, but not cleanly (ExportStatus::kDegraded): retries were needed, or a chunked
// export fell back from its shared snapshot. Both engines start chunked exports in one
// snapshot, so "per-chunk" at the end always means a fallback.
bool IsDegraded(const RunContext& ctx) {
  return ctx.summary.retries > 0 || ctx.summary.consistency == "per-chunk";
}

Status RecordRun(RunContext& ctx, SystemTime started) {
  const ExportSummary& s = ctx.summary;
  state::RunRecord r;
  r.run_id = s.run_id;
  r.export_name = s.export_name;
  switch (s.status) {
    case ExportStatus::kSuccess:
      r.status = state::RunStatus::kSuccess;
      break;
    case ExportStatus::kSkipped:
      r.status = state::RunStatus::kSkipped;
      break;
    case ExportStatus::kDegraded:
      r.status = state::RunStatus::kDegraded;
      break;
    case ExportStatus::kFailed:
      r.status = state::RunStatus::kFailed;
      break;
  }
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
  r.quality_passed = s.quality_passed;
  if (!s.error.ok()) {
    r.error_message = s.error.message();
    r.error_code = s.error.code();
  }
  return ctx.state.RecordRun(r);
}

// The sources of one run: `count` workers, plus for chunked exports a coordinator that holds
// the shared snapshot and answers MIN/MAX. All are connected.
struct Sources {
  std::unique_ptr<source::Source> coordinator;
  std::vector<std::unique_ptr<source::Source>> owned;
  std::vector<source::Source*> workers;
};

Result<Sources> OpenSources(RunContext& ctx, size_t count, bool coordinated) {
  const auto& make = ctx.options.factories.make_source;
  source::ReadOptions read = ReadOptionsFor(ctx.e.tuning);
  read.snapshot_id = ctx.options.snapshot_id;
  Sources s;
  for (size_t i = 0; i < count; ++i) {
    RIVET_ASSIGN_OR_RETURN(auto src, make(ctx.config.source, read));
    RIVET_RETURN_IF_ERROR(src->Connect());
    s.workers.push_back(src.get());
    s.owned.push_back(std::move(src));
  }
  if (coordinated) {
    RIVET_ASSIGN_OR_RETURN(s.coordinator, make(ctx.config.source, read));
    RIVET_RETURN_IF_ERROR(s.coordinator->Connect());
  }
  return s;
}

// Connecting is a step like any other: a retryable failure (server restarting, too many
// connections) is retried by the same policy as the units.
Result<Sources> OpenSourcesWithRetries(RunContext& ctx, size_t count, bool coordinated,
                                       const RetryRules& rules) {
  for (int64_t attempt = 1;; ++attempt) {
    auto s = OpenSources(ctx, count, coordinated);
    if (s.has_value()) return s;
    std::optional<int64_t> delay = RetryDelayMs(s.error().code(), attempt, false, rules);
    if (!delay) return s.error();
    spdlog::warn("export '{}': attempt {} failed ({}): {}; retrying in {}", ctx.e.name, attempt,
                 ErrorCodeName(s.error().code()), Redact(s.error().message(), ctx.config),
                 FormatDuration(*delay));
    {
      std::lock_guard lock(ctx.mu);
      ++ctx.summary.retries;
    }
    if (!SleepUnlessInterrupted(std::chrono::milliseconds(*delay))) return InterruptedError();
  }
}

// chunked: one snapshot for every chunk where the engine allows it; the summary says which.
void ShareChunkSnapshot(RunContext& ctx, Sources& sources) {
  if (!ctx.options.snapshot_id.empty()) {
    // --snapshot: every source already reads the held snapshot (ReadOptions::snapshot_id), and
    // losing it fails the run instead of falling back.
    ctx.summary.consistency = "snapshot";
    return;
  }
  Status shared = sources.coordinator->ShareSnapshot(sources.workers);
  if (!shared.ok()) {
    spdlog::warn(
        "export '{}': the chunks cannot read one snapshot ({}); each chunk reads its own "
        "(consistency: per-chunk)",
        ctx.e.name, Redact(shared.message(), ctx.config));
  }
  ctx.summary.consistency =
      shared.ok() && sources.coordinator->InSharedSnapshot() ? "snapshot" : "per-chunk";
}

// chunked: MIN/MAX of the chunk column (inside the shared snapshot), then the windows and the
// NULL chunk.
Result<std::vector<plan::ChunkSpec>> PlanChunkSpecs(RunContext& ctx, Sources& sources) {
  const config::ExportConfig& e = ctx.e;
  const plan::Dialect d = DialectOf(ctx.config, *sources.coordinator);
  RIVET_ASSIGN_OR_RETURN(
      auto rows, sources.coordinator->QueryText(plan::MinMaxQuery(d, e.query, e.chunk_column)));
  if (rows.size() != 1 || rows[0].size() != 2) {
    return Error(ErrorCode::kSource, "export '{}': MIN/MAX of chunk_column '{}' returned no row",
                 e.name, e.chunk_column);
  }
  std::optional<plan::ChunkWindow> range;
  if (rows[0][0] && rows[0][1]) {
    RIVET_ASSIGN_OR_RETURN(int64_t lo, plan::ParseChunkKey(e.name, e.chunk_column, *rows[0][0]));
    RIVET_ASSIGN_OR_RETURN(int64_t hi, plan::ParseChunkKey(e.name, e.chunk_column, *rows[0][1]));
    range = plan::ChunkWindow{lo, hi};
  }
  return plan::ChunkSpecs(range, e.chunk_size);
}

std::vector<plan::WorkUnit> ChunkUnits(RunContext& ctx, const source::Source& src,
                                       const std::vector<plan::ChunkSpec>& specs) {
  const config::ExportConfig& e = ctx.e;
  const plan::Dialect d = DialectOf(ctx.config, src);
  std::vector<plan::WorkUnit> units;
  for (const plan::ChunkSpec& spec : specs) {
    plan::WorkUnit u;
    // Rows whose chunk column is NULL are in no window: their own unit, never dropped.
    u.sql = spec.window
                ? plan::ChunkQuery(d, e.query, e.chunk_column, spec.window->lo, spec.window->hi)
                : plan::NullChunkQuery(d, e.query, e.chunk_column);
    u.chunk_index = spec.index;
    u.chunk_column = e.chunk_column;
    u.name_suffix = fmt::format("_chunk{}", spec.index);
    u.empty_makes_no_file = true;
    units.push_back(std::move(u));
  }
  return units;
}

// What a checkpoint plan's fingerprint covers (reference §4): the query after params, the
// chunk column and the chunk size.
std::string PlanHash(const config::ExportConfig& e) {
  const std::string size = std::to_string(e.chunk_size);
  return plan::Fingerprint({e.query, e.chunk_column, size});
}
std::string QueryHash(const config::ExportConfig& e) { return plan::Fingerprint({e.query}); }

std::string CommandFor(const RunContext& ctx, std::string_view command) {
  return fmt::format("rivet {} --config {} --export {}", command,
                     ctx.config.path.empty() ? "rivet.yaml" : ctx.config.path, ctx.e.name);
}

// --resume on a plan made with other settings: say what changed and how to go on.
Status FingerprintMismatch(const RunContext& ctx, const state::ChunkPlan& plan) {
  const config::ExportConfig& e = ctx.e;
  std::vector<std::string> changes;
  if (plan.query_hash != QueryHash(e)) changes.emplace_back("the query (after params)");
  if (plan.chunk_column != e.chunk_column) {
    changes.push_back(
        fmt::format("chunk_column ('{}' -> '{}')", plan.chunk_column, e.chunk_column));
  }
  if (plan.chunk_size != e.chunk_size) {
    changes.push_back(fmt::format("chunk_size ({} -> {})", plan.chunk_size, e.chunk_size));
  }
  if (changes.empty()) changes.emplace_back("the plan's fingerprint");
  return Error(ErrorCode::kConfig,
               "export '{}': cannot resume run {}: {} changed since its chunk plan was made; "
               "restore the old settings to resume, or drop the plan with `{}` and run again "
               "without --resume",
               e.name, plan.run_id, fmt::join(changes, ", "),
               CommandFor(ctx, "state reset-chunks"));
}

// chunk_checkpoint, before any connection: the in-progress plan that --resume continues
// (nullopt: this run makes a new plan), or the refusal that says how to go on.
Result<std::optional<state::ChunkPlan>> PlanToResume(RunContext& ctx) {
  const config::ExportConfig& e = ctx.e;
  RIVET_ASSIGN_OR_RETURN(auto existing, ctx.state.InProgressChunkPlan(e.name));
  if (!ctx.options.resume) {
    if (!existing) return existing;
    int64_t done = 0;
    for (const state::ChunkTask& t : existing->tasks) {
      done += t.status == state::ChunkStatus::kCompleted ? 1 : 0;
    }
    return Error(ErrorCode::kConfig,
                 "export '{}': checkpointed run {} is in progress ({} of {} chunks done); "
                 "continue it with `{} --resume`, or drop its plan with `{}`",
                 e.name, existing->run_id, done, existing->tasks.size(), CommandFor(ctx, "run"),
                 CommandFor(ctx, "state reset-chunks"));
  }
  if (!existing) {
    return Error(ErrorCode::kConfig,
                 "export '{}': --resume found no in-progress chunk plan to continue; run "
                 "without --resume to start one",
                 e.name);
  }
  if (existing->plan_hash != PlanHash(e)) return FingerprintMismatch(ctx, *existing);
  return existing;
}

// A checkpoint plan of `specs` under this run's run_id, every chunk pending.
state::ChunkPlan NewChunkPlan(const RunContext& ctx, const std::vector<plan::ChunkSpec>& specs) {
  const config::ExportConfig& e = ctx.e;
  state::ChunkPlan plan;
  plan.run_id = ctx.summary.run_id;
  plan.export_name = e.name;
  plan.plan_hash = PlanHash(e);
  plan.query_hash = QueryHash(e);
  plan.chunk_column = e.chunk_column;
  plan.chunk_size = e.chunk_size;
  plan.created_at = FormatIsoSeconds(std::chrono::system_clock::now());
  plan.updated_at = plan.created_at;
  for (const plan::ChunkSpec& spec : specs) {
    state::ChunkTask task;
    task.idx = spec.index;
    std::tie(task.start_key, task.end_key) = plan::ChunkTaskKeys(spec);
    plan.tasks.push_back(std::move(task));
  }
  return plan;
}

// chunk_checkpoint: the units of this run. A new plan (every chunk pending) is written before
// the first chunk runs; a resumed one keeps its run_id and skips its completed chunks.
Result<std::vector<plan::WorkUnit>> CheckpointedUnits(
    RunContext& ctx, Sources& sources, const std::optional<state::ChunkPlan>& resume) {
  if (!resume) {
    RIVET_ASSIGN_OR_RETURN(auto specs, PlanChunkSpecs(ctx, sources));
    RIVET_RETURN_IF_ERROR(ctx.state.CreateChunkPlan(NewChunkPlan(ctx, specs)));
    return ChunkUnits(ctx, *sources.coordinator, specs);
  }

  RIVET_ASSIGN_OR_RETURN(int64_t reset, ctx.state.ResetUnfinishedChunks(resume->run_id));
  std::vector<plan::ChunkSpec> todo;
  for (const state::ChunkTask& t : resume->tasks) {
    if (t.status == state::ChunkStatus::kCompleted) continue;
    RIVET_ASSIGN_OR_RETURN(auto spec, plan::ChunkSpecFromTask(t.idx, t.start_key, t.end_key));
    todo.push_back(spec);
  }
  // Chunks completed earlier read an earlier snapshot: the summary says the run was resumed.
  ctx.summary.resumed =
      fmt::format("{} of {} chunks were done by earlier runs ({} restarted)",
                  resume->tasks.size() - todo.size(), resume->tasks.size(), reset);
  ctx.summary.run_id = resume->run_id;
  return ChunkUnits(ctx, *sources.coordinator, todo);
}

// --worker: renews the lease of every chunk this process holds, every third of the lease, on
// its own thread. A claim that no longer holds was taken over by another worker (this one
// stalled, or lost the store); its completion is then refused by the store (fencing).
class LeaseKeeper {
 public:
  LeaseKeeper(RunContext& ctx, std::chrono::milliseconds lease)
      : ctx_(ctx), lease_(lease), thread_([this] { Loop(); }) {}
  ~LeaseKeeper() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void Hold(int64_t idx, const std::string& token) {
    std::lock_guard lock(mu_);
    held_[idx] = token;
  }
  void Release(int64_t idx) {
    std::lock_guard lock(mu_);
    held_.erase(idx);
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, lease_ / 3, [this] { return done_; })) {
      const std::map<int64_t, std::string> held = held_;
      lock.unlock();
      for (const auto& [idx, token] : held) {
        Result<bool> kept = ctx_.state.RenewChunkLease(ctx_.summary.run_id, idx, token, lease_);
        if (!kept.has_value()) {
          spdlog::warn("export '{}': cannot renew the lease of chunk {}: {}", ctx_.e.name, idx,
                       Redact(kept.error().message(), ctx_.config));
        } else if (!*kept) {
          spdlog::warn(
              "export '{}': chunk {} was taken over by another worker (this one held "
              "it past its lease); that worker delivers it",
              ctx_.e.name, idx);
        }
      }
      lock.lock();
    }
  }

  RunContext& ctx_;
  const std::chrono::milliseconds lease_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool done_ = false;
  std::map<int64_t, std::string> held_;
  std::thread thread_;  // last: starts once the members above exist
};

// "host:pid", stored with each claim so `rivet state chunks` can say who holds a chunk.
std::string WorkerName() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host.data(), ::getpid());
}

// --worker: the export's shared plan: joined when another worker made it (no MIN/MAX needed),
// else made from this worker's MIN/MAX; exactly one of several starting at once creates it.
Result<state::ChunkPlan> JoinSharedPlan(RunContext& ctx, Sources& sources,
                                        const std::string& worker) {
  RIVET_ASSIGN_OR_RETURN(auto existing, ctx.state.InProgressChunkPlan(ctx.e.name));
  state::ChunkPlan mine;
  if (existing) {
    mine = *existing;
  } else {
    RIVET_ASSIGN_OR_RETURN(auto specs, PlanChunkSpecs(ctx, sources));
    mine = NewChunkPlan(ctx, specs);
  }
  RIVET_ASSIGN_OR_RETURN(state::JoinedPlan joined, ctx.state.CreateOrJoinChunkPlan(mine));
  if (joined.plan.plan_hash != PlanHash(ctx.e)) return FingerprintMismatch(ctx, joined.plan);
  spdlog::info("export '{}': worker {} {} plan {} ({} chunks)", ctx.e.name, worker,
               joined.created ? "created" : "joined", joined.plan.run_id, joined.plan.tasks.size());
  return joined.plan;
}

// --worker: a chunk that ran out of tries on any worker ends the plan for every worker.
Status FailedChunkError(const RunContext& ctx) {
  RIVET_ASSIGN_OR_RETURN(auto plan, ctx.state.InProgressChunkPlan(ctx.e.name));
  if (!plan) return Status::Ok();
  for (const state::ChunkTask& t : plan->tasks) {
    if (t.status != state::ChunkStatus::kFailed) continue;
    return Error(ErrorCode::kSource,
                 "export '{}': chunk {} of plan {} failed for good ({}); fix the cause and "
                 "continue with `{} --resume`",
                 ctx.e.name, t.idx, plan->run_id, t.last_error.value_or("no message"),
                 CommandFor(ctx, "run"));
  }
  return Status::Ok();
}

// --worker: claims chunks of the shared plan until none is left. With every remaining chunk
// held by other workers it waits, since a worker that dies hands its chunk back when the
// lease runs out. The worker that completes the last chunk ends the plan and records the run.
Status ExecuteAsWorker(RunContext& ctx, Sources& sources, const RetryRules& rules) {
  const std::string worker = WorkerName();
  RIVET_ASSIGN_OR_RETURN(state::ChunkPlan plan, JoinSharedPlan(ctx, sources, worker));
  ctx.summary.run_id = plan.run_id;
  // Files are named from the plan, so every worker of it names a chunk alike.
  ctx.file_base = plan.run_id;
  std::replace(ctx.file_base.begin(), ctx.file_base.end(), 'T', '_');
  std::replace(ctx.file_base.begin(), ctx.file_base.end(), '.', '_');
  ctx.files_recorded_by_hooks = true;
  ctx.records_run = false;

  RetryRules unit_rules = rules;
  unit_rules.max_attempts = ctx.e.chunk_max_attempts.value_or(rules.max_attempts);
  const std::chrono::milliseconds lease = ctx.options.lease;
  LeaseKeeper keeper(ctx, lease);
  std::mutex claim_mu;
  std::atomic<int64_t> chunks{0};
  UnitSupplier next = [&]() -> Result<std::optional<plan::WorkUnit>> {
    std::lock_guard lock(claim_mu);
    for (;;) {
      if (Interrupted()) return InterruptedError();
      RIVET_ASSIGN_OR_RETURN(
          auto claim, ctx.state.ClaimChunk(plan.run_id, lease, worker, unit_rules.max_attempts));
      if (claim) {
        RIVET_ASSIGN_OR_RETURN(
            auto spec, plan::ChunkSpecFromTask(claim->idx, claim->start_key, claim->end_key));
        plan::WorkUnit unit = ChunkUnits(ctx, *sources.coordinator, {spec}).front();
        // A chunk taken over may have a file already: its worker delivered it and died before
        // recording it, or froze past its lease between the fence and the delivery. Files are
        // never replaced, so each later claim writes a name of its own; the manifest lists the
        // completing claim's files only.
        if (claim->attempts > 1) unit.name_suffix += fmt::format("_attempt{}", claim->attempts);
        unit.claim_token = claim->token;
        keeper.Hold(claim->idx, claim->token);
        return std::optional<plan::WorkUnit>(std::move(unit));
      }
      RIVET_ASSIGN_OR_RETURN(int64_t pending, ctx.state.PendingChunkCount(plan.run_id));
      if (pending == 0) return std::optional<plan::WorkUnit>();
      RIVET_RETURN_IF_ERROR(FailedChunkError(ctx));
      const auto pause = std::min<std::chrono::milliseconds>(lease / 2, std::chrono::seconds(1));
      if (!SleepUnlessInterrupted(pause)) return InterruptedError();
    }
  };
  UnitHooks hooks;
  hooks.on_success = [&](const plan::WorkUnit& unit, const UnitRunner& runner) -> Status {
    keeper.Release(*unit.chunk_index);
    RIVET_ASSIGN_OR_RETURN(
        bool completed,
        ctx.state.CompleteClaimedChunk(plan.run_id, *unit.chunk_index, unit.claim_token,
                                       static_cast<int64_t>(runner.rows()), runner.files()));
    if (completed) {
      ++chunks;
    } else {
      spdlog::warn(
          "export '{}': chunk {} was taken over by another worker before it completed "
          "here; the file is the other worker's to record",
          ctx.e.name, *unit.chunk_index);
    }
    return Status::Ok();
  };
  hooks.on_failure = [&](const plan::WorkUnit& unit, const Status& error) {
    keeper.Release(*unit.chunk_index);
    auto s = ctx.state.FailClaimedChunk(plan.run_id, *unit.chunk_index, unit.claim_token,
                                        state::ChunkStatus::kFailed,
                                        Redact(error.message(), ctx.config));
    if (!s.has_value()) {
      spdlog::warn("export '{}': cannot record chunk {} as failed: {}", ctx.e.name,
                   *unit.chunk_index, s.error().message());
    }
  };
  RIVET_RETURN_IF_ERROR(RunUnits(ctx, next, sources.workers, unit_rules, hooks));

  RIVET_ASSIGN_OR_RETURN(bool finished, ctx.state.FinishPlanIfDone(plan.run_id));
  ctx.summary.worker =
      fmt::format("{} chunk(s) of {} by this worker{}", chunks.load(), plan.tasks.size(),
                  finished ? "; it finished the plan"
                           : "; the plan is finished "
                             "by the last worker");
  if (finished) {
    // The run's record covers the whole plan, whichever worker delivered each chunk.
    RIVET_ASSIGN_OR_RETURN(auto done, ctx.state.LatestChunkPlan(ctx.e.name));
    if (done) {
      uint64_t rows = 0;
      uint64_t files = 0;
      for (const state::ChunkTask& t : done->tasks) {
        rows += static_cast<uint64_t>(t.rows);
        if (t.file_name && !t.file_name->empty()) {
          files +=
              1 + static_cast<uint64_t>(std::count(t.file_name->begin(), t.file_name->end(), ','));
        }
      }
      std::lock_guard lock(ctx.mu);
      ctx.summary.rows = rows;
      ctx.summary.files = files;
    }
    ctx.records_run = true;
  }
  return Status::Ok();
}

// The single unit of full, incremental and time_window exports.
Result<plan::WorkUnit> PlanSingle(RunContext& ctx, const source::Source& src,
                                  std::optional<state::CursorState>* stored) {
  const config::ExportConfig& e = ctx.e;
  const plan::Dialect d = DialectOf(ctx.config, src);
  plan::WorkUnit unit;
  switch (e.mode) {
    case config::Mode::kFull:
      unit.sql = e.query;
      break;
    case config::Mode::kIncremental: {
      RIVET_ASSIGN_OR_RETURN(*stored, ctx.state.GetCursor(e.name));
      std::optional<plan::CursorValue> last;
      if (*stored) {
        last = plan::CursorValue{plan::CursorKindFromString((*stored)->cursor_type),
                                 (*stored)->last_cursor};
      }
      RIVET_ASSIGN_OR_RETURN(unit.sql, plan::IncrementalQuery(d, e.query, e.cursor_column, last));
      unit.cursor_column = e.cursor_column;
      break;
    }
    case config::Mode::kTimeWindow: {
      RIVET_ASSIGN_OR_RETURN(
          unit.sql, plan::TimeWindowQuery(d, e.query, e.time_column, e.time_column_type,
                                          e.days_window, std::chrono::system_clock::now()));
      break;
    }
    case config::Mode::kChunked:
      return Error(ErrorCode::kInternal, "chunked exports have several units");
  }
  return unit;
}

// quality configured, after every unit succeeded: the gates decide whether the held files are
// delivered (in plan order) or dropped, so a failing export leaves nothing at the destination.
Status DeliverIfQualityPasses(RunContext& ctx) {
  RIVET_ASSIGN_OR_RETURN(std::vector<std::string> failures, ctx.quality->Failures());
  ctx.summary.quality_passed = failures.empty();
  if (!failures.empty()) {
    for (const std::string& f : failures) spdlog::warn("quality FAIL: {}", f);
    ctx.held.clear();  // aborts every held file
    return Error(ErrorCode::kQuality, "quality checks failed: {}", fmt::join(failures, "; "));
  }
  std::sort(ctx.held.begin(), ctx.held.end(), [](const FinishedFile& a, const FinishedFile& b) {
    return std::tie(a.unit_order, a.part_index) < std::tie(b.unit_order, b.part_index);
  });
  std::vector<state::FileRecord> files;
  for (FinishedFile& f : ctx.held) {
    bool delivered = false;
    RIVET_RETURN_IF_ERROR(CommitFile(ctx, f, files, delivered));
  }
  ctx.held.clear();
  return Status::Ok();
}

// Everything between the file name and the summary: plan the units, run them, advance the
// cursor. The cursor moves only after every file of the run is durable (reference §4).
Status Execute(RunContext& ctx) {
  const config::ExportConfig& e = ctx.e;
  const bool chunked = e.mode == config::Mode::kChunked;
  const RetryRules rules{e.tuning.max_retries + 1, e.tuning.retry_backoff_ms};
  const size_t workers = chunked ? static_cast<size_t>(std::max<int64_t>(1, e.parallel)) : 1;
  const bool checkpointed = chunked && e.chunk_checkpoint;
  const bool worker = checkpointed && ctx.options.worker;
  std::optional<state::ChunkPlan> resume;
  if (checkpointed && !worker) {
    RIVET_ASSIGN_OR_RETURN(resume, PlanToResume(ctx));
  }
  if (e.quality.configured()) {
    ctx.quality = std::make_unique<quality::Gate>(e.quality, e.name, workers);
  }
  RIVET_ASSIGN_OR_RETURN(Sources sources, OpenSourcesWithRetries(ctx, workers, chunked, rules));

  std::vector<plan::WorkUnit> units;
  std::optional<state::CursorState> stored;
  if (chunked) ShareChunkSnapshot(ctx, sources);
  if (worker) return ExecuteAsWorker(ctx, sources, rules);
  if (chunked) {
    if (checkpointed) {
      RIVET_ASSIGN_OR_RETURN(units, CheckpointedUnits(ctx, sources, resume));
    } else {
      RIVET_ASSIGN_OR_RETURN(auto specs, PlanChunkSpecs(ctx, sources));
      if (const auto& shard = ctx.options.shard) {
        std::erase_if(specs, [&](const plan::ChunkSpec& c) { return !shard->Owns(c.index); });
      }
      units = ChunkUnits(ctx, *sources.coordinator, specs);
    }
  } else {
    if (!ctx.options.snapshot_id.empty()) ctx.summary.consistency = "snapshot";
    RIVET_ASSIGN_OR_RETURN(plan::WorkUnit unit, PlanSingle(ctx, *sources.workers[0], &stored));
    units.push_back(std::move(unit));
  }

  std::atomic<size_t> skipped{0};
  std::optional<plan::CursorValue> new_cursor;
  UnitHooks hooks;
  hooks.on_success = [&](const plan::WorkUnit& unit, const UnitRunner& runner) {
    if (runner.skipped()) ++skipped;
    if (runner.last_cursor()) new_cursor = runner.last_cursor();  // one unit: no race
    if (!checkpointed) return Status::Ok();
    // The chunk is completed in the same transaction that records its files (reference §4).
    return ctx.state.CompleteChunk(ctx.summary.run_id, *unit.chunk_index,
                                   static_cast<int64_t>(runner.rows()), runner.files());
  };
  RetryRules unit_rules = rules;
  if (checkpointed) {
    ctx.files_recorded_by_hooks = true;
    unit_rules.max_attempts = e.chunk_max_attempts.value_or(rules.max_attempts);
    hooks.on_try = [&](const plan::WorkUnit& unit) {
      return ctx.state.StartChunk(ctx.summary.run_id, *unit.chunk_index);
    };
    hooks.on_failure = [&](const plan::WorkUnit& unit, const Status& error) {
      Status s =
          ctx.state.FailChunk(ctx.summary.run_id, *unit.chunk_index, state::ChunkStatus::kFailed,
                              Redact(error.message(), ctx.config));
      if (!s.ok()) {
        spdlog::warn("export '{}': cannot record chunk {} as failed: {}", e.name, *unit.chunk_index,
                     s.message());
      }
    };
  }
  RIVET_RETURN_IF_ERROR(RunUnits(ctx, units, sources.workers, unit_rules, hooks));
  if (ctx.quality) RIVET_RETURN_IF_ERROR(DeliverIfQualityPasses(ctx));
  if (checkpointed) {
    RIVET_RETURN_IF_ERROR(
        ctx.state.SetChunkPlanStatus(ctx.summary.run_id, state::ChunkPlanStatus::kCompleted));
  }

  if (chunked && ctx.summary.consistency == "snapshot") {
    for (source::Source* w : sources.workers) {
      if (!w->InSharedSnapshot()) {
        spdlog::warn(
            "export '{}': a worker lost the shared snapshot (its connection was "
            "replaced); later chunks read their own (consistency: per-chunk)",
            e.name);
        ctx.summary.consistency = "per-chunk";
        break;
      }
    }
  }
  if (skipped == units.size() && (e.skip_empty || chunked) && ctx.summary.files == 0) {
    ctx.summary.status = e.skip_empty ? ExportStatus::kSkipped : ExportStatus::kSuccess;
  }
  if (new_cursor) {
    state::CursorState cursor;
    cursor.export_name = e.name;
    cursor.cursor_column = e.cursor_column;
    cursor.last_cursor = new_cursor->text;
    cursor.cursor_type = std::string(plan::ToString(new_cursor->kind));
    cursor.updated_at = FormatIsoSeconds(std::chrono::system_clock::now());
    RIVET_RETURN_IF_ERROR(ctx.state.SetCursor(cursor));
  }
  return Status::Ok();
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
    case ExportStatus::kDegraded:
      return "degraded";
  }
  return "failed";
}

plan::Dialect DialectOf(const config::Config& config, const source::Source& src) {
  plan::Dialect d;
  d.engine = config.source.type == config::SourceType::kMysql ? plan::Engine::kMysql
                                                              : plan::Engine::kPostgres;
  d.quote_identifier = [&src](std::string_view name) { return src.QuoteIdentifier(name); };
  d.quote_literal = [&src](std::string_view text) { return src.QuoteLiteral(text); };
  return d;
}

ExportSummary RunExport(const config::Config& config, const config::ExportConfig& e,
                        state::StateStore& state, const RunOptions& options) {
  RssSampler rss;
  ExportSummary summary;
  const SystemTime started = std::chrono::system_clock::now();
  RunContext ctx{config, e, state, options, summary, Clock::now(), "", {}, std::nullopt,
                 false,  0, {},    nullptr, {}};
  ctx.exported_at_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(started.time_since_epoch()).count();
  summary.export_name = e.name;
  summary.run_id = fmt::format("{}_{}", e.name, FormatRunIdTime(started));
  if (options.shard) {
    summary.run_id += fmt::format("_shard{}of{}", options.shard->index, options.shard->count);
  }
  summary.profile = ProfileLabel(e.tuning);
  summary.batch_size = e.tuning.batch_size;

  Status status = Status::Ok();
  if (e.destination.type == config::DestinationType::kStdout && e.max_file_size) {
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
  if (status.ok()) {
    summary.status = ExportStatus::kSuccess;
    status = Execute(ctx);
  }

  if (!status.ok()) {
    summary.status = ExportStatus::kFailed;
    summary.error = Status(status.code(), Redact(status.message(), config));
  } else if (summary.status == ExportStatus::kSuccess && IsDegraded(ctx)) {
    summary.status = ExportStatus::kDegraded;
  }
  TrackSchema(ctx);
  summary.tuning = fmt::format("profile={}, batch_size={}", summary.profile, summary.batch_size);
  summary.max_source_share = e.tuning.max_source_share;
  summary.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ctx.started_mono)
          .count();
  summary.peak_rss_bytes = rss.peak();
  if (summary.status != ExportStatus::kFailed && ctx.schema_now) {
    Status s = state.RecordSchema(e.name, summary.run_id, *ctx.schema_now);
    if (!s.ok()) spdlog::warn("export '{}': cannot record the schema: {}", e.name, s.message());
  }
  Status recorded = ctx.records_run ? RecordRun(ctx, started) : Status::Ok();
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
  if (s.max_source_share) {
    line("pace", fmt::format("max_source_share={}, readers paused {}", *s.max_source_share,
                             FormatDuration(s.paused_ms)));
  }
  line("rows", std::to_string(s.rows));
  line("files", std::to_string(s.files));
  line("bytes", FormatBytes(s.bytes));
  line("duration", FormatDuration(s.duration_ms));
  line("peak RSS", fmt::format("{}MB (sampled during run)", s.peak_rss_bytes >> 20));
  if (s.retries > 0) line("retries", std::to_string(s.retries));
  if (s.validated) line("validated", *s.validated ? "pass" : "FAIL");
  line("schema", s.schema_changed ? "CHANGED" : "unchanged");
  if (s.quality_passed) line("quality", *s.quality_passed ? "pass" : "FAIL");
  if (!s.consistency.empty()) line("consistency", s.consistency);
  if (!s.resumed.empty()) line("resumed", s.resumed);
  if (!s.worker.empty()) line("worker", s.worker);
  if (!s.error.ok()) line("error", s.error.message());
  return out;
}

}  // namespace rivet::pipeline
