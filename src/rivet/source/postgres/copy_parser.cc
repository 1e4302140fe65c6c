#include "rivet/source/postgres/copy_parser.h"

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>

#include "rivet/columnar/pow10.h"

namespace rivet::source::postgres {

namespace {

using columnar::Column;
using columnar::Int128;
using UInt128 = unsigned __int128;

// "PGCOPY\n\377\r\n\0" (PostgreSQL docs, COPY binary format, "File Header").
constexpr std::array<uint8_t, 11> kSignature = {'P',  'G',  'C',  'O',  'P', 'Y',
                                                '\n', 0xff, '\r', '\n', 0};
constexpr size_t kHeaderFixedBytes = 19;  // signature + flags + extension length
constexpr uint32_t kCriticalFlagsMask = 0xffff;
constexpr uint32_t kOidsFlag = 1u << 16;

// PostgreSQL counts dates and timestamps from 2000-01-01; Rivet from 1970-01-01.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * 86400 * 1000000;

// numeric send format (src/backend/utils/adt/numeric.c, numeric_send): int16 ndigits,
// int16 weight, uint16 sign, int16 dscale, then ndigits base-10000 digits.
constexpr uint16_t kNumericPos = 0x0000;
constexpr uint16_t kNumericNeg = 0x4000;
constexpr uint16_t kNumericNaN = 0xC000;
constexpr uint16_t kNumericPInf = 0xD000;
constexpr uint16_t kNumericNInf = 0xF000;
constexpr int kNumericBase = 10000;
constexpr int kDigitsPerGroup = 4;
constexpr int16_t kMaxDscale = 0x3FFF;

inline uint16_t LoadU16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | p[1]);
}
inline int16_t LoadI16(const uint8_t* p) { return static_cast<int16_t>(LoadU16(p)); }
inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline int32_t LoadI32(const uint8_t* p) { return static_cast<int32_t>(LoadU32(p)); }
inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline int64_t LoadI64(const uint8_t* p) { return static_cast<int64_t>(LoadU64(p)); }

using columnar::kPow10;

// A numeric value as laid out on the wire, validated.
struct NumericView {
  int16_t ndigits = 0;
  int16_t weight = 0;
  uint16_t sign = 0;
  int16_t dscale = 0;
  const uint8_t* digits = nullptr;  // ndigits big-endian int16
  int Digit(int i) const { return LoadI16(digits + 2 * i); }
};

// Validates the numeric header and digits; returns a description of the defect, or nullptr.
const char* ParseNumeric(const uint8_t* p, int32_t length, NumericView* v) {
  if (length < 8) return "numeric shorter than its 8-byte header";
  v->ndigits = LoadI16(p);
  v->weight = LoadI16(p + 2);
  v->sign = LoadU16(p + 4);
  v->dscale = LoadI16(p + 6);
  v->digits = p + 8;
  if (v->ndigits < 0) return "numeric with a negative digit count";
  if (length != 8 + 2 * static_cast<int32_t>(v->ndigits)) {
    return "numeric length does not match its digit count";
  }
  if (v->dscale < 0 || v->dscale > kMaxDscale) return "numeric with an invalid display scale";
  if (v->sign != kNumericPos && v->sign != kNumericNeg && v->sign != kNumericNaN &&
      v->sign != kNumericPInf && v->sign != kNumericNInf) {
    return "numeric with an invalid sign word";
  }
  for (int i = 0; i < v->ndigits; ++i) {
    int d = v->Digit(i);
    if (d < 0 || d >= kNumericBase) return "numeric digit out of range";
  }
  return nullptr;
}

bool IsSpecial(const NumericView& v) {
  return v.sign == kNumericNaN || v.sign == kNumericPInf || v.sign == kNumericNInf;
}

size_t NumericTextMaxLength(const NumericView& v) {
  size_t int_groups = v.weight >= 0 ? static_cast<size_t>(v.weight) + 1 : 1;
  return 16 + int_groups * kDigitsPerGroup + static_cast<size_t>(v.dscale);
}

