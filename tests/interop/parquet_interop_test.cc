// Interop: files written by Rivet's Parquet writer, read back by two independent readers
// (DuckDB and hyparquet, through tools/read-parquet.mjs), value by value and type by type.
//
// Needs RIVET_TEST_TOOLS = the tools/ folder with node_modules (`cd tools && npm install`).
// Every case builds synthetic columnar batches covering every Rivet type (flat and as a LIST
// element), NULLs, and edge values; the expected canonical text of each value is computed here
// from the source columns, never hard-coded, and must equal what each reader prints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/format/parquet/file_writer.h"
#include "rivet/format/parquet/footer_reader.h"
#include "rivet/format/parquet/parquet_writer.h"
#include "support/test_env.h"

namespace rivet {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::DataType;
using columnar::Int128;
using columnar::Schema;
using columnar::SchemaPtr;
using columnar::TypeId;
using format::parquet::ParquetWriterOptions;

// --- the types under test ---------------------------------------------------------------------

struct TypeCase {
  std::string name;
  DataType type;
  std::string duckdb;  // DuckDB's DESCRIBE name
};

std::vector<TypeCase> AllTypes() {
  return {
      {"bool", DataType::Of(TypeId::kBool), "BOOLEAN"},
      {"i8", DataType::Of(TypeId::kInt8), "TINYINT"},
      {"i16", DataType::Of(TypeId::kInt16), "SMALLINT"},
      {"i32", DataType::Of(TypeId::kInt32), "INTEGER"},
      {"i64", DataType::Of(TypeId::kInt64), "BIGINT"},
      {"u8", DataType::Of(TypeId::kUInt8), "UTINYINT"},
      {"u16", DataType::Of(TypeId::kUInt16), "USMALLINT"},
      {"u32", DataType::Of(TypeId::kUInt32), "UINTEGER"},
      {"u64", DataType::Of(TypeId::kUInt64), "UBIGINT"},
      {"f32", DataType::Of(TypeId::kFloat32), "FLOAT"},
      {"f64", DataType::Of(TypeId::kFloat64), "DOUBLE"},
      {"dec5_1", DataType::Decimal(5, 1), "DECIMAL(5,1)"},
      {"dec12_2", DataType::Decimal(12, 2), "DECIMAL(12,2)"},
      {"dec18_6", DataType::Decimal(18, 6), "DECIMAL(18,6)"},
      {"dec19_0", DataType::Decimal(19, 0), "DECIMAL(19,0)"},
      {"dec38_0", DataType::Decimal(38, 0), "DECIMAL(38,0)"},
      {"dec38_10", DataType::Decimal(38, 10), "DECIMAL(38,10)"},
      {"text", DataType::Of(TypeId::kString), "VARCHAR"},
      {"json", DataType::Of(TypeId::kJson), "JSON"},
      {"bytes", DataType::Of(TypeId::kBinary), "BLOB"},
      {"date", DataType::Of(TypeId::kDate), "DATE"},
      {"time", DataType::Of(TypeId::kTime), "TIME"},
      {"ts", DataType::Of(TypeId::kTimestamp), "TIMESTAMP"},
      {"tstz", DataType::Of(TypeId::kTimestampTz), "TIMESTAMP WITH TIME ZONE"},
      {"uuid", DataType::Of(TypeId::kUuid), "UUID"},
  };
}

// Every type flat, then every type as a list element.
std::vector<TypeCase> AllColumns() {
  std::vector<TypeCase> columns = AllTypes();
  for (const TypeCase& t : AllTypes()) {
    columns.push_back({"list_" + t.name, DataType::List(t.type), t.duckdb + "[]"});
  }
  return columns;
}

// --- synthetic values ---------------------------------------------------------------------------

Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

enum class Cardinality { kLow, kHigh };
enum class Nulls { kSome, kNone, kAll };

struct DataShape {
  Cardinality cardinality = Cardinality::kLow;
  Nulls nulls = Nulls::kSome;
};

// A deterministic value for (type, row, k): k picks among edge values and ordinary ones; with
// high cardinality every row differs.
void AppendValue(Column& c, const DataType& t, uint64_t row, uint64_t k, Cardinality card) {
  const bool high = card == Cardinality::kHigh;
  const auto r = static_cast<int64_t>(row);
  const int64_t spread = high ? r * 7919 : static_cast<int64_t>(k % 5);
  switch (t.id) {
    case TypeId::kBool:
      c.Append<uint8_t>(static_cast<uint8_t>((row + k) % 2));
      return;
    case TypeId::kInt8: {
      const int32_t edge[] = {-128, 127, 0, -1};
      c.Append<int32_t>(k < 4 ? edge[k] : static_cast<int32_t>(spread % 100));
      return;
    }
    case TypeId::kInt16: {
      const int32_t edge[] = {-32768, 32767, 0, -1};
      c.Append<int32_t>(k < 4 ? edge[k] : static_cast<int32_t>(spread % 30000));
      return;
    }
    case TypeId::kInt32: {
      const int32_t edge[] = {std::numeric_limits<int32_t>::min(),
                              std::numeric_limits<int32_t>::max(), 0, -1};
      c.Append<int32_t>(k < 4 ? edge[k] : static_cast<int32_t>(spread - 50));
      return;
    }
    case TypeId::kInt64: {
      const int64_t edge[] = {std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max(), 0, -1};
      c.Append<int64_t>(k < 4 ? edge[k] : spread * 1000000007LL - 3);
      return;
    }
    case TypeId::kUInt8:
      c.Append<int32_t>(k == 0 ? 255 : static_cast<int32_t>(spread % 256));
      return;
    case TypeId::kUInt16:
      c.Append<int32_t>(k == 0 ? 65535 : static_cast<int32_t>(spread % 65536));
      return;
    case TypeId::kUInt32:
      c.Append<int64_t>(k == 0 ? 4294967295LL : k == 1 ? 2147483648LL : spread % 4294967296LL);
      return;
    case TypeId::kUInt64: {
      // 18446744073709551615 and 2^63 as int64 bit patterns.
      const int64_t edge[] = {-1, std::numeric_limits<int64_t>::min(), 0};
      c.Append<int64_t>(k < 3 ? edge[k] : spread * 3);
      return;
    }
    case TypeId::kFloat32: {
      const float edge[] = {
          std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
          -std::numeric_limits<float>::infinity(), -0.0f,
          std::numeric_limits<float>::max(),       std::numeric_limits<float>::denorm_min()};
      c.Append<float>(k < 6 ? edge[k] : static_cast<float>(spread) * 0.25f);
      return;
    }
    case TypeId::kFloat64: {
      const double edge[] = {
          std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(), -0.0,
          std::numeric_limits<double>::max(),       0.1};
      c.Append<double>(k < 6 ? edge[k] : static_cast<double>(spread) / 3.0);
      return;
    }
    case TypeId::kDecimal: {
      Int128 max = Pow10(t.precision) - 1;
      Int128 v = k == 0 ? max : k == 1 ? -max : k == 2 ? 0 : Int128{spread} % max - max / 3;
      if (t.precision <= columnar::kMaxDecimal64Precision) {
        c.Append<int64_t>(static_cast<int64_t>(v));
      } else {
        c.Append<Int128>(v);
      }
      return;
    }
    case TypeId::kString: {
      static const std::string edge[] = {"", "\xF0\x9F\x98\x80 4-byte", "caf\xC3\xA9",
                                         "quote\" back\\slash \t tab\nnewline \x01",
                                         std::string(300, 'x')};
      if (k < 5) {
        c.AppendString(edge[k]);
      } else {
        c.AppendString("s" + std::to_string(spread));
      }
      return;
    }
    case TypeId::kJson:
      c.AppendString(k == 0 ? "{}" : "{\"id\":" + std::to_string(spread) + ",\"tags\":[\"a\"]}");
      return;
    case TypeId::kBinary: {
      if (k == 0) {
        c.AppendBytes("", 0);
      } else if (k == 1) {
        c.AppendBytes("\0\0\xFF\0", 4);
      } else {
        std::string s = "b" + std::to_string(spread);
        s.push_back('\0');
        c.AppendBytes(s.data(), s.size());
      }
      return;
    }
    case TypeId::kDate: {
      const int32_t edge[] = {-25567, -1, 0, 2932896};  // 1900-01-01, 1969-12-31, 1970, 9999-12-31
      c.Append<int32_t>(k < 4 ? edge[k] : static_cast<int32_t>(spread % 40000));
      return;
    }
    case TypeId::kTime: {
      const int64_t edge[] = {0, 86399999999LL, 45296789012LL};
      c.Append<int64_t>(k < 3 ? edge[k] : (spread * 1000003) % 86400000000LL);
      return;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      // Pre-1970 with micros, 0001-01-01, 9999-12-31 23:59:59.999999.
      const int64_t edge[] = {-1, -62135596800000000LL, 253402300799999999LL, -123456789012345LL};
      c.Append<int64_t>(k < 4 ? edge[k] : 1700000000000000LL + spread * 1000001);
      return;
    }
    case TypeId::kUuid: {
      uint8_t u[16];
      if (k == 0) {
        std::memset(u, 0, 16);
      } else if (k == 1) {
        std::memset(u, 0xFF, 16);
      } else {
        for (int i = 0; i < 16; ++i) u[i] = static_cast<uint8_t>(spread * 31 + i * 17);
      }
      c.AppendBytes(u, 16);
      return;
    }
    case TypeId::kList:
      break;
  }
  ADD_FAILURE() << "no value for " << t.ToString();
}

bool IsNull(uint64_t row, size_t column, Nulls nulls) {
  if (nulls == Nulls::kAll) return true;
  if (nulls == Nulls::kNone) return false;
  return (row + column) % 5 == 4;
}

void FillBatch(Batch& batch, uint64_t first_row, size_t rows, const DataShape& shape) {
  const Schema& schema = *batch.schema();
  for (size_t i = 0; i < rows; ++i) {
    uint64_t row = first_row + i;
    for (size_t c = 0; c < schema.size(); ++c) {
      Column& column = batch.mutable_column(c);
      const DataType& type = schema[c].type;
      if (IsNull(row, c, shape.nulls)) {
        column.AppendNull();
        continue;
      }
      if (type.id != TypeId::kList) {
        AppendValue(column, type, row, row % 9, shape.cardinality);
        continue;
      }
      // Lists: empty, [v, NULL, v], [v], NULL elements only, longer lists.
      uint64_t shape_kind = (row / 2 + c) % 5;
      Column& child = column.mutable_child();
      if (shape_kind == 1) {
        AppendValue(child, *type.element, row, row % 9, shape.cardinality);
        child.AppendNull();
        AppendValue(child, *type.element, row + 1, (row + 1) % 9, shape.cardinality);
      } else if (shape_kind == 2) {
        AppendValue(child, *type.element, row, row % 9, shape.cardinality);
      } else if (shape_kind == 3) {
        child.AppendNull();
      } else if (shape_kind == 4) {
        for (uint64_t e = 0; e < 6; ++e) {
          AppendValue(child, *type.element, row * 6 + e, (row + e) % 9, shape.cardinality);
        }
      }
      column.CloseList();
    }
    batch.CommitRow();
  }
}

// --- canonical text (tools/read-parquet.mjs) ----------------------------------------------------

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string Int128Text(Int128 v) {
  bool negative = v < 0;
  auto m = static_cast<unsigned __int128>(negative ? -v : v);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m != 0);
  return (negative ? "-" : "") + digits;
}

