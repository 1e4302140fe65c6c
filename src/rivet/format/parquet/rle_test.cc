// RLE / bit-packing hybrid: bytes worked out by hand from Encodings.md.
#include "rivet/format/parquet/rle.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rivet::format::parquet {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Encode(const std::vector<uint32_t>& values, int width) {
  Bytes out;
  EncodeRleBitPacked(values.data(), values.size(), width, out);
  return out;
}

TEST(Rle, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
  EXPECT_EQ(BitWidth(0xFFFFFFFFu), 32);
}

TEST(Rle, RepeatedRun) {
  // Ten 1s at width 1: header varint(10 << 1) = 0x14, value in one byte.
  EXPECT_EQ(Encode(std::vector<uint32_t>(10, 1), 1), (Bytes{0x14, 0x01}));
  // Eight 300s at width 9: header 0x10, value in two little-endian bytes 0x2C 0x01.
  EXPECT_EQ(Encode(std::vector<uint32_t>(8, 300), 9), (Bytes{0x10, 0x2C, 0x01}));
  // 200 zeros at width 2: header varint(400) = 0x90 0x03.
  EXPECT_EQ(Encode(std::vector<uint32_t>(200, 0), 2), (Bytes{0x90, 0x03, 0x00}));
}

TEST(Rle, BitPackedSpecExample) {
  // Encodings.md: 0..7 at bit width 3 bit-pack to 10001000 11000110 11111010, one group:
  // header (1 << 1) | 1 = 0x03.
  EXPECT_EQ(Encode({0, 1, 2, 3, 4, 5, 6, 7}, 3), (Bytes{0x03, 0x88, 0xC6, 0xFA}));
}

TEST(Rle, LastGroupIsZeroPadded) {
  // 1,0,1 then ten 0s: the run of 10 minus the 5 borrowed to fill the literal group leaves 5 < 8,
  // so all 13 values are bit-packed in two groups (header 0x05); the second is padded.
  // Group 1: 1,0,1,0,0,0,0,0 -> 0b00000101; group 2: 0 -> 0x00.
  std::vector<uint32_t> v{1, 0, 1};
  v.insert(v.end(), 10, 0);
  EXPECT_EQ(Encode(v, 1), (Bytes{0x05, 0x05, 0x00}));
}

TEST(Rle, LiteralThenRunBorrowsToAGroupBoundary) {
  // 1,0,1 then twenty 0s: the literal group takes five 0s (0x03, 0x05), the remaining fifteen
  // form an RLE run: header varint(15 << 1) = 0x1E, value 0x00.
  std::vector<uint32_t> v{1, 0, 1};
  v.insert(v.end(), 20, 0);
  EXPECT_EQ(Encode(v, 1), (Bytes{0x03, 0x05, 0x1E, 0x00}));
}

TEST(Rle, RunThenLiteral) {
  // Nine 2s then 1, 3 at width 2: RLE run (0x12, 0x02), then one padded group (0x03):
  // 1 | 3 << 2 = 0b1101 = 0x0D, then zeros.
  std::vector<uint32_t> v(9, 2);
  v.push_back(1);
  v.push_back(3);
  EXPECT_EQ(Encode(v, 2), (Bytes{0x12, 0x02, 0x03, 0x0D, 0x00}));
}

TEST(Rle, RoundTripsRandomSequences) {
  std::mt19937 rng(42);
  for (int width = 1; width <= 20; ++width) {
    std::vector<uint32_t> values;
    uint32_t max = width == 32 ? 0xFFFFFFFFu : (1u << width) - 1;
    while (values.size() < 5000) {
      uint32_t v = static_cast<uint32_t>(rng()) & max;
      size_t repeat = rng() % 3 == 0 ? 1 + rng() % 40 : 1;
      values.insert(values.end(), repeat, v);
    }
    Bytes encoded;
    EncodeRleBitPacked(values.data(), values.size(), width, encoded);
    std::vector<uint32_t> decoded;
    ASSERT_TRUE(
        DecodeRleBitPacked(encoded.data(), encoded.size(), width, values.size(), decoded).ok());
    EXPECT_EQ(decoded, values) << "width " << width;
  }
}

TEST(Rle, Uint8LevelsMatchUint32) {
  std::vector<uint8_t> levels{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1};
  std::vector<uint32_t> wide(levels.begin(), levels.end());
  Bytes a, b;
  EncodeRleBitPacked(levels.data(), levels.size(), 1, a);
  EncodeRleBitPacked(wide.data(), wide.size(), 1, b);
  EXPECT_EQ(a, b);
}

TEST(Rle, DecoderRejectsTruncatedData) {
  std::vector<uint32_t> out;
  // A bit-packed run of 2 groups at width 3 needs 6 bytes; only 2 are there.
  EXPECT_EQ(DecodeRleBitPacked(Bytes{0x05, 0x88, 0xC6}.data(), 3, 3, 16, out).code(),
            ErrorCode::kCorrupt);
  // An RLE run at width 9 needs 2 value bytes.
  EXPECT_EQ(DecodeRleBitPacked(Bytes{0x10, 0x2C}.data(), 2, 9, 8, out).code(), ErrorCode::kCorrupt);
  // Fewer values than asked for.
  EXPECT_EQ(DecodeRleBitPacked(Bytes{0x14, 0x01}.data(), 2, 1, 11, out).code(),
            ErrorCode::kCorrupt);
}

TEST(Rle, DecoderStopsAtCountOnHugeRuns) {
  // Found by the footer fuzz target: a bit-packed header claiming ~2^62 groups. At bit width 0
  // no bytes follow, so only `count` values may be produced (no loop over the claimed groups);
  // at width 3 the claimed bytes are not there (no overflow in groups * width).
  Bytes huge{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
  std::vector<uint32_t> out;
  ASSERT_TRUE(DecodeRleBitPacked(huge.data(), huge.size(), 0, 5, out).ok());
  EXPECT_EQ(out, std::vector<uint32_t>(5, 0));
  out.clear();
  EXPECT_EQ(DecodeRleBitPacked(huge.data(), huge.size(), 3, 5, out).code(), ErrorCode::kCorrupt);
}

TEST(Rle, PackBooleansLeastSignificantBitFirst) {
  Bytes out;
  std::vector<uint8_t> values{1, 0, 1, 1, 0, 0, 0, 0, 1};
  PackBooleans(values.data(), values.size(), out);
  EXPECT_EQ(out, (Bytes{0x0D, 0x01}));
}

}  // namespace
}  // namespace rivet::format::parquet
