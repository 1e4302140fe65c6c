#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "rivet/cli/commands.h"
#include "rivet/common/bytes.h"
#include "rivet/common/interrupt.h"
#include "rivet/notify/slack.h"
#include "rivet/pipeline/pipeline.h"
#include "rivet/state/state.h"

namespace rivet::cli {

namespace {

// A live "rows, rows/s, bytes" line on stderr, only when stderr is a terminal.
class ProgressLine {
 public:
  ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}

  void Update(const std::string& name, const pipeline::Progress& p) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double rate = p.elapsed_s > 0 ? static_cast<double>(p.rows) / p.elapsed_s : 0;
    std::string line = fmt::format("\r\033[2K{}: {} rows, {:.0f} rows/s, {}", name, p.rows, rate,
                                   FormatBytes(p.bytes));
    std::fputs(line.c_str(), stderr);
    shown_ = true;
  }

  void Clear() {
    if (!enabled_ || !shown_) return;
    std::fputs("\r\033[2K", stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
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

}  // namespace

int RunCommand(const RunFlags& flags, const std::string& version) {
  auto loaded = LoadForCommand(flags.config_path, flags.params);
  if (!loaded.has_value()) return ReportError(loaded.error());
  const config::Config& config = loaded->config;

  if (flags.parallel_exports || flags.parallel_export_processes) {
    return ReportError(Error(ErrorCode::kNotSupported,
                             "--parallel-exports / --parallel-export-processes are not supported "
                             "yet; run without them (exports run one after another)"));
  }
  auto chosen = SelectExports(config, flags.export_name);
  if (!chosen.has_value()) return ReportError(chosen.error());
  const std::vector<const config::ExportConfig*>& selected = *chosen;
  // Every selected export must be runnable before any of them starts.
  for (const config::ExportConfig* e : selected) {
    Status s = config::CheckSupported(config, *e);
    if (!s.ok()) return ReportError(s.WithContext(config.path));
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

  auto state = state::StateStore::Open(config.directory + "/" + std::string(state::kStateFileName));
  if (!state.has_value()) return ReportError(state.error());

  ProgressLine progress;
  pipeline::RunOptions options;
  options.validate = flags.validate;
  options.resume = flags.resume;
  options.version = version;
  options.on_progress = [&progress](const std::string& name, const pipeline::Progress& p) {
    progress.Update(name, p);
  };

  InstallInterruptHandlers();
  ExitCode worst = ExitCode::kSuccess;
  for (const config::ExportConfig* e : selected) {
    // After SIGINT/SIGTERM no further export starts; the interrupted one was recorded.
    if (Interrupted()) break;
    pipeline::ExportSummary summary = pipeline::RunExport(config, *e, *state, options);
    progress.Clear();
    if (summary.status == pipeline::ExportStatus::kFailed) {
      spdlog::error("export '{}' failed: {}", e->name, summary.error.message());
      ExitCode code = ExitCodeFor(summary.error.code());
      if (Severity(code) > Severity(worst)) worst = code;
    }
    std::fputs(pipeline::FormatSummary(summary).c_str(), stderr);
    NotifySlack(config, summary);
  }
  // 130 for SIGINT, 143 for SIGTERM: the shell's convention for a process ended by a signal.
  if (Interrupted()) return 128 + InterruptSignal();
  return static_cast<int>(worst);
}

}  // namespace rivet::cli
