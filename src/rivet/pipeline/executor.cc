#include "rivet/pipeline/executor.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "rivet/common/bytes.h"
#include "rivet/common/interrupt.h"
#include "rivet/pipeline/redact.h"

namespace rivet::pipeline {

namespace {

// How often the watcher looks for SIGINT/SIGTERM, and repeats its cancel once one came.
constexpr auto kWatchInterval = std::chrono::milliseconds(20);
constexpr auto kCancelInterval = std::chrono::milliseconds(200);

std::string UnitLabel(const config::ExportConfig& e, const plan::WorkUnit& unit) {
  if (!unit.chunk_index) return fmt::format("export '{}'", e.name);
  return fmt::format("export '{}' chunk {}", e.name, *unit.chunk_index);
}

// With checkpoints the hooks record a unit's files with its completion; the files a failed try
// delivered before it failed are at the destination all the same, so they enter the manifest.
void RecordDeliveredFiles(RunContext& ctx, const UnitRunner& runner) {
  if (!ctx.files_recorded_by_hooks) return;
  for (const state::FileRecord& f : runner.files()) {
    Status s = ctx.state.RecordFile(f);
    if (!s.ok()) {
      spdlog::warn("export '{}': file {} was delivered but cannot be recorded: {}", ctx.e.name,
                   f.file_name, s.message());
    }
  }
}

// Every try of one unit on one worker.
Status RunUnit(RunContext& ctx, const plan::WorkUnit& unit, source::Source& src,
               destination::Destination& dest, const RetryRules& rules, const UnitHooks& hooks,
               const std::atomic<bool>& stop) {
  for (int64_t attempt = 1;; ++attempt) {
    if (Interrupted()) return InterruptedError();
    if (hooks.on_try) RIVET_RETURN_IF_ERROR(hooks.on_try(unit));
    UnitRunner runner(ctx, unit, dest);
    Status status = runner.Run(src);
    if (runner.taken_over()) {
      // Its rows are the other worker's to deliver and count.
      std::lock_guard lock(ctx.mu);
      ctx.summary.rows -= runner.rows();
      return Status::Ok();
    }
    if (status.ok()) {
      Status done = hooks.on_success ? hooks.on_success(unit, runner) : Status::Ok();
      if (!done.ok()) RecordDeliveredFiles(ctx, runner);
      return done;
    }
    RecordDeliveredFiles(ctx, runner);
    // The try's rows that did not reach the destination are not part of the run.
    uint64_t delivered = 0;
    for (const state::FileRecord& f : runner.files()) delivered += static_cast<uint64_t>(f.rows);
    {
      std::lock_guard lock(ctx.mu);
      ctx.summary.rows -= runner.rows() - delivered;
    }
    if (Interrupted()) return InterruptedError();
    std::optional<int64_t> delay =
        stop ? std::nullopt : RetryDelayMs(status.code(), attempt, runner.committed_any(), rules);
    if (!delay) return status;
    spdlog::warn("{}: attempt {} failed ({}): {}; retrying in {}", UnitLabel(ctx.e, unit), attempt,
                 ErrorCodeName(status.code()), Redact(status.message(), ctx.config),
                 FormatDuration(*delay));
    {
      std::lock_guard lock(ctx.mu);
      ++ctx.summary.retries;
    }
    if (!SleepUnlessInterrupted(std::chrono::milliseconds(*delay))) return InterruptedError();
  }
}

}  // namespace

Status RunUnits(RunContext& ctx, const std::vector<plan::WorkUnit>& units,
                const std::vector<source::Source*>& workers, const RetryRules& rules,
                const UnitHooks& hooks) {
  std::atomic<size_t> next{0};
  return RunUnits(
      ctx,
      [&]() -> Result<std::optional<plan::WorkUnit>> {
        const size_t i = next++;
        if (i >= units.size()) return std::optional<plan::WorkUnit>();
        return std::optional<plan::WorkUnit>(units[i]);
      },
      workers, rules, hooks);
}

Status RunUnits(RunContext& ctx, const UnitSupplier& next_unit,
                const std::vector<source::Source*>& workers, const RetryRules& rules,
                const UnitHooks& hooks) {
  std::atomic<bool> stop{false};
  std::atomic<bool> all_taken{false};
  std::mutex failure_mu;
  Status failure;

  auto work = [&](source::Source& src) {
    auto made = ctx.options.factories.make_destination(ctx.e.destination, ctx.config.directory);
    if (!made.has_value()) {
      std::lock_guard lock(failure_mu);
      if (failure.ok()) failure = made.error();
      stop = true;
      return;
    }
    destination::Destination* dest = made->get();
    {
      // Files held for the quality gates are delivered after the workers end.
      std::lock_guard lock(ctx.mu);
      ctx.destinations.push_back(std::move(*made));
    }
    while (!stop) {
      Result<std::optional<plan::WorkUnit>> unit = next_unit();
      if (unit.has_value() && !*unit) {
        all_taken = true;
        return;
      }
      Status status =
          unit.has_value() ? RunUnit(ctx, **unit, src, *dest, rules, hooks, stop) : unit.error();
      if (status.ok()) continue;
      if (unit.has_value() && hooks.on_failure) hooks.on_failure(**unit, status);
      std::lock_guard lock(failure_mu);
      if (failure.ok()) failure = status;
      stop = true;
      // A failed unit ends the run: the other workers' running statements are not waited for.
      for (source::Source* other : workers) {
        if (other != &src) other->Cancel();
      }
    }
  };

  // On SIGINT/SIGTERM: no new unit starts and the running statements are cancelled, again
  // every kCancelInterval (a cancel that lands between two statements of a try is lost).
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (Interrupted()) {
        stop = true;
        for (source::Source* src : workers) src->Cancel();
        std::this_thread::sleep_for(kCancelInterval);
      } else {
        std::this_thread::sleep_for(kWatchInterval);
      }
    }
  });
  if (workers.size() == 1) {
    work(*workers.front());
  } else {
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (source::Source* src : workers) threads.emplace_back(work, std::ref(*src));
    for (std::thread& t : threads) t.join();
  }
  done = true;
  watcher.join();
  // Interrupted with units left: the run is not complete, whatever the units in hand said.
  if (Interrupted() && !all_taken) return InterruptedError();
  return failure;
}

}  // namespace rivet::pipeline
