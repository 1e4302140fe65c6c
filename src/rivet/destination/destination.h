// The destination interface: where finished files go. Knows bytes and names, never formats.
//
// For every file: StagingPath(name) gives where the writer puts the bytes; Commit(staging, name)
// makes the file durable under `name` (atomic for local: rename in the same directory) and
// removes the staging copy; Discard(staging) drops a file that must not be delivered.
#pragma once

#include <memory>
#include <string>
#include <string_view>

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

// `config_dir` resolves relative local paths.
Result<std::unique_ptr<Destination>> MakeDestination(const config::DestinationConfig& config,
                                                     const std::string& config_dir);

}  // namespace rivet::destination
