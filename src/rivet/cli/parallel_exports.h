// Parallel exports (guide §11, reference §2): how `rivet run` chooses between running the
// selected exports one after another, on threads, or one child process each, and the process
// runner itself. The thread runner and the per-export tail (summary, Slack, exit code) live in
// run_command.cc; a child process runs that same tail as an ordinary `rivet run --export NAME`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::cli {

enum class Strategy { kSequential, kThreads, kProcesses };

// Process mode wins when both switches are on (CLI flag or config key); either needs at least
// two selected exports and no --export, otherwise there is nothing to run side by side.
Strategy ChooseStrategy(bool threads, bool processes, bool export_named, size_t selected);

// Two exports writing to stdout at once would interleave their bytes: a config error before
// anything starts (sequential runs keep them apart and are allowed).
Status CheckParallelStdout(const config::Config& config,
                           const std::vector<const config::ExportConfig*>& selected);

// What every child gets besides `--export NAME`: never the parallel switches.
struct ChildArguments {
  std::string config_path;          // as given to the parent; children share its directory
  std::vector<std::string> params;  // every -p KEY=VALUE
  bool validate = false;
  bool resume = false;
  std::string snapshot;  // --snapshot ID, "" = none: every child reads the one held snapshot
};

// The command line of the child for `export_name` (argv without the program).
std::vector<std::string> ChildCommandLine(const ChildArguments& args,
                                          const std::string& export_name);

// The exit code of a child as rivet's class: a child ended by a signal, or with a code rivet
// does not use, counts as a failed export.
ExitCode ChildExitCode(int wait_status);

// Called when a child has ended, with everything it wrote to stderr (logs and its summary).
using ChildFinished = std::function<void(const std::string& export_name, ExitCode code,
                                         const std::string& stderr_text)>;
// Called while children run, with the names of those still running (for a progress line).
using ChildrenRunning = std::function<void(const std::vector<std::string>& running)>;

// Spawns one `rivet run` per export (the running binary, /proc/self/exe), each in its own
// process group so a terminal's Ctrl-C reaches only the parent, which forwards the first
// SIGINT/SIGTERM to every child exactly once. Children inherit stdout (a stdout export) and
// the environment; their stderr is read through pipes with poll so none blocks. Returns after
// every child was waited for.
void RunExportProcesses(const ChildArguments& args, const std::vector<std::string>& exports,
                        const ChildFinished& on_finished, const ChildrenRunning& on_running);

}  // namespace rivet::cli
