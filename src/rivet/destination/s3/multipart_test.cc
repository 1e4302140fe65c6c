#include "rivet/destination/s3/multipart.h"

#include <gtest/gtest.h>

namespace rivet::destination::s3 {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

TEST(PartSize, StartsAt8MiBAndDoublesEveryThousandParts) {
  EXPECT_EQ(PartSize(1), 8 * kMiB);
  EXPECT_EQ(PartSize(1000), 8 * kMiB);
  EXPECT_EQ(PartSize(1001), 16 * kMiB);
  EXPECT_EQ(PartSize(2001), 32 * kMiB);
  EXPECT_EQ(PartSize(10000), 4 * kGiB);
  EXPECT_EQ(PartSize(0), std::nullopt);
  EXPECT_EQ(PartSize(10001), std::nullopt);
  // Within S3's limits: at least 5 MiB, at most 5 GiB.
  for (int64_t part = 1; part <= kMaxParts; ++part) {
    ASSERT_GE(*PartSize(part), 5 * kMiB);
    ASSERT_LE(*PartSize(part), 5 * kGiB);
  }
}

TEST(PartSize, TenThousandPartsHoldFarMoreThanATerabyte) {
  uint64_t sum = 0;
  for (int64_t part = 1; part <= kMaxParts; ++part) sum += *PartSize(part);
  EXPECT_EQ(CapacityOfParts(kMaxParts), sum);
  EXPECT_GT(sum, 7 * kTiB);
  EXPECT_EQ(CapacityOfParts(1), 8 * kMiB);
  EXPECT_EQ(CapacityOfParts(1001), 1000 * 8 * kMiB + 16 * kMiB);
  EXPECT_EQ(CapacityOfParts(0), 0u);
}

}  // namespace
}  // namespace rivet::destination::s3
