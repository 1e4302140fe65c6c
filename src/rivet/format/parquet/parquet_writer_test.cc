// File-level tests of the Parquet writer: pages, dictionaries, statistics, row groups, footer.
// Files are written to memory and taken apart with the footer reader and a small page walker.
#include "rivet/format/parquet/parquet_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rivet/format/parquet/codecs.h"
#include "rivet/format/parquet/file_writer.h"
#include "rivet/format/parquet/footer_reader.h"
#include "rivet/format/parquet/metadata.h"
#include "rivet/format/parquet/page_queue.h"
#include "rivet/format/parquet/rle.h"
#include "rivet/format/parquet/schema.h"
#include "rivet/format/parquet/statistics.h"

namespace rivet::format::parquet {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::DataType;
using columnar::Int128;
using columnar::Schema;
using columnar::SchemaPtr;
using columnar::TypeId;
using Bytes = std::vector<uint8_t>;

SchemaPtr OneColumn(DataType type, std::string name = "c") {
  return std::make_shared<const Schema>(Schema{{std::move(name), std::move(type)}});
}

// Writes the batches with `options`; fails the test on any error.
Bytes WriteFile(const SchemaPtr& schema, const std::vector<const Batch*>& batches,
                const ParquetWriterOptions& options = {}) {
  MemorySink sink;
  auto writer = MakeParquetFileWriter(options, schema, sink);
  EXPECT_TRUE(writer.has_value()) << writer.error().message();
  if (!writer) return {};
  for (const Batch* b : batches) {
    Status s = (*writer)->Write(*b);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  Status s = (*writer)->Finish();
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ((*writer)->EstimatedFileSize(), sink.bytes().size());
  return sink.bytes();
}

FileMetaData Footer(const Bytes& file) {
  auto m = ReadFileMetaData(file.data(), file.size());
  EXPECT_TRUE(m.has_value()) << m.error().message();
  return m ? *m : FileMetaData{};
}

struct Page {
  PageHeader header;
  Bytes body;  // decompressed (v1: whole body; v2: levels + decompressed values)
};

// Walks a column chunk's pages, dictionary page first.
std::vector<Page> ReadPages(const Bytes& file, const ColumnMetaData& m) {
  std::vector<Page> pages;
  size_t pos = static_cast<size_t>(m.dictionary_page_offset.value_or(m.data_page_offset));
  size_t end = pos + static_cast<size_t>(m.total_compressed_size);
  while (pos < end) {
    size_t header_size = 0;
    auto header = ParsePageHeader(file.data() + pos, end - pos, header_size);
    EXPECT_TRUE(header.has_value());
    if (!header) break;
    pos += header_size;
    Page page{*header, {}};
    auto compressed = static_cast<size_t>(header->compressed_page_size);
    auto uncompressed = static_cast<size_t>(header->uncompressed_page_size);
    size_t levels = 0;
    if (header->type == PageType::kDataPageV2) {
      levels = static_cast<size_t>(header->definition_levels_byte_length +
                                   header->repetition_levels_byte_length);
    }
    page.body.assign(file.begin() + static_cast<std::ptrdiff_t>(pos),
                     file.begin() + static_cast<std::ptrdiff_t>(pos + levels));
    Bytes values;
    CompressionCodec codec = header->is_compressed ? m.codec : CompressionCodec::kUncompressed;
    Status s = Decompress(codec, file.data() + pos + levels, compressed - levels,
                          uncompressed - levels, values);
    EXPECT_TRUE(s.ok()) << s.message();
    page.body.insert(page.body.end(), values.begin(), values.end());
    pos += compressed;
    pages.push_back(std::move(page));
  }
  EXPECT_EQ(pos, end);
  return pages;
}

uint32_t LE32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// For a flat column's v1 data page: the definition levels and the offset where values start.
std::vector<uint32_t> DefinitionLevels(const Page& page, size_t& values_at) {
  std::vector<uint32_t> levels;
  uint32_t length = LE32(page.body.data());
  EXPECT_TRUE(DecodeRleBitPacked(page.body.data() + 4, length, 1,
                                 static_cast<size_t>(page.header.num_values), levels)
                  .ok());
  values_at = 4 + length;
  return levels;
}

std::vector<int64_t> PlainInt64(const Bytes& body, size_t at, size_t count) {
  std::vector<int64_t> out(count);
  std::memcpy(out.data(), body.data() + at, count * 8);
  return out;
}

template <typename T>
std::string LEBytes(T value) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &value, sizeof(T));
  return s;
}

// ---------------------------------------------------------------------------------------------

TEST(ParquetWriter, MinimalFileLayout) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt32));
  Batch batch(schema);
  batch.mutable_column(0).Append<int32_t>(7);
  batch.CommitRow();
  ParquetWriterOptions options;
  options.compression = config::Compression::kNone;
  options.created_by = "rivet version 1.2.3";
  options.metadata = {{"rivet.export", "orders"}, {"rivet.run_id", "r1"}};
  Bytes file = WriteFile(schema, {&batch}, options);
  ASSERT_GE(file.size(), 12u);
  EXPECT_EQ(std::string(file.begin(), file.begin() + 4), "PAR1");
  EXPECT_EQ(std::string(file.end() - 4, file.end()), "PAR1");
  uint32_t footer_length = LE32(file.data() + file.size() - 8);
  EXPECT_LT(footer_length, file.size());

  FileMetaData m = Footer(file);
  EXPECT_EQ(m.num_rows, 1);
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.created_by, "rivet version 1.2.3");
  ASSERT_EQ(m.key_value_metadata.size(), 2u);
  EXPECT_EQ(m.key_value_metadata[1], (std::pair<std::string, std::string>{"rivet.run_id", "r1"}));
  EXPECT_EQ(m.column_order_count, 1u);
  EXPECT_TRUE(m.all_type_defined_order);
  ASSERT_EQ(m.schema.size(), 2u);
  EXPECT_EQ(m.schema[0].num_children, 1);
  EXPECT_EQ(m.schema[1].name, "c");
  EXPECT_EQ(m.schema[1].repetition, Repetition::kOptional);
  EXPECT_EQ(m.schema[1].type, PhysicalType::kInt32);
  ASSERT_EQ(m.row_groups.size(), 1u);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  EXPECT_EQ(c.path_in_schema, std::vector<std::string>{"c"});
  EXPECT_EQ(c.codec, CompressionCodec::kUncompressed);
  EXPECT_EQ(c.num_values, 1);
  // The first chunk starts right after the leading magic, with its dictionary page.
  EXPECT_EQ(c.dictionary_page_offset, 4);
  EXPECT_EQ(m.row_groups[0].columns[0].file_offset, 4);
  EXPECT_EQ(m.row_groups[0].file_offset, 4);
}

TEST(ParquetWriter, DefaultCreatedBy) {
  auto schema = OneColumn(DataType::Of(TypeId::kBool));
  Batch batch(schema);
  EXPECT_EQ(Footer(WriteFile(schema, {&batch})).created_by, "rivet");
}

