#include "rivet/pipeline/retry.h"

#include <algorithm>

namespace rivet::pipeline {

namespace {
// 2^20 times the base is already weeks: the exponent stops there so the shift cannot overflow.
constexpr int64_t kMaxDoublings = 20;
}  // namespace

std::optional<int64_t> RetryDelayMs(ErrorCode code, int64_t attempt, bool delivered,
                                    const RetryRules& rules) {
  if (delivered || !IsRetryable(code) || attempt >= rules.max_attempts) return std::nullopt;
  const int64_t doublings = std::clamp<int64_t>(attempt - 1, 0, kMaxDoublings);
  return rules.backoff_ms * (int64_t{1} << doublings) + ExtraBackoffMs(code);
}

}  // namespace rivet::pipeline
