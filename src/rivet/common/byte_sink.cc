#include "rivet/common/byte_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rivet {

namespace {
// Small writes reach the kernel in 1 MiB pieces: few syscalls, bounded memory. Writes of 64 KiB
// or more (Parquet's page blocks, CSV batches) go straight to the kernel: copying them into the
// buffer first would only add a pass over the bytes.
constexpr size_t kFileBufferBytes = 1 << 20;
constexpr size_t kDirectWriteBytes = 64 << 10;

Status WriteAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIo, "cannot write '{}': {}", path, std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error(ErrorCode::kIo, "cannot create '{}': {}", path, std::strerror(errno));
  auto sink = std::unique_ptr<FileSink>(new FileSink(fd, path));
  sink->buffer_.reserve(kFileBufferBytes);
  return sink;
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileSink::Append(const uint8_t* data, size_t size) {
  if (fd_ < 0) return Error(ErrorCode::kInternal, "write to closed file '{}'", path_);
  if (size >= kDirectWriteBytes) {
    RIVET_RETURN_IF_ERROR(FlushBuffer());
    RIVET_RETURN_IF_ERROR(WriteAll(fd_, data, size, path_));
  } else {
    if (buffer_.size() + size > kFileBufferBytes) RIVET_RETURN_IF_ERROR(FlushBuffer());
    buffer_.insert(buffer_.end(), data, data + size);
  }
  written_ += size;
  return Status::Ok();
}

Status FileSink::FlushBuffer() {
  RIVET_RETURN_IF_ERROR(WriteAll(fd_, buffer_.data(), buffer_.size(), path_));
  buffer_.clear();
  return Status::Ok();
}

Status FileSink::Close() {
  if (fd_ < 0) return Status::Ok();
  RIVET_RETURN_IF_ERROR(FlushBuffer());  // on failure the destructor still closes the file
  buffer_ = std::vector<uint8_t>();      // a closed file may wait long for its commit
  int fd = fd_;
  fd_ = -1;
  // The descriptor is released whatever fsync says; the first error is the one reported.
  const int sync_error = ::fsync(fd) == 0 ? 0 : errno;
  const int close_error = ::close(fd) == 0 ? 0 : errno;
  if (sync_error != 0 || close_error != 0) {
    return Error(ErrorCode::kIo, "cannot finish '{}': {}", path_,
                 std::strerror(sync_error != 0 ? sync_error : close_error));
  }
  return Status::Ok();
}

}  // namespace rivet