// Writes the numeric as PostgreSQL's numeric_out prints it (dscale fractional digits); `out`
// must have NumericTextMaxLength(v) bytes. Returns the length written.
size_t WriteNumericText(const NumericView& v, char* out) {
  char* w = out;
  auto put = [&w](std::string_view s) {
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  if (v.sign == kNumericNaN) {
    put("NaN");
    return static_cast<size_t>(w - out);
  }
  if (v.sign == kNumericPInf) {
    put("Infinity");
    return static_cast<size_t>(w - out);
  }
  if (v.sign == kNumericNInf) {
    put("-Infinity");
    return static_cast<size_t>(w - out);
  }
  if (v.sign == kNumericNeg) *w++ = '-';
  auto group_at = [&v](int exponent) {  // the base-10000 digit for 10000^exponent
    int i = v.weight - exponent;
    return (i >= 0 && i < v.ndigits) ? v.Digit(i) : 0;
  };
  if (v.weight < 0) {
    *w++ = '0';
  } else {
    bool leading = true;
    for (int e = v.weight; e >= 0; --e) {
      int d = group_at(e);
      for (int div = 1000; div >= 1; div /= 10) {
        int digit = (d / div) % 10;
        if (leading && digit == 0 && !(e == 0 && div == 1)) continue;
        leading = false;
        *w++ = static_cast<char>('0' + digit);
      }
    }
  }
  if (v.dscale > 0) {
    *w++ = '.';
    int remaining = v.dscale;
    for (int e = -1; remaining > 0; --e) {
      int d = group_at(e);
      for (int div = 1000; div >= 1 && remaining > 0; div /= 10, --remaining) {
        *w++ = static_cast<char>('0' + (d / div) % 10);
      }
    }
  }
  return static_cast<size_t>(w - out);
}

std::string NumericText(const NumericView& v) {
  std::string s(NumericTextMaxLength(v), '\0');
  s.resize(WriteNumericText(v, s.data()));
  return s;
}

enum class UnscaledStatus : uint8_t { kOk, kOverflow, kInexact };

// |value| * 10^scale as an integer with at most `precision` digits, exactly, in U: uint64_t
// serves precisions up to 18, UInt128 the rest (the 64-bit steps are much cheaper).
template <typename U>
UnscaledStatus ToUnscaled(const NumericView& v, int32_t precision, int32_t scale, U* out) {
  constexpr auto& kPow = kPow10<U>;
  // A group is below 10^4, so its product with 10^k cannot wrap for these k.
  constexpr int kSafeProduct = static_cast<int>(kPow.size()) - 1 - kDigitsPerGroup;
  const U limit = kPow[static_cast<size_t>(precision)] - 1;
  U acc = 0;
  for (int i = 0; i < v.ndigits; ++i) {
    const auto d = static_cast<U>(v.Digit(i));
    if (d == 0) continue;
    const int k = kDigitsPerGroup * (v.weight - i) + scale;  // power of ten of this group
    U add;
    if (k >= 0) {
      if (k >= static_cast<int>(kPow.size())) return UnscaledStatus::kOverflow;
      const U p10 = kPow[static_cast<size_t>(k)];
      if (k <= kSafeProduct ? d * p10 > limit : d > limit / p10) return UnscaledStatus::kOverflow;
      add = d * p10;
    } else {
      if (-k >= kDigitsPerGroup) return UnscaledStatus::kInexact;
      const auto group = static_cast<uint32_t>(d);
      const auto div = static_cast<uint32_t>(kPow[static_cast<size_t>(-k)]);
      if (group % div != 0) return UnscaledStatus::kInexact;
      add = group / div;
    }
    if (acc > limit - add) return UnscaledStatus::kOverflow;
    acc += add;
  }
  *out = acc;
  return UnscaledStatus::kOk;
}

const char* KindWidthName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt16:
      return "int2";
    case ValueKind::kInt32:
      return "int4";
    case ValueKind::kInt64:
      return "int8";
    case ValueKind::kOid:
      return "oid";
    case ValueKind::kFloat32:
      return "float4";
    case ValueKind::kFloat64:
      return "float8";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kTime:
      return "time";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kUuid:
      return "uuid";
    default:
      return "value";
  }
}