TEST(ParquetWriter, ZeroRowFileCarriesTheSchema) {
  auto schema = std::make_shared<const Schema>(
      Schema{{"id", DataType::Of(TypeId::kInt64)},
             {"tags", DataType::List(DataType::Of(TypeId::kString))}});
  Batch empty(schema);
  Bytes file = WriteFile(schema, {&empty});
  FileMetaData m = Footer(file);
  EXPECT_EQ(m.num_rows, 0);
  EXPECT_TRUE(m.row_groups.empty());
  ASSERT_EQ(m.schema.size(), 5u);  // root, id, tags (LIST), list, element
  EXPECT_EQ(m.schema[2].logical.kind, LogicalType::Kind::kList);
  EXPECT_EQ(m.schema[2].converted, ConvertedType::kList);
  EXPECT_EQ(m.schema[3].repetition, Repetition::kRepeated);
  EXPECT_EQ(m.schema[4].name, "element");
  EXPECT_EQ(m.column_order_count, 2u);
  auto rows = CountParquetRowsInMemory(file.data(), file.size());
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(*rows, 0u);
}

TEST(ParquetWriter, LogicalTypesAndLegacyAnnotations) {
  auto schema = std::make_shared<const Schema>(Schema{
      {"i8", DataType::Of(TypeId::kInt8)},
      {"u16", DataType::Of(TypeId::kUInt16)},
      {"u32", DataType::Of(TypeId::kUInt32)},
      {"u64", DataType::Of(TypeId::kUInt64)},
      {"d9", DataType::Decimal(9, 2)},
      {"d18", DataType::Decimal(18, 4)},
      {"d19", DataType::Decimal(19, 0)},
      {"d38", DataType::Decimal(38, 10)},
      {"s", DataType::Of(TypeId::kString)},
      {"j", DataType::Of(TypeId::kJson)},
      {"b", DataType::Of(TypeId::kBinary)},
      {"date", DataType::Of(TypeId::kDate)},
      {"time", DataType::Of(TypeId::kTime)},
      {"ts", DataType::Of(TypeId::kTimestamp)},
      {"tstz", DataType::Of(TypeId::kTimestampTz)},
      {"uuid", DataType::Of(TypeId::kUuid)},
  });
  Batch empty(schema);
  FileMetaData m = Footer(WriteFile(schema, {&empty}));
  ASSERT_EQ(m.schema.size(), schema->size() + 1);
  auto at = [&](size_t i) -> const SchemaElement& { return m.schema[i + 1]; };
  using K = LogicalType::Kind;
  EXPECT_EQ(at(0).converted, ConvertedType::kInt8);
  EXPECT_EQ(at(0).logical.bit_width, 8);
  EXPECT_TRUE(at(0).logical.is_signed);
  EXPECT_EQ(at(1).converted, ConvertedType::kUint16);
  EXPECT_FALSE(at(1).logical.is_signed);
  EXPECT_EQ(at(2).type, PhysicalType::kInt32);
  EXPECT_EQ(at(2).converted, ConvertedType::kUint32);
  EXPECT_EQ(at(3).type, PhysicalType::kInt64);
  EXPECT_EQ(at(3).converted, ConvertedType::kUint64);
  EXPECT_EQ(at(4).type, PhysicalType::kInt32);
  EXPECT_EQ(at(5).type, PhysicalType::kInt64);
  EXPECT_EQ(at(6).type, PhysicalType::kFixedLenByteArray);
  EXPECT_EQ(at(6).type_length, 9);  // 10^19 - 1 needs 64 bits plus a sign bit
  EXPECT_EQ(at(7).type_length, 16);
  for (size_t i = 4; i <= 7; ++i) {
    EXPECT_EQ(at(i).converted, ConvertedType::kDecimal);
    EXPECT_EQ(at(i).logical.kind, K::kDecimal);
    EXPECT_EQ(at(i).precision, at(i).logical.precision);
    EXPECT_EQ(at(i).scale, at(i).logical.scale);
  }
  EXPECT_EQ(at(7).precision, 38);
  EXPECT_EQ(at(7).scale, 10);
  EXPECT_EQ(at(8).converted, ConvertedType::kUtf8);
  EXPECT_EQ(at(8).logical.kind, K::kString);
  EXPECT_EQ(at(9).converted, ConvertedType::kJson);
  EXPECT_EQ(at(9).logical.kind, K::kJson);
  EXPECT_FALSE(at(10).converted.has_value());
  EXPECT_EQ(at(10).logical.kind, K::kNone);
  EXPECT_EQ(at(11).converted, ConvertedType::kDate);
  EXPECT_EQ(at(12).logical.kind, K::kTime);
  EXPECT_FALSE(at(12).logical.adjusted_to_utc);
  EXPECT_EQ(at(12).converted, ConvertedType::kTimeMicros);
  EXPECT_EQ(at(13).logical.kind, K::kTimestamp);
  EXPECT_FALSE(at(13).logical.adjusted_to_utc);
  EXPECT_EQ(at(14).logical.kind, K::kTimestamp);
  EXPECT_TRUE(at(14).logical.adjusted_to_utc);
  EXPECT_EQ(at(14).converted, ConvertedType::kTimestampMicros);
  EXPECT_EQ(at(15).type_length, 16);
  EXPECT_EQ(at(15).logical.kind, K::kUuid);
  EXPECT_FALSE(at(15).converted.has_value());
}

TEST(ParquetWriter, DecimalByteWidths) {
  EXPECT_EQ(DecimalByteWidth(1), 1);
  EXPECT_EQ(DecimalByteWidth(2), 1);  // 99 < 127
  EXPECT_EQ(DecimalByteWidth(3), 2);  // 999 > 127
  EXPECT_EQ(DecimalByteWidth(18), 8);
  EXPECT_EQ(DecimalByteWidth(19), 9);
  EXPECT_EQ(DecimalByteWidth(38), 16);
}

