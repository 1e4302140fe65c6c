// Calendar arithmetic for the stored temporal values (proleptic Gregorian, UTC).
// Days are counted from 1970-01-01; the algorithm is the classic era/day-of-era decomposition,
// exact for every int32 day count.
#pragma once

#include <cstdint>

namespace rivet::columnar {

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

CivilDate CivilFromDays(int64_t days);
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Floor division: the day of a (possibly negative) microsecond timestamp.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace rivet::columnar
