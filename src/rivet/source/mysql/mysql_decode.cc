#include "rivet/source/mysql/mysql_decode.h"

#include <limits>

#include "rivet/columnar/pow10.h"

namespace rivet::source::mysql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at text[*pos]; advances *pos.
bool ReadFixedDigits(std::string_view text, size_t* pos, size_t count, uint64_t* out) {
  if (*pos + count > text.size()) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *pos += count;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

// Optional ".f{1,6}" -> microseconds; *pos must then be at the end.
bool ReadFractionToEnd(std::string_view text, size_t* pos, uint64_t* micros) {
  *micros = 0;
  if (*pos == text.size()) return true;
  if (text[*pos] != '.') return false;
  ++*pos;
  size_t digits = text.size() - *pos;
  if (digits == 0 || digits > 6) return false;
  uint64_t value = 0;
  if (!ReadFixedDigits(text, pos, digits, &value)) return false;
  for (size_t i = digits; i < 6; ++i) value *= 10;
  *micros = value;
  return true;
}

// "YYYY-MM-DD" at the start of text.
bool ReadDate(std::string_view text, size_t* pos, uint64_t* y, uint64_t* m, uint64_t* d) {
  return ReadFixedDigits(text, pos, 4, y) && Expect(text, pos, '-') &&
         ReadFixedDigits(text, pos, 2, m) && Expect(text, pos, '-') &&
         ReadFixedDigits(text, pos, 2, d);
}

}  // namespace

bool IsValidCivilDate(int64_t year, unsigned month, unsigned day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  unsigned limit = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= limit;
}

namespace {
// The digits of a decimal's text from `pos` as |value| * 10^scale in U (uint64_t when the
// precision is at most 18: much cheaper steps than 128-bit ones).
template <typename U>
ParseStatus DecimalDigits(std::string_view text, size_t pos, int32_t precision, int32_t scale,
                          U* magnitude) {
  U value = 0;
  int integer_significant = 0;  // integer digits from the first non-zero one
  int integer_digits = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '.') {
      if (seen_point) return ParseStatus::kInvalid;
      seen_point = true;
      continue;
    }
    if (!IsDigit(c)) return ParseStatus::kInvalid;
    if (seen_point) {
      if (++fraction_digits > scale) return ParseStatus::kInvalid;
    } else {
      ++integer_digits;
      if (integer_significant > 0 || c != '0') ++integer_significant;
      // DECIMAL(p,s) holds p-s integer digits. Checking here also bounds the accumulator: it
      // never holds more than p digits, below 10^p.
      if (integer_significant + scale > precision) return ParseStatus::kOutOfRange;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (integer_digits + fraction_digits == 0) return ParseStatus::kInvalid;
  value *= columnar::kPow10<U>[static_cast<size_t>(scale - fraction_digits)];
  // |unscaled| < 10^precision.
  if (value >= columnar::kPow10<U>[static_cast<size_t>(precision)]) return ParseStatus::kOutOfRange;
  *magnitude = value;
  return ParseStatus::kOk;
}
}  // namespace

ParseStatus ParseDecimalText(std::string_view text, int32_t precision, int32_t scale,
                             columnar::Int128* unscaled) {
  if (precision < 1 || precision > columnar::kMaxDecimalPrecision || scale < 0 ||
      scale > precision) {
    return ParseStatus::kOutOfRange;
  }
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
    negative = text[pos] == '-';
    ++pos;
  }
  auto parse = [&](auto magnitude) {
    const ParseStatus status = DecimalDigits(text, pos, precision, scale, &magnitude);
    if (status == ParseStatus::kOk) {
      const auto value = static_cast<columnar::Int128>(magnitude);
      *unscaled = negative ? -value : value;
    }
    return status;
  };
  return precision <= 18 ? parse(uint64_t{0}) : parse(static_cast<unsigned __int128>(0));
}

ParseStatus DateFromFields(int64_t year, unsigned month, unsigned day, int32_t* days) {
  if (year == 0 && month == 0 && day == 0) return ParseStatus::kZero;
  if (!IsValidCivilDate(year, month, day)) return ParseStatus::kInvalid;
  *days = static_cast<int32_t>(DaysFromCivil(year, month, day));
  return ParseStatus::kOk;
}