TEST(ParquetWriter, DictionaryIndicesAndPage) {
  auto schema = OneColumn(DataType::Of(TypeId::kString));
  Batch batch(schema);
  const char* values[] = {"a", "b", "a", "c", "a", nullptr, "b"};
  for (const char* v : values) {
    if (v) {
      batch.mutable_column(0).AppendString(v);
    } else {
      batch.mutable_column(0).AppendNull();
    }
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kSnappy;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  EXPECT_EQ(c.codec, CompressionCodec::kSnappy);
  EXPECT_EQ(c.encodings,
            (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}));
  std::vector<Page> pages = ReadPages(file, c);
  ASSERT_EQ(pages.size(), 2u);
  // Dictionary page: "a", "b", "c" PLAIN (4-byte length + bytes each), in first-seen order.
  EXPECT_EQ(pages[0].header.type, PageType::kDictionaryPage);
  EXPECT_EQ(pages[0].header.num_values, 3);
  EXPECT_EQ(pages[0].body, (Bytes{1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b', 1, 0, 0, 0, 'c'}));
  // Data page: definition levels 1,1,1,1,1,0,1 then bit width 2 and the indices 0,1,0,2,0,1.
  const Page& data = pages[1];
  EXPECT_EQ(data.header.type, PageType::kDataPage);
  EXPECT_EQ(data.header.encoding, Encoding::kRleDictionary);
  EXPECT_EQ(data.header.num_values, 7);
  size_t values_at = 0;
  EXPECT_EQ(DefinitionLevels(data, values_at), (std::vector<uint32_t>{1, 1, 1, 1, 1, 0, 1}));
  ASSERT_LT(values_at, data.body.size());
  EXPECT_EQ(data.body[values_at], 2);
  std::vector<uint32_t> indices;
  ASSERT_TRUE(DecodeRleBitPacked(data.body.data() + values_at + 1, data.body.size() - values_at - 1,
                                 2, 6, indices)
                  .ok());
  EXPECT_EQ(indices, (std::vector<uint32_t>{0, 1, 0, 2, 0, 1}));
}

TEST(ParquetWriter, DictionaryFallsBackToPlainPerChunk) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int64_t i = 0; i < 1000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i * 1000003);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kNone;
  options.dictionary_max_bytes = 800;  // 100 int64 entries
  options.page_max_rows = 64;
  options.row_group_max_rows = 500;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_EQ(m.row_groups.size(), 2u);
  int64_t next = 0;  // value index expected next across all pages
  for (const RowGroup& group : m.row_groups) {
    const ColumnMetaData& c = *group.columns[0].meta_data;
    // Each row group starts a new dictionary, then falls back.
    ASSERT_TRUE(c.dictionary_page_offset.has_value());
    EXPECT_EQ(c.encodings,
              (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}));
    std::vector<Page> pages = ReadPages(file, c);
    ASSERT_GE(pages.size(), 3u);
    EXPECT_EQ(pages[0].header.type, PageType::kDictionaryPage);
    // The dictionary stopped growing on the row that passed 800 bytes: 101 entries.
    EXPECT_EQ(pages[0].header.num_values, 101);
    std::vector<int64_t> dictionary = PlainInt64(pages[0].body, 0, 101);
    bool seen_plain = false;
    for (size_t p = 1; p < pages.size(); ++p) {
      const Page& page = pages[p];
      EXPECT_LE(page.header.num_values, 64);
      size_t values_at = 0;
      DefinitionLevels(page, values_at);
      auto count = static_cast<size_t>(page.header.num_values);
      std::vector<int64_t> values;
      if (page.header.encoding == Encoding::kRleDictionary) {
        EXPECT_FALSE(seen_plain) << "dictionary pages come before PLAIN pages";
        std::vector<uint32_t> indices;
        int width = page.body[values_at];
        ASSERT_TRUE(DecodeRleBitPacked(page.body.data() + values_at + 1,
                                       page.body.size() - values_at - 1, width, count, indices)
                        .ok());
        for (uint32_t index : indices) values.push_back(dictionary.at(index));
      } else {
        EXPECT_EQ(page.header.encoding, Encoding::kPlain);
        seen_plain = true;
        values = PlainInt64(page.body, values_at, count);
      }
      for (int64_t v : values) EXPECT_EQ(v, (next++) * 1000003);
    }
    EXPECT_TRUE(seen_plain);
  }
  EXPECT_EQ(next, 1000);
}

TEST(ParquetWriter, DictionaryDisabled) {
  auto schema = OneColumn(DataType::Of(TypeId::kString));
  Batch batch(schema);
  for (int i = 0; i < 10; ++i) {
    batch.mutable_column(0).AppendString("same");
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.enable_dictionary = false;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData footer = Footer(file);
  const ColumnMetaData& c = *footer.row_groups[0].columns[0].meta_data;
  EXPECT_FALSE(c.dictionary_page_offset.has_value());
  EXPECT_EQ(c.encodings, (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle}));
}

// --- statistics ---

// Writes one column with `fill` and returns its chunk statistics.
template <typename Fill>
Statistics StatsOf(DataType type, Fill&& fill) {
  auto schema = OneColumn(std::move(type));
  Batch batch(schema);
  fill(batch);
  FileMetaData m = Footer(WriteFile(schema, {&batch}));
  EXPECT_EQ(m.row_groups.size(), 1u);
  if (m.row_groups.empty()) return {};
  return m.row_groups[0].columns[0].meta_data->statistics.value_or(Statistics{});
}

template <typename T>
void AppendAll(Batch& batch, std::initializer_list<T> values) {
  for (T v : values) {
    batch.mutable_column(0).Append<T>(v);
    batch.CommitRow();
  }
}

