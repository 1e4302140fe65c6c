#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <tuple>

#include "rivet/columnar/temporal.h"
#include "rivet/format/csv/csv_writer.h"

namespace rivet::format::csv {
namespace {

using columnar::Batch;
using columnar::DataType;
using columnar::Schema;
using columnar::TypeId;

std::string WriteCsv(const Batch& batch) {
  MemorySink sink;
  auto writer = MakeCsvWriter(batch.schema(), sink);
  EXPECT_TRUE(writer.has_value());
  EXPECT_TRUE((*writer)->Write(batch).ok());
  EXPECT_TRUE((*writer)->Finish().ok());
  return std::string(sink.bytes().begin(), sink.bytes().end());
}

Batch OneColumn(DataType type) {
  return Batch(std::make_shared<const Schema>(Schema{{"v", std::move(type)}}));
}

TEST(CsvWriter, QuotesPerRfc4180AndKeepsEmptyDistinctFromNull) {
  Batch b = OneColumn(DataType::Of(TypeId::kString));
  for (const char* s : {"plain", "a,b", "say \"hi\"", "line\nbreak", "cr\rx", ""}) {
    b.mutable_column(0).AppendString(s);
    b.CommitRow();
  }
  b.mutable_column(0).AppendNull();
  b.CommitRow();
  b.mutable_column(0).AppendString("😀 four-byte");
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b),
            "v\nplain\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"line\nbreak\"\n\"cr\rx\"\n\"\"\n\n"
            "😀 four-byte\n");
}

// Long fields are scanned sixteen bytes at a time: a special byte at any position, in any
// block or in the tail, still quotes the field; bytes that only look alike (0xAC, 0x8A, which
// match ',' and LF in their low bits) do not.
TEST(CsvWriter, QuotesWhereverTheSpecialByteIs) {
  for (char special : {',', '"', '\r', '\n'}) {
    for (size_t length : {15u, 16u, 17u, 31u, 32u, 33u, 47u, 70u}) {
      for (size_t at = 0; at < length; ++at) {
        std::string field(length, 'x');
        field[at] = special;
        std::string expected = "\"";
        for (char c : field) {
          if (c == '"') expected += '"';
          expected += c;
        }
        expected += "\"";
        Batch b = OneColumn(DataType::Of(TypeId::kString));
        b.mutable_column(0).AppendString(field);
        b.CommitRow();
        ASSERT_EQ(WriteCsv(b), "v\n" + expected + "\n") << "byte " << int{special} << " at " << at;
      }
    }
  }
  Batch b = OneColumn(DataType::Of(TypeId::kString));
  const std::string lookalikes =
      std::string(40, static_cast<char>(0xAC)) + std::string(40, static_cast<char>(0x8A));
  b.mutable_column(0).AppendString(lookalikes);
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b), "v\n" + lookalikes + "\n");
}

TEST(CsvWriter, QuotesHeaderNames) {
  Batch b(std::make_shared<const Schema>(
      Schema{{"a,b", DataType::Of(TypeId::kInt32)}, {"c", DataType::Of(TypeId::kBool)}}));
  b.mutable_column(0).Append<int32_t>(-5);
  b.mutable_column(1).Append<uint8_t>(1);
  b.CommitRow();
  b.mutable_column(0).AppendNull();
  b.mutable_column(1).Append<uint8_t>(0);
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b), "\"a,b\",c\n-5,true\n,false\n");
}

