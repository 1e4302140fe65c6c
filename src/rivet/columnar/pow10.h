// Powers of ten: every one that uint64_t (10^0..10^19) or unsigned __int128 (10^0..10^38)
// holds, so that decimal parsers bound and scale values with one lookup instead of a loop.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rivet::columnar {

template <typename U>
inline constexpr std::array<U, (sizeof(U) == 16 ? 39 : 20)> kPow10 = [] {
  std::array<U, (sizeof(U) == 16 ? 39 : 20)> t{};
  t[0] = 1;
  for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
  return t;
}();

}  // namespace rivet::columnar
