#include "rivet/destination/local/local_destination.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace rivet::destination {

namespace fs = std::filesystem;

namespace {

// Staged files start with this so that a crashed run's leftovers are easy to recognise, and
// end with kStagingSuffix, not with the format's extension, so that a reader's `*.parquet` or
// `*.csv` glob (DuckDB's includes hidden files) never picks up a file still being written or
// left half-written by a killed run.
constexpr const char* kStagingPrefix = ".rivet-tmp-";
constexpr const char* kStagingSuffix = ".partial";

class LocalDestination final : public Destination {
 public:
  LocalDestination(std::string as_written, fs::path directory)
      : as_written_(std::move(as_written)), directory_(std::move(directory)) {}

  std::string Describe() const override { return fmt::format("Local({})", as_written_); }

  // Always staged: the rename is what makes a local file appear whole or not at all.
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name,
                                               const ObjectOptions&) override {
    RIVET_RETURN_IF_ERROR(EnsureDirectory());
    static std::atomic<uint64_t> counter{0};
    // Staged in the target directory so that the final rename never crosses file systems.
    std::string staging = (directory_ / fmt::format("{}{}-{}-{}{}", kStagingPrefix, getpid(),
                                                    counter++, file_name, kStagingSuffix))
                              .string();
    return MakeStagedObject(std::move(staging),
                            [this](const std::string& staged, const std::string& name) {
                              return Deliver(staged, name);
                            });
  }

  Result<bool> Exists(const std::string& file_name) override {
    std::error_code ec;
    bool exists = fs::exists(directory_ / file_name, ec);
    if (ec)
      return Error(ErrorCode::kIo, "cannot check '{}': {}", (directory_ / file_name).string(),
                   ec.message());
    return exists;
  }

  std::string Location(const std::string& file_name) const override {
    return (directory_ / file_name).string();
  }

  int SweepAbandoned(const std::string& file_base_prefix) override {
    return SweepAbandonedStaging(directory_.string(), kStagingPrefix, file_base_prefix);
  }

  // The folder may not exist yet (a run creates it); the probe creates what is missing and
  // removes it again, so doctor proves the run could write without leaving anything behind.
  Status Probe() override {
    std::vector<fs::path> created;
    for (fs::path p = directory_; !p.empty(); p = p.parent_path()) {
      std::error_code ec;
      if (fs::exists(p, ec) || p == p.parent_path()) break;
      created.push_back(p);
    }
    Status status = EnsureDirectory();
    if (status.ok()) {
      fs::path probe = directory_ / fmt::format("{}probe-{}", kStagingPrefix, getpid());
      int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) {
        status = Error(ErrorCode::kIo, "directory '{}' is not writable: {}", directory_.string(),
                       std::strerror(errno));
      } else {
        ::close(fd);
        ::unlink(probe.c_str());
      }
    }
    for (const fs::path& p : created) {  // innermost first
      std::error_code ec;
      fs::remove(p, ec);
    }
    return status;
  }

 private:
  Status Deliver(const std::string& staging_path, const std::string& file_name) const {
    fs::path target = directory_ / file_name;
    // RENAME_NOREPLACE: atomic, and fails instead of replacing a file another run wrote.
    if (renameat2(AT_FDCWD, staging_path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) !=
        0) {
      int err = errno;
      return Error(ErrorCode::kIo, "cannot move '{}' to '{}': {}", staging_path, target.string(),
                   std::strerror(err));
    }
    // The rename is durable only once the directory entry is on disk.
    int dir_fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
    return Status::Ok();
  }

  Status EnsureDirectory() {
    std::error_code ec;
    fs::create_directories(directory_, ec);
    if (ec) {
      return Error(ErrorCode::kIo, "cannot create directory '{}': {}", directory_.string(),
                   ec.message());
    }
    return Status::Ok();
  }

  std::string as_written_;
  fs::path directory_;
};

}  // namespace

std::unique_ptr<Destination> MakeLocalDestination(const std::string& directory,
                                                  const std::string& config_dir) {
  fs::path dir(directory);
  if (dir.is_relative()) dir = fs::path(config_dir) / dir;
  return std::make_unique<LocalDestination>(directory, dir.lexically_normal());
}

}  // namespace rivet::destination
