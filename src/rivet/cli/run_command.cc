#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "rivet/cli/commands.h"
#include "rivet/cli/parallel_exports.h"
#include "rivet/cli/state_commands.h"
#include "rivet/common/bytes.h"
#include "rivet/common/interrupt.h"
#include "rivet/notify/slack.h"
#include "rivet/pipeline/pipeline.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/plan/shard.h"
#include "rivet/preflight/check.h"
#include "rivet/state/state.h"

namespace rivet::cli {

namespace {

// A live line on stderr, only when stderr is a terminal: one entry per running export
// ("orders: 1200 rows, 5000 rows/s, 1.2 MB | users: ..."), redrawn at most every 250 ms. It
// also serialises every summary block: a block is written whole, with the line cleared first,
// so concurrent exports never interleave their summaries.
class ProgressLine {
 public:
  ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}

  void Update(const std::string& name, std::string text) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    entries_[name] = std::move(text);
    DrawLocked();
  }

  // Several entries at once (the children still running), drawn as one line.
  void UpdateEach(const std::vector<std::string>& names, const std::string& text) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    for (const std::string& name : names) entries_[name] = text;
    DrawLocked();
  }

  // Writes `block` (a summary, a child's whole stderr) in one piece and forgets `name`'s entry.
  // `log_first` logs on the cleared line, so a log line never trails a half-drawn progress line.
  void Print(const std::string& name, const std::string& block,
             const std::function<void()>& log_first = {}) {
    std::lock_guard lock(mu_);
    entries_.erase(name);
    if (enabled_ && shown_) {
      std::fputs("\r\033[2K", stderr);
      shown_ = false;
      last_ = {};  // the next update redraws the exports still running at once
    }
    if (log_first) log_first();
    std::fwrite(block.data(), 1, block.size(), stderr);
    std::fflush(stderr);
  }

 private:
  void DrawLocked() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < kRedrawInterval) return;
    last_ = now;
    std::string line = "\r\033[2K";
    bool first = true;
    for (const auto& [export_name, entry] : entries_) {
      line += fmt::format("{}{}: {}", first ? "" : " | ", export_name, entry);
      first = false;
    }
    if (shown_ && line == drawn_) return;  // children's "running" rarely changes
    std::fputs(line.c_str(), stderr);
    drawn_ = std::move(line);
    shown_ = true;
  }

  static constexpr auto kRedrawInterval = std::chrono::milliseconds(250);
  bool enabled_;
  bool shown_ = false;
  std::mutex mu_;
  std::map<std::string, std::string> entries_;
  std::string drawn_;
  std::chrono::steady_clock::time_point last_{};
};

std::string ProgressText(const pipeline::Progress& p) {
  double rate = p.elapsed_s > 0 ? static_cast<double>(p.rows) / p.elapsed_s : 0;
  return fmt::format("{} rows, {:.0f} rows/s, {}", p.rows, rate, FormatBytes(p.bytes));
}

// The most severe exit code of the exports seen so far (threads report concurrently).
class WorstExit {
 public:
  void Fold(ExitCode code) {
    std::lock_guard lock(mu_);
    if (Severity(code) > Severity(worst_)) worst_ = code;
  }
  ExitCode get() {
    std::lock_guard lock(mu_);
    return worst_;
  }

 private:
  std::mutex mu_;
  ExitCode worst_ = ExitCode::kSuccess;
};

// Guide §19: after the run is recorded, one Slack POST when a configured trigger matches. A
// failed notification is a warning; it never changes the export's outcome or the exit code.
// Neither the warning nor anything else names the webhook URL.
void NotifySlack(const config::Config& config, const pipeline::ExportSummary& summary) {
  if (!config.slack || !config.slack->webhook_url) return;
  notify::RunFacts facts;
  facts.export_name = summary.export_name;
  facts.run_id = summary.run_id;
  facts.status = std::string(pipeline::ToString(summary.status));
  facts.rows = summary.rows;
  facts.duration_ms = summary.duration_ms;
  facts.retries = summary.retries;
  facts.consistency = summary.consistency;
  facts.schema_changed = summary.schema_changed;
  if (!summary.error.ok()) facts.error = summary.error.message();
  const std::vector<std::string> triggers = notify::MatchingTriggers(config.slack->on, facts);
  if (triggers.empty()) return;
  Status sent = notify::PostSlackMessage(config.slack->webhook_url->reveal(),
                                         notify::SlackMessageJson(facts, triggers));
  if (sent.ok()) {
    spdlog::info("export '{}': Slack notification sent ({})", summary.export_name,
                 fmt::join(triggers, ", "));
  } else {
    spdlog::warn("export '{}': Slack notification failed: {}", summary.export_name, sent.message());
  }
}