// Shared by top-level fields and array elements.
// PostgreSQL's days since 2000-01-01 as days since 1970-01-01; nullopt for +-infinity and
// dates beyond int32.
std::optional<int32_t> UnixDays(int32_t days) {
  int32_t unix_days;
  if (days == std::numeric_limits<int32_t>::max() || days == std::numeric_limits<int32_t>::min() ||
      __builtin_add_overflow(days, kPgEpochDays, &unix_days)) {
    return std::nullopt;
  }
  return unix_days;
}

// The same for timestamps, in microseconds.
std::optional<int64_t> UnixMicros(int64_t micros) {
  int64_t unix_micros;
  if (micros == std::numeric_limits<int64_t>::max() ||
      micros == std::numeric_limits<int64_t>::min() ||
      __builtin_add_overflow(micros, kPgEpochMicros, &unix_micros)) {
    return std::nullopt;
  }
  return unix_micros;
}

// A numeric field as the unscaled integer of decimal(precision, scale); nullopt when it is
// malformed, NaN or infinite, too large or not exact at that scale.
std::optional<Int128> Unscaled(const ValueDecoder& dec, const uint8_t* p, int32_t length) {
  NumericView v;
  if (ParseNumeric(p, length, &v) != nullptr || IsSpecial(v)) return std::nullopt;
  auto exact = [&](auto magnitude) -> std::optional<Int128> {
    if (ToUnscaled(v, dec.precision, dec.scale, &magnitude) != UnscaledStatus::kOk) {
      return std::nullopt;
    }
    const auto value = static_cast<Int128>(magnitude);
    return v.sign == kNumericNeg ? -value : value;
  };
  return dec.precision <= 18 ? exact(uint64_t{0}) : exact(UInt128{0});
}

// --- The common kinds without an error context ----------------------------------------------
// Chosen once per column; each returns false, with nothing appended, for a field it does not
// take as it is, and DecodeField then decodes that field again and says what is wrong. They
// spare every field the context, the Status and the switch of DecodeScalar.

int32_t LoadI16Wide(const uint8_t* p) { return LoadI16(p); }
int64_t LoadU32Wide(const uint8_t* p) { return static_cast<int64_t>(LoadU32(p)); }
float LoadF32(const uint8_t* p) { return std::bit_cast<float>(LoadU32(p)); }
double LoadF64(const uint8_t* p) { return std::bit_cast<double>(LoadU64(p)); }

template <int32_t kWidth, typename T, T (*Load)(const uint8_t*)>
bool FastFixed(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  if (length != kWidth) return false;
  column.Append<T>(Load(p));
  return true;
}

bool FastBool(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  if (length != 1 || p[0] > 1) return false;
  column.Append<uint8_t>(p[0]);
  return true;
}

bool FastBytes(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  column.AppendBytes(p, static_cast<size_t>(length));
  return true;
}

bool FastUuid(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  if (length != 16) return false;
  column.AppendBytes(p, 16);
  return true;
}

// Dates and timestamps: PostgreSQL's count from 2000 moved to 1970 (ToUnix refuses the
// infinities and what overflows).
template <int32_t kWidth, typename T, T (*Load)(const uint8_t*), std::optional<T> (*ToUnix)(T)>
bool FastEpoch(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  if (length != kWidth) return false;
  const std::optional<T> value = ToUnix(Load(p));
  if (!value) return false;
  column.Append<T>(*value);
  return true;
}

// jsonb_send: version byte 1, then the JSON text.
bool FastJsonb(const ValueDecoder&, const uint8_t* p, int32_t length, Column& column) {
  if (length < 1 || p[0] != 1) return false;
  column.AppendBytes(p + 1, static_cast<size_t>(length - 1));
  return true;
}

