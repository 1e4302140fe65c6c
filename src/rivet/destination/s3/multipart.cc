#include "rivet/destination/s3/multipart.h"

#include <algorithm>

namespace rivet::destination::s3 {

std::optional<uint64_t> PartSize(int64_t part_number) {
  if (part_number < 1 || part_number > kMaxParts) return std::nullopt;
  const int64_t doublings = (part_number - 1) / kPartsPerSize;
  return kMinPartBytes << doublings;
}

uint64_t CapacityOfParts(int64_t parts) {
  uint64_t total = 0;
  for (int64_t full = 0; full * kPartsPerSize < parts && full * kPartsPerSize < kMaxParts; ++full) {
    const int64_t in_band = std::min<int64_t>(kPartsPerSize, parts - full * kPartsPerSize);
    total += static_cast<uint64_t>(in_band) * (kMinPartBytes << full);
  }
  return total;
}

}  // namespace rivet::destination::s3