ParseStatus DatetimeFromFields(int64_t year, unsigned month, unsigned day, unsigned hour,
                               unsigned minute, unsigned second, uint64_t micros,
                               int64_t* epoch_micros) {
  if (year == 0 && month == 0 && day == 0) {
    return hour == 0 && minute == 0 && second == 0 && micros == 0 ? ParseStatus::kZero
                                                                  : ParseStatus::kInvalid;
  }
  if (!IsValidCivilDate(year, month, day) || hour > 23 || minute > 59 || second > 59 ||
      micros >= static_cast<uint64_t>(kMicrosPerSecond)) {
    return ParseStatus::kInvalid;
  }
  int64_t seconds = hour * 3600 + minute * 60 + second;
  *epoch_micros = DaysFromCivil(year, month, day) * kMicrosPerDay + seconds * kMicrosPerSecond +
                  static_cast<int64_t>(micros);
  return ParseStatus::kOk;
}

ParseStatus TimeFromFields(bool negative, uint64_t hours, unsigned minute, unsigned second,
                           uint64_t micros, int64_t* day_micros) {
  if (minute > 59 || second > 59 || micros >= static_cast<uint64_t>(kMicrosPerSecond)) {
    return ParseStatus::kInvalid;
  }
  if (hours >= 24) return ParseStatus::kOutOfRange;
  int64_t value = (static_cast<int64_t>(hours) * 3600 + minute * 60 + second) * kMicrosPerSecond +
                  static_cast<int64_t>(micros);
  if (negative && value != 0) return ParseStatus::kOutOfRange;
  *day_micros = value;
  return ParseStatus::kOk;
}

ParseStatus ParseDateText(std::string_view text, int32_t* days) {
  size_t pos = 0;
  uint64_t y = 0, m = 0, d = 0;
  if (!ReadDate(text, &pos, &y, &m, &d) || pos != text.size()) return ParseStatus::kInvalid;
  return DateFromFields(static_cast<int64_t>(y), static_cast<unsigned>(m), static_cast<unsigned>(d),
                        days);
}

ParseStatus ParseDatetimeText(std::string_view text, int64_t* epoch_micros) {
  size_t pos = 0;
  uint64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, us = 0;
  if (!ReadDate(text, &pos, &y, &mo, &d) || !Expect(text, &pos, ' ') ||
      !ReadFixedDigits(text, &pos, 2, &h) || !Expect(text, &pos, ':') ||
      !ReadFixedDigits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') ||
      !ReadFixedDigits(text, &pos, 2, &s) || !ReadFractionToEnd(text, &pos, &us)) {
    return ParseStatus::kInvalid;
  }
  return DatetimeFromFields(static_cast<int64_t>(y), static_cast<unsigned>(mo),
                            static_cast<unsigned>(d), static_cast<unsigned>(h),
                            static_cast<unsigned>(mi), static_cast<unsigned>(s), us, epoch_micros);
}

ParseStatus ParseTimeText(std::string_view text, int64_t* day_micros) {
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && text[pos] == '-') {
    negative = true;
    ++pos;
  }
  // Hours: 2 or 3 digits (MySQL TIME spans -838:59:59 .. 838:59:59).
  size_t colon = text.find(':', pos);
  if (colon == std::string_view::npos || colon - pos < 2 || colon - pos > 3) {
    return ParseStatus::kInvalid;
  }
  uint64_t h = 0, mi = 0, s = 0, us = 0;
  if (!ReadFixedDigits(text, &pos, colon - pos, &h) || !Expect(text, &pos, ':') ||
      !ReadFixedDigits(text, &pos, 2, &mi) || !Expect(text, &pos, ':') ||
      !ReadFixedDigits(text, &pos, 2, &s) || !ReadFractionToEnd(text, &pos, &us)) {
    return ParseStatus::kInvalid;
  }
  return TimeFromFields(negative, h, static_cast<unsigned>(mi), static_cast<unsigned>(s), us,
                        day_micros);
}

bool BitBytesToUInt64(const uint8_t* bytes, size_t length, uint64_t* out) {
  if (length > 8) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < length; ++i) value = (value << 8) | bytes[i];
  *out = value;
  return true;
}

}  // namespace rivet::source::mysql
