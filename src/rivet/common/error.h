// Error codes and the decisions that depend only on them.
//
// Errors are classified once, where they arise (SQLSTATE, MySQL errno, CURLcode, config
// validation), into an ErrorCode. Retry policy and process exit codes read only the code, never
// the message (reference §4).
#pragma once

#include <cstdint>
#include <string_view>

namespace rivet {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kConfig,        // invalid configuration or command line: fix the file or flags
  kNotSupported,  // something the source or a file holds that rivet cannot handle
  kNetwork,       // connection lost or refused: retry on a fresh connection
  kTimeout,       // statement / lock timeout: retry
  kCapacity,      // too many connections, server starting up: retry with 15 s extra
  kDeadlock,      // deadlock or serialization failure: retry with 1 s extra
  kAuth,          // authentication or permission: fail at once
  kQuery,         // syntax error, missing table or column: fail at once
  kSource,        // any other error reported by the source server: fail at once
  kData,          // a value that cannot be exported exactly (NaN decimal, out of range)
  kCorrupt,       // a malformed byte stream (COPY, Parquet footer): fail at once
  kIo,            // local file system or destination write failure
  kValidation,    // --validate found a mismatch: data-integrity failure
  kQuality,       // a quality gate failed: data-integrity failure
  kInternal,      // a bug in rivet
  kInterrupted,   // SIGINT / SIGTERM: stopped on request, resumable
};

// Stable lower-case name, used in logs and the state DB.
std::string_view ErrorCodeName(ErrorCode code);

// True when the failed step may be retried (network, timeout, capacity, deadlock).
bool IsRetryable(ErrorCode code);

// Extra delay added to the exponential backoff for this class of error (reference §4).
int64_t ExtraBackoffMs(ErrorCode code);

// Process exit codes (documented in the README).
enum class ExitCode : int {
  kSuccess = 0,
  kExportFailed = 1,   // an export failed after its retries
  kUsage = 2,          // command line or configuration error
  kDataIntegrity = 3,  // validation or quality gate failed
  kInternal = 70,      // a bug in rivet (EX_SOFTWARE)
};

ExitCode ExitCodeFor(ErrorCode code);

}  // namespace rivet
