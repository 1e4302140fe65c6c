// rivet snapshot hold: one PostgreSQL snapshot for exports run by other processes and hosts
// (README "One snapshot across hosts"), in order:
//   1. the config's source must be PostgreSQL and --for a valid duration, before connecting;
//   2. connect as `rivet run` does (source.tls, the first export's tuning: statement and lock
//      timeouts) and Source::HoldSnapshot (REPEATABLE READ READ ONLY, pg_export_snapshot());
//   3. the id is written to --id-file (a temporary file renamed over it, so a reader never sees
//      half an id), then printed as the only line on stdout, which is closed at once: `ID=$(rivet
//      snapshot hold -c P &)` returns as soon as the id is there;
//   4. every kKeepaliveInterval a `SELECT 1` inside the transaction keeps NAT and proxies from
//      dropping an idle connection and finds a lost one; a lost snapshot exits 1;
//   5. SIGINT/SIGTERM or the end of --for ends the transaction, removes --id-file and exits 0.
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "rivet/cli/commands.h"
#include "rivet/common/bytes.h"
#include "rivet/common/interrupt.h"
#include "rivet/pipeline/unit_runner.h"
#include "rivet/source/source.h"

namespace rivet::cli {

namespace {

// Often enough for idle timeouts of NAT gateways and load balancers (typically 60 s or more),
// rare enough to cost the server nothing.
constexpr auto kKeepaliveInterval = std::chrono::seconds(30);

// Writes `text` to `path` through `path.tmp` and a rename, so another process reading `path`
// sees either nothing or the whole id.
Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  std::FILE* f = std::fopen(temp.c_str(), "w");
  if (!f) return Error(ErrorCode::kIo, "--id-file: cannot create {}", temp);
  const bool written =
      std::fputs(text.c_str(), f) >= 0 && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  std::error_code ec;
  if (written && closed) std::filesystem::rename(temp, path, ec);
  if (!written || !closed || ec) {
    std::filesystem::remove(temp, ec);
    return Error(ErrorCode::kIo, "--id-file: cannot write {}", path);
  }
  return Status::Ok();
}

// Points stdout at /dev/null, closing the caller's pipe: a shell's $(...) ends at its EOF.
void CloseStdout() {
  std::fflush(stdout);
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  }
}

// Keeps the snapshot until a signal or `until`; the error says why it ended otherwise.
Status Hold(source::Source& src, std::optional<std::chrono::steady_clock::time_point> until) {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kKeepaliveInterval);
    if (until) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*until - Clock::now());
      if (left.count() <= 0) return Status::Ok();
      wait = std::min(wait, left);
    }
    if (!SleepUnlessInterrupted(wait)) return Status::Ok();
    if (until && Clock::now() >= *until) return Status::Ok();
    auto alive = src.QueryText("SELECT 1");
    if (!alive.has_value() || !src.InSharedSnapshot()) {
      return Error(ErrorCode::kNetwork,
                   "the connection holding the snapshot was lost ({}); the snapshot is gone: "
                   "runs still reading it fail, start a new rivet snapshot hold",
                   alive.has_value() ? "its transaction ended" : alive.error().message());
    }
  }
}

}  // namespace

int SnapshotHoldCommand(const SnapshotHoldFlags& flags) {
  auto loaded = LoadForCommand(flags.config_path, flags.params);
  if (!loaded.has_value()) return ReportError(loaded.error());
  const config::Config& config = loaded->config;
  Status engine = source::CheckSnapshotEngine(config.source.type, "rivet snapshot hold");
  if (!engine.ok()) return ReportError(engine);
  std::optional<std::chrono::steady_clock::time_point> until;
  if (!flags.duration.empty()) {
    std::optional<int64_t> ms = ParseDurationMs(flags.duration);
    if (!ms) {
      return ReportError(Error(ErrorCode::kConfig,
                               "--for: '{}' is not a duration (like 90s, 30m, 2h or 1h30m)",
                               flags.duration));
    }
    until = std::chrono::steady_clock::now() + std::chrono::milliseconds(*ms);
  }
  // The same session settings as the run's sources; every export of a config shares its
  // source, so the first export's tuning stands for all.
  source::ReadOptions read;
  if (!config.exports.empty()) read = pipeline::ReadOptionsFor(config.exports.front().tuning);
  auto src = source::MakeSource(config.source, read);
  if (!src.has_value()) return ReportError(src.error());
  InstallInterruptHandlers();
  Status connected = (*src)->Connect();
  if (!connected.ok()) return ReportError(connected);
  auto id = (*src)->HoldSnapshot();
  if (!id.has_value()) return ReportError(id.error());

  if (!flags.id_file.empty()) {
    Status written = WriteAtomically(flags.id_file, *id + "\n");
    if (!written.ok()) return ReportError(written);
  }
  std::fputs((*id + "\n").c_str(), stdout);
  CloseStdout();
  // On stderr whatever RIVET_LOG says: it is how the id is meant to be used.
  std::fputs(
      fmt::format("snapshot {} is held {}; export with `rivet run -c CONFIG --snapshot "
                  "{}` from any host (same database). While it is held, VACUUM keeps "
                  "every row version newer than it, on the whole server\n",
                  *id, until ? "for " + flags.duration : std::string("until SIGINT/SIGTERM"), *id)
          .c_str(),
      stderr);

  Status held = Hold(**src, until);
  src->reset();  // ends the transaction: the snapshot is released
  if (!flags.id_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(flags.id_file, ec);
  }
  if (!held.ok()) return ReportError(held);
  std::fputs(fmt::format("snapshot {} released\n", *id).c_str(), stderr);
  return 0;
}

}  // namespace rivet::cli