template <typename T>
bool FastDecimal(const ValueDecoder& dec, const uint8_t* p, int32_t length, Column& column) {
  const std::optional<Int128> unscaled = Unscaled(dec, p, length);
  if (!unscaled) return false;
  column.Append<T>(static_cast<T>(*unscaled));
  return true;
}

CopyParser::FastDecode FastDecoder(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return FastBool;
    case ValueKind::kInt16:
      return FastFixed<2, int32_t, LoadI16Wide>;
    case ValueKind::kInt32:
      return FastFixed<4, int32_t, LoadI32>;
    case ValueKind::kInt64:
      return FastFixed<8, int64_t, LoadI64>;
    case ValueKind::kOid:
      return FastFixed<4, int64_t, LoadU32Wide>;
    case ValueKind::kFloat32:
      return FastFixed<4, float, LoadF32>;
    case ValueKind::kFloat64:
      return FastFixed<8, double, LoadF64>;
    case ValueKind::kTime:
      return FastFixed<8, int64_t, LoadI64>;
    case ValueKind::kDecimal64:
      return FastDecimal<int64_t>;
    case ValueKind::kDecimal128:
      return FastDecimal<Int128>;
    case ValueKind::kBytes:
      return FastBytes;
    case ValueKind::kUuid:
      return FastUuid;
    case ValueKind::kDate:
      return FastEpoch<4, int32_t, LoadI32, UnixDays>;
    case ValueKind::kTimestamp:
      return FastEpoch<8, int64_t, LoadI64, UnixMicros>;
    case ValueKind::kJsonb:
      return FastJsonb;
    case ValueKind::kNumericText:
    case ValueKind::kArray:
      break;
  }
  return nullptr;
}

struct FieldContext {
  const std::string& column;
  int64_t row;
  int64_t offset;
};

Status Corrupt(const FieldContext& ctx, std::string_view what) {
  return Error(ErrorCode::kCorrupt, "COPY data is malformed at offset {} (row {}, column '{}'): {}",
               ctx.offset, ctx.row, ctx.column, what);
}

Status WidthError(const FieldContext& ctx, ValueKind kind, int32_t length, int32_t expected) {
  return Error(ErrorCode::kCorrupt,
               "COPY data is malformed at offset {} (row {}, column '{}'): a {} value must be "
               "{} bytes, got {}",
               ctx.offset, ctx.row, ctx.column, KindWidthName(kind), expected, length);
}

Status InfiniteError(const FieldContext& ctx, std::string_view type, bool positive) {
  // Reference §5: infinity/-infinity dates and timestamps have no Parquet or CSV equivalent,
  // so they are an error rather than a silent NULL or a clamped value.
  return Error(ErrorCode::kData,
               "column '{}' (row {}): {} value {}infinity cannot be exported; filter it out or "
               "cast the column to text",
               ctx.column, ctx.row, type, positive ? "" : "-");
}

// A list holds a 1-D array whose subscripts start at 1 (PostgreSQL's default). Any other shape
// would come back from the file as a different array ('[-2:0]={1,2,3}' as '{1,2,3}'), so it is
// refused like NaN in a decimal rather than exported without its bounds.
Status ArrayShapeError(const FieldContext& ctx, std::string_view shape) {
  return Error(ErrorCode::kData,
               "column '{}' (row {}): {} cannot be exported as a list; cast the column to text "
               "in the query (\"{}\"::text)",
               ctx.column, ctx.row, shape, ctx.column);
}

