#include "rivet/format/parquet/column_writer.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/format/parquet/dictionary.h"
#include "rivet/format/parquet/rle.h"
#include "rivet/format/parquet/statistics.h"

namespace rivet::format::parquet {

namespace {

using columnar::Column;
using columnar::Int128;

// Parquet page sizes are i32 (PageHeader.uncompressed_page_size / compressed_page_size).
constexpr size_t kLevelLengthPrefixBytes = 4;
constexpr size_t kUuidBytes = 16;
// Up-front reservation of a page's PLAIN buffer: page_max_bytes (at most kMaxReserve) plus room
// for the row that crosses it.
constexpr uint64_t kMaxReserve = uint64_t{8} << 20;
constexpr size_t kReserveSlack = size_t{64} << 10;
// Values of a chunk's first page after which the dictionary must have paid off (see
// DecideDictionaryEarly): enough to see repeats in any column worth a dictionary.
constexpr size_t kDictionarySampleValues = 16384;

// Leaves the elements a resize adds uninitialized: a page's PLAIN buffer is grown by a run of
// values and then written in full, so zero-filling it first would be one more pass over it.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using PlainBuffer = std::vector<uint8_t, UninitializedAllocator<uint8_t>>;

void PutLE32(uint32_t value, uint8_t* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

// ---------------------------------------------------------------------------------------------
// Per-kind traits: how a value is read from its Column, encoded PLAIN, deduplicated and ordered.

template <ValueKind K>
struct Traits;

template <>
struct Traits<ValueKind::kBool> {
  using Physical = uint8_t;
  using Stats = BoolStatistics;
  static constexpr bool kDictionary = false;
  struct Reader {
    const uint8_t* p;
    explicit Reader(const Column& c) : p(c.values<uint8_t>().data()) {}
    uint8_t operator()(size_t i) const { return p[i] != 0 ? 1 : 0; }
  };
};

template <typename T, typename Src>
struct FixedTraits {
  using Physical = T;
  using Dict = FixedDictionary<T>;
  static constexpr bool kDictionary = true;
  struct Reader {
    const Src* p;
    explicit Reader(const Column& c) : p(c.values<Src>().data()) {}
    // The int64 -> int32 narrowing keeps the low 32 bits: the UINT_32 bit pattern, and the
    // value itself for decimals of precision <= 9 (checked against the precision first).
    T operator()(size_t i) const { return static_cast<T>(p[i]); }
    Int128 raw(size_t i) const { return static_cast<Int128>(p[i]); }
  };
  static size_t PlainSize(T) { return sizeof(T); }
  static uint8_t* PutPlain(T value, uint8_t* out) {
    std::memcpy(out, &value, sizeof(T));  // little-endian targets only
    return out + sizeof(T);
  }
  static size_t PlainBytes(const Dict& dict) { return dict.size() * sizeof(T); }
};

template <>
struct Traits<ValueKind::kInt32> : FixedTraits<int32_t, int32_t> {
  using Stats = IntStatistics<int32_t>;
};
template <>
struct Traits<ValueKind::kInt32FromI64> : FixedTraits<int32_t, int64_t> {
  using Stats = IntStatistics<int32_t>;
};
template <>
struct Traits<ValueKind::kInt64> : FixedTraits<int64_t, int64_t> {
  using Stats = IntStatistics<int64_t>;
};
template <>
struct Traits<ValueKind::kFloat> : FixedTraits<float, float> {
  using Stats = FloatStatistics<float>;
};
template <>
struct Traits<ValueKind::kDouble> : FixedTraits<double, double> {
  using Stats = FloatStatistics<double>;
};

template <>
struct Traits<ValueKind::kByteArray> {
  using Physical = std::string_view;
  using Stats = BytesStatistics;
  using Dict = BytesDictionary;
  static constexpr bool kDictionary = true;
  struct Reader {
    const int64_t* offsets;
    const char* data;
    explicit Reader(const Column& c)
        : offsets(c.offsets().data()), data(reinterpret_cast<const char*>(c.data().data())) {}
    std::string_view operator()(size_t i) const {
      return std::string_view(data + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i]));
    }
  };
  // PLAIN BYTE_ARRAY: 4-byte little-endian length, then the bytes.
  static size_t PlainSize(std::string_view value) { return 4 + value.size(); }
  static uint8_t* PutPlain(std::string_view value, uint8_t* out) {
    PutLE32(static_cast<uint32_t>(value.size()), out);
    if (!value.empty()) std::memcpy(out + 4, value.data(), value.size());
    return out + 4 + value.size();
  }
  static size_t PlainBytes(const Dict& dict) { return dict.data_bytes() + 4 * dict.size(); }
};

template <>
struct Traits<ValueKind::kFixed16> {
  using Physical = std::string_view;
  using Stats = BytesStatistics;
  using Dict = BytesDictionary;
  static constexpr bool kDictionary = true;
  struct Reader {
    const char* data;
    explicit Reader(const Column& c) : data(reinterpret_cast<const char*>(c.data().data())) {}
    std::string_view operator()(size_t i) const {
      return std::string_view(data + i * kUuidBytes, kUuidBytes);
    }
  };
  // PLAIN FIXED_LEN_BYTE_ARRAY: the bytes, no length.
  static size_t PlainSize(std::string_view) { return kUuidBytes; }
  static uint8_t* PutPlain(std::string_view value, uint8_t* out) {
    std::memcpy(out, value.data(), kUuidBytes);
    return out + kUuidBytes;
  }
  static size_t PlainBytes(const Dict& dict) { return dict.data_bytes(); }
};

template <>
struct Traits<ValueKind::kDecimal128> {
  using Physical = Int128;
  using Stats = Decimal128Statistics;
  using Dict = FixedDictionary<Int128>;
  static constexpr bool kDictionary = true;
  struct Reader {
    const Int128* p;
    explicit Reader(const Column& c) : p(c.values<Int128>().data()) {}
    Int128 operator()(size_t i) const { return p[i]; }
    Int128 raw(size_t i) const { return p[i]; }
  };
};

struct NoDictionary {};
template <typename T, bool = T::kDictionary>
struct DictOf {
  using type = typename T::Dict;
};
template <typename T>
struct DictOf<T, false> {
  using type = NoDictionary;
};

template <ValueKind K>
constexpr bool kHasRawRange =
    K == ValueKind::kInt32FromI64 || K == ValueKind::kInt64 || K == ValueKind::kDecimal128;

// ---------------------------------------------------------------------------------------------

template <ValueKind K>
class TypedColumnWriter final : public ColumnWriter {
  using T = Traits<K>;
  using Physical = typename T::Physical;

