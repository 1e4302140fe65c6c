#include "rivet/common/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace rivet {

Result<TempFile> TempFile::Create() {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) return Error(ErrorCode::kIo, "no temporary folder: {}; set TMPDIR", ec.message());
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // A file system without O_TMPFILE: a named file, unlinked at once, behaves the same.
    std::string pattern = (dir / "rivet-tmp-XXXXXX").string();
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(pattern.c_str());
  }
  if (fd < 0) {
    return Error(ErrorCode::kIo,
                 "cannot create a temporary file in {}: {}; set TMPDIR to a "
                 "writable folder with free space",
                 dir.string(), std::strerror(errno));
  }
  return TempFile(fd);
}

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status TempFile::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Error(ErrorCode::kIo, "cannot write a temporary file (TMPDIR): {}",
                   n < 0 ? std::strerror(errno) : "no space");
    }
    size_ += static_cast<uint64_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status TempFile::ReadAt(uint64_t offset, size_t length, std::string& out) const {
  out.resize(length);
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd_, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Error(ErrorCode::kIo, "cannot read a temporary file: {}", std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return Status::Ok();
}

}  // namespace rivet
