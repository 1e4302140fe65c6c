#include "rivet/cli/parallel_exports.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "rivet/common/interrupt.h"

extern char** environ;

namespace rivet::cli {

namespace {

// How long one poll waits before looking at the interrupt flag and the progress line again.
constexpr int kPollIntervalMs = 100;

// An owned file descriptor, closed once.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// One child `rivet run --export NAME`. It is always waited for: the destructor (reached only
// when the runner leaves early) stops a child still running and reaps it, so no zombie and no
// orphaned export outlives the parent's run.
class Child {
 public:
  Child(std::string name, pid_t pid, Fd stderr_read)
      : name_(std::move(name)), pid_(pid), stderr_(std::move(stderr_read)) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (reaped_) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  Fd& stderr_fd() { return stderr_; }
  std::string& output() { return output_; }
  bool reaped() const { return reaped_; }

  // Reads what the pipe holds; closes it at end of file.
  void Drain() {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::read(stderr_.get(), buf, sizeof buf);
      if (n > 0) {
        output_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      stderr_.reset();  // end of file, or an error that no further read would fix
      return;
    }
  }

  // True once the child has exited (its status in `wait_status`).
  bool TryReap(int& wait_status) {
    const pid_t r = ::waitpid(pid_, &wait_status, WNOHANG);
    if (r == pid_) reaped_ = true;
    return reaped_;
  }

 private:
  std::string name_;
  pid_t pid_;
  Fd stderr_;
  std::string output_;
  bool reaped_ = false;
};

class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  posix_spawnattr_t* attr() { return &attr_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

Result<std::unique_ptr<Child>> Spawn(const ChildArguments& args, const std::string& export_name) {
  int fds[2];
  // O_CLOEXEC: no child inherits another child's pipe (the dup2 onto fd 2 clears it for its own).
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Error(ErrorCode::kInternal, "cannot create a pipe for export '{}': {}", export_name,
                 std::strerror(errno));
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return Error(ErrorCode::kInternal, "cannot set up the pipe of export '{}': {}", export_name,
                 std::strerror(errno));
  }
  SpawnAttributes spawn;
  posix_spawn_file_actions_adddup2(spawn.actions(), write_end.get(), STDERR_FILENO);
  // Its own process group: a terminal's Ctrl-C reaches only the parent, which forwards it once
  // (a second SIGINT would end the child at once instead of letting it stop cleanly).
  posix_spawnattr_setflags(spawn.attr(), POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(spawn.attr(), 0);

  std::vector<std::string> words = ChildCommandLine(args, export_name);
  std::string program = "rivet";
  std::vector<char*> argv;
  argv.push_back(program.data());
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  // /proc/self/exe: the very binary that runs, whatever PATH holds.
  const int rc =
      posix_spawn(&pid, "/proc/self/exe", spawn.actions(), spawn.attr(), argv.data(), environ);
  if (rc != 0) {
    return Error(ErrorCode::kInternal, "cannot start the process for export '{}': {}", export_name,
                 std::strerror(rc));
  }
  return std::make_unique<Child>(export_name, pid, std::move(read_end));
}

}  // namespace

Strategy ChooseStrategy(bool threads, bool processes, bool export_named, size_t selected) {
  if (export_named || selected < 2) return Strategy::kSequential;
  if (processes) return Strategy::kProcesses;
  if (threads) return Strategy::kThreads;
  return Strategy::kSequential;
}

Status CheckParallelStdout(const config::Config& config,
                           const std::vector<const config::ExportConfig*>& selected) {
  std::vector<std::string> names;
  for (const config::ExportConfig* e : selected) {
    if (e->destination.type == config::DestinationType::kStdout) names.push_back(e->name);
  }
  if (names.size() < 2) return Status::Ok();
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
  return Error(ErrorCode::kConfig,
               "{}: exports {} all write to stdout, and run in parallel their data would "
               "interleave; run them without the parallel switch, or give all but one another "
               "destination",
               config.path, list);
}

std::vector<std::string> ChildCommandLine(const ChildArguments& args,
                                          const std::string& export_name) {
  std::vector<std::string> words = {"run", "--config", args.config_path, "--export", export_name};
  for (const std::string& p : args.params) {
    words.push_back("--param");
    words.push_back(p);
  }
  if (args.validate) words.push_back("--validate");
  if (args.resume) words.push_back("--resume");
  if (!args.snapshot.empty()) {
    words.push_back("--snapshot");
    words.push_back(args.snapshot);
  }
  return words;
}

ExitCode ChildExitCode(int wait_status) {
  if (!WIFEXITED(wait_status)) return ExitCode::kExportFailed;
  switch (WEXITSTATUS(wait_status)) {
    case static_cast<int>(ExitCode::kSuccess):
      return ExitCode::kSuccess;
    case static_cast<int>(ExitCode::kUsage):
      return ExitCode::kUsage;
    case static_cast<int>(ExitCode::kDataIntegrity):
      return ExitCode::kDataIntegrity;
    case static_cast<int>(ExitCode::kInternal):
      return ExitCode::kInternal;
    default:
      // 1, and 130/143 of a child that was interrupted on its own.
      return ExitCode::kExportFailed;
  }
}

void RunExportProcesses(const ChildArguments& args, const std::vector<std::string>& exports,
                        const ChildFinished& on_finished, const ChildrenRunning& on_running) {
  std::vector<std::unique_ptr<Child>> children;
  for (const std::string& name : exports) {
    auto child = Spawn(args, name);
    if (!child.has_value()) {
      spdlog::error("{}", child.error().message());
      on_finished(name, ExitCodeFor(child.error().code()), "");
      continue;
    }
    spdlog::info("export '{}' runs in process {}", name, (*child)->pid());
    children.push_back(std::move(*child));
  }

  bool forwarded = false;
  size_t left = children.size();
  while (left > 0) {
    if (Interrupted() && !forwarded) {
      // Each child stops cleanly like a sequential run: queries cancelled, staged files
      // removed, its run recorded as failed.
      for (const auto& c : children) {
        if (!c->reaped()) ::kill(c->pid(), InterruptSignal());
      }
      forwarded = true;
    }
    std::vector<pollfd> fds;
    std::vector<Child*> polled;
    for (const auto& c : children) {
      if (c->stderr_fd().open()) {
        fds.push_back({c->stderr_fd().get(), POLLIN, 0});
        polled.push_back(c.get());
      }
    }
    const int ready = ::poll(fds.data(), fds.size(), kPollIntervalMs);
    if (ready > 0) {
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) polled[i]->Drain();
      }
    }
    std::vector<std::string> running;
    for (const auto& c : children) {
      if (c->reaped()) continue;
      int status = 0;
      // Reaped only after its stderr reached end of file, so its output is whole.
      if (!c->stderr_fd().open() && c->TryReap(status)) {
        --left;
        on_finished(c->name(), ChildExitCode(status), c->output());
        if (WIFSIGNALED(status)) {
          // Killed (the OOM killer, kill -9): it could not print a summary or record its run.
          spdlog::error("export '{}' failed: its process {} was killed by signal {}", c->name(),
                        c->pid(), WTERMSIG(status));
        }
        c->output().clear();
        continue;
      }
      running.push_back(c->name());
    }
    if (!running.empty()) on_running(running);
  }
}

}  // namespace rivet::cli
