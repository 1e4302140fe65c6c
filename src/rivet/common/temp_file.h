// An anonymous temporary file: created in the temporary folder ($TMPDIR, else /tmp) with no
// name, so the kernel frees its blocks when the descriptor closes, whatever ends the process
// (kill -9 included): nothing is ever left behind to sweep. Used where memory must stay flat
// and bytes wait on local disk instead: sorted runs of the uniqueness check, and the unsent
// tails of uploads held until an export's quality gates pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet {

class TempFile {
 public:
  static Result<TempFile> Create();
  TempFile(TempFile&& other) noexcept : fd_(other.fd_), size_(other.size_) { other.fd_ = -1; }
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  // Appends at the end (no buffering: callers hand over large pieces).
  Status Append(std::string_view bytes);
  // Up to `length` bytes at `offset` into `out` (resized to what was read; short at the end).
  Status ReadAt(uint64_t offset, size_t length, std::string& out) const;
  uint64_t size() const { return size_; }

 private:
  explicit TempFile(int fd) : fd_(fd) {}
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace rivet