 public:
  TypedColumnWriter(const LeafColumn& leaf, const PageOptions& options, PageQueue& pages,
                    BlockPool& pool)
      : leaf_(leaf),
        options_(options),
        pages_(pages),
        stats_(MakeStats(leaf)),
        def_width_(BitWidth(static_cast<uint64_t>(leaf.max_definition_level))),
        rep_width_(BitWidth(static_cast<uint64_t>(leaf.max_repetition_level))),
        max_def_(static_cast<uint8_t>(leaf.max_definition_level)),
        dictionary_page_(pool),
        chunk_pages_(pool) {
    if constexpr (kHasRawRange<K>) SetRange();
    dictionary_active_ = T::kDictionary && options_.enable_dictionary;
    // A PLAIN page ends after the row that reaches page_max_bytes: reserving that much up front
    // spares the doubling copies and the freed smaller buffers the allocator would keep
    // resident. Reserved pages that are never written (a dictionary-encoded column's) cost no
    // memory.
    if constexpr (K != ValueKind::kBool) {
      plain_.reserve(static_cast<size_t>(std::min<uint64_t>(options_.page_max_bytes, kMaxReserve)) +
                     kReserveSlack);
    }
  }

  Status Write(const Column& column, size_t begin, size_t end) override {
    if (!leaf_.is_list) return WriteFlat(column, begin, end);
    return WriteList(column, begin, end);
  }

  uint64_t BufferedUncompressedBytes() const override {
    return chunk_pages_.uncompressed() + chunk_pages_.pending() + EstimatedPageBytes() +
           DictionaryBytes();
  }

  // Pages still being compressed count at their uncompressed size.
  uint64_t BufferedFileBytes() const override {
    return chunk_pages_.size() + chunk_pages_.pending() + EstimatedPageBytes() + DictionaryBytes();
  }

