#include "rivet/format/csv/csv_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "rivet/columnar/temporal.h"

namespace rivet::format::csv {

using columnar::Column;
using columnar::DataType;
using columnar::Storage;
using columnar::TypeId;

namespace {

constexpr char kHex[] = "0123456789abcdef";

// The output buffer is handed to the sink in pieces of about this size.
constexpr size_t kFlushBytes = 1 << 20;

// How a list cell is written: as a CSV field, or as a JSON value (a list nested in a list).
enum class Mode { kCsv, kJson };

// The rendered cells of one column: cell i is text[ends[i-1], ends[i]).
struct Cells {
  std::string text;
  std::vector<size_t> ends;
  void Clear() {
    text.clear();
    ends.clear();
  }
  void End() { ends.push_back(text.size()); }
  std::string_view At(size_t i) const {
    size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
};

// The bytes that force a CSV field into quotes.
constexpr std::array<bool, 256> kQuoteByte = [] {
  std::array<bool, 256> t{};
  t[','] = t['"'] = t['\r'] = t['\n'] = true;
  return t;
}();

// The index of the first byte of s that forces quotes, or s.size(): sixteen bytes per step
// through the compiler's vector extensions (SSE2 on x86-64, NEON on aarch64), then the table
// inside the block that holds one and for the tail.
size_t FirstQuoteByte(std::string_view s) {
  using Bytes16 = unsigned char __attribute__((vector_size(16)));
  const Bytes16 zero = {};
  const Bytes16 comma = zero + ',', quote = zero + '"', cr = zero + '\r', lf = zero + '\n';
  size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) {
    Bytes16 v;
    std::memcpy(&v, s.data() + i, 16);
    const auto hit = (v == comma) | (v == quote) | (v == cr) | (v == lf);
    uint64_t halves[2];
    std::memcpy(halves, &hit, 16);
    if ((halves[0] | halves[1]) != 0) break;
  }
  while (i < s.size() && !kQuoteByte[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}

// RFC 4180: a field holding , " CR or LF is quoted and its quotes doubled. An empty string is
// written "" so that it stays distinct from NULL (an empty unquoted field). The field is
// scanned once (the common field needs no quotes and is then copied whole).
void AppendCsvField(std::string& out, std::string_view s) {
  const size_t clean = FirstQuoteByte(s);
  if (clean == s.size() && !s.empty()) {
    out.append(s);
    return;
  }
  out.push_back('"');
  out.append(s.substr(0, clean));
  for (char c : s.substr(clean)) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

template <typename T>
void AppendInteger(std::string& out, T v) {
  std::array<char, 48> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

// The decimal digits of `v`, written backwards ending at `end`; returns where they start.
char* DigitsBackwards(char* end, unsigned __int128 v) {
  // 64-bit division is several times cheaper than 128-bit: use it once the value fits.
  while (v > UINT64_MAX) {
    *--end = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  auto small = static_cast<uint64_t>(v);
  do {
    *--end = static_cast<char>('0' + small % 10);
    small /= 10;
  } while (small != 0);
  return end;
}

// Exact decimal text of unscaled * 10^-scale: "-0.05", "12.30", "7".
void AppendDecimal(std::string& out, columnar::Int128 unscaled, int scale) {
  bool negative = unscaled < 0;
  auto magnitude = negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1
                            : static_cast<unsigned __int128>(unscaled);
  std::array<char, 48> buf;
  char* end = buf.data() + buf.size();
  char* begin = DigitsBackwards(end, magnitude);
  if (negative) out.push_back('-');
  auto digits = static_cast<size_t>(end - begin);
  if (scale <= 0) {
    out.append(begin, digits);
    return;
  }
  auto s = static_cast<size_t>(scale);
  if (digits <= s) {  // 0.000ddd
    out.append("0.");
    out.append(s - digits, '0');
    out.append(begin, digits);
    return;
  }
  out.append(begin, digits - s);
  out.push_back('.');
  out.append(end - s, s);
}

template <typename T>
void AppendFloat(std::string& out, T v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else {
    std::array<char, 64> buf;
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);  // shortest round-trip
    out.append(buf.data(), end);
  }
}

void AppendPadded(std::string& out, int64_t v, int width) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  for (auto n = static_cast<int>(end - buf.data()); n < width; ++n) out.push_back('0');
  out.append(buf.data(), end);
}

// `width` decimal digits of 0 <= v < 10^width at p, zero-padded.
// "00" to "99": two digits per lookup.
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}();

// v < 100 as two digits.
void PutTwo(char* p, uint64_t v) { std::memcpy(p, kDigitPairs.data() + 2 * v, 2); }

// YYYY-MM-DD into p, for years 0..9999.
void PutDate(char* p, const columnar::CivilDate& c) {
  const auto year = static_cast<uint64_t>(c.year);
  PutTwo(p, year / 100);
  PutTwo(p + 2, year % 100);
  p[4] = '-';
  PutTwo(p + 5, c.month);
  p[7] = '-';
  PutTwo(p + 8, c.day);
}

// HH:MM:SS.ffffff into p, from microseconds since midnight (0 <= micros < one day).
void PutTimeOfDay(char* p, int64_t micros) {
  const auto seconds = static_cast<uint64_t>(micros / columnar::kMicrosPerSecond);
  const auto fraction = static_cast<uint64_t>(micros % columnar::kMicrosPerSecond);
  PutTwo(p, seconds / 3600);
  p[2] = ':';
  PutTwo(p + 3, seconds / 60 % 60);
  p[5] = ':';
  PutTwo(p + 6, seconds % 60);
  p[8] = '.';
  PutTwo(p + 9, fraction / 10000);
  PutTwo(p + 11, fraction / 100 % 100);
  PutTwo(p + 13, fraction % 100);
}

constexpr size_t kDateChars = 10;  // YYYY-MM-DD
constexpr size_t kTimeChars = 15;  // HH:MM:SS.ffffff

// ISO 8601 date; years outside 0..9999 carry a sign (ISO 8601 expanded form).
void AppendDate(std::string& out, const columnar::CivilDate& c) {
  if (c.year >= 0 && c.year <= 9999) {
    std::array<char, kDateChars> buf;
    PutDate(buf.data(), c);
    out.append(buf.data(), buf.size());
    return;
  }
  out.push_back(c.year < 0 ? '-' : '+');
  AppendPadded(out, c.year < 0 ? -c.year : c.year, 4);
  out.push_back('-');
  AppendPadded(out, c.month, 2);
  out.push_back('-');
  AppendPadded(out, c.day, 2);
}

void AppendDate(std::string& out, int64_t days) { AppendDate(out, columnar::CivilFromDays(days)); }

void AppendTimeOfDay(std::string& out, int64_t micros) {
  std::array<char, kTimeChars> buf;
  PutTimeOfDay(buf.data(), micros);
  out.append(buf.data(), buf.size());
}

// Date, 'T', time and, for timestamptz, 'Z'; in one piece for the years 0..9999.
void AppendTimestamp(std::string& out, int64_t micros, bool utc) {
  const int64_t days = columnar::FloorDiv(micros, columnar::kMicrosPerDay);
  const int64_t time = micros - days * columnar::kMicrosPerDay;
  const columnar::CivilDate date = columnar::CivilFromDays(days);
  if (date.year >= 0 && date.year <= 9999) {
    std::array<char, kDateChars + 1 + kTimeChars + 1> buf;
    PutDate(buf.data(), date);
    buf[kDateChars] = 'T';
    PutTimeOfDay(buf.data() + kDateChars + 1, time);
    buf[buf.size() - 1] = 'Z';
    out.append(buf.data(), utc ? buf.size() : buf.size() - 1);
    return;
  }
  AppendDate(out, date);
  out.push_back('T');
  AppendTimeOfDay(out, time);
  if (utc) out.push_back('Z');
}

void AppendHex(std::string& out, std::string_view bytes) {
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

void AppendUuid(std::string& out, const uint8_t* b) {
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
}

// The CSV text of row r of a column, nothing for NULL. One function per type, chosen once per
// column, so the row loop dispatches through a pointer instead of a switch per value.
using CellFn = void (*)(const Column& col, size_t r, std::string& out);

template <typename T, auto Append>
void FixedCell(const Column& col, size_t r, std::string& out) {
  if (col.IsValid(r)) Append(out, col.values<T>()[r]);
}

template <typename T>
void DecimalCell(const Column& col, size_t r, std::string& out) {
  if (col.IsValid(r)) AppendDecimal(out, col.values<T>()[r], col.type().scale);
}

template <bool kUtc>
void TimestampCell(const Column& col, size_t r, std::string& out) {
  if (col.IsValid(r)) AppendTimestamp(out, col.values<int64_t>()[r], kUtc);
}

void TextCell(const Column& col, size_t r, std::string& out) {
  if (col.IsValid(r)) AppendCsvField(out, col.StringAt(r));
}

void BinaryCell(const Column& col, size_t r, std::string& out) {
  if (!col.IsValid(r)) return;
  std::string_view bytes = col.StringAt(r);
  if (bytes.empty()) {
    out += "\"\"";  // "" as for an empty string: distinct from NULL
  } else {
    AppendHex(out, bytes);  // hex never needs quotes
  }
}

void UuidCell(const Column& col, size_t r, std::string& out) {
  if (col.IsValid(r)) AppendUuid(out, col.data().data() + r * 16);
}

void AppendBool(std::string& out, uint8_t v) { out += v ? "true" : "false"; }
void AppendInt32(std::string& out, int32_t v) { AppendInteger(out, v); }
void AppendInt64(std::string& out, int64_t v) { AppendInteger(out, v); }
void AppendUInt64(std::string& out, int64_t v) { AppendInteger(out, static_cast<uint64_t>(v)); }
void AppendDateDays(std::string& out, int32_t v) { AppendDate(out, v); }

// nullptr for lists, which are rendered a column at a time (their elements as JSON).
CellFn CsvCell(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return FixedCell<uint8_t, AppendBool>;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
      return FixedCell<int32_t, AppendInt32>;
    case TypeId::kInt64:
    case TypeId::kUInt32:
      return FixedCell<int64_t, AppendInt64>;
    case TypeId::kUInt64:
      return FixedCell<int64_t, AppendUInt64>;
    case TypeId::kFloat32:
      return FixedCell<float, AppendFloat<float>>;
    case TypeId::kFloat64:
      return FixedCell<double, AppendFloat<double>>;
    case TypeId::kDecimal:
      return type.storage() == Storage::kI64 ? DecimalCell<int64_t> : DecimalCell<columnar::Int128>;
    case TypeId::kDate:
      return FixedCell<int32_t, AppendDateDays>;
    case TypeId::kTime:
      return FixedCell<int64_t, AppendTimeOfDay>;
    case TypeId::kTimestamp:
      return TimestampCell<false>;
    case TypeId::kTimestampTz:
      return TimestampCell<true>;
    case TypeId::kString:
    case TypeId::kJson:
      return TextCell;
    case TypeId::kBinary:
      return BinaryCell;
    case TypeId::kUuid:
      return UuidCell;
    case TypeId::kList:
      return nullptr;
  }
  return nullptr;
}

// Renders every row of `col` into `cells` as JSON values (the elements of list cells), one loop
// per type (dispatch once per column).
void RenderJson(const Column& col, Cells& cells, std::string& scratch);

void RenderBytes(const Column& col, Cells& cells, std::string& scratch) {
  TypeId id = col.type().id;
  for (size_t i = 0; i < col.size(); ++i) {
    if (!col.IsValid(i)) {
      cells.text += "null";
      cells.End();
      continue;
    }
    std::string_view value = col.StringAt(i);
    if (id == TypeId::kBinary) {
      scratch.clear();
      AppendHex(scratch, value);
      value = scratch;
    }
    if (id == TypeId::kJson) {
      cells.text += value;  // already a JSON document
    } else {
      AppendJsonString(cells.text, value);
    }
    cells.End();
  }
}

// A list cell is a JSON array of its elements; in CSV it is then one (quoted) field.
void RenderList(const Column& col, Mode mode, Cells& cells, std::string& scratch) {
  Cells elements;
  RenderJson(col.child(), elements, scratch);
  const std::vector<int64_t>& offsets = col.offsets();
  for (size_t i = 0; i < col.size(); ++i) {
    if (!col.IsValid(i)) {
      if (mode == Mode::kJson) cells.text += "null";
      cells.End();
      continue;
    }
    scratch.clear();
    scratch.push_back('[');
    for (auto e = static_cast<size_t>(offsets[i]); e < static_cast<size_t>(offsets[i + 1]); ++e) {
      if (e != static_cast<size_t>(offsets[i])) scratch.push_back(',');
      scratch += elements.At(e);
    }
    scratch.push_back(']');
    if (mode == Mode::kCsv)
      AppendCsvField(cells.text, scratch);
    else
      cells.text += scratch;
    cells.End();
  }
}

void RenderJson(const Column& col, Cells& cells, std::string& scratch) {
  const TypeId id = col.type().id;
  if (id == TypeId::kString || id == TypeId::kBinary || id == TypeId::kJson) {
    RenderBytes(col, cells, scratch);
    return;
  }
  if (id == TypeId::kList) {
    RenderList(col, Mode::kJson, cells, scratch);
    return;
  }
  // Booleans and numbers are the same text in JSON as in CSV; dates, times, timestamps and
  // UUIDs are that text as a JSON string.
  const CellFn cell = CsvCell(col.type());
  const bool quoted = id == TypeId::kDate || id == TypeId::kTime || id == TypeId::kTimestamp ||
                      id == TypeId::kTimestampTz || id == TypeId::kUuid;
  for (size_t i = 0; i < col.size(); ++i) {
    if (!col.IsValid(i)) {
      cells.text += "null";
    } else if (quoted) {
      scratch.clear();
      cell(col, i, scratch);
      AppendJsonString(cells.text, scratch);
    } else {
      cell(col, i, cells.text);
    }
    cells.End();
  }
}

}  // namespace

std::string FieldText(const Column& col, size_t row) {
  std::string text;
  if (CellFn cell = CsvCell(col.type())) {
    cell(col, row, text);
    return text;
  }
  Cells cells;
  RenderList(col, Mode::kCsv, cells, text);
  return std::string(cells.At(row));
}

namespace {

class CsvWriter final : public FormatWriter {
 public:
  CsvWriter(columnar::SchemaPtr schema, ByteSink& sink)
      : schema_(std::move(schema)), sink_(sink), lists_(schema_->size()) {
    for (size_t c = 0; c < schema_->size(); ++c) cells_.push_back(CsvCell((*schema_)[c].type));
    out_.reserve(2 * kFlushBytes);
  }