TEST(ParquetStatistics, SignedIntegers) {
  Statistics s = StatsOf(DataType::Of(TypeId::kInt32), [](Batch& b) {
    AppendAll<int32_t>(b, {3, -5, 0});
    b.mutable_column(0).AppendNull();
    b.CommitRow();
  });
  EXPECT_EQ(s.min_value, LEBytes<int32_t>(-5));
  EXPECT_EQ(s.max_value, LEBytes<int32_t>(3));
  EXPECT_EQ(s.null_count, 1);
  EXPECT_FALSE(s.nan_count.has_value());

  s = StatsOf(DataType::Of(TypeId::kInt64), [](Batch& b) {
    AppendAll<int64_t>(
        b, {0, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
  });
  EXPECT_EQ(s.min_value, LEBytes(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(s.max_value, LEBytes(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(s.null_count, 0);
}

TEST(ParquetStatistics, UnsignedIntegersCompareUnsigned) {
  // uint32 4294967295 is stored as INT32 -1: signed order would make it the minimum.
  Statistics s = StatsOf(DataType::Of(TypeId::kUInt32), [](Batch& b) {
    AppendAll<int64_t>(b, {4294967295LL, 1, 2147483648LL});
  });
  EXPECT_EQ(s.min_value, LEBytes<uint32_t>(1));
  EXPECT_EQ(s.max_value, LEBytes<uint32_t>(4294967295u));
  // uint64 max is the INT64 bit pattern -1.
  s = StatsOf(DataType::Of(TypeId::kUInt64), [](Batch& b) {
    AppendAll<int64_t>(b, {-1, 0, 5, std::numeric_limits<int64_t>::min()});
  });
  EXPECT_EQ(s.min_value, LEBytes<uint64_t>(0));
  EXPECT_EQ(s.max_value, LEBytes<uint64_t>(18446744073709551615ull));
  s = StatsOf(DataType::Of(TypeId::kUInt8), [](Batch& b) { AppendAll<int32_t>(b, {200, 5}); });
  EXPECT_EQ(s.min_value, LEBytes<int32_t>(5));
  EXPECT_EQ(s.max_value, LEBytes<int32_t>(200));
}

TEST(ParquetStatistics, DecimalsCompareAsSignedValues) {
  Int128 max38 = 1;
  for (int i = 0; i < 38; ++i) max38 *= 10;
  max38 -= 1;
  // Byte-wise, -1 (FF..FF) would be the maximum; by value, -(10^38-1) is the minimum and 1 the max.
  Statistics s = StatsOf(DataType::Decimal(38, 0), [&](Batch& b) {
    AppendAll<Int128>(b, {-1, 1, -max38});
  });
  std::string expected_min(16, '\0');
  std::string expected_max(16, '\0');
  AppendDecimalBigEndian(-max38, 16, expected_min.data());
  expected_max[15] = 1;
  EXPECT_EQ(s.min_value, expected_min);
  EXPECT_EQ(s.max_value, expected_max);
  EXPECT_EQ(static_cast<uint8_t>((*s.min_value)[0]), 0xB4);  // -(10^38-1) = 0xB4C4B3...

  s = StatsOf(DataType::Decimal(12, 2), [](Batch& b) { AppendAll<int64_t>(b, {-12345, 99, 0}); });
  EXPECT_EQ(s.min_value, LEBytes<int64_t>(-12345));
  EXPECT_EQ(s.max_value, LEBytes<int64_t>(99));
  s = StatsOf(DataType::Decimal(5, 1), [](Batch& b) { AppendAll<int64_t>(b, {-99999, 7}); });
  EXPECT_EQ(s.min_value, LEBytes<int32_t>(-99999));
  EXPECT_EQ(s.max_value, LEBytes<int32_t>(7));
}

TEST(ParquetStatistics, StringsCompareByteWise) {
  // UTF-8 lead bytes 0xC3 (é) and 0xF0 (😀) sort after every ASCII byte, and 0xF0 after 0xC3.
  Statistics s = StatsOf(DataType::Of(TypeId::kString), [](Batch& b) {
    for (const char* v : {"b", "z", "\xC3\xA9", "\xF0\x9F\x98\x80", "a", "ab"}) {
      b.mutable_column(0).AppendString(v);
      b.CommitRow();
    }
  });
  EXPECT_EQ(s.min_value, "a");
  EXPECT_EQ(s.max_value, "\xF0\x9F\x98\x80");
  // The empty string is the smallest value; NULLs do not count.
  s = StatsOf(DataType::Of(TypeId::kBinary), [](Batch& b) {
    b.mutable_column(0).AppendNull();
    b.CommitRow();
    b.mutable_column(0).AppendBytes("\x80\x00", 2);
    b.CommitRow();
    b.mutable_column(0).AppendBytes("", 0);
    b.CommitRow();
    b.mutable_column(0).AppendBytes("\x7F\xFF", 2);
    b.CommitRow();
  });
  EXPECT_EQ(s.min_value, "");
  EXPECT_EQ(s.max_value, std::string("\x80\x00", 2));
  EXPECT_EQ(s.null_count, 1);
}

TEST(ParquetStatistics, UuidComparesByteWise) {
  Statistics s = StatsOf(DataType::Of(TypeId::kUuid), [](Batch& b) {
    uint8_t u[16];
    for (int first : {0x10, 0xF0, 0x00}) {
      std::memset(u, 0x55, 16);
      u[0] = static_cast<uint8_t>(first);
      b.mutable_column(0).AppendBytes(u, 16);
      b.CommitRow();
    }
  });
  ASSERT_TRUE(s.min_value && s.max_value);
  EXPECT_EQ(static_cast<uint8_t>((*s.min_value)[0]), 0x00);
  EXPECT_EQ(static_cast<uint8_t>((*s.max_value)[0]), 0xF0);
}

TEST(ParquetStatistics, FloatsIgnoreNaNAndNormalizeZeros) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Statistics s = StatsOf(DataType::Of(TypeId::kFloat64), [&](Batch& b) {
    AppendAll<double>(b, {nan, 1.5, -2.0, nan});
  });
  EXPECT_EQ(s.min_value, LEBytes(-2.0));
  EXPECT_EQ(s.max_value, LEBytes(1.5));
  EXPECT_EQ(s.nan_count, 2);
  // Zeros: min written as -0.0, max as +0.0.
  s = StatsOf(DataType::Of(TypeId::kFloat32), [](Batch& b) { AppendAll<float>(b, {0.0f, 0.0f}); });
  EXPECT_EQ(s.min_value, LEBytes(-0.0f));
  EXPECT_EQ(s.max_value, LEBytes(0.0f));
  EXPECT_EQ(s.nan_count, 0);
  // Infinities are ordinary values.
  s = StatsOf(DataType::Of(TypeId::kFloat64), [](Batch& b) {
    AppendAll<double>(b, {std::numeric_limits<double>::infinity(), 0.5,
                          -std::numeric_limits<double>::infinity()});
  });
  EXPECT_EQ(s.min_value, LEBytes(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(s.max_value, LEBytes(std::numeric_limits<double>::infinity()));
  // All NaN: no min/max at all.
  s = StatsOf(DataType::Of(TypeId::kFloat64), [&](Batch& b) { AppendAll<double>(b, {nan}); });
  EXPECT_FALSE(s.min_value.has_value());
  EXPECT_FALSE(s.max_value.has_value());
  EXPECT_EQ(s.nan_count, 1);
}

TEST(ParquetStatistics, BooleansAndAllNullColumns) {
  Statistics s = StatsOf(DataType::Of(TypeId::kBool), [](Batch& b) {
    AppendAll<uint8_t>(b, {1, 1});
  });
  EXPECT_EQ(s.min_value, std::string(1, '\1'));
  EXPECT_EQ(s.max_value, std::string(1, '\1'));
  s = StatsOf(DataType::Of(TypeId::kDate), [](Batch& b) {
    for (int i = 0; i < 3; ++i) {
      b.mutable_column(0).AppendNull();
      b.CommitRow();
    }
  });
  EXPECT_EQ(s.null_count, 3);
  EXPECT_FALSE(s.min_value.has_value());
}

TEST(ParquetStatistics, ListsHaveNullCountButNoMinMax) {
  Statistics s = StatsOf(DataType::List(DataType::Of(TypeId::kInt32)), [](Batch& b) {
    Column& list = b.mutable_column(0);
    list.mutable_child().Append<int32_t>(5);
    list.mutable_child().AppendNull();
    list.CloseList();  // [5, NULL]
    b.CommitRow();
    list.CloseList();  // []
    b.CommitRow();
    list.AppendNull();  // NULL
    b.CommitRow();
  });
  EXPECT_FALSE(s.min_value.has_value());
  EXPECT_FALSE(s.max_value.has_value());
  EXPECT_EQ(s.null_count, 3);  // the NULL element, the empty list and the NULL list
}

// --- values that cannot be stored exactly ---

// With a dictionary and PLAIN (written value by value and a run of rows at a time), the bad
// value after a good one is named with its column.
TEST(ParquetWriter, RejectsValuesOutsideTheirType) {
  auto check = [](DataType type, auto good, auto bad, std::string_view text) {
    auto schema = OneColumn(std::move(type), "amount");
    Batch batch(schema);
    batch.mutable_column(0).Append(good);
    batch.CommitRow();
    batch.mutable_column(0).Append(bad);
    batch.CommitRow();
    for (bool dictionary : {true, false}) {
      MemorySink sink;
      ParquetWriterOptions options;
      options.enable_dictionary = dictionary;
      auto writer = MakeParquetFileWriter(options, schema, sink);
      ASSERT_TRUE(writer.has_value());
      Status s = (*writer)->Write(batch);
      EXPECT_EQ(s.code(), ErrorCode::kData);
      EXPECT_NE(s.message().find("column 'amount': value " + std::string(text)), std::string::npos)
          << s.message();
    }
  };
  check(DataType::Decimal(5, 2), int64_t{99999}, int64_t{100000}, "100000");
  check(DataType::Decimal(12, 2), int64_t{0}, int64_t{-1000000000000}, "-1000000000000");
  check(DataType::Of(TypeId::kUInt32), int64_t{4294967295}, int64_t{4294967296}, "4294967296");
  check(DataType::Of(TypeId::kUInt32), int64_t{0}, int64_t{-1}, "-1");
  Int128 too_big = 1;
  for (int i = 0; i < 20; ++i) too_big *= 10;
  check(DataType::Decimal(20, 0), too_big - 1, too_big, "100000000000000000000");
}

TEST(ParquetWriter, RejectsABatchOfAnotherSchema) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt32));
  auto other = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(other);
  MemorySink sink;
  auto writer = MakeParquetFileWriter({}, schema, sink);
  ASSERT_TRUE(writer.has_value());
  EXPECT_FALSE((*writer)->Write(batch).ok());
}

TEST(ParquetWriter, RejectsNestedLists) {
  MemorySink sink;
  auto writer = MakeParquetFileWriter(
      {}, OneColumn(DataType::List(DataType::List(DataType::Of(TypeId::kInt32)))), sink);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code(), ErrorCode::kNotSupported);
}

// --- page and row-group boundaries ---

TEST(ParquetWriter, PagesBoundedByRows) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt32));
  Batch batch(schema);
  for (int i = 0; i < 95; ++i) {
    batch.mutable_column(0).Append<int32_t>(i);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.page_max_rows = 10;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData footer = Footer(file);
  const ColumnMetaData& c = *footer.row_groups[0].columns[0].meta_data;
  std::vector<Page> pages = ReadPages(file, c);
  ASSERT_EQ(pages.size(), 11u);  // dictionary + 10 data pages
  int total = 0;
  for (size_t p = 1; p < pages.size(); ++p) {
    EXPECT_EQ(pages[p].header.num_values, p < 10 ? 10 : 5);
    total += pages[p].header.num_values;
  }
  EXPECT_EQ(total, 95);
  EXPECT_EQ(c.num_values, 95);
}

TEST(ParquetWriter, PagesBoundedByBytes) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int i = 0; i < 1000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.enable_dictionary = false;
  options.page_max_bytes = 400;  // 50 PLAIN int64 values (plus a few level bytes)
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData footer = Footer(file);
  const ColumnMetaData& c = *footer.row_groups[0].columns[0].meta_data;
  std::vector<Page> pages = ReadPages(file, c);
  ASSERT_GT(pages.size(), 15u);
  int64_t next = 0;
  for (const Page& page : pages) {
    EXPECT_LE(page.header.num_values, 50);
    EXPECT_LE(page.header.uncompressed_page_size, 400 + 8 + 16);
    size_t values_at = 0;
    DefinitionLevels(page, values_at);
    for (int64_t v :
         PlainInt64(page.body, values_at, static_cast<size_t>(page.header.num_values))) {
      EXPECT_EQ(v, next++);
    }
  }
  EXPECT_EQ(next, 1000);
}

