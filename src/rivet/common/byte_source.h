// Byte sources: a finished file read back by ranges, wherever it lives. --validate counts the
// rows of what was delivered through them: a local file with pread, an object in a store with
// ranged GETs, so the format readers never know where the bytes are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "rivet/common/result.h"

namespace rivet {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Exactly `length` bytes from `offset` into `out`; reading past size() is an error.
  virtual Status ReadAt(uint64_t offset, size_t length, uint8_t* out) = 0;
  // The file or object, for messages: "'out/a.parquet'", "s3://bucket/key".
  virtual std::string Describe() const = 0;
};

// A local file (RAII: closes the descriptor).
class FileSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t length, uint8_t* out) override;
  std::string Describe() const override { return "'" + path_ + "'"; }

 private:
  FileSource(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string path_;
};

}  // namespace rivet