  Status FlushChunk(ByteSink& sink, int64_t offset, ColumnChunk& chunk) override {
    RIVET_RETURN_IF_ERROR(FlushPage());
    if constexpr (T::kDictionary) {
      if (dictionary_pages_ > 0) RIVET_RETURN_IF_ERROR(SubmitDictionaryPage());
    }
    RIVET_RETURN_IF_ERROR(pages_.Drain());
    ColumnMetaData& meta = chunk.meta_data.emplace();
    chunk.file_offset = offset;
    meta.type = leaf_.physical;
    meta.path_in_schema = leaf_.path;
    meta.codec = pages_.codec();
    meta.num_values = chunk_num_values_;
    int64_t dictionary_page_bytes = 0;
    uint64_t total_uncompressed = chunk_pages_.uncompressed();
    if constexpr (T::kDictionary) {
      if (dictionary_pages_ > 0) {
        RIVET_RETURN_IF_ERROR(dictionary_page_.WriteTo(sink));
        dictionary_page_bytes = static_cast<int64_t>(dictionary_page_.size());
        total_uncompressed += dictionary_page_.uncompressed();
        meta.dictionary_page_offset = offset;
        UseEncoding(Encoding::kPlain);  // the dictionary page's values
      }
    }
    RIVET_RETURN_IF_ERROR(chunk_pages_.WriteTo(sink));
    meta.data_page_offset = offset + dictionary_page_bytes;
    meta.total_uncompressed_size = static_cast<int64_t>(total_uncompressed);
    meta.total_compressed_size = dictionary_page_bytes + static_cast<int64_t>(chunk_pages_.size());
    for (Encoding e : {Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}) {
      if (encodings_ & (1u << static_cast<int>(e))) meta.encodings.push_back(e);
    }
    Statistics& s = meta.statistics.emplace();
    s.null_count = chunk_nulls_;
    if (leaf_.write_min_max && stats_.has_min_max()) {
      s.min_value.emplace();
      s.max_value.emplace();
      stats_.EncodeMin(*s.min_value);
      stats_.EncodeMax(*s.max_value);
    }
    if constexpr (K == ValueKind::kFloat || K == ValueKind::kDouble) {
      s.nan_count = stats_.nan_count();
    }
    ResetChunk();
    return Status::Ok();
  }

 private:
  static typename T::Stats MakeStats(const LeafColumn& leaf) {
    if constexpr (std::is_same_v<typename T::Stats, IntStatistics<int32_t>> ||
                  std::is_same_v<typename T::Stats, IntStatistics<int64_t>>) {
      return typename T::Stats(leaf.order == SortOrder::kUnsigned);
    } else if constexpr (K == ValueKind::kDecimal128) {
      return Decimal128Statistics(leaf.type_length);
    } else {
      return typename T::Stats();
    }
  }

  // The values a column of this kind may hold; anything else cannot be written exactly.
  void SetRange() {
    const columnar::DataType& type = leaf_.value_type;
    if (type.id == columnar::TypeId::kDecimal) {
      Int128 bound = 1;
      for (int32_t i = 0; i < type.precision; ++i) bound *= 10;
      range_hi_ = bound - 1;
      range_lo_ = -range_hi_;
      check_range_ = true;
    } else if (type.id == columnar::TypeId::kUInt32) {
      range_lo_ = 0;
      range_hi_ = std::numeric_limits<uint32_t>::max();
      check_range_ = true;
    }
  }

  template <typename Reader>
  Status RangeError(const Reader& read, size_t i) const {
    Int128 raw = 0;
    if constexpr (kHasRawRange<K>) raw = read.raw(i);
    bool negative = raw < 0;
    auto magnitude = static_cast<unsigned __int128>(negative ? -raw : raw);
    std::string digits;
    do {
      digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
      magnitude /= 10;
    } while (magnitude != 0);
    return Error(ErrorCode::kData, "column '{}': value {}{} does not fit {}", leaf_.name,
                 negative ? "-" : "", digits, leaf_.value_type.ToString());
  }

  // Whether the value at index i of the values column fits the column (see SetRange).
  template <typename Reader>
  bool Fits(const Reader& read, size_t i) const {
    if constexpr (kHasRawRange<K>) {
      if (check_range_) {
        Int128 raw = read.raw(i);
        return raw >= range_lo_ && raw <= range_hi_;
      }
    }
    return true;
  }

  // Adds one present value at index i of the values column.
  template <typename Reader>
  Status AddValue(const Reader& read, size_t i) {
    if (!Fits(read, i)) return RangeError(read, i);
    Physical v = read(i);
    stats_.Update(v);
    if constexpr (K == ValueKind::kBool) {
      bools_.push_back(v);
    } else {
      if (dictionary_active_) {
        indices_.push_back(dictionary_.Insert(v));
      } else {
        AppendPlainValue(v);
      }
    }
    ++page_values_;
    return Status::Ok();
  }