// PLAIN pages, written a run of rows at a time, break exactly where the rule says: after the
// first row at which the page's levels plus values reach page_max_bytes, or at page_max_rows.
// Values of every width (NULLs, short and long strings, one longer than a page), across
// batches of uneven sizes, checked against a model of the rule.
TEST(ParquetWriter, PlainPagesBreakWhereTheLimitsSay) {
  auto schema = std::make_shared<const Schema>(Schema{{"id", DataType::Of(TypeId::kInt64)},
                                                      {"s", DataType::Of(TypeId::kString)},
                                                      {"d", DataType::Decimal(30, 2)}});
  std::vector<Batch> batches;
  std::vector<std::optional<std::string>> strings;
  std::vector<bool> id_valid;
  int row = 0;
  for (int size : {1, 700, 3, 2500, 64, 1200}) {
    Batch& batch = batches.emplace_back(schema);
    for (int i = 0; i < size; ++i, ++row) {
      id_valid.push_back(row % 13 != 0);
      if (id_valid.back()) {
        batch.mutable_column(0).Append<int64_t>(row);
      } else {
        batch.mutable_column(0).AppendNull();
      }
      if (row % 7 == 0) {
        strings.emplace_back();
        batch.mutable_column(1).AppendNull();
      } else {
        strings.emplace_back(
            std::string(row == 1500 ? 5000 : row % 97, static_cast<char>('a' + row % 26)));
        batch.mutable_column(1).AppendString(*strings.back());
      }
      batch.mutable_column(2).Append<columnar::Int128>(row);
      batch.CommitRow();
    }
  }
  ParquetWriterOptions options;
  options.enable_dictionary = false;
  options.page_max_bytes = 1000;
  options.page_max_rows = 300;
  std::vector<const Batch*> inputs;
  for (const Batch& b : batches) inputs.push_back(&b);
  Bytes file = WriteFile(schema, inputs, options);
  const FileMetaData footer = Footer(file);
  ASSERT_EQ(footer.row_groups.size(), 1u);
  // The model: value bytes of row r of each column (0 for NULL), one level bit per row.
  auto expected_pages = [&](const std::function<uint64_t(int)>& value_bytes) {
    std::vector<int> pages;
    int rows = 0;
    uint64_t values = 0;
    for (int r = 0; r < row; ++r) {
      ++rows;
      values += value_bytes(r);
      if (rows >= 300 || (rows + 7) / 8 + values >= 1000) {
        pages.push_back(rows);
        rows = 0;
        values = 0;
      }
    }
    if (rows > 0) pages.push_back(rows);
    return pages;
  };
  const std::vector<std::vector<int>> expected = {
      expected_pages([&](int r) { return id_valid[r] ? 8u : 0u; }),
      expected_pages([&](int r) { return strings[r] ? 4 + strings[r]->size() : 0u; }),
      expected_pages([&](int) { return 13u; })};  // precision 30: 13 bytes
  for (size_t c = 0; c < 3; ++c) {
    std::vector<int> got;
    for (const Page& page : ReadPages(file, *footer.row_groups[0].columns[c].meta_data)) {
      got.push_back(page.header.num_values);
    }
    EXPECT_EQ(got, expected[c]) << "column " << c;
    EXPECT_GT(got.size(), 10u);
  }
}

// Pages compressed on other threads land in their chunks in order: the file is byte for byte
// the one written on the calling thread alone, for every codec and both page versions, across
// row groups and with NULLs; the footer's sizes add up (ReadPages walks every page).
TEST(ParquetWriter, CompressionThreadsWriteTheSameBytes) {
  auto schema = std::make_shared<const Schema>(
      Schema{{"id", DataType::Of(TypeId::kInt64)}, {"s", DataType::Of(TypeId::kString)}});
  Batch batch(schema);
  for (int i = 0; i < 20000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i * 7919 % 100003);
    if (i % 11 == 0) {
      batch.mutable_column(1).AppendNull();
    } else {
      batch.mutable_column(1).AppendString("row " + std::to_string(i % 5000) + " of many");
    }
    batch.CommitRow();
  }
  for (auto codec : {config::Compression::kZstd, config::Compression::kSnappy,
                     config::Compression::kGzip, config::Compression::kLz4}) {
    for (bool v2 : {false, true}) {
      ParquetWriterOptions options;
      options.compression = codec;
      options.data_page_v2 = v2;
      options.page_max_bytes = 2048;  // many pages per chunk
      options.row_group_max_rows = 6000;
      options.compression_threads = 0;
      const Bytes alone = WriteFile(schema, {&batch, &batch}, options);
      FileMetaData footer = Footer(alone);
      ASSERT_EQ(footer.row_groups.size(), 7u);
      for (const RowGroup& group : footer.row_groups) {
        for (const ColumnChunk& chunk : group.columns) ReadPages(alone, *chunk.meta_data);
      }
      for (int threads : {1, 3}) {
        options.compression_threads = threads;
        EXPECT_EQ(WriteFile(schema, {&batch, &batch}, options), alone)
            << "threads " << threads << ", v2 " << v2;
      }
    }
  }
}