TEST(CsvWriter, WritesNumbersExactly) {
  Schema schema = {{"i64", DataType::Of(TypeId::kInt64)},
                   {"u64", DataType::Of(TypeId::kUInt64)},
                   {"f64", DataType::Of(TypeId::kFloat64)},
                   {"d", DataType::Decimal(12, 2)},
                   {"big", DataType::Decimal(38, 5)}};
  Batch b(std::make_shared<const Schema>(schema));
  auto row = [&](int64_t i, uint64_t u, double f, int64_t d, columnar::Int128 big) {
    b.mutable_column(0).Append<int64_t>(i);
    b.mutable_column(1).Append<int64_t>(static_cast<int64_t>(u));
    b.mutable_column(2).Append<double>(f);
    b.mutable_column(3).Append<int64_t>(d);
    b.mutable_column(4).Append<columnar::Int128>(big);
    b.CommitRow();
  };
  columnar::Int128 max38 = 1;
  for (int i = 0; i < 38; ++i) max38 *= 10;
  max38 -= 1;
  row(std::numeric_limits<int64_t>::min(), UINT64_MAX, 0.1, -5, max38);
  row(std::numeric_limits<int64_t>::max(), 0, std::nan(""), 1230, -max38);
  row(0, 1, -std::numeric_limits<double>::infinity(), 0, 1);
  EXPECT_EQ(WriteCsv(b),
            "i64,u64,f64,d,big\n"
            "-9223372036854775808,18446744073709551615,0.1,-0.05,"
            "999999999999999999999999999999999.99999\n"
            "9223372036854775807,0,NaN,12.30,-999999999999999999999999999999999.99999\n"
            "0,1,-Infinity,0.00,0.00001\n");
}

TEST(CsvWriter, WritesTemporalValuesInIso8601) {
  Schema schema = {{"d", DataType::Of(TypeId::kDate)},
                   {"t", DataType::Of(TypeId::kTime)},
                   {"ts", DataType::Of(TypeId::kTimestamp)},
                   {"tz", DataType::Of(TypeId::kTimestampTz)}};
  Batch b(std::make_shared<const Schema>(schema));
  // 1969-12-31T23:59:59.999999 is one microsecond before the epoch.
  b.mutable_column(0).Append<int32_t>(static_cast<int32_t>(columnar::DaysFromCivil(1900, 2, 28)));
  b.mutable_column(1).Append<int64_t>((13 * 3600 + 5 * 60 + 9) * 1000000LL + 42);
  b.mutable_column(2).Append<int64_t>(-1);
  b.mutable_column(3).Append<int64_t>(1774794600123456);
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b),
            "d,t,ts,tz\n1900-02-28,13:05:09.000042,1969-12-31T23:59:59.999999,"
            "2026-03-29T14:30:00.123456Z\n");
}

// Years outside 0..9999 take the ISO 8601 expanded form, in dates and timestamps alike.
TEST(CsvWriter, WritesExpandedYears) {
  Schema schema = {{"d", DataType::Of(TypeId::kDate)},
                   {"ts", DataType::Of(TypeId::kTimestamp)},
                   {"tz", DataType::Of(TypeId::kTimestampTz)}};
  Batch b(std::make_shared<const Schema>(schema));
  const int64_t day_micros = 86400LL * 1000000;
  for (auto [y, m, d] : {std::tuple{10000, 1, 1}, std::tuple{-1, 12, 31}, std::tuple{0, 1, 1},
                         std::tuple{9999, 12, 31}}) {
    const int64_t days =
        columnar::DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    b.mutable_column(0).Append<int32_t>(static_cast<int32_t>(days));
    b.mutable_column(1).Append<int64_t>(days * day_micros + 1);
    b.mutable_column(2).Append<int64_t>(days * day_micros + day_micros - 1);
    b.CommitRow();
  }
  EXPECT_EQ(WriteCsv(b),
            "d,ts,tz\n"
            "+10000-01-01,+10000-01-01T00:00:00.000001,+10000-01-01T23:59:59.999999Z\n"
            "-0001-12-31,-0001-12-31T00:00:00.000001,-0001-12-31T23:59:59.999999Z\n"
            "0000-01-01,0000-01-01T00:00:00.000001,0000-01-01T23:59:59.999999Z\n"
            "9999-12-31,9999-12-31T00:00:00.000001,9999-12-31T23:59:59.999999Z\n");
}

