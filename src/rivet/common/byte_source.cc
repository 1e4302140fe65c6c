#include "rivet/common/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rivet {

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorCode::kIo, "cannot open '{}': {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error(ErrorCode::kIo, "cannot stat '{}': {}", path, std::strerror(err));
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, static_cast<uint64_t>(st.st_size), path));
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::ReadAt(uint64_t offset, size_t length, uint8_t* out) {
  if (offset > size_ || length > size_ - offset) {
    return Error(ErrorCode::kCorrupt, "{} ended at {} bytes while reading {} bytes at {}",
                 Describe(), size_, length, offset);
  }
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(ErrorCode::kIo, "cannot read {}: {}", Describe(), std::strerror(errno));
    }
    if (n == 0) return Error(ErrorCode::kCorrupt, "{} shrank while it was read", Describe());
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace rivet
