// Unit tests of the format module's own pieces: FileSink.
#include "rivet/format/writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

#include "rivet/common/test_dir.h"

namespace rivet::format {
namespace {

using testutil::TempDir;

// The descriptors this process has open.
std::set<int> OpenDescriptors() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::stoi(entry->d_name);
    if (fd != own) fds.insert(fd);
  }
  ::closedir(dir);
  return fds;
}

TEST(FileSink, WritesAndClosesOnce) {
  TempDir dir;
  auto sink = FileSink::Create(dir.File("a.bin"));
  ASSERT_TRUE(sink.has_value()) << sink.error().message();
  const uint8_t bytes[] = {'r', 'i', 'v', 'e', 't'};
  ASSERT_TRUE((*sink)->Append(bytes, sizeof(bytes)).ok());
  EXPECT_EQ((*sink)->bytes_written(), 5u);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_TRUE((*sink)->Close().ok());  // a second Close has nothing left to do
  EXPECT_EQ((*sink)->Append(bytes, 1).code(), ErrorCode::kInternal);
}

TEST(FileSink, CloseReleasesTheDescriptorWhenFsyncFails) {
  TempDir dir;
  const std::set<int> before = OpenDescriptors();
  auto sink = FileSink::Create(dir.File("a.bin"));
  ASSERT_TRUE(sink.has_value()) << sink.error().message();
  std::set<int> added;
  for (int fd : OpenDescriptors()) {
    if (before.count(fd) == 0) added.insert(fd);
  }
  ASSERT_EQ(added.size(), 1u);
  const int fd = *added.begin();
  // Put a pipe behind the sink's descriptor number: fsync on a pipe fails with EINVAL.
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_NONBLOCK), 0);  // a leaked write end must not hang the read below
  ASSERT_EQ(::dup2(pipe_fds[1], fd), fd);
  ::close(pipe_fds[1]);

  Status closed = (*sink)->Close();
  EXPECT_EQ(closed.code(), ErrorCode::kIo);
  EXPECT_NE(closed.message().find("cannot finish"), std::string::npos) << closed.message();
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "descriptor " << fd << " is still open";
  EXPECT_EQ(errno, EBADF);
  // Nothing was written to the pipe, and its write end is gone: reading sees the end.
  char c = 0;
  EXPECT_EQ(::read(pipe_fds[0], &c, 1), 0);
  ::close(pipe_fds[0]);
}

}  // namespace
}  // namespace rivet::format
