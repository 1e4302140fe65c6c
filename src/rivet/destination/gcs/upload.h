// One GCS object written as it is produced: the bytes of a file go up in chunks of a resumable
// upload session while the export still writes it, so neither memory nor local disk grows with
// the file.
//
// A file that ends before its first chunk (kChunkBytes) is full goes up in one multipart
// request (metadata and bytes) at Commit. A larger one opens a resumable session when its first
// chunk is full; each full chunk is sent on a sender thread while the next one fills (Append
// waits for the previous chunk, so at most two chunks are in memory). A chunk whose request
// fails asks the session how much it holds ("Content-Range: bytes */*", 308 with "Range") and
// sends the rest; a session lost while its first chunk was being sent is opened again, one lost
// later fails the file with a retryable error (its earlier bytes are gone from memory: the unit
// is written again). The last chunk goes at Commit, so nothing is visible before that.
//
// Checked end to end: the CRC-32C of every byte is sent with the last request (X-Goog-Hash, or
// the multipart metadata), GCS refuses an object whose bytes differ, and the resource it
// answers with must carry the same size and crc32c. Never overwrites: every upload has
// ifGenerationMatch=0. When the name may still change at Commit (ObjectOptions::
// name_may_change) a session goes to "{name}.rivet-pending" and is copied under its final name
// (objects.rewrite, server-side) at Commit, then deleted. Abort, a failure or the destructor
// cancels the session (DELETE).
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/destination/destination.h"
#include "rivet/destination/gcs/gcs_client.h"

namespace rivet::destination::gcs {

// A multiple of the 256 KiB every chunk but the last must be (Google recommends at least
// 8 MiB: fewer requests, the same memory bound).
inline constexpr size_t kChunkBytes = size_t{32} * 256 * 1024;
inline constexpr std::string_view kPendingSuffix = ".rivet-pending";

// Creates `name` with `body` in one request unless it exists; an error naming the object when
// it does. Its CRC-32C travels with it and is checked.
Status PutNewObject(GcsClient& client, const std::string& name, std::string_view body);

class Upload final : public ObjectWriter {
 public:
  // `prefix` + file names give the object names; `planned_name` is Create's name.
  Upload(std::shared_ptr<GcsClient> client, std::string prefix, std::string planned_name,
         bool name_may_change);
  ~Upload() override;

  Status Append(const uint8_t* data, size_t size) override;
  uint64_t bytes_written() const override { return written_; }
  Status Finish() override;
  std::optional<std::string> StagedPath() const override { return std::nullopt; }
  Status Commit(const std::string& file_name) override;
  void Abort() override;
  Status Park() override { return parked_.Park(buffer_); }

 private:
  Status StartSession();
  // Hands the full buffer to the sender thread once the previous chunk is in.
  Status Ship();
  Status WaitForSender();
  // Sends bytes [offset, offset + bytes.size()) of the file, retried and resumed; `total` for
  // the last chunk, whose answer (the object, or 412) is returned.
  Result<net::HttpResponse> SendChunk(uint64_t offset, std::string_view bytes,
                                      std::optional<uint64_t> total);
  // The last chunk (the object appears), then the answer checked against what was sent.
  Status SendLastChunk();
  void CancelSession();

  std::shared_ptr<GcsClient> client_;
  std::string prefix_;
  std::string upload_name_;  // where the session goes
  std::string buffer_;       // the chunk being filled, or the whole file while it is small
  uint64_t written_ = 0;
  uint64_t sent_ = 0;  // bytes handed to the sender: the file offset of buffer_
  uint32_t crc_ = 0;   // CRC-32C of every byte appended
  std::string session_url_;
  std::future<Status> in_flight_;
  bool finished_ = false;
  bool done_ = false;  // committed or aborted
  ParkedBuffer parked_;
};

}  // namespace rivet::destination::gcs