// One thread per export, each with its own state connection (SQLite in WAL mode with a busy
// timeout takes their writes one at a time). Every export is attempted; an interrupt reaches
// each through the global flag, and each records its own run before its thread ends.
void RunInThreads(const std::vector<const config::ExportConfig*>& selected,
                  const state::StateLocation& state_location,
                  const std::function<void(const config::ExportConfig&, state::StateStore&)>& run,
                  WorstExit& worst) {
  std::vector<std::thread> threads;
  threads.reserve(selected.size());
  for (const config::ExportConfig* e : selected) {
    threads.emplace_back([e, &state_location, &run, &worst] {
      auto store = state::OpenStateStore(state_location);
      if (!store.has_value()) {
        spdlog::error("export '{}' failed: {}", e->name, store.error().message());
        worst.Fold(ExitCodeFor(store.error().code()));
        return;
      }
      run(*e, *store);
    });
  }
  for (std::thread& t : threads) t.join();
}

// Parallel exports hold all their connections at once: warn (as `rivet check` would) when the
// server has fewer free. One short query on a connection closed before the exports start; a
// server that cannot answer is not a reason to refuse the run.
void WarnAboutParallelConnections(const config::Config& config,
                                  const std::vector<const config::ExportConfig*>& selected) {
  auto src = source::MakeSource(config.source, pipeline::ReadOptionsFor(selected[0]->tuning));
  Status connected = src.has_value() ? (*src)->Connect() : src.error();
  if (!connected.ok()) {
    spdlog::info("parallel exports: connection limit not checked: {}", connected.message());
    return;
  }
  auto server = preflight::ReadConnections(**src, config.source.type);
  if (!server.has_value()) {
    spdlog::info("parallel exports: connection limit not checked: {}", server.error().message());
    return;
  }
  if (auto warning = preflight::ParallelConnectionWarning(selected, *server)) {
    spdlog::warn("{}", *warning);
  }
}

// --shard splits the chunks of a plan that each shard computes alike; it has nothing to split
// in a single-unit mode, and a checkpointed plan is shared through the state store instead.
Status CheckShardable(const config::Config& config, const config::ExportConfig& e) {
  if (e.mode != config::Mode::kChunked) {
    return Error(ErrorCode::kConfig,
                 "{}: --shard splits the chunks of a chunked export, and export '{}' is mode "
                 "{}: every shard would export all of it; run it once, without --shard, or "
                 "select the chunked exports with --export",
                 config.path, e.name, config::ToString(e.mode));
  }
  if (e.chunk_checkpoint) {
    return Error(ErrorCode::kConfig,
                 "{}: export '{}' has chunk_checkpoint: true, whose plan is shared through the "
                 "state store: start every process with --worker instead of --shard (or set "
                 "chunk_checkpoint: false for stateless shards)",
                 config.path, e.name);
  }
  return Status::Ok();
}

// --worker shares a checkpointed plan through the state store; it joins an in-progress plan by
// itself, so --resume (one process continuing a plan) and --shard (no shared plan) do not apply.
Status CheckWorkable(const config::Config& config, const config::ExportConfig& e,
                     const RunFlags& flags) {
  if (e.mode != config::Mode::kChunked || !e.chunk_checkpoint) {
    return Error(ErrorCode::kConfig,
                 "{}: --worker claims the chunks of a shared checkpoint plan, and export '{}' "
                 "is not a chunked export with chunk_checkpoint: true; set both, or select the "
                 "export with --export",
                 config.path, e.name);
  }
  if (flags.shard || flags.resume) {
    return Error(ErrorCode::kConfig,
                 "{}: --worker cannot be combined with {}: workers join the in-progress plan "
                 "themselves and share it chunk by chunk",
                 config.path, flags.shard ? "--shard" : "--resume");
  }
  return Status::Ok();
}

}  // namespace