TEST(ParquetWriter, CompressionThreadsFollowTheUsableCpus) {
  EXPECT_EQ(CompressionThreads(config::Compression::kZstd, 1), 0);
  EXPECT_EQ(CompressionThreads(config::Compression::kZstd, 2), 1);
  EXPECT_EQ(CompressionThreads(config::Compression::kZstd, 64), kMaxCompressionThreads);
  EXPECT_EQ(CompressionThreads(config::Compression::kNone, 64), 0);
  EXPECT_GE(UsableCpus(), 1);
}

// A compression thread's pages come off the row group's buffered bytes, so memory stays flat.
TEST(ParquetWriter, CompressionThreadsShrinkTheBufferedRowGroup) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  std::mt19937_64 random(7);
  for (int i = 0; i < 1000000; ++i) {
    batch.mutable_column(0).Append<int64_t>(static_cast<int64_t>(random()));
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kSnappy;
  options.enable_dictionary = false;
  options.row_group_max_buffered_bytes = 6 << 20;
  size_t groups[2] = {0, 0};
  for (int threads : {0, 1}) {
    options.compression_threads = threads;
    groups[threads] = Footer(WriteFile(schema, {&batch}, options)).row_groups.size();
  }
  // 8 MB of random int64s: 2 groups within 6 MiB, 3 within the 3 MiB left beside one thread.
  EXPECT_EQ(groups[0], 2u);
  EXPECT_EQ(groups[1], 3u);
}

TEST(ParquetWriter, ListPagesNeverSplitARowAndV2CountsRows) {
  auto schema = OneColumn(DataType::List(DataType::Of(TypeId::kInt32)));
  Batch batch(schema);
  for (int r = 0; r < 40; ++r) {
    Column& list = batch.mutable_column(0);
    for (int e = 0; e < r % 5; ++e) list.mutable_child().Append<int32_t>(e);
    list.CloseList();
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.data_page_v2 = true;
  options.page_max_rows = 7;
  options.compression = config::Compression::kGzip;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  EXPECT_EQ(m.version, 2);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  EXPECT_EQ(c.codec, CompressionCodec::kGzip);
  EXPECT_EQ(c.path_in_schema, (std::vector<std::string>{"c", "list", "element"}));
  int rows = 0;
  int values = 0;
  for (const Page& page : ReadPages(file, c)) {
    if (page.header.type == PageType::kDictionaryPage) continue;
    EXPECT_EQ(page.header.type, PageType::kDataPageV2);
    EXPECT_LE(page.header.num_rows, 7);
    // Repetition levels: a row starts at every 0; the page must start with one.
    std::vector<uint32_t> rep;
    ASSERT_TRUE(DecodeRleBitPacked(page.body.data(),
                                   static_cast<size_t>(page.header.repetition_levels_byte_length),
                                   1, static_cast<size_t>(page.header.num_values), rep)
                    .ok());
    ASSERT_FALSE(rep.empty());
    EXPECT_EQ(rep[0], 0u);
    int starts = 0;
    for (uint32_t level : rep) starts += level == 0;
    EXPECT_EQ(starts, page.header.num_rows);
    rows += page.header.num_rows;
    values += page.header.num_values - page.header.num_nulls;
  }
  EXPECT_EQ(rows, 40);
  EXPECT_EQ(values, 8 * (0 + 1 + 2 + 3 + 4));
}

TEST(ParquetWriter, RowGroupsBoundedByRowsAcrossBatches) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt32));
  Batch batch(schema);
  for (int i = 0; i < 350; ++i) {
    batch.mutable_column(0).Append<int32_t>(i);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.row_group_max_rows = 100;
  Bytes file = WriteFile(schema, {&batch, &batch, &batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_EQ(m.row_groups.size(), 11u);
  for (size_t g = 0; g < 10; ++g) EXPECT_EQ(m.row_groups[g].num_rows, 100);
  EXPECT_EQ(m.row_groups[10].num_rows, 50);
  EXPECT_EQ(m.num_rows, 1050);
  for (size_t g = 0; g < m.row_groups.size(); ++g) {
    EXPECT_EQ(m.row_groups[g].ordinal, static_cast<int16_t>(g));
    EXPECT_EQ(m.row_groups[g].columns[0].meta_data->num_values, m.row_groups[g].num_rows);
  }
}

TEST(ParquetWriter, RowGroupsBoundedByBytes) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int i = 0; i < 20000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.enable_dictionary = false;
  options.row_group_max_bytes = 16 * 1024;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_GT(m.row_groups.size(), 5u);
  for (size_t i = 0; i + 1 < m.row_groups.size(); ++i) {
    const RowGroup& g = m.row_groups[i];
    // Slices are sized from the average row, so the overshoot is a few rows at most.
    EXPECT_LE(g.total_byte_size, 16 * 1024 + 64 * 9);
    EXPECT_GE(g.total_byte_size, 15 * 1024);  // the limit applies to the running estimate
  }
  EXPECT_EQ(m.num_rows, 20000);
}

TEST(ParquetWriter, EstimatedFileSizeTracksBufferedData) {
  auto schema = OneColumn(DataType::Of(TypeId::kString));
  Batch batch(schema);
  for (int i = 0; i < 5000; ++i) {
    batch.mutable_column(0).AppendString(std::to_string(i * 7919));
    batch.CommitRow();
  }
  MemorySink sink;
  auto writer = MakeParquetFileWriter({}, schema, sink);
  ASSERT_TRUE(writer.has_value());
  EXPECT_EQ((*writer)->EstimatedFileSize(), 4u);  // the leading magic
  ASSERT_TRUE((*writer)->Write(batch).ok());
  uint64_t after_one = (*writer)->EstimatedFileSize();
  EXPECT_EQ(sink.bytes().size(), 4u);  // still buffered in the row group
  EXPECT_GT(after_one, 20000u);
  ASSERT_TRUE((*writer)->Write(batch).ok());
  EXPECT_GT((*writer)->EstimatedFileSize(), after_one);
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->EstimatedFileSize(), sink.bytes().size());
  EXPECT_FALSE((*writer)->Write(batch).ok());
}

