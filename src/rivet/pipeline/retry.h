// The retry policy of a unit of work (reference §4): one function, so that every caller (the
// full export today, chunks and incremental runs next) decides the same way.
#pragma once

#include <cstdint>
#include <optional>

#include "rivet/common/error.h"

namespace rivet::pipeline {

struct RetryRules {
  int64_t max_attempts = 4;   // tries in all (max_retries + 1, or chunk_max_attempts)
  int64_t backoff_ms = 2000;  // retry_backoff_ms: base of the exponential backoff
};

// After try number `attempt` (1-based) failed with `code`: how long to wait before the next
// try, or nullopt to give up. Gives up on errors that are not retryable, once the tries are
// used, and whenever a file of the unit already reached the destination (`delivered`): a retry
// would deliver it twice. Wait = backoff_ms * 2^(attempt-1) + the error class's extra.
std::optional<int64_t> RetryDelayMs(ErrorCode code, int64_t attempt, bool delivered,
                                    const RetryRules& rules);

}  // namespace rivet::pipeline
