// Pure, bounds-checked decoders for the values MySQL and MariaDB send (reference §5 MySQL).
//
// The text protocol sends every value as text: integers and decimals in decimal digits, dates
// as YYYY-MM-DD, times as [-]HHH:MM:SS[.ffffff], datetimes and timestamps as
// YYYY-MM-DD HH:MM:SS[.ffffff] (timestamps in the session time zone, +00:00 for Rivet). The
// binary protocol sends temporal values as fields (MYSQL_TIME); the *FromFields functions
// apply the same rules to them so both protocols decode identically.
// No function here allocates, throws or reads past the given bytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "rivet/columnar/temporal.h"
#include "rivet/columnar/types.h"

namespace rivet::source::mysql {

enum class ParseStatus : uint8_t {
  kOk,
  kZero,        // a zero date / datetime (0000-00-00): exported as NULL (documented)
  kInvalid,     // malformed text or an impossible date such as 2024-02-30 or 2024-00-10
  kOutOfRange,  // well-formed but does not fit the target type (TIME beyond 0..24h, digits)
};

using columnar::kMicrosPerDay;
using columnar::kMicrosPerSecond;

// Days since 1970-01-01 (proleptic Gregorian): the calendar arithmetic shared by every module.
using columnar::DaysFromCivil;
bool IsValidCivilDate(int64_t year, unsigned month, unsigned day);

// "-123.45" for DECIMAL(precision, scale) -> unscaled -12345. Fewer fraction digits than
// `scale` are padded; more is kInvalid; more than `precision` significant digits is
// kOutOfRange. precision must be 1..38.
ParseStatus ParseDecimalText(std::string_view text, int32_t precision, int32_t scale,
                             columnar::Int128* unscaled);

ParseStatus DateFromFields(int64_t year, unsigned month, unsigned day, int32_t* days);
ParseStatus DatetimeFromFields(int64_t year, unsigned month, unsigned day, unsigned hour,
                               unsigned minute, unsigned second, uint64_t micros,
                               int64_t* epoch_micros);
// A TIME is exported only as a time of day: 0 <= t < 24 h; anything else is kOutOfRange.
ParseStatus TimeFromFields(bool negative, uint64_t hours, unsigned minute, unsigned second,
                           uint64_t micros, int64_t* day_micros);

ParseStatus ParseDateText(std::string_view text, int32_t* days);
ParseStatus ParseDatetimeText(std::string_view text, int64_t* epoch_micros);
ParseStatus ParseTimeText(std::string_view text, int64_t* day_micros);

// BIT(n) values travel as ceil(n/8) big-endian bytes; at most 8.
bool BitBytesToUInt64(const uint8_t* bytes, size_t length, uint64_t* out);

}  // namespace rivet::source::mysql