Status DecodeScalar(const ValueDecoder& dec, const uint8_t* p, int32_t length,
                    const FieldContext& ctx, Column& column) {
  auto expect = [&](int32_t width) -> bool { return length == width; };
  switch (dec.kind) {
    case ValueKind::kBool:
      if (!expect(1)) return WidthError(ctx, dec.kind, length, 1);
      if (p[0] > 1) return Corrupt(ctx, "a bool value must be 0 or 1");
      column.Append<uint8_t>(p[0]);
      return Status::Ok();
    case ValueKind::kInt16:
      if (!expect(2)) return WidthError(ctx, dec.kind, length, 2);
      column.Append<int32_t>(LoadI16(p));
      return Status::Ok();
    case ValueKind::kInt32:
      if (!expect(4)) return WidthError(ctx, dec.kind, length, 4);
      column.Append<int32_t>(LoadI32(p));
      return Status::Ok();
    case ValueKind::kInt64:
      if (!expect(8)) return WidthError(ctx, dec.kind, length, 8);
      column.Append<int64_t>(LoadI64(p));
      return Status::Ok();
    case ValueKind::kOid:
      if (!expect(4)) return WidthError(ctx, dec.kind, length, 4);
      column.Append<int64_t>(static_cast<int64_t>(LoadU32(p)));
      return Status::Ok();
    case ValueKind::kFloat32:
      if (!expect(4)) return WidthError(ctx, dec.kind, length, 4);
      column.Append<float>(std::bit_cast<float>(LoadU32(p)));
      return Status::Ok();
    case ValueKind::kFloat64:
      if (!expect(8)) return WidthError(ctx, dec.kind, length, 8);
      column.Append<double>(std::bit_cast<double>(LoadU64(p)));
      return Status::Ok();
    case ValueKind::kDecimal64:
    case ValueKind::kDecimal128: {
      const std::optional<Int128> unscaled = Unscaled(dec, p, length);
      if (!unscaled) {
        NumericView v;
        if (const char* defect = ParseNumeric(p, length, &v)) return Corrupt(ctx, defect);
        if (IsSpecial(v)) {
          return Error(ErrorCode::kData,
                       "column '{}' (row {}): value {} cannot be stored as decimal({},{}); cast "
                       "the column to text or filter the value out",
                       ctx.column, ctx.row, NumericText(v), dec.precision, dec.scale);
        }
        return Error(ErrorCode::kData, "column '{}' (row {}): value {} does not fit decimal({},{})",
                     ctx.column, ctx.row, NumericText(v), dec.precision, dec.scale);
      }
      if (dec.kind == ValueKind::kDecimal64) {
        column.Append<int64_t>(static_cast<int64_t>(*unscaled));
      } else {
        column.Append<Int128>(*unscaled);
      }
      return Status::Ok();
    }
    case ValueKind::kNumericText: {
      NumericView v;
      if (const char* defect = ParseNumeric(p, length, &v)) return Corrupt(ctx, defect);
      std::vector<uint8_t>& data = column.mutable_data();
      const size_t start = data.size();
      data.resize(start + NumericTextMaxLength(v));
      size_t n = WriteNumericText(v, reinterpret_cast<char*>(data.data() + start));
      data.resize(start + n);
      column.CommitBytes();
      return Status::Ok();
    }
    case ValueKind::kBytes:
      column.AppendBytes(p, static_cast<size_t>(length));
      return Status::Ok();
    case ValueKind::kJsonb:
      // jsonb_send: a version byte (1, the only version so far) then the JSON text.
      if (length < 1) return Corrupt(ctx, "a jsonb value must start with its version byte");
      if (p[0] != 1) return Corrupt(ctx, fmt::format("unsupported jsonb version {}", p[0]));
      column.AppendBytes(p + 1, static_cast<size_t>(length - 1));
      return Status::Ok();
    case ValueKind::kDate: {
      if (!expect(4)) return WidthError(ctx, dec.kind, length, 4);
      const int32_t days = LoadI32(p);
      const std::optional<int32_t> unix_days = UnixDays(days);
      if (!unix_days) {
        if (days == std::numeric_limits<int32_t>::max()) return InfiniteError(ctx, "date", true);
        if (days == std::numeric_limits<int32_t>::min()) return InfiniteError(ctx, "date", false);
        return Error(ErrorCode::kData, "column '{}' (row {}): date out of range", ctx.column,
                     ctx.row);
      }
      column.Append<int32_t>(*unix_days);
      return Status::Ok();
    }
    case ValueKind::kTime:
      if (!expect(8)) return WidthError(ctx, dec.kind, length, 8);
      column.Append<int64_t>(LoadI64(p));
      return Status::Ok();
    case ValueKind::kTimestamp: {
      if (!expect(8)) return WidthError(ctx, dec.kind, length, 8);
      const int64_t micros = LoadI64(p);
      const std::optional<int64_t> unix_micros = UnixMicros(micros);
      if (!unix_micros) {
        if (micros == std::numeric_limits<int64_t>::max()) {
          return InfiniteError(ctx, "timestamp", true);
        }
        if (micros == std::numeric_limits<int64_t>::min()) {
          return InfiniteError(ctx, "timestamp", false);
        }
        return Error(ErrorCode::kData,
                     "column '{}' (row {}): timestamp beyond the range of microseconds since "
                     "1970 (int64)",
                     ctx.column, ctx.row);
      }
      column.Append<int64_t>(*unix_micros);
      return Status::Ok();
    }
    case ValueKind::kUuid:
      if (!expect(16)) return WidthError(ctx, dec.kind, length, 16);
      column.AppendBytes(p, 16);
      return Status::Ok();
    case ValueKind::kArray:
      break;
  }
  return Error(ErrorCode::kInternal, "column '{}': arrays cannot nest in a COPY decoder",
               ctx.column);
}

}  // namespace

