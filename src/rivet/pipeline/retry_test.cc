#include "rivet/pipeline/retry.h"

#include <gtest/gtest.h>

namespace rivet::pipeline {
namespace {

TEST(RetryDelayMs, TableOfCodesAndAttempts) {
  const RetryRules rules{4, 1000};  // max_retries 3
  struct Case {
    ErrorCode code;
    int64_t attempt;
    bool delivered;
    std::optional<int64_t> want;
  };
  const Case cases[] = {
      {ErrorCode::kNetwork, 1, false, 1000},
      {ErrorCode::kNetwork, 2, false, 2000},
      {ErrorCode::kTimeout, 3, false, 4000},
      {ErrorCode::kTimeout, 4, false, std::nullopt},   // tries used up
      {ErrorCode::kCapacity, 1, false, 1000 + 15000},  // capacity waits 15 s more
      {ErrorCode::kDeadlock, 2, false, 2000 + 1000},   // deadlock waits 1 s more
      {ErrorCode::kNetwork, 1, true, std::nullopt},    // a file is delivered: never again
      {ErrorCode::kAuth, 1, false, std::nullopt},
      {ErrorCode::kQuery, 1, false, std::nullopt},
      {ErrorCode::kData, 1, false, std::nullopt},
      {ErrorCode::kIo, 1, false, std::nullopt},
      {ErrorCode::kValidation, 1, false, std::nullopt},
      {ErrorCode::kConfig, 1, false, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RetryDelayMs(c.code, c.attempt, c.delivered, rules), c.want)
        << ErrorCodeName(c.code) << " attempt " << c.attempt;
  }
}

TEST(RetryDelayMs, NoRetriesAndHugeAttemptCounts) {
  EXPECT_EQ(RetryDelayMs(ErrorCode::kNetwork, 1, false, RetryRules{1, 1000}), std::nullopt);
  auto late = RetryDelayMs(ErrorCode::kNetwork, 63, false, RetryRules{100, 1});
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(*late, int64_t{1} << 20);
}

}  // namespace
}  // namespace rivet::pipeline
