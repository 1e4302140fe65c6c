// Dictionary encoding (Encodings.md, "Dictionary Encoding (PLAIN_DICTIONARY = 2 and
// RLE_DICTIONARY = 8)"): each distinct value of a column chunk gets an index in first-seen order;
// data pages store the indices (RLE/bit-packed hybrid, preceded by one byte of bit width) and
// the chunk's dictionary page stores the distinct values PLAIN-encoded.
//
// Fallback: a dictionary larger than ParquetWriterOptions::dictionary_max_bytes (1 MiB by
// default, measured as its PLAIN-encoded size) stops growing. The page in progress is finished
// with dictionary indices, the dictionary page is still written for the pages that use it, and
// the rest of that column chunk is written PLAIN. The next row group starts a new dictionary.
//
// The tables below are open-addressing hash sets of entry indices (no allocation per value once
// grown; growth doubles the slot array). Values compare by bit pattern, so NaN payloads and
// -0.0 / +0.0 stay distinct, exactly as PLAIN would keep them.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rivet::format::parquet {

namespace internal {

inline uint64_t MixBits(uint64_t x) {
  // A multiply-xorshift finalizer: every input bit reaches the high bits used as slot index.
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

template <typename V>
uint64_t HashFixed(const V& value) {
  static_assert(std::is_trivially_copyable_v<V> &&
                (sizeof(V) == 4 || sizeof(V) == 8 || sizeof(V) == 16));
  if constexpr (sizeof(V) == 4) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    return MixBits(bits);
  } else if constexpr (sizeof(V) == 8) {
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    return MixBits(bits);
  } else {
    uint64_t words[2];
    std::memcpy(words, &value, 16);
    return MixBits(words[0] ^ MixBits(words[1]));
  }
}

// Slot array shared by both dictionaries: 0 = empty, otherwise entry index + 1.
class SlotTable {
 public:
  static constexpr size_t kInitialSlots = 1024;
  void Clear() {
    slots_.assign(kInitialSlots, 0);
    mask_ = kInitialSlots - 1;
  }
  bool NeedsGrowth(size_t entries) const { return (entries + 1) * 2 > slots_.size(); }
  uint32_t* slots() { return slots_.data(); }
  size_t mask() const { return mask_; }
  // Rebuilds with twice the slots; `hash_of(i)` gives entry i's hash.
  template <typename HashOf>
  void Grow(size_t entries, HashOf&& hash_of) {
    slots_.assign(slots_.size() * 2, 0);
    mask_ = slots_.size() - 1;
    for (size_t i = 0; i < entries; ++i) {
      size_t s = hash_of(i) & mask_;
      while (slots_[s] != 0) s = (s + 1) & mask_;
      slots_[s] = static_cast<uint32_t>(i + 1);
    }
  }

 private:
  std::vector<uint32_t> slots_ = std::vector<uint32_t>(kInitialSlots, 0);
  size_t mask_ = kInitialSlots - 1;
};

}  // namespace internal

// Fixed-width physical values: int32_t, int64_t, float, double, __int128.
template <typename V>
class FixedDictionary {
 public:
  // Index of `value`, inserting it if new.
  uint32_t Insert(const V& value) {
    uint64_t h = internal::HashFixed(value);
    size_t s = h & table_.mask();
    uint32_t* slots = table_.slots();
    while (slots[s] != 0) {
      uint32_t index = slots[s] - 1;
      if (std::memcmp(&values_[index], &value, sizeof(V)) == 0) return index;
      s = (s + 1) & table_.mask();
    }
    auto index = static_cast<uint32_t>(values_.size());
    values_.push_back(value);
    slots[s] = index + 1;
    if (table_.NeedsGrowth(values_.size())) {
      table_.Grow(values_.size(), [&](size_t i) { return internal::HashFixed(values_[i]); });
    }
    return index;
  }
  size_t size() const { return values_.size(); }
  const std::vector<V>& values() const { return values_; }
  void Clear() {
    values_.clear();
    table_.Clear();
  }

 private:
  std::vector<V> values_;
  internal::SlotTable table_;
};

// Variable-length values (BYTE_ARRAY) and FIXED_LEN_BYTE_ARRAY values, kept in one buffer.
class BytesDictionary {
 public:
  uint32_t Insert(std::string_view value) {
    uint64_t h = XXH3_64bits(value.data(), value.size());
    size_t s = h & table_.mask();
    uint32_t* slots = table_.slots();
    while (slots[s] != 0) {
      uint32_t index = slots[s] - 1;
      if (hashes_[index] == h && at(index) == value) return index;
      s = (s + 1) & table_.mask();
    }
    auto index = static_cast<uint32_t>(hashes_.size());
    data_.insert(data_.end(), value.begin(), value.end());
    ends_.push_back(data_.size());
    hashes_.push_back(h);
    slots[s] = index + 1;
    if (table_.NeedsGrowth(hashes_.size())) {
      table_.Grow(hashes_.size(), [&](size_t i) { return hashes_[i]; });
    }
    return index;
  }
  size_t size() const { return hashes_.size(); }
  // Total bytes of all distinct values (without length prefixes).
  size_t data_bytes() const { return data_.size(); }
  std::string_view at(size_t index) const {
    size_t begin = index == 0 ? 0 : ends_[index - 1];
    return std::string_view(data_.data() + begin, ends_[index] - begin);
  }
  void Clear() {
    data_.clear();
    ends_.clear();
    hashes_.clear();
    table_.Clear();
  }

 private:
  std::vector<char> data_;
  std::vector<size_t> ends_;
  std::vector<uint64_t> hashes_;
  internal::SlotTable table_;
};

}  // namespace rivet::format::parquet