Status NumericToText(const uint8_t* p, int32_t length, std::string* out) {
  NumericView v;
  if (const char* defect = ParseNumeric(p, length, &v)) {
    return Error(ErrorCode::kCorrupt, "{}", defect);
  }
  *out = NumericText(v);
  return Status::Ok();
}

CopyParser::CopyParser(std::vector<ColumnDecoder> columns)
    : columns_(std::move(columns)),
      field_starts_(columns_.size(), 0),
      field_lengths_(columns_.size(), 0) {
  for (const ColumnDecoder& column : columns_) fast_.push_back(FastDecoder(column.value.kind));
}

Status CopyParser::Consume(std::span<const uint8_t> chunk, columnar::Batch& batch,
                           size_t max_rows) {
  if (batch.num_columns() != columns_.size()) {
    return Error(ErrorCode::kInternal, "batch has {} columns, the COPY decoder {}",
                 batch.num_columns(), columns_.size());
  }
  size_t used = 0;
  if (!has_pending()) {
    // Usual case: parse the chunk in place and keep only an incomplete tail.
    pending_.clear();
    pending_pos_ = 0;
    Status status = Parse(chunk.data(), chunk.size(), batch, max_rows, &used);
    if (used < chunk.size())
      pending_.assign(chunk.begin() + static_cast<ptrdiff_t>(used), chunk.end());
    return status;
  }
  if (!chunk.empty()) {
    if (pending_pos_ > 0) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(pending_pos_));
      pending_pos_ = 0;
    }
    pending_.insert(pending_.end(), chunk.begin(), chunk.end());
  }
  Status status =
      Parse(pending_.data() + pending_pos_, pending_.size() - pending_pos_, batch, max_rows, &used);
  pending_pos_ += used;
  if (pending_pos_ == pending_.size()) {
    pending_.clear();
    pending_pos_ = 0;
  }
  return status;
}

Result<bool> CopyParser::ParseHeader(const uint8_t* data, size_t size, size_t* used) {
  const size_t sig = std::min(size, kSignature.size());
  if (std::memcmp(data, kSignature.data(), sig) != 0) {
    return Error(ErrorCode::kCorrupt,
                 "COPY data is malformed at offset 0: the binary COPY signature is missing");
  }
  if (size < kHeaderFixedBytes) return false;
  const uint32_t flags = LoadU32(data + 11);
  if ((flags & kCriticalFlagsMask) != 0) {
    return Error(ErrorCode::kCorrupt,
                 "COPY data is malformed at offset 11: unknown critical header flags 0x{:08x}",
                 flags);
  }
  if ((flags & kOidsFlag) != 0) {
    return Error(ErrorCode::kCorrupt,
                 "COPY data is malformed at offset 11: rows carry OIDs, which Rivet never asks "
                 "for");
  }
  const int32_t extension = LoadI32(data + 15);
  if (extension < 0) {
    return Error(ErrorCode::kCorrupt,
                 "COPY data is malformed at offset 15: negative header extension length {}",
                 extension);
  }
  if (size - kHeaderFixedBytes < static_cast<size_t>(extension)) return false;
  *used = kHeaderFixedBytes + static_cast<size_t>(extension);
  return true;
}

