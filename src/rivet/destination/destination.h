// The destination interface: where finished files go. Knows bytes and names, never formats.
//
// For every file: StagingPath(name) gives where the writer puts the bytes; Commit(staging, name)
// makes the file durable under `name` (atomic for local: rename in the same directory) and
// removes the staging copy; Discard(staging) drops a file that must not be delivered.
#pragma once

#include <memory>
#include <string>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::destination {

class Destination {
 public:
  virtual ~Destination() = default;
  // "Local(./output)", "Stdout", "S3(bucket)", "GCS(bucket)".
  virtual std::string Describe() const = 0;
  virtual Result<std::string> StagingPath(const std::string& file_name) = 0;
  virtual Status Commit(const std::string& staging_path, const std::string& file_name) = 0;
  virtual void Discard(const std::string& staging_path) = 0;
  // True when `file_name` already exists at the destination (a run never overwrites).
  virtual Result<bool> Exists(const std::string& file_name) = 0;
  // Where `file_name` lives, as recorded in the file manifest.
  virtual std::string Location(const std::string& file_name) const = 0;
  // Checks that files can be written (doctor); leaves nothing behind.
  virtual Status Probe() = 0;
};

// `config_dir` resolves relative local paths.
Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string& config_dir);

}  // namespace rivet::destination