TEST(CsvWriter, WritesBytesUuidsAndLists) {
  Schema schema = {{"b", DataType::Of(TypeId::kBinary)},
                   {"u", DataType::Of(TypeId::kUuid)},
                   {"l", DataType::List(DataType::Of(TypeId::kString))},
                   {"n", DataType::List(DataType::Of(TypeId::kInt32))}};
  Batch b(std::make_shared<const Schema>(schema));
  const uint8_t bytes[] = {0x00, 0xde, 0xad, 0x0a};
  b.mutable_column(0).AppendBytes(bytes, sizeof bytes);
  const uint8_t uuid[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                            0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
  b.mutable_column(1).AppendBytes(uuid, 16);
  b.mutable_column(2).mutable_child().AppendString("x,\"y\"");
  b.mutable_column(2).mutable_child().AppendNull();
  b.mutable_column(2).CloseList();
  b.mutable_column(3).mutable_child().Append<int32_t>(1);
  b.mutable_column(3).mutable_child().Append<int32_t>(2);
  b.mutable_column(3).CloseList();
  b.CommitRow();
  b.mutable_column(0).AppendNull();
  b.mutable_column(1).AppendNull();
  b.mutable_column(2).CloseList();
  b.mutable_column(3).AppendNull();
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b),
            "b,u,l,n\n00dead0a,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"
            "\"[\"\"x,\\\"\"y\\\"\"\"\",null]\",\"[1,2]\"\n,,[],\n");
}

// List elements are JSON: numbers and booleans as in CSV, dates, times, timestamps, UUIDs and
// bytes as JSON strings, NULL elements as null.
TEST(CsvWriter, WritesListElementsOfEveryTypeAsJson) {
  Schema schema = {{"b", DataType::List(DataType::Of(TypeId::kBool))},
                   {"f", DataType::List(DataType::Of(TypeId::kFloat64))},
                   {"d", DataType::List(DataType::Decimal(20, 2))},
                   {"day", DataType::List(DataType::Of(TypeId::kDate))},
                   {"tz", DataType::List(DataType::Of(TypeId::kTimestampTz))},
                   {"u", DataType::List(DataType::Of(TypeId::kUuid))},
                   {"x", DataType::List(DataType::Of(TypeId::kBinary))}};
  Batch b(std::make_shared<const Schema>(schema));
  auto close = [&](size_t c) { b.mutable_column(c).CloseList(); };
  b.mutable_column(0).mutable_child().Append<uint8_t>(1);
  b.mutable_column(0).mutable_child().AppendNull();
  b.mutable_column(0).mutable_child().Append<uint8_t>(0);
  b.mutable_column(1).mutable_child().Append<double>(-0.5);
  b.mutable_column(2).mutable_child().Append<columnar::Int128>(-12345678901234567);
  b.mutable_column(3).mutable_child().Append<int32_t>(
      static_cast<int32_t>(columnar::DaysFromCivil(2026, 12, 7)));
  b.mutable_column(4).mutable_child().Append<int64_t>(1774794600123456);
  b.mutable_column(4).mutable_child().AppendNull();
  const uint8_t uuid[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                            0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
  b.mutable_column(5).mutable_child().AppendBytes(uuid, 16);
  const uint8_t bytes[] = {0x00, 0xff};
  b.mutable_column(6).mutable_child().AppendBytes(bytes, sizeof bytes);
  for (size_t c = 0; c < schema.size(); ++c) close(c);
  b.CommitRow();
  EXPECT_EQ(WriteCsv(b),
            "b,f,d,day,tz,u,x\n\"[true,null,false]\",[-0.5],[-123456789012345.67],"
            "\"[\"\"2026-12-07\"\"]\",\"[\"\"2026-03-29T14:30:00.123456Z\"\",null]\","
            "\"[\"\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"\"]\",\"[\"\"00ff\"\"]\"\n");
}

TEST(CsvWriter, ZeroRowsWriteOnlyTheHeader) {
  Batch b = OneColumn(DataType::Of(TypeId::kInt32));
  MemorySink sink;
  auto writer = MakeCsvWriter(b.schema(), sink);
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ(std::string(sink.bytes().begin(), sink.bytes().end()), "v\n");
}

TEST(CountCsvRows, CountsRecordsNotLines) {
  std::string path = std::filesystem::temp_directory_path() / "rivet_count_csv_test.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n1,\"two\nlines\"\n2,\"say \"\"x\"\"\"\n3,\n";
  }
  auto rows = CountCsvRows(path);
  ASSERT_TRUE(rows.has_value()) << rows.error().message();
  EXPECT_EQ(*rows, 3u);
  {
    std::ofstream out(path, std::ios::binary);
    out << "a\n\"open\n";
  }
  auto bad = CountCsvRows(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorrupt);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace rivet::format::csv
