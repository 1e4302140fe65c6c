#include "rivet/destination/destination.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <vector>

#include "rivet/destination/gcs/gcs_destination.h"
#include "rivet/destination/local/local_destination.h"
#include "rivet/destination/s3/s3_destination.h"
#include "rivet/destination/stdout/stdout_destination.h"

namespace rivet::destination {

namespace {

// True unless the process is certainly gone (kill(pid, 0) answers ESRCH); a process of another
// user (EPERM) still runs.
bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

class StagedObject final : public ObjectWriter {
 public:
  StagedObject(std::string staging_path, std::unique_ptr<FileSink> sink, DeliverFn deliver)
      : staging_path_(std::move(staging_path)),
        sink_(std::move(sink)),
        deliver_(std::move(deliver)) {}
  ~StagedObject() override { Abort(); }

  Status Append(const uint8_t* data, size_t size) override {
    if (!sink_)
      return Error(ErrorCode::kInternal, "write to a finished object '{}'", staging_path_);
    return sink_->Append(data, size);
  }
  uint64_t bytes_written() const override {
    return written_ + (sink_ ? sink_->bytes_written() : 0);
  }
  Status Finish() override {
    if (!sink_) return Status::Ok();
    written_ = sink_->bytes_written();
    Status s = sink_->Close();
    sink_.reset();
    return s;
  }
  std::optional<std::string> StagedPath() const override { return staging_path_; }
  Status Commit(const std::string& file_name) override {
    if (done_)
      return Error(ErrorCode::kInternal, "object '{}' was already delivered or dropped",
                   staging_path_);
    Status s = Finish();
    if (s.ok()) s = deliver_(staging_path_, file_name);
    Abort();  // the staged copy goes whatever happened
    return s;
  }
  void Abort() override {
    if (done_) return;
    done_ = true;
    sink_.reset();
    std::error_code ec;
    std::filesystem::remove(staging_path_, ec);
  }

 private:
  std::string staging_path_;
  std::unique_ptr<FileSink> sink_;
  DeliverFn deliver_;
  uint64_t written_ = 0;
  bool done_ = false;
};

class RangedSource final : public ByteSource {
 public:
  RangedSource(std::string description, uint64_t size, FetchRangeFn fetch)
      : description_(std::move(description)), size_(size), fetch_(std::move(fetch)) {}
  uint64_t size() const override { return size_; }
  std::string Describe() const override { return description_; }
  Status ReadAt(uint64_t offset, size_t length, uint8_t* out) override {
    if (offset > size_ || length > size_ - offset) {
      return Error(ErrorCode::kCorrupt, "{} ended at {} bytes while reading {} bytes at {}",
                   description_, size_, length, offset);
    }
    if (length == 0) return Status::Ok();
    RIVET_ASSIGN_OR_RETURN(std::string bytes, fetch_(offset, length));
    if (bytes.size() != length) {
      return Error(ErrorCode::kCorrupt, "GET {} bytes {}-{}: {} bytes came back", description_,
                   offset, offset + length - 1, bytes.size());
    }
    std::copy(bytes.begin(), bytes.end(), out);
    return Status::Ok();
  }

 private:
  std::string description_;
  uint64_t size_;
  FetchRangeFn fetch_;
};

}  // namespace

std::unique_ptr<ByteSource> MakeRangedSource(std::string description, uint64_t size,
                                             FetchRangeFn fetch) {
  return std::make_unique<RangedSource>(std::move(description), size, std::move(fetch));
}

Result<std::unique_ptr<ObjectWriter>> ObjectStoreDestination::Create(const std::string& file_name,
                                                                     const ObjectOptions& options) {
  if (!options.readable_before_commit) return NewUpload(file_name, options.name_may_change);
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) return Error(ErrorCode::kIo, "no temporary directory: {}", ec.message());
  std::string staging =
      (dir / fmt::format("{}{}-{}-{}", staging_prefix_, getpid(), counter++, file_name)).string();
  return MakeStagedObject(
      std::move(staging), [this](const std::string& staged, const std::string& name) -> Status {
        RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(staged));
        std::unique_ptr<ObjectWriter> upload = NewUpload(name, /*name_may_change=*/false);
        std::vector<uint8_t> buf(size_t{1} << 20);
        for (uint64_t offset = 0; offset < file->size();) {
          const size_t n =
              static_cast<size_t>(std::min<uint64_t>(buf.size(), file->size() - offset));
          RIVET_RETURN_IF_ERROR(file->ReadAt(offset, n, buf.data()));
          RIVET_RETURN_IF_ERROR(upload->Append(buf.data(), n));
          offset += n;
        }
        return upload->Commit(name);
      });
}

int ObjectStoreDestination::SweepAbandoned(const std::string& file_base_prefix) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  return ec ? 0 : SweepAbandonedStaging(dir.string(), staging_prefix_, file_base_prefix);
}

Result<std::unique_ptr<ObjectWriter>> MakeStagedObject(std::string staging_path,
                                                       DeliverFn deliver) {
  RIVET_ASSIGN_OR_RETURN(auto sink, FileSink::Create(staging_path));
  return std::unique_ptr<ObjectWriter>(
      std::make_unique<StagedObject>(std::move(staging_path), std::move(sink), std::move(deliver)));
}

Status ParkedBuffer::Park(std::string& buffer) {
  if (buffer.empty()) return Status::Ok();
  RIVET_ASSIGN_OR_RETURN(TempFile file, TempFile::Create());
  RIVET_RETURN_IF_ERROR(file.Append(buffer));
  file_ = std::move(file);
  buffer = std::string();
  return Status::Ok();
}

Status ParkedBuffer::Restore(std::string& buffer) {
  if (!file_) return Status::Ok();
  RIVET_RETURN_IF_ERROR(file_->ReadAt(0, static_cast<size_t>(file_->size()), buffer));
  file_.reset();
  return Status::Ok();
}

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
      return MakeS3Destination(config);
    case config::DestinationType::kGcs:
      return MakeGcsDestination(config);
  }
  return Error(ErrorCode::kInternal, "destination.type {} has no destination",
               config::ToString(config.type));
}

}  // namespace rivet::destination