  void AppendPlainValue(Physical v) {
    if constexpr (K == ValueKind::kBool) {
      bools_.push_back(v);
    } else {
      AppendPlain(v, plain_);
    }
  }

  size_t PlainSize(Physical v) const {
    if constexpr (K == ValueKind::kDecimal128) {
      return static_cast<size_t>(leaf_.type_length);
    } else {
      return T::PlainSize(v);
    }
  }

  uint8_t* PutPlain(Physical v, uint8_t* out) const {
    if constexpr (K == ValueKind::kDecimal128) {
      AppendDecimalBigEndian(v, leaf_.type_length, reinterpret_cast<char*>(out));
      return out + leaf_.type_length;
    } else {
      return T::PutPlain(v, out);
    }
  }

  template <typename Buffer>
  void AppendPlain(Physical v, Buffer& out) const {
    const size_t at = out.size();
    out.resize(at + PlainSize(v));
    PutPlain(v, out.data() + at);
  }

  // The early dictionary decision (the criterion parquet-mr applies after a chunk's first page):
  // once the first kDictionarySampleValues values of a chunk are in the page in progress, the
  // dictionary must encode them (its PLAIN values plus the bit-packed indices) in fewer bytes
  // than PLAIN would, or the chunk goes PLAIN from its first value on. High-cardinality columns
  // (keys, timestamps, amounts, free text) thus stop paying for hashing and a dictionary that
  // would only grow to dictionary_max_bytes and be abandoned. The sample is re-encoded PLAIN
  // and the chunk has no dictionary page.
  void DecideDictionaryEarly() {
    if constexpr (T::kDictionary) {
      dictionary_decided_ = true;
      const uint64_t n = indices_.size();
      uint64_t plain_bytes = 0;
      uint64_t dictionary_bytes = 0;
      if constexpr (K == ValueKind::kDecimal128) {
        plain_bytes = n * static_cast<uint64_t>(leaf_.type_length);
        dictionary_bytes = dictionary_.size() * static_cast<uint64_t>(leaf_.type_length);
      } else if constexpr (K == ValueKind::kByteArray) {
        for (uint32_t index : indices_) plain_bytes += 4 + dictionary_.at(index).size();
        dictionary_bytes = T::PlainBytes(dictionary_);
      } else if constexpr (K == ValueKind::kFixed16) {
        plain_bytes = n * kUuidBytes;
        dictionary_bytes = T::PlainBytes(dictionary_);
      } else {
        plain_bytes = n * sizeof(Physical);
        dictionary_bytes = T::PlainBytes(dictionary_);
      }
      const uint64_t index_bytes = (n * static_cast<uint64_t>(IndexBitWidth()) + 7) / 8;
      if (dictionary_bytes + index_bytes < plain_bytes) return;
      for (uint32_t index : indices_) {
        if constexpr (std::is_same_v<Physical, std::string_view>) {
          AppendPlainValue(dictionary_.at(index));
        } else {
          AppendPlainValue(dictionary_.values()[index]);
        }
      }
      indices_.clear();
      dictionary_.Clear();
      dictionary_active_ = false;
    }
  }

  // Row boundary: page and dictionary limits.
  Status EndRow() {
    ++page_rows_;
    if constexpr (T::kDictionary) {
      if (!dictionary_decided_ && dictionary_active_ &&
          indices_.size() >= kDictionarySampleValues) {
        DecideDictionaryEarly();
      }
      if (dictionary_active_ && DictionaryBytes() > options_.dictionary_max_bytes) {
        RIVET_RETURN_IF_ERROR(FlushPage());
        dictionary_active_ = false;
        return Status::Ok();
      }
    }
    return FlushPageIfFull();
  }

  Status FlushPageIfFull() {
    if (page_rows_ >= options_.page_max_rows || EstimatedPageBytes() >= options_.page_max_bytes) {
      return FlushPage();
    }
    return Status::Ok();
  }