// Reads every value of a flat, non-null INT64 chunk written PLAIN or dictionary-encoded.
std::vector<int64_t> ReadInt64Chunk(const Bytes& file, const ColumnMetaData& c) {
  std::vector<int64_t> values;
  std::vector<int64_t> dictionary;
  for (const Page& page : ReadPages(file, c)) {
    auto count = static_cast<size_t>(page.header.num_values);
    if (page.header.type == PageType::kDictionaryPage) {
      dictionary = PlainInt64(page.body, 0, count);
      continue;
    }
    size_t values_at = 0;
    DefinitionLevels(page, values_at);
    if (page.header.encoding == Encoding::kRleDictionary) {
      std::vector<uint32_t> indices;
      int width = page.body[values_at];
      EXPECT_TRUE(DecodeRleBitPacked(page.body.data() + values_at + 1,
                                     page.body.size() - values_at - 1, width, count, indices)
                      .ok());
      for (uint32_t index : indices) values.push_back(dictionary.at(index));
    } else {
      std::vector<int64_t> plain = PlainInt64(page.body, values_at, count);
      values.insert(values.end(), plain.begin(), plain.end());
    }
  }
  return values;
}

TEST(ParquetWriter, HighCardinalityChunkGoesPlainAfterTheSample) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int64_t i = 0; i < 40000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i * 7919);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kNone;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_EQ(m.row_groups.size(), 1u);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  // Every value distinct: the dictionary never paid off, so the chunk has none at all.
  EXPECT_FALSE(c.dictionary_page_offset.has_value());
  EXPECT_EQ(c.encodings, (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle}));
  std::vector<int64_t> values = ReadInt64Chunk(file, c);
  ASSERT_EQ(values.size(), 40000u);
  for (int64_t i = 0; i < 40000; ++i) ASSERT_EQ(values[static_cast<size_t>(i)], i * 7919);
}

TEST(ParquetWriter, LowCardinalityChunkKeepsItsDictionaryPastTheSample) {
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int64_t i = 0; i < 40000; ++i) {
    batch.mutable_column(0).Append<int64_t>((i % 50) * 1000003);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kNone;
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  ASSERT_TRUE(c.dictionary_page_offset.has_value());
  EXPECT_EQ(c.encodings,
            (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}));
  std::vector<int64_t> values = ReadInt64Chunk(file, c);
  ASSERT_EQ(values.size(), 40000u);
  for (int64_t i = 0; i < 40000; ++i) {
    ASSERT_EQ(values[static_cast<size_t>(i)], (i % 50) * 1000003);
  }
}

