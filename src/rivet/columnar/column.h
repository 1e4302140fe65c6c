// Column: one typed vector with validity, the unit sources fill and writers read.
//
// Sources append values row by row through the typed Append* calls (no virtual call and, once
// capacity is reached, no allocation per value); writers read whole vectors through values<T>(),
// offsets() and data(), switching on DataType::storage() once per column and batch.
// A NULL still occupies a slot in fixed-width storage (value 0) so that row i is always at index
// i; for variable-length storage a NULL is an empty slice.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "rivet/columnar/types.h"

namespace rivet::columnar {

class Column {
 public:
  explicit Column(DataType type);
  Column(Column&&) noexcept = default;
  Column& operator=(Column&&) noexcept = default;

  const DataType& type() const { return type_; }
  size_t size() const { return validity_.size(); }
  bool empty() const { return validity_.empty(); }

  // One byte per row: 1 = a value, 0 = NULL (cheap to turn into definition levels).
  const std::vector<uint8_t>& validity() const { return validity_; }
  bool IsValid(size_t row) const { return validity_[row] != 0; }
  size_t null_count() const { return null_count_; }

  // Fixed-width values; T must be the storage type of type() (see types.h).
  template <typename T>
  const std::vector<T>& values() const {
    return const_cast<Column*>(this)->mutable_values<T>();
  }
  // Variable-length rows (kBytes) and lists (kList): size()+1 offsets, the first is 0.
  const std::vector<int64_t>& offsets() const { return offsets_; }
  // Bytes of kBytes rows, or 16 bytes per row for kFixed16.
  const std::vector<uint8_t>& data() const { return data_; }
  std::string_view StringAt(size_t row) const {
    return std::string_view(reinterpret_cast<const char*>(data_.data()) + offsets_[row],
                            static_cast<size_t>(offsets_[row + 1] - offsets_[row]));
  }
  // Elements of a kList column.
  const Column& child() const { return *child_; }
  Column& mutable_child() { return *child_; }

  // --- building ---
  template <typename T>
  void Append(T value) {
    mutable_values<T>().push_back(value);
    validity_.push_back(1);
  }
  void AppendBytes(const void* bytes, size_t length) {
    const auto* p = static_cast<const uint8_t*>(bytes);
    data_.insert(data_.end(), p, p + length);
    if (type_.storage() == Storage::kBytes) offsets_.push_back(static_cast<int64_t>(data_.size()));
    validity_.push_back(1);
  }
  void AppendString(std::string_view s) { AppendBytes(s.data(), s.size()); }
  // Growable tail of data() for decoders that write bytes in place; finish with CommitBytes().
  std::vector<uint8_t>& mutable_data() { return data_; }
  void CommitBytes() {
    offsets_.push_back(static_cast<int64_t>(data_.size()));
    validity_.push_back(1);
  }
  // For lists: append the row's elements to mutable_child(), then call CloseList().
  void CloseList() {
    offsets_.push_back(static_cast<int64_t>(child_->size()));
    validity_.push_back(1);
  }
  void AppendNull();

  // Empties the column but keeps its capacity for the next batch.
  void Clear();
  void Reserve(size_t rows);
  // Bytes held by values (not capacity); used to bound batch memory.
  size_t ByteSize() const;

  template <typename T>
  std::vector<T>& mutable_values() {
    if constexpr (std::is_same_v<T, uint8_t>) return u8_;
    else if constexpr (std::is_same_v<T, int32_t>) return i32_;
    else if constexpr (std::is_same_v<T, int64_t>) return i64_;
    else if constexpr (std::is_same_v<T, float>) return f32_;
    else if constexpr (std::is_same_v<T, double>) return f64_;
    else {
      static_assert(std::is_same_v<T, Int128>, "no such column storage");
      return i128_;
    }
  }

 private:
  DataType type_;
  std::vector<uint8_t> validity_;
  size_t null_count_ = 0;
  std::vector<uint8_t> u8_;
  std::vector<int32_t> i32_;
  std::vector<int64_t> i64_;
  std::vector<float> f32_;
  std::vector<double> f64_;
  std::vector<Int128> i128_;
  std::vector<int64_t> offsets_;
  std::vector<uint8_t> data_;
  std::unique_ptr<Column> child_;
};

}  // namespace rivet::columnar
