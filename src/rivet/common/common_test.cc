#include <gtest/gtest.h>

#include "rivet/common/bytes.h"
#include "rivet/common/clock.h"
#include "rivet/common/error.h"
#include "rivet/common/result.h"

namespace rivet {
namespace {

TEST(Bytes, FormatsOneThousandTwentyFourBased) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1024), "1.0 KB");
  EXPECT_EQ(FormatBytes(123392), "120.5 KB");
  EXPECT_EQ(FormatBytes(2202009), "2.1 MB");
  EXPECT_EQ(FormatBytes(1288490189), "1.2 GB");
}

TEST(Bytes, FormatsDurations) {
  EXPECT_EQ(FormatDuration(340), "340ms");
  EXPECT_EQ(FormatDuration(1200), "1.2s");
  EXPECT_EQ(FormatDuration(45300), "45.3s");
}

TEST(Bytes, ParsesSizes) {
  EXPECT_EQ(ParseByteSize("100KB"), 100u * 1024);
  EXPECT_EQ(ParseByteSize("512MB"), 512ull << 20);
  EXPECT_EQ(ParseByteSize("1GB"), 1ull << 30);
  EXPECT_EQ(ParseByteSize("1073741824"), 1073741824u);
  EXPECT_EQ(ParseByteSize("2 mb"), 2ull << 20);
  EXPECT_FALSE(ParseByteSize("").has_value());
  EXPECT_FALSE(ParseByteSize("12XB").has_value());
  EXPECT_FALSE(ParseByteSize("-5MB").has_value());
  EXPECT_FALSE(ParseByteSize("0").has_value());
}

TEST(Clock, FormatsUtc) {
  SystemTime t = std::chrono::system_clock::from_time_t(1774794600) + std::chrono::milliseconds(123);
  EXPECT_EQ(FormatRunIdTime(t), "20260329T143000.123");
  EXPECT_EQ(FormatFileTime(t), "20260329_143000");
  EXPECT_EQ(FormatIsoSeconds(t), "2026-03-29T14:30:00+00:00");
}

TEST(Error, ClassesDriveRetryAndExit) {
  struct Row {
    ErrorCode code;
    bool retryable;
    int64_t extra_ms;
    ExitCode exit;
  };
  const Row rows[] = {
      {ErrorCode::kNetwork, true, 0, ExitCode::kExportFailed},
      {ErrorCode::kTimeout, true, 0, ExitCode::kExportFailed},
      {ErrorCode::kCapacity, true, 15000, ExitCode::kExportFailed},
      {ErrorCode::kDeadlock, true, 1000, ExitCode::kExportFailed},
      {ErrorCode::kAuth, false, 0, ExitCode::kExportFailed},
      {ErrorCode::kQuery, false, 0, ExitCode::kExportFailed},
      {ErrorCode::kConfig, false, 0, ExitCode::kUsage},
      {ErrorCode::kNotSupported, false, 0, ExitCode::kUsage},
      {ErrorCode::kValidation, false, 0, ExitCode::kDataIntegrity},
      {ErrorCode::kQuality, false, 0, ExitCode::kDataIntegrity},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(ErrorCodeName(row.code)));
    EXPECT_EQ(IsRetryable(row.code), row.retryable);
    EXPECT_EQ(ExtraBackoffMs(row.code), row.extra_ms);
    EXPECT_EQ(ExitCodeFor(row.code), row.exit);
  }
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(ErrorCode::kData, "{} is odd", v);
  return v / 2;
}

Result<int> Quarter(int v) {
  RIVET_ASSIGN_OR_RETURN(int half, Half(v));
  RIVET_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kData);
  EXPECT_EQ(bad.error().message(), "3 is odd");
  EXPECT_EQ(bad.error().WithContext("export 'x'").message(), "export 'x': 3 is odd");
}

}  // namespace
}  // namespace rivet