  Status WriteFlat(const Column& column, size_t begin, size_t end) {
    typename T::Reader read(column);
    const uint8_t* valid = column.validity().data();
    size_t r = begin;
    while (r < end) {
      if constexpr (K != ValueKind::kBool) {
        if (!dictionary_active_) {
          RIVET_ASSIGN_OR_RETURN(r, WritePlainRun(read, valid, r, end));
          RIVET_RETURN_IF_ERROR(FlushPageIfFull());
          continue;
        }
      }
      if (valid[r]) {
        def_.push_back(1);
        RIVET_RETURN_IF_ERROR(AddValue(read, r));
      } else {
        def_.push_back(0);
      }
      RIVET_RETURN_IF_ERROR(EndRow());
      ++r;
    }
    return Status::Ok();
  }

  // Rows r.. of a flat column in PLAIN mode, as many as fit the page in progress, written into
  // the page at once: no Status, capacity check or page-size estimate per value. The run ends no
  // later than the row after which EndRow would flush, so pages break at the same rows as they
  // would one row at a time. Returns the row after the run.
  template <typename Reader>
  Result<size_t> WritePlainRun(const Reader& read, const uint8_t* valid, size_t r, size_t end) {
    const uint64_t limit = options_.page_max_bytes;
    const uint64_t before = EstimatedPageBytes();
    size_t n =
        page_rows_ < options_.page_max_rows
            ? static_cast<size_t>(std::min<uint64_t>(end - r, options_.page_max_rows - page_rows_))
            : 1;
    // A row adds its value and at most one level byte (flat: def_width_ <= 1) to the estimate;
    // `bound` is what the run's values may take.
    size_t bound = 0;
    if constexpr (K == ValueKind::kByteArray) {
      const int64_t first = read.offsets[r];
      for (size_t k = 1; k <= n; ++k) {
        bound = 4 * k + static_cast<size_t>(read.offsets[r + k] - first);
        if (before + bound + k >= limit) {
          n = k;
          break;
        }
      }
    } else {
      const uint64_t value_bytes = PlainSize(Physical{});
      if (before >= limit) {
        n = 1;
      } else {
        n = static_cast<size_t>(
            std::min<uint64_t>(n, (limit - before - 1) / (value_bytes + 1) + 1));
      }
      bound = n * value_bytes;
    }
    const size_t at = plain_.size();
    plain_.resize(at + bound);
    uint8_t* out = plain_.data() + at;
    size_t i = r;
    while (i < r + n) {
      if (valid[i]) {
        if (!Fits(read, i)) return RangeError(read, i);
        Physical v = read(i);
        stats_.Update(v);
        out = PutPlain(v, out);
        ++page_values_;
      }
      ++i;
      if constexpr (K == ValueKind::kByteArray) {
        // The exact estimate, as EndRow computes it: a row of long values may fill the page
        // before the bound says so.
        const uint64_t levels =
            ((def_.size() + (i - r)) * static_cast<uint64_t>(def_width_) + 7) / 8;
        if (levels + static_cast<uint64_t>(out - plain_.data()) >= limit) break;
      }
    }
    plain_.resize(static_cast<size_t>(out - plain_.data()));
    // Validity is one byte per row, 1 or 0: a flat column's definition levels.
    def_.insert(def_.end(), valid + r, valid + i);
    page_rows_ += i - r;
    return i;
  }

  Status WriteList(const Column& column, size_t begin, size_t end) {
    const Column& child = column.child();
    typename T::Reader read(child);
    const uint8_t* valid = column.validity().data();
    const uint8_t* child_valid = child.validity().data();
    const int64_t* offsets = column.offsets().data();
    // Levels of the three-level LIST (schema.h): 0 NULL list, 1 empty, 2 NULL element, 3 value.
    const uint8_t kEmptyList = 1, kNullElement = 2;
    for (size_t r = begin; r < end; ++r) {
      auto first = static_cast<size_t>(offsets[r]);
      auto last = static_cast<size_t>(offsets[r + 1]);
      if (!valid[r] || first == last) {
        rep_.push_back(0);
        def_.push_back(valid[r] ? kEmptyList : 0);
      } else {
        for (size_t e = first; e < last; ++e) {
          rep_.push_back(e == first ? 0 : 1);
          if (child_valid[e]) {
            def_.push_back(max_def_);
            RIVET_RETURN_IF_ERROR(AddValue(read, e));
          } else {
            def_.push_back(kNullElement);
          }
        }
      }
      RIVET_RETURN_IF_ERROR(EndRow());
    }
    return Status::Ok();
  }

  size_t DictionaryBytes() const {
    if constexpr (!T::kDictionary) {
      return 0;
    } else if constexpr (K == ValueKind::kDecimal128) {
      return dictionary_.size() * static_cast<size_t>(leaf_.type_length);
    } else {
      return T::PlainBytes(dictionary_);
    }
  }