int RunCommand(const RunFlags& flags, const std::string& version) {
  auto loaded = LoadForCommand(flags.config_path, flags.params);
  if (!loaded.has_value()) return ReportError(loaded.error());
  const config::Config& config = loaded->config;

  auto chosen = SelectExports(config, flags.export_name);
  if (!chosen.has_value()) return ReportError(chosen.error());
  const std::vector<const config::ExportConfig*>& selected = *chosen;
  std::optional<plan::Shard> shard;
  if (flags.shard) {
    const char* index = std::getenv("JOB_COMPLETION_INDEX");
    auto parsed = plan::ParseShard(*flags.shard,
                                   index ? std::optional<std::string_view>(index) : std::nullopt);
    if (!parsed.has_value()) return ReportError(parsed.error());
    shard = *parsed;
  }
  if (!flags.snapshot.empty()) {  // refused before anything connects
    Status engine = source::CheckSnapshotEngine(config.source.type, "--snapshot");
    if (!engine.ok()) return ReportError(engine);
    Status id = source::CheckSnapshotId(flags.snapshot);
    if (!id.ok()) return ReportError(id);
  }
  // Every selected export must be runnable before any of them starts.
  for (const config::ExportConfig* e : selected) {
    if (shard) {
      Status s = CheckShardable(config, *e);
      if (!s.ok()) return ReportError(s);
    }
    if (flags.worker) {
      Status s = CheckWorkable(config, *e, flags);
      if (!s.ok()) return ReportError(s);
    }
    // --resume continues checkpoint plans; re-running another export from scratch under it
    // would surprise.
    if (flags.resume && !(e->mode == config::Mode::kChunked && e->chunk_checkpoint)) {
      return ReportError(Error(ErrorCode::kConfig,
                               "{}: --resume continues a chunked export with chunk_checkpoint: "
                               "true, and export '{}' is not one; name the export to resume "
                               "with --export",
                               config.path, e->name));
    }
  }

  const Strategy strategy =
      ChooseStrategy(flags.parallel_exports || config.parallel_exports,
                     flags.parallel_export_processes || config.parallel_export_processes,
                     flags.export_name.has_value(), selected.size());
  if (strategy == Strategy::kSequential &&
      (flags.parallel_exports || flags.parallel_export_processes || config.parallel_exports ||
       config.parallel_export_processes)) {
    spdlog::info("parallel exports: {} to run side by side; running it alone",
                 flags.export_name ? "--export names one export" : "only one export");
  }
  if (strategy != Strategy::kSequential) {
    Status stdout_ok = CheckParallelStdout(config, selected);
    if (!stdout_ok.ok()) return ReportError(stdout_ok);
  }

  // Opened (and migrated) here before anything runs in parallel, so threads and children only
  // ever open a store that is already at the current schema version.
  auto state_location = StateLocationFor(config);
  if (!state_location.has_value()) return ReportError(state_location.error());
  auto state = state::OpenStateStore(*state_location);
  if (!state.has_value()) return ReportError(state.error());
  if (strategy != Strategy::kSequential) WarnAboutParallelConnections(config, selected);

  ProgressLine progress;
  WorstExit worst;
  InstallInterruptHandlers();
  if (strategy == Strategy::kProcesses) {
    ChildArguments args{flags.config_path, flags.params, flags.validate, flags.resume, {}};
    if (shard) args.pass_on = {"--shard", fmt::format("{}/{}", shard->index, shard->count)};
    if (flags.worker) {
      args.pass_on.insert(args.pass_on.end(),
                          {"--worker", "--lease-seconds", std::to_string(flags.lease_seconds)});
    }
    if (!flags.snapshot.empty()) {
      args.pass_on.insert(args.pass_on.end(), {"--snapshot", flags.snapshot});
    }
    std::vector<std::string> names;
    for (const config::ExportConfig* e : selected) names.push_back(e->name);
    // Each child prints its own summary and sends its own Slack message (it is a whole
    // `rivet run --export NAME`); the parent passes its stderr on whole and folds its code.
    RunExportProcesses(
        args, names,
        [&](const std::string& name, ExitCode code, const std::string& text) {
          progress.Print(name, text);
          worst.Fold(code);
        },
        [&](const std::vector<std::string>& running) { progress.UpdateEach(running, "running"); });
  } else {
    pipeline::RunOptions options;
    options.validate = flags.validate;
    options.resume = flags.resume;
    options.shard = shard;
    options.worker = flags.worker;
    options.lease = std::chrono::seconds(flags.lease_seconds);
    options.version = version;
    options.snapshot_id = flags.snapshot;
    options.on_progress = [&progress](const std::string& name, const pipeline::Progress& p) {
      progress.Update(name, ProgressText(p));
    };
    // The tail of every export, whichever strategy ran it.
    auto finish = [&](const pipeline::ExportSummary& summary) {
      const bool failed = summary.status == pipeline::ExportStatus::kFailed;
      if (failed) worst.Fold(ExitCodeFor(summary.error.code()));
      progress.Print(summary.export_name, pipeline::FormatSummary(summary), [&] {
        if (failed) {
          spdlog::error("export '{}' failed: {}", summary.export_name, summary.error.message());
        }
      });
      NotifySlack(config, summary);
    };
    if (strategy == Strategy::kThreads) {
      RunInThreads(
          selected, *state_location,
          [&](const config::ExportConfig& e, state::StateStore& s) {
            // On the line from the start, before its first batch, so every running export shows.
            progress.Update(e.name, "starting");
            finish(pipeline::RunExport(config, e, s, options));
          },
          worst);
    } else {
      for (const config::ExportConfig* e : selected) {
        // After SIGINT/SIGTERM no further export starts; the interrupted one was recorded.
        if (Interrupted()) break;
        finish(pipeline::RunExport(config, *e, *state, options));
      }
    }
  }
  // 130 for SIGINT, 143 for SIGTERM: the shell's convention for a process ended by a signal.
  if (Interrupted()) return 128 + InterruptSignal();
  return static_cast<int>(worst.get());
}

}  // namespace rivet::cli
