// Byte sinks: where a writer's bytes go, one file or object at a time. Formats write into them
// and destinations provide them, so neither needs to know the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rivet/common/result.h"

namespace rivet {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Append(const uint8_t* data, size_t size) = 0;
  virtual uint64_t bytes_written() const = 0;
};

// Buffered writes to a local file (RAII: closes the descriptor). Flush() before reading back.
class FileSink final : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  ~FileSink() override;
  Status Append(const uint8_t* data, size_t size) override;
  uint64_t bytes_written() const override { return written_; }
  // Writes the buffer out and fsyncs so the file is durable before it is committed.
  Status Close();

 private:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status FlushBuffer();
  int fd_ = -1;
  std::string path_;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
};

// Keeps every byte in memory; for tests and small in-memory files.
class MemorySink final : public ByteSink {
 public:
  Status Append(const uint8_t* data, size_t size) override {
    bytes_.insert(bytes_.end(), data, data + size);
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace rivet