  int IndexBitWidth() const {
    // At least one bit: some readers mishandle a zero bit width for a one-entry dictionary.
    int width = dictionary_.size() > 1 ? BitWidth(dictionary_.size() - 1) : 1;
    return width;
  }

  uint64_t EstimatedPageBytes() const {
    uint64_t levels = (def_.size() * static_cast<uint64_t>(def_width_) +
                       rep_.size() * static_cast<uint64_t>(rep_width_) + 7) /
                      8;
    uint64_t values;
    if constexpr (K == ValueKind::kBool) {
      values = (bools_.size() + 7) / 8;
    } else {
      values = dictionary_active_
                   ? (indices_.size() * static_cast<uint64_t>(IndexBitWidth()) + 7) / 8
                   : plain_.size();
    }
    return levels + values;
  }

  void UseEncoding(Encoding e) { encodings_ |= 1u << static_cast<int>(e); }

  // Appends RLE-hybrid levels; with a 4-byte little-endian length prefix for data page v1.
  void AppendLevels(const std::vector<uint8_t>& levels, int width, bool length_prefix,
                    std::vector<uint8_t>& out) {
    size_t at = out.size();
    if (length_prefix) out.resize(at + kLevelLengthPrefixBytes);
    EncodeRleBitPacked(levels.data(), levels.size(), width, out);
    if (length_prefix) {
      PutLE32(static_cast<uint32_t>(out.size() - at - kLevelLengthPrefixBytes), out.data() + at);
    }
  }

  // Appends the page's values; returns the encoding used.
  Encoding AppendValues(std::vector<uint8_t>& out) {
    if constexpr (K == ValueKind::kBool) {
      PackBooleans(bools_.data(), bools_.size(), out);
      return Encoding::kPlain;
    } else {
      if (dictionary_active_ && dictionary_.size() > 0) {
        int width = IndexBitWidth();
        out.push_back(static_cast<uint8_t>(width));
        EncodeRleBitPacked(indices_.data(), indices_.size(), width, out);
        ++dictionary_pages_;
        // A page went out with dictionary indices before the sample was complete: keep the
        // dictionary until dictionary_max_bytes.
        dictionary_decided_ = true;
        return Encoding::kRleDictionary;
      }
      // Dictionary mode with an empty dictionary means the page holds only NULLs: no indices.
      out.insert(out.end(), plain_.begin(), plain_.end());
      return Encoding::kPlain;
    }
  }

  Status CheckPageSize(uint64_t size) const {
    if (size > kMaxPageBytes) {
      return Error(ErrorCode::kData,
                   "column '{}': a page of {} bytes exceeds Parquet's 2 GiB limit", leaf_.name,
                   size);
    }
    return Status::Ok();
  }

  // Hands the page in progress to the queue, which compresses it and appends it with its header
  // to chunk_pages_.
  Status FlushPage() {
    if (def_.empty()) return Status::Ok();
    PendingPage page;
    PageHeader& header = page.header;
    header.num_values = static_cast<int32_t>(def_.size());
    std::vector<uint8_t> body = pages_.TakeBuffer();
    if (!options_.data_page_v2) {
      header.type = PageType::kDataPage;
      if (leaf_.max_repetition_level > 0) AppendLevels(rep_, rep_width_, true, body);
      AppendLevels(def_, def_width_, true, body);
      header.encoding = AppendValues(body);
    } else {
      header.type = PageType::kDataPageV2;
      if (leaf_.max_repetition_level > 0) AppendLevels(rep_, rep_width_, false, body);
      header.repetition_levels_byte_length = static_cast<int32_t>(body.size());
      AppendLevels(def_, def_width_, false, body);
      size_t levels_size = body.size();
      header.definition_levels_byte_length =
          static_cast<int32_t>(levels_size) - header.repetition_levels_byte_length;
      header.encoding = AppendValues(body);
      // v2: only the values section is compressed; levels stay readable without decompressing.
      // An empty values section (an all-NULL page) is stored as is, is_compressed = false: a
      // compressed empty block is a corner some readers' LZ4 decoders reject.
      const size_t values_size = body.size() - levels_size;
      header.is_compressed = values_size > 0 && pages_.codec() != CompressionCodec::kUncompressed;
      page.keep = levels_size;
      page.compress = header.is_compressed;
      header.num_nulls = static_cast<int32_t>(def_.size() - page_values_);
      header.num_rows = static_cast<int32_t>(page_rows_);
    }
    RIVET_RETURN_IF_ERROR(CheckPageSize(body.size()));
    page.body = std::move(body);
    page.store = &chunk_pages_;
    page.column = &leaf_.name;

    UseEncoding(header.encoding);
    UseEncoding(Encoding::kRle);  // levels
    chunk_num_values_ += static_cast<int64_t>(def_.size());
    chunk_nulls_ += static_cast<int64_t>(def_.size() - page_values_);
    def_.clear();
    rep_.clear();
    plain_.clear();
    indices_.clear();
    bools_.clear();
    page_values_ = 0;
    page_rows_ = 0;
    return pages_.Submit(std::move(page));
  }

