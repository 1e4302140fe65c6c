#include "rivet/rowhash/row_hash.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace rivet::rowhash {
namespace {

using columnar::Column;
using columnar::Int128;
using columnar::TypeId;

// The encoding is little-endian; on such hosts it is the in-memory layout, copied as is.
static_assert(std::endian::native == std::endian::little, "row hashes assume a little-endian host");

constexpr char kNull = 0;
constexpr char kPresent = 1;
constexpr uint64_t kCanonicalNaN = 0x7ff8000000000000ULL;

void PutI64(std::string& buf, int64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  buf.append(bytes, 8);
}

void PutF64(std::string& buf, double v) {
  // Every NaN payload hashes alike; -0.0 keeps its sign bit, as the value differs on output.
  uint64_t bits = v != v ? kCanonicalNaN : std::bit_cast<uint64_t>(v);
  char bytes[8];
  std::memcpy(bytes, &bits, 8);
  buf.append(bytes, 8);
}

void PutI128(std::string& buf, Int128 v, int32_t scale) {
  char bytes[16];
  std::memcpy(bytes, &v, 16);
  buf.append(bytes, 16);
  buf.push_back(static_cast<char>(static_cast<uint8_t>(scale)));
}

void PutBytes(std::string& buf, const char* p, size_t n) {
  PutI64(buf, static_cast<int64_t>(n));
  buf.append(p, n);
}

// Appends the tag and encoding of one value; used for list elements, where a per-value switch
// is acceptable because lists are rare and already cost a child walk.
void PutValue(std::string& buf, const Column& c, size_t i) {
  if (!c.IsValid(i)) {
    buf.push_back(kNull);
    return;
  }
  buf.push_back(kPresent);
  const columnar::DataType& t = c.type();
  switch (t.id) {
    case TypeId::kBool:
      buf.push_back(c.values<uint8_t>()[i] != 0 ? 1 : 0);
      break;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kDate:
      PutI64(buf, c.values<int32_t>()[i]);
      break;
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      PutI64(buf, c.values<int64_t>()[i]);
      break;
    case TypeId::kFloat32:
      PutF64(buf, static_cast<double>(c.values<float>()[i]));
      break;
    case TypeId::kFloat64:
      PutF64(buf, c.values<double>()[i]);
      break;
    case TypeId::kDecimal:
      if (t.precision <= columnar::kMaxDecimal64Precision) {
        PutI128(buf, static_cast<Int128>(c.values<int64_t>()[i]), t.scale);
      } else {
        PutI128(buf, c.values<Int128>()[i], t.scale);
      }
      break;
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBinary: {
      std::string_view s = c.StringAt(i);
      PutBytes(buf, s.data(), s.size());
      break;
    }
    case TypeId::kUuid:
      buf.append(reinterpret_cast<const char*>(c.data().data()) + i * 16, 16);
      break;
    case TypeId::kList: {
      const auto& offsets = c.offsets();
      int64_t begin = offsets[i];
      int64_t end = offsets[i + 1];
      PutI64(buf, end - begin);
      for (int64_t e = begin; e < end; ++e) PutValue(buf, c.child(), static_cast<size_t>(e));
      break;
    }
  }
}

// Fixed-width columns: one switch per column, then a tight loop over the rows.
// rows[k] holds the encoding of row begin + k so far.
template <typename T, typename Put>
void EachRow(std::vector<std::string>& rows, size_t begin, size_t n, const Column& c, Put put) {
  const auto& values = c.values<T>();
  const auto& validity = c.validity();
  for (size_t r = begin; r < begin + n; ++r) {
    std::string& buf = rows[r - begin];
    if (validity[r] == 0) {
      buf.push_back(kNull);
    } else {
      buf.push_back(kPresent);
      put(buf, values[r]);
    }
  }
}

void AppendColumn(std::vector<std::string>& rows, size_t begin, size_t n, const Column& c) {
  const columnar::DataType& t = c.type();
  auto put_i64 = [](std::string& buf, auto v) { PutI64(buf, static_cast<int64_t>(v)); };
  auto put_f64 = [](std::string& buf, auto v) { PutF64(buf, static_cast<double>(v)); };
  switch (t.id) {
    case TypeId::kBool:
      EachRow<uint8_t>(rows, begin, n, c,
                       [](std::string& buf, uint8_t v) { buf.push_back(v != 0 ? 1 : 0); });
      return;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kDate:
      EachRow<int32_t>(rows, begin, n, c, put_i64);
      return;
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      EachRow<int64_t>(rows, begin, n, c, put_i64);
      return;
    case TypeId::kFloat32:
      EachRow<float>(rows, begin, n, c, put_f64);
      return;
    case TypeId::kFloat64:
      EachRow<double>(rows, begin, n, c, put_f64);
      return;
    case TypeId::kDecimal: {
      int32_t scale = t.scale;
      if (t.precision <= columnar::kMaxDecimal64Precision) {
        EachRow<int64_t>(rows, begin, n, c, [scale](std::string& buf, int64_t v) {
          PutI128(buf, static_cast<Int128>(v), scale);
        });
      } else {
        EachRow<Int128>(rows, begin, n, c,
                        [scale](std::string& buf, Int128 v) { PutI128(buf, v, scale); });
      }
      return;
    }
    case TypeId::kString:
    case TypeId::kJson:
    case TypeId::kBinary:
    case TypeId::kUuid:
    case TypeId::kList:
      for (size_t k = 0; k < n; ++k) PutValue(rows[k], c, begin + k);
      return;
  }
}

}  // namespace

void RowHasher::Hash(const columnar::Batch& batch, size_t query_columns,
                     std::vector<uint64_t>& out) {
  const size_t n = batch.num_rows();
  out.resize(n);
  for (size_t begin = 0; begin < n; begin += kBlockRows) {
    const size_t count = std::min(kBlockRows, n - begin);
    if (rows_.size() < count) rows_.resize(count);
    for (size_t k = 0; k < count; ++k) rows_[k].clear();
    for (size_t col = 0; col < query_columns; ++col) {
      AppendColumn(rows_, begin, count, batch.column(col));
    }
    for (size_t k = 0; k < count; ++k) out[begin + k] = XXH64(rows_[k].data(), rows_[k].size(), 0);
  }
}

void RowHashes(const columnar::Batch& batch, size_t query_columns, std::vector<uint64_t>& out) {
  RowHasher hasher;
  hasher.Hash(batch, query_columns, out);
}

}  // namespace rivet::rowhash