std::string DecimalText(Int128 unscaled, int scale) {
  bool negative = unscaled < 0;
  std::string digits = Int128Text(negative ? -unscaled : unscaled);
  if (scale > 0) {
    if (digits.size() < static_cast<size_t>(scale) + 1) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return (negative ? "-" : "") + digits;
}

std::string FloatText(double x) {
  if (std::isnan(x)) return "\"NaN\"";
  if (std::isinf(x)) return x > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"0x%016llx\"", static_cast<unsigned long long>(bits));
  return buf;
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string Canon(const Column& c, size_t i) {
  if (!c.IsValid(i)) return "null";
  const DataType& t = c.type();
  switch (t.id) {
    case TypeId::kBool:
      return c.values<uint8_t>()[i] ? "true" : "false";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kDate:
      return Quoted(std::to_string(c.values<int32_t>()[i]));
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
      return Quoted(std::to_string(c.values<int64_t>()[i]));
    case TypeId::kUInt64:
      return Quoted(std::to_string(static_cast<uint64_t>(c.values<int64_t>()[i])));
    case TypeId::kFloat32:
      return FloatText(static_cast<double>(c.values<float>()[i]));
    case TypeId::kFloat64:
      return FloatText(c.values<double>()[i]);
    case TypeId::kDecimal:
      if (t.precision <= columnar::kMaxDecimal64Precision) {
        return Quoted(DecimalText(c.values<int64_t>()[i], t.scale));
      }
      return Quoted(DecimalText(c.values<Int128>()[i], t.scale));
    case TypeId::kString:
    case TypeId::kJson:
      return JsonQuote(c.StringAt(i));
    case TypeId::kBinary: {
      std::string_view s = c.StringAt(i);
      return Quoted(Hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
    case TypeId::kUuid: {
      std::string h = Hex(c.data().data() + i * 16, 16);
      return Quoted(h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
                    h.substr(16, 4) + "-" + h.substr(20));
    }
    case TypeId::kList: {
      std::string out = "[";
      for (auto e = c.offsets()[i]; e < c.offsets()[i + 1]; ++e) {
        if (e != c.offsets()[i]) out += ",";
        out += Canon(c.child(), static_cast<size_t>(e));
      }
      return out + "]";
    }
  }
  return "?";
}

std::string CanonRow(const Batch& batch, size_t row) {
  std::string out = "[";
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    if (c > 0) out += ",";
    out += Canon(batch.column(c), row);
  }
  return out + "]";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// --- the cases ----------------------------------------------------------------------------------

struct InteropCase {
  std::string name;
  ParquetWriterOptions options;
  DataShape shape;
  std::vector<size_t> batch_rows;  // rows per batch written
  // Structural expectations checked from the footer.
  size_t min_row_groups = 0;
};

std::vector<InteropCase> Cases() {
  std::vector<InteropCase> cases;
  auto with = [](config::Compression codec) {
    ParquetWriterOptions o;
    o.compression = codec;
    o.created_by = "rivet version interop";
    o.metadata = {{"rivet.export", "interop"}};
    return o;
  };
  {
    InteropCase c{"zero_rows", with(config::Compression::kZstd), {}, {0}};
    cases.push_back(c);
  }
  {
    InteropCase c{"one_row", with(config::Compression::kZstd), {}, {1}};
    cases.push_back(c);
  }
  {
    InteropCase c{"uncompressed_many_pages_dictionary_kept",
                  with(config::Compression::kNone),
                  {Cardinality::kLow, Nulls::kSome},
                  {120, 80}};
    c.options.page_max_rows = 7;
    cases.push_back(c);
  }
  {
    InteropCase c{"snappy_many_row_groups_dictionary_fallback",
                  with(config::Compression::kSnappy),
                  {Cardinality::kHigh, Nulls::kSome},
                  {150, 150}};
    c.options.row_group_max_rows = 64;
    c.options.dictionary_max_bytes = 200;
    c.options.page_max_rows = 20;
    c.min_row_groups = 5;
    cases.push_back(c);
  }
  {
    InteropCase c{"gzip_data_page_v2",
                  with(config::Compression::kGzip),
                  {Cardinality::kHigh, Nulls::kSome},
                  {200}};
    c.options.data_page_v2 = true;
    c.options.page_max_rows = 13;
    c.options.dictionary_max_bytes = 400;
    cases.push_back(c);
  }
  {
    InteropCase c{"lz4_raw_no_dictionary",
                  with(config::Compression::kLz4),
                  {Cardinality::kHigh, Nulls::kSome},
                  {250}};
    c.options.enable_dictionary = false;
    c.options.page_max_bytes = 512;
    cases.push_back(c);
  }
  {
    InteropCase c{"lz4_raw_v2_low_cardinality",
                  with(config::Compression::kLz4),
                  {Cardinality::kLow, Nulls::kSome},
                  {90}};
    c.options.data_page_v2 = true;
    c.options.page_max_rows = 10;
    cases.push_back(c);
  }
  {
    InteropCase c{"zstd_level_9_all_null",
                  with(config::Compression::kZstd),
                  {Cardinality::kLow, Nulls::kAll},
                  {25}};
    c.options.compression_level = 9;
    cases.push_back(c);
  }
  {
    InteropCase c{"zstd_no_nulls_byte_sized_row_groups",
                  with(config::Compression::kZstd),
                  {Cardinality::kHigh, Nulls::kNone},
                  {400}};
    c.options.row_group_max_bytes = 24 * 1024;
    c.min_row_groups = 2;
    cases.push_back(c);
  }
  return cases;
}

class ParquetInterop : public ::testing::TestWithParam<InteropCase> {};

TEST_P(ParquetInterop, BothReadersSeeEveryValue) {
  RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
  const InteropCase& c = GetParam();
  std::vector<TypeCase> columns = AllColumns();
  Schema schema;
  for (const TypeCase& t : columns) schema.push_back({t.name, t.type});
  auto schema_ptr = std::make_shared<const Schema>(schema);

  // Write the file; keep every batch to compute the expected text afterwards.
  std::string dir = testing::MakeTempDir("parquet-interop");
  std::string path = dir + "/" + c.name + ".parquet";
  std::vector<std::unique_ptr<Batch>> batches;
  {
    auto sink = FileSink::Create(path);
    ASSERT_TRUE(sink.has_value()) << sink.error().message();
    auto writer = format::parquet::MakeParquetFileWriter(c.options, schema_ptr, **sink);
    ASSERT_TRUE(writer.has_value()) << writer.error().message();
    uint64_t row = 0;
    for (size_t rows : c.batch_rows) {
      auto batch = std::make_unique<Batch>(schema_ptr);
      FillBatch(*batch, row, rows, c.shape);
      row += rows;
      Status s = (*writer)->Write(*batch);
      ASSERT_TRUE(s.ok()) << s.message();
      batches.push_back(std::move(batch));
    }
    ASSERT_TRUE((*writer)->Finish().ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  std::vector<std::string> expected_rows;
  for (const auto& batch : batches) {
    for (size_t r = 0; r < batch->num_rows(); ++r) expected_rows.push_back(CanonRow(*batch, r));
  }

  // Our own footer reader agrees, and the structure is what the options asked for.
  auto metadata = format::parquet::ReadFileMetaDataFromFile(path);
  ASSERT_TRUE(metadata.has_value()) << metadata.error().message();
  EXPECT_EQ(static_cast<size_t>(metadata->num_rows), expected_rows.size());
  EXPECT_GE(metadata->row_groups.size(), c.min_row_groups);
  auto counted = format::parquet::CountParquetRows(path);
  ASSERT_TRUE(counted.has_value());
  EXPECT_EQ(*counted, expected_rows.size());

  std::string expected_header = "{\"columns\":[";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) expected_header += ",";
    expected_header += "{\"name\":" + JsonQuote(columns[i].name) +
                       ",\"type\":" + JsonQuote(columns[i].duckdb) + "}";
  }
  expected_header += "]}";

  for (std::string reader : {"duckdb", "hyparquet"}) {
    SCOPED_TRACE(reader);
    auto result = testing::RunCommand("node " + testing::ShellQuote(tools + "/read-parquet.mjs") +
                                      " " + reader + " " + testing::ShellQuote(path));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    std::vector<std::string> lines = Lines(result.out);
    ASSERT_EQ(lines.size(), expected_rows.size() + 1) << result.out.substr(0, 2000);
    if (reader == "duckdb") {
      EXPECT_EQ(lines[0], expected_header);
    } else {
      for (const TypeCase& t : columns) {
        EXPECT_NE(lines[0].find("\"name\":" + JsonQuote(t.name)), std::string::npos) << t.name;
      }
    }
    size_t mismatches = 0;
    for (size_t r = 0; r < expected_rows.size() && mismatches < 3; ++r) {
      if (lines[r + 1] != expected_rows[r]) {
        ++mismatches;
        ADD_FAILURE() << reader << " row " << r << "\n  got:      " << lines[r + 1]
                      << "\n  expected: " << expected_rows[r];
      }
    }
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, ParquetInterop, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<InteropCase>& param) {
                           return param.param.name;
                         });

}  // namespace
}  // namespace rivet
