// The RLE / bit-packing hybrid encoding (Parquet Encodings.md, "Run Length Encoding /
// Bit-Packing Hybrid (RLE = 3)"), used for definition and repetition levels and for dictionary
// indices, plus the plain bit-packing of booleans.
//
// Grammar (from the spec):
//   encoded-data     := run*
//   run              := bit-packed-run | rle-run
//   bit-packed-run   := varint((number of groups of 8 values) << 1 | 1), then the values packed
//                       bit_width bits each, least significant bit first, groups of 8 values
//   rle-run          := varint(run length << 1), then the repeated value in ceil(bit_width / 8)
//                       bytes, little-endian
//
// Our encoder sees the whole sequence at once (levels and indices of one page) and chooses:
//   1. A run of at least kMinRleRun equal values becomes an RLE run.
//   2. Everything between RLE runs is bit-packed. A bit-packed run holds whole groups of 8, so
//      a literal stretch that does not end on a group boundary borrows values from the start of
//      the next repeated run (which must still be at least kMinRleRun long, or the whole run
//      joins the literal stretch).
//   3. Only the very last bit-packed group may be padded with zeros; readers know the value count
//      from the page header and ignore the padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rivet/common/result.h"

namespace rivet::format::parquet {

// Shorter repeats are cheaper bit-packed than paying a run header between two literal runs.
inline constexpr size_t kMinRleRun = 8;

// Bits needed to represent every value in 0..max_value (0 for max_value 0).
int BitWidth(uint64_t max_value);

// Appends the hybrid encoding of values[0..count) (each < 2^bit_width, bit_width 0..32) to out.
template <typename T>
void EncodeRleBitPacked(const T* values, size_t count, int bit_width, std::vector<uint8_t>& out);

// Appends values[0..count) (0 or 1) packed one bit each, least significant bit first: the
// PLAIN encoding of BOOLEAN.
void PackBooleans(const uint8_t* values, size_t count, std::vector<uint8_t>& out);

// Decodes exactly `count` values of the hybrid encoding from data[0..size) (bounds-checked; for
// tests and readers). kCorrupt when the data ends early or is malformed.
Status DecodeRleBitPacked(const uint8_t* data, size_t size, int bit_width, size_t count,
                          std::vector<uint32_t>& out);

extern template void EncodeRleBitPacked<uint8_t>(const uint8_t*, size_t, int,
                                                 std::vector<uint8_t>&);
extern template void EncodeRleBitPacked<uint32_t>(const uint32_t*, size_t, int,
                                                  std::vector<uint8_t>&);

}  // namespace rivet::format::parquet
