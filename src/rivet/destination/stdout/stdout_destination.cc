#include "rivet/destination/stdout/stdout_destination.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

namespace rivet::destination {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStagingPrefix = ".rivet-stdout-";

class StdoutDestination final : public Destination {
 public:
  std::string Describe() const override { return "Stdout"; }

  // Bytes go straight to stdout, so no disk holds the file. With --validate, or while quality
  // gates hold the file, it is finished in a private temporary file first and copied out only
  // at Commit.
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name,
                                               const ObjectOptions& options) override {
    if (!options.readable_before_commit && !options.held)
      return std::unique_ptr<ObjectWriter>(std::make_unique<Stream>());
    static std::atomic<uint64_t> counter{0};
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec) return Error(ErrorCode::kIo, "no temporary directory: {}", ec.message());
    std::string staging =
        (dir / fmt::format("{}{}-{}-{}", kStagingPrefix, getpid(), counter++, file_name)).string();
    return MakeStagedObject(std::move(staging), [](const std::string& staged, const std::string&) {
      std::lock_guard lock(StdoutMutex());  // one file at a time on stdout
      int fd = ::open(staged.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return Error(ErrorCode::kIo, "cannot open '{}': {}", staged, std::strerror(errno));
      }
      std::vector<char> buf(1 << 20);
      Status status;
      for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          status = Error(ErrorCode::kIo, "cannot read staged file: {}", std::strerror(errno));
          break;
        }
        if (n == 0) break;
        status = WriteAll(buf.data(), static_cast<size_t>(n));
        if (!status.ok()) break;
      }
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
  static Status WriteAll(const char* data, size_t size) {
    for (size_t done = 0; done < size;) {
      ssize_t w = ::write(STDOUT_FILENO, data + done, size - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error(ErrorCode::kIo, "cannot write to stdout: {}", std::strerror(errno));
      done += static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  // Straight to stdout through a 1 MiB buffer. Nothing can be taken back: a failure after the
  // first flush leaves a partial stream in the pipe, and the export fails (non-zero exit).
  // From its first flush to its end a stream owns stdout, so the files of parallel chunks
  // follow one another instead of interleaving.
  class Stream final : public ObjectWriter {
   public:
    Stream() { buffer_.reserve(kBufferBytes); }
    Status Append(const uint8_t* data, size_t size) override {
      written_ += size;
      if (buffer_.size() + size > kBufferBytes) RIVET_RETURN_IF_ERROR(Flush());
      if (size >= kBufferBytes) {
        buffer_.insert(buffer_.end(), data, data + size);
        return Flush();
      }
      buffer_.insert(buffer_.end(), data, data + size);
      return Status::Ok();
    }
    uint64_t bytes_written() const override { return written_; }
    Status Finish() override { return Flush(); }
    std::optional<std::string> StagedPath() const override { return std::nullopt; }
    Status Commit(const std::string&) override {
      Status s = Flush();
      owner_ = {};
      return s;
    }
    void Abort() override {
      buffer_.clear();
      owner_ = {};
    }
    bool PartlyDelivered() const override { return flushed_; }

   private:
    static constexpr size_t kBufferBytes = 1 << 20;
    Status Flush() {
      if (buffer_.empty()) return Status::Ok();
      if (!owner_.owns_lock()) owner_ = std::unique_lock(StdoutMutex());
      flushed_ = true;
      Status s = WriteAll(reinterpret_cast<const char*>(buffer_.data()), buffer_.size());
      buffer_.clear();
      return s;
    }
    std::vector<uint8_t> buffer_;
    uint64_t written_ = 0;
    bool flushed_ = false;
    std::unique_lock<std::mutex> owner_;
  };

  static std::mutex& StdoutMutex() {
    static std::mutex mutex;
    return mutex;
  }
};

}  // namespace

std::unique_ptr<Destination> MakeStdoutDestination() {
  return std::make_unique<StdoutDestination>();
}

}  // namespace rivet::destination