  Status Write(const columnar::Batch& batch) override {
    RIVET_RETURN_IF_ERROR(WriteHeaderOnce());
    for (size_t c = 0; c < cells_.size(); ++c) {
      if (cells_[c] != nullptr) continue;
      lists_[c].Clear();
      RenderList(batch.column(c), Mode::kCsv, lists_[c], scratch_);
    }
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      for (size_t c = 0; c < cells_.size(); ++c) {
        if (c != 0) out_.push_back(',');
        if (cells_[c] != nullptr) {
          cells_[c](batch.column(c), r, out_);
        } else {
          out_ += lists_[c].At(r);
        }
      }
      out_.push_back('\n');
      if (out_.size() >= kFlushBytes) RIVET_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }

  Status Finish() override {
    RIVET_RETURN_IF_ERROR(WriteHeaderOnce());
    return Flush();
  }

  uint64_t EstimatedFileSize() const override { return sink_.bytes_written() + out_.size(); }

 private:
  Status WriteHeaderOnce() {
    if (header_written_) return Status::Ok();
    header_written_ = true;
    for (size_t c = 0; c < schema_->size(); ++c) {
      if (c != 0) out_.push_back(',');
      AppendCsvField(out_, (*schema_)[c].name);
    }
    out_.push_back('\n');
    return Status::Ok();
  }