  // Hands the dictionary page (its PLAIN values) to the queue, bound for dictionary_page_.
  Status SubmitDictionaryPage() {
    std::vector<uint8_t> body = pages_.TakeBuffer();
    if constexpr (std::is_same_v<Physical, std::string_view>) {
      for (size_t i = 0; i < dictionary_.size(); ++i) AppendPlain(dictionary_.at(i), body);
    } else {
      for (Physical v : dictionary_.values()) AppendPlain(v, body);
    }
    RIVET_RETURN_IF_ERROR(CheckPageSize(body.size()));
    PendingPage page;
    page.header.type = PageType::kDictionaryPage;
    page.header.num_values = static_cast<int32_t>(dictionary_.size());
    page.header.encoding = Encoding::kPlain;
    page.body = std::move(body);
    page.store = &dictionary_page_;
    page.column = &leaf_.name;
    return pages_.Submit(std::move(page));
  }

  void ResetChunk() {
    chunk_pages_.Clear();
    dictionary_page_.Clear();
    chunk_num_values_ = 0;
    chunk_nulls_ = 0;
    encodings_ = 0;
    dictionary_pages_ = 0;
    stats_.Reset();
    if constexpr (T::kDictionary) dictionary_.Clear();
    dictionary_active_ = T::kDictionary && options_.enable_dictionary;
    dictionary_decided_ = false;
  }

  using Dictionary = typename DictOf<T>::type;

  const LeafColumn& leaf_;
  const PageOptions options_;
  PageQueue& pages_;
  typename T::Stats stats_;
  const int def_width_;
  const int rep_width_;
  const uint8_t max_def_;
  bool check_range_ = false;
  Int128 range_lo_ = 0;
  Int128 range_hi_ = 0;

  // The page in progress.
  std::vector<uint8_t> def_;
  std::vector<uint8_t> rep_;
  PlainBuffer plain_;
  std::vector<uint32_t> indices_;
  std::vector<uint8_t> bools_;
  size_t page_values_ = 0;
  uint64_t page_rows_ = 0;

  // The chunk in progress.
  Dictionary dictionary_;
  bool dictionary_active_ = false;
  bool dictionary_decided_ = false;  // the early decision is made (DecideDictionaryEarly)
  int dictionary_pages_ = 0;
  PageStore dictionary_page_;  // written before the data pages at the chunk's end
  PageStore chunk_pages_;      // finished data pages: header + compressed body each
  int64_t chunk_num_values_ = 0;
  int64_t chunk_nulls_ = 0;
  uint32_t encodings_ = 0;  // bit per Encoding value used
};

}  // namespace

Result<std::unique_ptr<ColumnWriter>> MakeColumnWriter(const LeafColumn& leaf,
                                                       const PageOptions& options, PageQueue& pages,
                                                       BlockPool& pool) {
  switch (leaf.kind) {
#define RIVET_KIND(kind)                  \
  case ValueKind::kind:                   \
    return std::unique_ptr<ColumnWriter>( \
        new TypedColumnWriter<ValueKind::kind>(leaf, options, pages, pool));
    RIVET_KIND(kBool)
    RIVET_KIND(kInt32)
    RIVET_KIND(kInt32FromI64)
    RIVET_KIND(kInt64)
    RIVET_KIND(kFloat)
    RIVET_KIND(kDouble)
    RIVET_KIND(kByteArray)
    RIVET_KIND(kFixed16)
    RIVET_KIND(kDecimal128)
#undef RIVET_KIND
  }
  return Error(ErrorCode::kInternal, "parquet: unknown value kind");
}

}  // namespace rivet::format::parquet