Status CopyParser::Parse(const uint8_t* data, size_t size, columnar::Batch& batch, size_t max_rows,
                         size_t* used) {
  *used = 0;
  const int64_t base = consumed_;  // stream offset of data[0]
  size_t pos = 0;
  auto finish = [&](Status status) {
    *used = pos;
    consumed_ = base + static_cast<int64_t>(pos);
    return status;
  };
  if (state_ == State::kHeader) {
    if (size == 0) return finish(Status::Ok());
    auto header = ParseHeader(data, size, &pos);
    if (!header.has_value()) return finish(header.error());
    if (!*header) return finish(Status::Ok());
    state_ = State::kTuples;
  }
  const size_t ncols = columns_.size();
  while (state_ == State::kTuples && batch.num_rows() < max_rows) {
    if (size - pos < 2) break;
    const int16_t count = LoadI16(data + pos);
    if (count == -1) {
      pos += 2;
      state_ = State::kDone;
      break;
    }
    if (count < 0 || static_cast<size_t>(count) != ncols) {
      return finish(Error(ErrorCode::kCorrupt,
                          "COPY data is malformed at offset {} (row {}): the row has {} fields, "
                          "the query has {} columns",
                          base + static_cast<int64_t>(pos), rows_ + 1, count, ncols));
    }
    // First pass: every length, bounded by the bytes present; an incomplete row waits for more.
    size_t q = pos + 2;
    bool complete = true;
    for (size_t c = 0; c < ncols; ++c) {
      if (size - q < 4) {
        complete = false;
        break;
      }
      const int32_t length = LoadI32(data + q);
      if (length < -1) {
        return finish(Error(ErrorCode::kCorrupt,
                            "COPY data is malformed at offset {} (row {}, column '{}'): invalid "
                            "field length {}",
                            base + static_cast<int64_t>(q), rows_ + 1, columns_[c].name, length));
      }
      q += 4;
      field_starts_[c] = q;
      field_lengths_[c] = length;
      if (length > 0) {
        if (size - q < static_cast<size_t>(length)) {
          complete = false;
          break;
        }
        q += static_cast<size_t>(length);
      }
    }
    if (!complete) break;
    // Second pass: decode, every field known to lie inside [data, data+q).
    for (size_t c = 0; c < ncols; ++c) {
      Column& column = batch.mutable_column(c);
      const int32_t length = field_lengths_[c];
      if (length == -1) {
        column.AppendNull();
        continue;
      }
      const uint8_t* field = data + field_starts_[c];
      if (fast_[c] != nullptr && fast_[c](columns_[c].value, field, length, column)) continue;
      Status status =
          DecodeField(c, field, length, base + static_cast<int64_t>(field_starts_[c]), column);
      if (!status.ok()) return finish(std::move(status));
    }
    batch.CommitRow();
    ++rows_;
    pos = q;
  }
  if (state_ == State::kDone && pos < size) {
    return finish(Error(ErrorCode::kCorrupt,
                        "COPY data is malformed at offset {}: {} bytes follow the trailer",
                        base + static_cast<int64_t>(pos), size - pos));
  }
  return finish(Status::Ok());
}

Status CopyParser::DecodeField(size_t column_index, const uint8_t* p, int32_t length,
                               int64_t offset, Column& column) {
  const ColumnDecoder& decoder = columns_[column_index];
  if (decoder.value.kind == ValueKind::kArray) {
    return DecodeArray(decoder, p, length, offset, column);
  }
  return DecodeScalar(decoder.value, p, length, FieldContext{decoder.name, rows_ + 1, offset},
                      column);
}