  Status Flush() {
    Status s = sink_.Append(reinterpret_cast<const uint8_t*>(out_.data()), out_.size());
    out_.clear();
    return s;
  }

  columnar::SchemaPtr schema_;
  ByteSink& sink_;
  std::vector<CellFn> cells_;  // per column; nullptr for a list column
  std::vector<Cells> lists_;   // the rendered cells of list columns, per batch
  std::string out_;
  std::string scratch_;
  bool header_written_ = false;
};

}  // namespace

Result<std::unique_ptr<FormatWriter>> MakeCsvWriter(columnar::SchemaPtr schema, ByteSink& sink) {
  return std::unique_ptr<FormatWriter>(new CsvWriter(std::move(schema), sink));
}

Result<uint64_t> CountCsvRows(ByteSource& file) {
  std::vector<uint8_t> buf(kFlushBytes);
  uint64_t records = 0;
  bool in_quotes = false;
  bool open_record = false;  // bytes seen since the last record terminator
  for (uint64_t offset = 0; offset < file.size();) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), file.size() - offset));
    RIVET_RETURN_IF_ERROR(file.ReadAt(offset, n, buf.data()));
    offset += n;
    for (size_t i = 0; i < n; ++i) {
      const char c = static_cast<char>(buf[i]);
      if (c == '"') in_quotes = !in_quotes;  // "" inside a field toggles twice
      if (c == '\n' && !in_quotes) {
        ++records;
        open_record = false;
      } else {
        open_record = true;
      }
    }
  }
  if (in_quotes)
    return Error(ErrorCode::kCorrupt, "{}: unterminated quoted field", file.Describe());
  if (open_record) ++records;
  if (records == 0) return Error(ErrorCode::kCorrupt, "{}: no header record", file.Describe());
  return records - 1;
}

Result<uint64_t> CountCsvRows(const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(path));
  return CountCsvRows(*file);
}

}  // namespace rivet::format::csv
