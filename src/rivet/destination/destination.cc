#include "rivet/destination/destination.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "rivet/destination/local/local_destination.h"
#include "rivet/destination/stdout/stdout_destination.h"

namespace rivet::destination {

namespace {

// True unless the process is certainly gone (kill(pid, 0) answers ESRCH); a process of another
// user (EPERM) still runs.
bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

}  // namespace

int SweepAbandonedStaging(const std::string& directory, std::string_view staging_prefix,
                          std::string_view file_base_prefix) {
  std::error_code ec;
  int removed = 0;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(staging_prefix, 0) != 0) continue;
    // "{pid}-{counter}-{file name}"
    std::string_view rest = std::string_view(name).substr(staging_prefix.size());
    const size_t dash = rest.find('-');
    const size_t second = dash == std::string_view::npos ? dash : rest.find('-', dash + 1);
    if (second == std::string_view::npos) continue;
    pid_t pid = 0;
    auto [ptr, parse] = std::from_chars(rest.data(), rest.data() + dash, pid);
    if (parse != std::errc() || ptr != rest.data() + dash) continue;
    if (rest.substr(second + 1).rfind(file_base_prefix, 0) != 0 || ProcessAlive(pid)) continue;
    std::error_code remove_error;
    if (std::filesystem::remove(it->path(), remove_error)) {
      spdlog::info("removed '{}', left staged by process {} that no longer runs",
                   it->path().string(), pid);
      ++removed;
    }
  }
  return removed;
}

Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string& config_dir) {
  switch (config.type) {
    case config::DestinationType::kLocal:
      return MakeLocalDestination(config.path, config_dir);
    case config::DestinationType::kStdout:
      return MakeStdoutDestination();
    case config::DestinationType::kS3:
    case config::DestinationType::kGcs:
      break;
  }
  return Error(ErrorCode::kNotSupported, "destination.type: {} is not supported yet",
               config::ToString(config.type));
}

}  // namespace rivet::destination