// array_send (src/backend/utils/adt/arrayfuncs.c): int32 ndim, int32 flags (1 = has NULLs),
// uint32 element type OID, then per dimension int32 size and int32 lower bound, then each
// element as int32 length (-1 = NULL) and its bytes.
Status CopyParser::DecodeArray(const ColumnDecoder& decoder, const uint8_t* p, int32_t length,
                               int64_t offset, Column& column) {
  const FieldContext ctx{decoder.name, rows_ + 1, offset};
  if (length < 12) return Corrupt(ctx, "array shorter than its 12-byte header");
  const int32_t ndim = LoadI32(p);
  const int32_t flags = LoadI32(p + 4);
  const uint32_t element_oid = LoadU32(p + 8);
  if (ndim < 0) return Corrupt(ctx, fmt::format("array with {} dimensions", ndim));
  if ((flags & ~1) != 0) return Corrupt(ctx, fmt::format("array flags 0x{:x}", flags));
  if (element_oid != decoder.element_oid && element_oid != decoder.element_base_oid) {
    return Corrupt(
        ctx, fmt::format("array of type OID {}, expected {}", element_oid, decoder.element_oid));
  }
  if (ndim == 0) {
    if (length != 12) return Corrupt(ctx, "bytes after an empty array");
    column.CloseList();
    return Status::Ok();
  }
  if (ndim > 1) return ArrayShapeError(ctx, fmt::format("a {}-dimensional array", ndim));
  if (length < 20) return Corrupt(ctx, "array shorter than its dimension header");
  const int32_t count = LoadI32(p + 12);
  const int32_t lower_bound = LoadI32(p + 16);
  if (count < 0) return Corrupt(ctx, fmt::format("array with {} elements", count));
  if (lower_bound != 1) {
    const int64_t upper_bound = int64_t{lower_bound} + count - 1;
    return ArrayShapeError(ctx, fmt::format("an array with bounds [{}:{}] (lists start at 1, so "
                                            "the bounds would be lost)",
                                            lower_bound, upper_bound));
  }
  const auto end = static_cast<size_t>(length);
  size_t pos = 20;
  Column& child = column.mutable_child();
  for (int32_t i = 0; i < count; ++i) {
    const FieldContext element_ctx{decoder.name, ctx.row, offset + static_cast<int64_t>(pos)};
    if (end - pos < 4) return Corrupt(element_ctx, "array ends before its last element");
    const int32_t element_length = LoadI32(p + pos);
    pos += 4;
    if (element_length == -1) {
      child.AppendNull();
      continue;
    }
    if (element_length < -1 || static_cast<size_t>(element_length) > end - pos) {
      return Corrupt(element_ctx, fmt::format("invalid array element length {}", element_length));
    }
    RIVET_RETURN_IF_ERROR(DecodeScalar(
        decoder.element, p + pos, element_length,
        FieldContext{decoder.name, ctx.row, offset + static_cast<int64_t>(pos)}, child));
    pos += static_cast<size_t>(element_length);
  }
  if (pos != end)
    return Corrupt(ctx, fmt::format("{} bytes after the array's elements", end - pos));
  column.CloseList();
  return Status::Ok();
}

Status CopyParser::Finish() const {
  switch (state_) {
    case State::kHeader:
      return Error(ErrorCode::kCorrupt,
                   "COPY data ended before its header was complete ({} bytes received)",
                   consumed_ + static_cast<int64_t>(pending_.size() - pending_pos_));
    case State::kTuples:
      if (has_pending()) {
        return Error(ErrorCode::kCorrupt,
                     "COPY data ended inside row {} (offset {}, {} bytes of it received)",
                     rows_ + 1, consumed_, pending_.size() - pending_pos_);
      }
      return Error(ErrorCode::kCorrupt, "COPY data ended without its trailer after {} rows", rows_);
    case State::kDone:
      if (has_pending()) {
        return Error(ErrorCode::kCorrupt, "COPY data is malformed: bytes follow the trailer");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace rivet::source::postgres
