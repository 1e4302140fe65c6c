// One S3 object written as it is produced: the bytes of a file go up in parts while the export
// still writes it, so neither memory nor local disk grows with the file.
//
// A file that ends before its first part (8 MiB, multipart.h) is full goes up in one PUT at
// Commit. A larger one becomes a multipart upload: each full part is handed to one of
// kPartsInFlight uploaders (Append waits while they are all busy, so at most
// kPartsInFlight + 1 parts are in memory), each part carries Content-MD5 and is retried on its
// own. Commit completes the upload; nothing is visible before that. Any failure, Abort or the
// destructor aborts the multipart upload so no parts are left to bill.
//
// Never overwrites: the object is created with If-None-Match: * (PutObject,
// CompleteMultipartUpload); a store that answers 501 to it is asked with HEAD first instead.
// When the name may still change at Commit (ObjectOptions::name_may_change) a multipart upload
// goes to "{name}.rivet-pending" and is copied under its final name at Commit, then deleted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rivet/destination/destination.h"
#include "rivet/destination/s3/s3_client.h"

namespace rivet::destination::s3 {

inline constexpr int kPartsInFlight = 2;
inline constexpr std::string_view kPendingSuffix = ".rivet-pending";

// Creates `key` with `body` unless it exists; an error naming the object when it does.
Status PutNewObject(S3Client& client, const std::string& key, std::string_view body);

class Upload final : public ObjectWriter {
 public:
  // `prefix` + file names give the keys; `planned_name` is Create's name.
  Upload(std::shared_ptr<S3Client> client, std::string prefix, std::string planned_name,
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
  struct Part {
    int64_t number = 0;
    std::string bytes;
  };

  Status Ship();  // hands the full buffer to an uploader
  Status Start();
  void Work();
  Status UploadPart(const Part& part);
  Status Complete(const std::string& key, bool conditional);
  // Waits for every part in flight, then stops the uploaders.
  void StopUploaders();
  Status Failure();

  std::shared_ptr<S3Client> client_;
  std::string prefix_;
  std::string upload_key_;  // where the multipart upload goes
  std::string buffer_;      // the part being filled, or the whole file until it is larger
  int64_t next_part_ = 1;
  uint64_t written_ = 0;
  std::string upload_id_;
  bool finished_ = false;
  bool done_ = false;  // committed or aborted
  ParkedBuffer parked_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Part> queue_;
  int busy_ = 0;
  bool closing_ = false;
  Status failure_;
  std::map<int64_t, std::string> etags_;
  std::vector<std::thread> uploaders_;
};

}  // namespace rivet::destination::s3
