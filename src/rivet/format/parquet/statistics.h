// Column chunk statistics (parquet.thrift `Statistics`, ordered by `ColumnOrder` TYPE_ORDER).
//
// min_value / max_value follow the sort order of the column's logical type:
//   - signed integers, DATE, TIME, TIMESTAMP, DECIMAL (INT32/INT64/FIXED): signed comparison of
//     the represented value (for FIXED_LEN_BYTE_ARRAY decimals we compare the __int128 before
//     encoding, never the big-endian bytes);
//   - INTEGER(unsigned): unsigned comparison of the bit pattern (UINT_64 max is 0xFF..FF);
//   - BOOLEAN: false < true;
//   - FLOAT / DOUBLE: NaN never becomes min or max and is counted in nan_count (always written
//     for floating point columns); a zero min is written as -0.0 and a zero max as +0.0; when
//     every non-null value is NaN, min/max are omitted;
//   - STRING, JSON, BYTE_ARRAY, UUID: unsigned byte-wise lexicographic (so UTF-8 sorts by code
//     point, and a byte 0xC3 sorts after 'z');
//   - lists: no min/max (see LeafColumn::write_min_max).
// Values are encoded PLAIN without a length prefix. A BYTE_ARRAY min or max longer than
// kMaxStatisticsValueBytes is dropped (both are omitted) rather than truncated, so every value
// written is exact.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "rivet/columnar/types.h"

namespace rivet::format::parquet {

// Larger min/max values would bloat the footer for little pruning benefit.
inline constexpr size_t kMaxStatisticsValueBytes = 4096;

namespace internal {
template <typename T>
void AppendLittleEndian(T value, std::string& out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 Linux are little-endian
  out.append(bytes, sizeof(T));
}
}  // namespace internal

// INT32 / INT64 (and BOOLEAN as 0/1). Unsigned order is signed order of the value with its sign
// bit flipped, so one comparison serves both without a branch per value.
template <typename T>
class IntStatistics {
 public:
  explicit IntStatistics(bool is_unsigned)
      : flip_(is_unsigned ? std::numeric_limits<T>::min() : T{0}) {}
  void Update(T value) {
    T key = static_cast<T>(value ^ flip_);
    if (key < min_key_) min_key_ = key;
    if (key > max_key_) max_key_ = key;
    has_values_ = true;
  }
  bool has_min_max() const { return has_values_; }
  void EncodeMin(std::string& out) const { internal::AppendLittleEndian<T>(min_key_ ^ flip_, out); }
  void EncodeMax(std::string& out) const { internal::AppendLittleEndian<T>(max_key_ ^ flip_, out); }
  void Reset() {
    min_key_ = std::numeric_limits<T>::max();
    max_key_ = std::numeric_limits<T>::min();
    has_values_ = false;
  }

 private:
  T flip_;
  T min_key_ = std::numeric_limits<T>::max();
  T max_key_ = std::numeric_limits<T>::min();
  bool has_values_ = false;
};

class BoolStatistics {
 public:
  void Update(uint8_t value) { seen_[value & 1] = true; }
  bool has_min_max() const { return seen_[0] || seen_[1]; }
  void EncodeMin(std::string& out) const { out.push_back(seen_[0] ? 0 : 1); }
  void EncodeMax(std::string& out) const { out.push_back(seen_[1] ? 1 : 0); }
  void Reset() { seen_[0] = seen_[1] = false; }

 private:
  bool seen_[2] = {false, false};
};

template <typename F>
class FloatStatistics {
 public:
  void Update(F value) {
    if (std::isnan(value)) {
      ++nan_count_;
      return;
    }
    if (!has_values_ || value < min_) min_ = value;
    if (!has_values_ || value > max_) max_ = value;
    has_values_ = true;
  }
  bool has_min_max() const { return has_values_; }
  int64_t nan_count() const { return nan_count_; }
  // parquet.thrift ColumnOrder: a zero min is written -0.0, a zero max +0.0, so a reader never
  // prunes a chunk holding the other zero.
  void EncodeMin(std::string& out) const {
    internal::AppendLittleEndian<F>(min_ == F{0} ? -F{0} : min_, out);
  }
  void EncodeMax(std::string& out) const {
    internal::AppendLittleEndian<F>(max_ == F{0} ? F{0} : max_, out);
  }
  void Reset() {
    has_values_ = false;
    nan_count_ = 0;
  }

 private:
  F min_ = 0;
  F max_ = 0;
  bool has_values_ = false;
  int64_t nan_count_ = 0;
};

// Unsigned byte-wise order: BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (UUID).
class BytesStatistics {
 public:
  void Update(std::string_view value) {
    if (!has_values_) {
      min_.assign(value);
      max_.assign(value);
      has_values_ = true;
      return;
    }
    if (Less(value, min_)) min_.assign(value);
    if (Less(max_, value)) max_.assign(value);
  }
  bool has_min_max() const {
    return has_values_ && min_.size() <= kMaxStatisticsValueBytes &&
           max_.size() <= kMaxStatisticsValueBytes;
  }
  void EncodeMin(std::string& out) const { out.append(min_); }
  void EncodeMax(std::string& out) const { out.append(max_); }
  void Reset() { has_values_ = false; }

  static bool Less(std::string_view a, std::string_view b) {
    size_t n = a.size() < b.size() ? a.size() : b.size();
    int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);  // memcmp compares unsigned bytes
    return c < 0 || (c == 0 && a.size() < b.size());
  }

 private:
  std::string min_;
  std::string max_;
  bool has_values_ = false;
};

// Writes the low `width` bytes of `value` big-endian: the FIXED_LEN_BYTE_ARRAY decimal layout
// (two's complement, sign-extended to the width).
inline void AppendDecimalBigEndian(columnar::Int128 value, int32_t width, char* out) {
  auto bits = static_cast<unsigned __int128>(value);
  for (int32_t i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(bits));
    bits >>= 8;
  }
}

// DECIMAL stored as FIXED_LEN_BYTE_ARRAY: signed order of the represented value.
class Decimal128Statistics {
 public:
  explicit Decimal128Statistics(int32_t width) : width_(width) {}
  void Update(columnar::Int128 value) {
    if (!has_values_ || value < min_) min_ = value;
    if (!has_values_ || value > max_) max_ = value;
    has_values_ = true;
  }
  bool has_min_max() const { return has_values_; }
  void EncodeMin(std::string& out) const { Encode(min_, out); }
  void EncodeMax(std::string& out) const { Encode(max_, out); }
  void Reset() { has_values_ = false; }

 private:
  void Encode(columnar::Int128 value, std::string& out) const {
    char bytes[16];
    AppendDecimalBigEndian(value, width_, bytes);
    out.append(bytes, static_cast<size_t>(width_));
  }
  int32_t width_;
  columnar::Int128 min_ = 0;
  columnar::Int128 max_ = 0;
  bool has_values_ = false;
};

}  // namespace rivet::format::parquet
