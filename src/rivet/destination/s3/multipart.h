// The shape of an S3 multipart upload, as pure arithmetic: how large each part is, so that a
// file of any size fits in S3's 10,000 parts without the first parts (and the memory that holds
// a part in flight) being large.
//
// Parts 1-1000 are 8 MiB, and the size doubles every 1,000 parts: 10,000 parts hold about
// 8 TiB, and no part is larger than 4 GiB (S3 allows 5 MiB to 5 GiB; only the last part may be
// smaller). A file that ends before its first part is full goes up in one PUT instead.
#pragma once

#include <cstdint>
#include <optional>

namespace rivet::destination::s3 {

inline constexpr uint64_t kMinPartBytes = uint64_t{8} << 20;  // 8 MiB
inline constexpr int64_t kMaxParts = 10000;
inline constexpr int64_t kPartsPerSize = 1000;

// The size of part `part_number` (1-based, as S3 numbers them); nullopt past kMaxParts.
std::optional<uint64_t> PartSize(int64_t part_number);

// The most bytes that parts 1..parts hold together.
uint64_t CapacityOfParts(int64_t parts);

}  // namespace rivet::destination::s3
