// The destination interface: where files go. Knows bytes and names, never formats.
//
// For every file, Create(name) returns an object writer: a byte sink the format writer writes
// into, then Finish (every byte is in), Commit(name) (delivered under its final name, never
// replacing another file) or Abort (nothing is delivered). The final name is given at Commit
// because a file learns it is the first of several parts only when it is full and more rows
// come (reference §3 `_part{j}`).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/byte_sink.h"
#include "rivet/common/byte_source.h"
#include "rivet/common/result.h"
#include "rivet/common/temp_file.h"
#include "rivet/config/config.h"

namespace rivet::destination {

class ObjectWriter : public ByteSink {
 public:
  // Every byte has been appended: flushed, and durable where it is staged. Nothing is
  // delivered yet.
  virtual Status Finish() = 0;
  // Where the finished bytes can be read back before Commit (--validate), when the
  // destination stages them in a local file.
  virtual std::optional<std::string> StagedPath() const = 0;
  // Delivers the object as `file_name`; fails rather than replace an existing one. On failure
  // nothing is delivered and the staged bytes are gone.
  virtual Status Commit(const std::string& file_name) = 0;
  // Drops the bytes; nothing is delivered. Idempotent; the destructor aborts an object that was
  // neither committed nor aborted.
  virtual void Abort() = 0;
  // True once some bytes reached the consumer before Commit (a stream such as stdout): they
  // cannot be taken back, so the unit must not be tried again.
  virtual bool PartlyDelivered() const { return false; }
  // After Finish, when Commit may come much later (a file held until the export's quality
  // gates pass): bytes still kept in memory for Commit go to local disk meanwhile, so memory
  // does not grow with the number of files held.
  virtual Status Park() { return Status::Ok(); }
};

// What an upload keeps in memory for Commit (its last part or chunk), parked in an anonymous
// temporary file while the object is held (ObjectWriter::Park), and brought back at Commit.
class ParkedBuffer {
 public:
  // Moves `buffer`'s bytes to disk and frees its memory.
  Status Park(std::string& buffer);
  // Puts the parked bytes back into `buffer`, if any were parked.
  Status Restore(std::string& buffer);

 private:
  std::optional<TempFile> file_;
};

struct ObjectOptions {
  // Staged so that StagedPath() reads the object back before anything is delivered
  // (--validate where the delivered object cannot be read back).
  bool readable_before_commit = false;
  // Nothing may reach the consumer before Commit, which may come long after Finish (quality
  // gates hold every file of an export until it is checked): a destination that streams to
  // its consumer (stdout) stages the file instead.
  bool held = false;
  // Commit may give another name than Create's: the first file of a unit split by
  // max_file_size learns that it is "_part0" only when more rows come after it is full.
  bool name_may_change = false;
};

class Destination {
 public:
  virtual ~Destination() = default;
  // "Local(./output)", "Stdout", "S3(bucket)", "GCS(bucket)".
  virtual std::string Describe() const = 0;
  // A writer for a new file; `file_name` is the name it will most likely get (used for
  // staging names, so leftovers of a killed run are recognised by their export). A
  // destination that streams (stdout, S3) stages only when options.readable_before_commit.
  virtual Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name,
                                                       const ObjectOptions& options) = 0;
  // True when a delivered file can be read back by ranges (OpenDelivered): --validate then
  // checks what was delivered instead of staging a copy first.
  virtual bool ReadsBackDelivered() const { return false; }
  virtual Result<std::unique_ptr<ByteSource>> OpenDelivered(const std::string& file_name) {
    return Error(ErrorCode::kNotSupported, "{} cannot read back {}", Describe(), file_name);
  }
  // True when `file_name` already exists at the destination (a run never overwrites).
  virtual Result<bool> Exists(const std::string& file_name) = 0;
  // Where `file_name` lives, as recorded in the file manifest.
  virtual std::string Location(const std::string& file_name) const = 0;
  // Checks that files can be written (doctor); leaves nothing behind.
  virtual Status Probe() = 0;
  // Removes staged files of `file_base_prefix` ("{export}_") left by a process that no longer
  // runs (kill -9, power loss): they were never committed, so they must never be delivered.
  // Staged files of live processes are left alone. Returns how many were removed.
  virtual int SweepAbandoned(const std::string& file_base_prefix) = 0;
};

// For destinations that stage in a local folder, with staging names
// "{staging_prefix}{pid}-{counter}-{file name}": removes those of `file_base_prefix` whose
// process is gone. Returns how many were removed.
int SweepAbandonedStaging(const std::string& directory, std::string_view staging_prefix,
                          std::string_view file_base_prefix);

// An object staged in a local file at `staging_path` (created here, never replacing a file);
// Commit calls `deliver(staging_path, file_name)` and removes the staged file whatever it says.
using DeliverFn =
    std::function<Status(const std::string& staging_path, const std::string& file_name)>;
Result<std::unique_ptr<ObjectWriter>> MakeStagedObject(std::string staging_path, DeliverFn deliver);

// The shape of the object stores (S3, GCS): uploads stream while the file is written; an
// object that must be readable before Commit is staged in the temporary folder as
// "{staging_prefix}{pid}-{counter}-{file name}" and streamed into an upload at Commit;
// delivered objects are read back by ranges.
class ObjectStoreDestination : public Destination {
 public:
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name,
                                               const ObjectOptions& options) final;
  // Unfinished uploads of killed runs are the store's to expire (README); staged copies of
  // --validate runs are local and swept here.
  int SweepAbandoned(const std::string& file_base_prefix) final;
  bool ReadsBackDelivered() const final { return true; }

 protected:
  explicit ObjectStoreDestination(std::string staging_prefix)
      : staging_prefix_(std::move(staging_prefix)) {}
  // An upload of `file_name` (under the destination's prefix).
  virtual std::unique_ptr<ObjectWriter> NewUpload(const std::string& file_name,
                                                  bool name_may_change) = 0;

 private:
  std::string staging_prefix_;
};

// A delivered object read back by ranged requests (--validate): `fetch` returns the `length`
// bytes at `offset`, which this source has checked lie within `size`; an answer of another
// length is an error naming `description`.
using FetchRangeFn = std::function<Result<std::string>(uint64_t offset, size_t length)>;
std::unique_ptr<ByteSource> MakeRangedSource(std::string description, uint64_t size,
                                             FetchRangeFn fetch);

// `config_dir` resolves relative local paths.
Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string& config_dir);

}  // namespace rivet::destination
