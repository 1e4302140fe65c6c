#include "rivet/destination/stdout/stdout_destination.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace rivet::destination {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStagingPrefix = ".rivet-stdout-";

class StdoutDestination final : public Destination {
 public:
  std::string Describe() const override { return "Stdout"; }

  // Files are finished (and validated) in a private temporary file first, so a failed export
  // never leaves half a file on stdout.
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name) override {
    static std::atomic<uint64_t> counter{0};
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec) return Error(ErrorCode::kIo, "no temporary directory: {}", ec.message());
    std::string staging =
        (dir / fmt::format("{}{}-{}-{}", kStagingPrefix, getpid(), counter++, file_name)).string();
    return MakeStagedObject(std::move(staging), [](const std::string& staged, const std::string&) {
      int fd = ::open(staged.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return Error(ErrorCode::kIo, "cannot open '{}': {}", staged, std::strerror(errno));
      }
      Status status = Copy(fd);
      ::close(fd);
      return status;
    });
  }

  Result<bool> Exists(const std::string&) override { return false; }
  std::string Location(const std::string&) const override { return "stdout"; }
  Status Probe() override { return Status::Ok(); }
  int SweepAbandoned(const std::string& file_base_prefix) override {
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    return ec ? 0 : SweepAbandonedStaging(dir.string(), kStagingPrefix, file_base_prefix);
  }

 private:
  static Status Copy(int fd) {
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error(ErrorCode::kIo, "cannot read staged file: {}", std::strerror(errno));
      if (n == 0) return Status::Ok();
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(STDOUT_FILENO, buf.data() + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Error(ErrorCode::kIo, "cannot write to stdout: {}", std::strerror(errno));
        done += w;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Destination> MakeStdoutDestination() {
  return std::make_unique<StdoutDestination>();
}

}  // namespace rivet::destination