TEST(ParquetWriter, PagesLargerThanAStoreBlockRoundTrip) {
  // 600 KB pages and a chunk of several MB: every page spans blocks of the page store.
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  for (int64_t i = 0; i < 400000; ++i) {
    batch.mutable_column(0).Append<int64_t>(i * 3 - 7);
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.compression = config::Compression::kNone;
  options.enable_dictionary = false;
  options.page_max_bytes = 600 * 1000;
  Bytes file = WriteFile(schema, {&batch, &batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_EQ(m.row_groups.size(), 1u);
  const ColumnMetaData& c = *m.row_groups[0].columns[0].meta_data;
  EXPECT_GE(ReadPages(file, c).size(), 10u);
  std::vector<int64_t> values = ReadInt64Chunk(file, c);
  ASSERT_EQ(values.size(), 800000u);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(values[i], static_cast<int64_t>(i % 400000) * 3 - 7);
  }
}

TEST(ParquetWriter, RowGroupsBoundedByBufferedBytes) {
  // Distinct values that zstd cannot shrink much: the buffered (compressed) limit ends the row
  // groups long before the uncompressed one, and every row group is read back whole.
  auto schema = OneColumn(DataType::Of(TypeId::kInt64));
  Batch batch(schema);
  uint64_t x = 88172645463325252ULL;
  std::vector<int64_t> expected;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    expected.push_back(static_cast<int64_t>(x));
    batch.mutable_column(0).Append<int64_t>(static_cast<int64_t>(x));
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.page_max_bytes = 16 * 1024;
  options.row_group_max_buffered_bytes = 128 * 1024;
  options.compression_threads = 0;  // a thread would take its share off the limit
  Bytes file = WriteFile(schema, {&batch}, options);
  FileMetaData m = Footer(file);
  ASSERT_GE(m.row_groups.size(), 5u);
  std::vector<int64_t> values;
  for (size_t i = 0; i < m.row_groups.size(); ++i) {
    const RowGroup& g = m.row_groups[i];
    // The limit is checked after each slice of at most kSliceRows rows (8 bytes each here).
    EXPECT_LE(g.total_compressed_size, 128 * 1024 + 8 * 8192 + 16 * 1024);
    if (i + 1 < m.row_groups.size()) {
      EXPECT_GE(g.total_compressed_size, 100 * 1024);
    }
    std::vector<int64_t> got = ReadInt64Chunk(file, *g.columns[0].meta_data);
    values.insert(values.end(), got.begin(), got.end());
  }
  EXPECT_EQ(values, expected);
}

// --- codecs ---

TEST(ParquetCodecs, RoundTripEveryCodec) {
  Bytes input;
  for (int i = 0; i < 10000; ++i) input.push_back(static_cast<uint8_t>((i * 31) % 7));
  struct Case {
    config::Compression config;
    CompressionCodec codec;
  };
  for (Case c : {Case{config::Compression::kNone, CompressionCodec::kUncompressed},
                 Case{config::Compression::kZstd, CompressionCodec::kZstd},
                 Case{config::Compression::kSnappy, CompressionCodec::kSnappy},
                 Case{config::Compression::kGzip, CompressionCodec::kGzip},
                 Case{config::Compression::kLz4, CompressionCodec::kLz4Raw}}) {
    auto compressor = MakeCompressor(c.config, std::nullopt);
    ASSERT_TRUE(compressor.has_value());
    EXPECT_EQ((*compressor)->codec(), c.codec);
    Bytes compressed, output;
    ASSERT_TRUE((*compressor)->Compress(input.data(), input.size(), compressed).ok());
    ASSERT_TRUE(
        Decompress(c.codec, compressed.data(), compressed.size(), input.size(), output).ok());
    EXPECT_EQ(output, input);
    if (c.codec == CompressionCodec::kGzip) {
      // RFC 1952 header: 1F 8B, deflate (8).
      ASSERT_GE(compressed.size(), 3u);
      EXPECT_EQ(compressed[0], 0x1F);
      EXPECT_EQ(compressed[1], 0x8B);
      EXPECT_EQ(compressed[2], 0x08);
    }
    if (c.codec != CompressionCodec::kUncompressed) {
      EXPECT_LT(compressed.size(), input.size());
    }
    // Empty input round-trips too.
    ASSERT_TRUE((*compressor)->Compress(input.data(), 0, compressed).ok());
    ASSERT_TRUE(Decompress(c.codec, compressed.data(), compressed.size(), 0, output).ok());
    // Garbage does not decompress.
    Bytes garbage(64, 0xAB);
    if (c.codec != CompressionCodec::kUncompressed) {
      EXPECT_FALSE(Decompress(c.codec, garbage.data(), garbage.size(), 1000, output).ok());
    }
  }
}

TEST(ParquetCodecs, LevelsChangeZstdOutput) {
  Bytes input;
  std::mt19937 rng(7);
  const std::string words[] = {"order", "customer", "paid",  "shipped", "refund", "2024-01-",
                               "eur",   "usd",      "note:", " ",       "\n",     "id="};
  while (input.size() < 200000) {
    const std::string& w = words[rng() % 12];
    input.insert(input.end(), w.begin(), w.end());
    if (rng() % 4 == 0) input.push_back(static_cast<uint8_t>('0' + rng() % 10));
  }
  auto fast = MakeCompressor(config::Compression::kZstd, 1);
  auto best = MakeCompressor(config::Compression::kZstd, 19);
  ASSERT_TRUE(fast && best);
  Bytes a, b;
  ASSERT_TRUE((*fast)->Compress(input.data(), input.size(), a).ok());
  ASSERT_TRUE((*best)->Compress(input.data(), input.size(), b).ok());
  EXPECT_NE(a, b);
}

// --- footer reader ---

Bytes SmallFile() {
  auto schema = std::make_shared<const Schema>(
      Schema{{"id", DataType::Of(TypeId::kInt64)}, {"name", DataType::Of(TypeId::kString)}});
  Batch batch(schema);
  for (int i = 0; i < 30; ++i) {
    batch.mutable_column(0).Append<int64_t>(i);
    batch.mutable_column(1).AppendString("n" + std::to_string(i));
    batch.CommitRow();
  }
  ParquetWriterOptions options;
  options.row_group_max_rows = 10;
  return WriteFile(schema, {&batch}, options);
}

TEST(ParquetFooterReader, CountsRows) {
  Bytes file = SmallFile();
  auto rows = CountParquetRowsInMemory(file.data(), file.size());
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  EXPECT_EQ(*rows, 30u);
  EXPECT_EQ(Footer(file).row_groups.size(), 3u);
}

TEST(ParquetFooterReader, CountsRowsFromDisk) {
  Bytes file = SmallFile();
  std::string path = ::testing::TempDir() + "/rivet_footer_reader_test.parquet";
  std::remove(path.c_str());
  {
    auto sink = FileSink::Create(path);
    ASSERT_TRUE(sink.has_value());
    ASSERT_TRUE((*sink)->Append(file.data(), file.size()).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto rows = CountParquetRows(path);
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  EXPECT_EQ(*rows, 30u);
  std::remove(path.c_str());
  auto missing = CountParquetRows(path);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
}

TEST(ParquetFooterReader, RejectsEveryTruncation) {
  Bytes file = SmallFile();
  for (size_t n = 0; n < file.size(); ++n) {
    auto rows = CountParquetRowsInMemory(file.data(), n);
    ASSERT_FALSE(rows.has_value()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(rows.error().code(), ErrorCode::kCorrupt) << rows.error().message();
  }
}

TEST(ParquetFooterReader, GarbledBytesNeverCrash) {
  Bytes file = SmallFile();
  uint32_t footer_length = LE32(file.data() + file.size() - 8);
  size_t footer_start = file.size() - 8 - footer_length;
  for (size_t i = footer_start; i < file.size(); ++i) {
    for (int flip : {0x01, 0x80, 0xFF}) {
      Bytes bad = file;
      bad[i] = static_cast<uint8_t>(bad[i] ^ flip);
      auto rows = CountParquetRowsInMemory(bad.data(), bad.size());
      // Some flips still yield a consistent footer (a changed string); never a crash, and any
      // accepted file still reports a row count consistent with its row groups.
      if (!rows.has_value()) {
        EXPECT_EQ(rows.error().code(), ErrorCode::kCorrupt);
      }
    }
  }
}

TEST(ParquetFooterReader, SpecificDefects) {
  Bytes file = SmallFile();
  auto code = [](const Bytes& bytes) {
    auto rows = CountParquetRowsInMemory(bytes.data(), bytes.size());
    return rows.has_value() ? ErrorCode::kOk : rows.error().code();
  };
  auto message = [](const Bytes& bytes) {
    auto rows = CountParquetRowsInMemory(bytes.data(), bytes.size());
    return rows.has_value() ? std::string() : rows.error().message();
  };
  Bytes bad = file;
  bad[0] = 'X';
  EXPECT_EQ(code(bad), ErrorCode::kCorrupt);
  EXPECT_NE(message(bad).find("start"), std::string::npos);
  bad = file;
  bad[bad.size() - 1] = 'X';
  EXPECT_NE(message(bad).find("end"), std::string::npos);
  bad = file;
  std::memcpy(bad.data() + bad.size() - 4, "PARE", 4);
  EXPECT_EQ(code(bad), ErrorCode::kNotSupported);
  bad = file;
  bad[bad.size() - 5] = 0x7F;  // footer length's top byte: far beyond the file
  EXPECT_NE(message(bad).find("footer length"), std::string::npos);
  bad = file;
  std::memset(bad.data() + bad.size() - 8, 0, 4);
  EXPECT_EQ(code(bad), ErrorCode::kCorrupt);
}

// Rewrites the footer of `file` after `edit` changes its metadata.
template <typename Edit>
Bytes WithFooter(const Bytes& file, Edit&& edit) {
  FileMetaData m = Footer(file);
  edit(m);
  uint32_t old_length = LE32(file.data() + file.size() - 8);
  Bytes out(file.begin(), file.end() - 8 - static_cast<std::ptrdiff_t>(old_length));
  Bytes footer;
  SerializeFileMetaData(m, footer);
  out.insert(out.end(), footer.begin(), footer.end());
  auto length = static_cast<uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(length >> (8 * i)));
  out.insert(out.end(), {'P', 'A', 'R', '1'});
  return out;
}

TEST(ParquetFooterReader, RejectsInconsistentMetadata) {
  Bytes file = SmallFile();
  auto error = [](const Bytes& bytes) {
    auto rows = CountParquetRowsInMemory(bytes.data(), bytes.size());
    EXPECT_FALSE(rows.has_value());
    return rows.has_value() ? std::string() : rows.error().message();
  };
  // Re-serializing unchanged metadata gives a valid file (our parser and writer agree).
  Bytes same = WithFooter(file, [](FileMetaData&) {});
  ASSERT_TRUE(CountParquetRowsInMemory(same.data(), same.size()).has_value());

  EXPECT_NE(error(WithFooter(file, [](FileMetaData& m) { m.num_rows = 31; }))
                .find("row groups hold 30 rows but the footer says 31"),
            std::string::npos);
  EXPECT_NE(error(WithFooter(file,
                             [](FileMetaData& m) {
                               m.row_groups[1].columns[0].meta_data->data_page_offset = 1 << 30;
                               m.row_groups[1].columns[0].meta_data->dictionary_page_offset.reset();
                             }))
                .find("outside the data"),
            std::string::npos);
  EXPECT_NE(error(WithFooter(file,
                             [](FileMetaData& m) {
                               m.row_groups[2].columns[1].meta_data->total_compressed_size = 1
                                                                                             << 20;
                             }))
                .find("runs past the data end"),
            std::string::npos);
  EXPECT_NE(error(WithFooter(file, [](FileMetaData& m) { m.row_groups[0].columns.pop_back(); }))
                .find("1 column chunks for 2 columns"),
            std::string::npos);
  EXPECT_NE(
      error(WithFooter(file, [](FileMetaData& m) { m.schema[0].num_children = 5; })).find("schema"),
      std::string::npos);
  EXPECT_NE(error(WithFooter(file, [](FileMetaData& m) { m.row_groups[0].num_rows = -1; }))
                .find("negative"),
            std::string::npos);
}

}  // namespace
}  // namespace rivet::format::parquet
