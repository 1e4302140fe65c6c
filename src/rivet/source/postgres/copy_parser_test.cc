// CopyParser against byte streams captured from PostgreSQL 15 (tests/fixtures/postgres, made by
// scripts/regen-pg-fixtures.sh) and against hand-built malformed streams.
#include "rivet/source/postgres/copy_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "rivet/source/postgres/pg_types.h"

namespace rivet::source::postgres {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::Int128;
using columnar::TypeId;

std::vector<uint8_t> ReadFixture(const std::string& name) {
  const std::string path = std::string(RIVET_SOURCE_DIR) + "/tests/fixtures/postgres/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

int32_t NumericTypmod(int32_t precision, int32_t scale) { return ((precision << 16) | scale) + 4; }

std::vector<ColumnPlan> Plan(const std::vector<ResultColumn>& columns) {
  return PlanColumns(columns, TypeCatalog{});
}

struct Parsed {
  std::unique_ptr<Batch> batch;
  Status status;
};

// Feeds `bytes` in chunks of `chunk_size` (0 = all at once) into one batch, then Finish().
Parsed ParseAll(std::span<const uint8_t> bytes, const std::vector<ColumnPlan>& plans,
                size_t chunk_size = 0) {
  auto schema = std::make_shared<columnar::Schema>();
  std::vector<ColumnDecoder> decoders;
  for (const ColumnPlan& p : plans) {
    schema->push_back(p.field);
    decoders.push_back(p.decoder);
  }
  Parsed out{std::make_unique<Batch>(schema), Status::Ok()};
  CopyParser parser(std::move(decoders));
  const size_t step = chunk_size == 0 ? std::max<size_t>(1, bytes.size()) : chunk_size;
  for (size_t pos = 0; pos < bytes.size(); pos += step) {
    size_t n = std::min(step, bytes.size() - pos);
    out.status = parser.Consume(bytes.subspan(pos, n), *out.batch, SIZE_MAX);
    if (!out.status.ok()) return out;
  }
  out.status = parser.Finish();
  return out;
}

std::string Str(const Column& c, size_t row) { return std::string(c.StringAt(row)); }

// Days and microseconds since 1970 computed in Python's datetime (independent of the parser).
constexpr int64_t kMicros1969Moon = -14182939876544;     // 1969-07-20 20:17:40.123456
constexpr int64_t kMicros1900Plus1 = -2208988799999999;  // 1900-01-01 00:00:00.000001
constexpr int64_t kMicrosLeapDayUtc = 1709190000500000;  // 2024-02-29 07:00:00.5 UTC
constexpr int32_t kDays19000301 = -25508;                // 1900-03-01

const std::vector<ResultColumn> kIntColumns = {{"id", oid::kInt4, -1}, {"b", oid::kBool, -1},
                                               {"s", oid::kInt2, -1},  {"i", oid::kInt4, -1},
                                               {"l", oid::kInt8, -1},  {"o", oid::kOid, -1}};

TEST(CopyParserFixture, IntegersAndBooleans) {
  auto bytes = ReadFixture("ints.bin");
  Parsed p = ParseAll(bytes, Plan(kIntColumns));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const Batch& b = *p.batch;
  ASSERT_EQ(b.num_rows(), 4u);
  EXPECT_EQ(b.column(0).values<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(b.column(1).values<uint8_t>()[0], 1);
  EXPECT_EQ(b.column(1).values<uint8_t>()[1], 0);
  EXPECT_FALSE(b.column(1).IsValid(2));
  EXPECT_EQ(b.column(2).values<int32_t>()[0], -32768);
  EXPECT_EQ(b.column(2).values<int32_t>()[1], 32767);
  EXPECT_EQ(b.column(3).values<int32_t>()[0], INT32_MIN);
  EXPECT_EQ(b.column(3).values<int32_t>()[1], INT32_MAX);
  EXPECT_EQ(b.column(3).values<int32_t>()[3], -1);
  EXPECT_EQ(b.column(4).values<int64_t>()[0], INT64_MIN);
  EXPECT_EQ(b.column(4).values<int64_t>()[1], INT64_MAX);
  EXPECT_EQ(b.column(5).values<int64_t>()[1], 4294967295LL);
  EXPECT_EQ(b.column(5).values<int64_t>()[3], 42);
  for (size_t c = 1; c < 6; ++c) {
    EXPECT_FALSE(b.column(c).IsValid(2)) << c;
    EXPECT_EQ(b.column(c).null_count(), 1u) << c;
  }
}

const std::vector<ResultColumn> kNumericColumns = {{"id", oid::kInt4, -1},
                                                   {"big", oid::kNumeric, NumericTypmod(38, 0)},
                                                   {"money2", oid::kNumeric, NumericTypmod(10, 2)},
                                                   {"mid", oid::kNumeric, NumericTypmod(20, 5)},
                                                   {"free", oid::kNumeric, -1}};

Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

TEST(CopyParserFixture, Numerics) {
  auto bytes = ReadFixture("numeric.bin");
  auto plans = Plan(kNumericColumns);
  ASSERT_EQ(plans[1].field.type, columnar::DataType::Decimal(38, 0));
  ASSERT_EQ(plans[2].field.type, columnar::DataType::Decimal(10, 2));
  ASSERT_EQ(plans[4].field.type.id, TypeId::kString);
  Parsed p = ParseAll(bytes, plans);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const Batch& b = *p.batch;
  ASSERT_EQ(b.num_rows(), 6u);
  const auto& big = b.column(1).values<Int128>();
  EXPECT_TRUE(big[0] == Pow10(38) - 1);
  EXPECT_TRUE(big[1] == -(Pow10(38) - 1));
  EXPECT_TRUE(big[2] == 0);
  EXPECT_FALSE(b.column(1).IsValid(3));
  EXPECT_TRUE(big[4] == 10000);
  EXPECT_TRUE(big[5] == 1);
  const auto& money = b.column(2).values<int64_t>();
  EXPECT_EQ(money[0], -1);
  EXPECT_EQ(money[1], 1234567890);
  EXPECT_EQ(money[2], 0);
  EXPECT_EQ(money[4], -9999999999);
  EXPECT_EQ(money[5], 10050);
  const auto& mid = b.column(3).values<Int128>();
  EXPECT_TRUE(mid[0] == static_cast<Int128>(12345678901234512345ULL));
  EXPECT_TRUE(mid[1] == -1);
  EXPECT_TRUE(mid[4] == 100000);
  EXPECT_TRUE(mid[5] == 1000000010);
  const Column& free = b.column(4);
  EXPECT_EQ(Str(free, 0), "NaN");
  EXPECT_EQ(Str(free, 1), "123456789012345678901234567890123456789012.000100");
  EXPECT_EQ(Str(free, 2), "-0.000000001");
  EXPECT_FALSE(free.IsValid(3));
  EXPECT_EQ(Str(free, 4), "Infinity");
  EXPECT_EQ(Str(free, 5), "0");
}

TEST(CopyParserFixture, NaNInDecimalColumnIsADataError) {
  auto bytes = ReadFixture("numeric.bin");
  auto columns = kNumericColumns;
  columns[4].typmod = NumericTypmod(10, 2);
  Parsed p = ParseAll(bytes, Plan(columns));
  ASSERT_EQ(p.status.code(), ErrorCode::kData);
  EXPECT_NE(p.status.message().find("'free'"), std::string::npos) << p.status.message();
  EXPECT_NE(p.status.message().find("NaN"), std::string::npos) << p.status.message();
}

TEST(CopyParserFixture, DecimalTooNarrowIsADataError) {
  auto bytes = ReadFixture("numeric.bin");
  auto columns = kNumericColumns;
  columns[1].typmod = NumericTypmod(20, 0);  // 38 nines do not fit
  Parsed p = ParseAll(bytes, Plan(columns));
  ASSERT_EQ(p.status.code(), ErrorCode::kData);
  EXPECT_NE(p.status.message().find("'big'"), std::string::npos) << p.status.message();
}

// numeric_send bytes of unscaled * 10^-dscale (base-10000 groups around the decimal point).
std::vector<uint8_t> NumericSend(Int128 unscaled, int dscale) {
  const bool negative = unscaled < 0;
  auto magnitude = static_cast<unsigned __int128>(negative ? -unscaled : unscaled);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() <= static_cast<size_t>(dscale)) digits.insert(digits.begin(), '0');
  std::string whole = digits.substr(0, digits.size() - static_cast<size_t>(dscale));
  std::string fraction = digits.substr(whole.size());
  while (whole.size() % 4 != 0) whole.insert(whole.begin(), '0');
  while (fraction.size() % 4 != 0) fraction.push_back('0');
  std::vector<int> groups;
  for (size_t i = 0; i < whole.size(); i += 4) groups.push_back(std::stoi(whole.substr(i, 4)));
  int weight = static_cast<int>(groups.size()) - 1;
  for (size_t i = 0; i < fraction.size(); i += 4) {
    groups.push_back(std::stoi(fraction.substr(i, 4)));
  }
  while (!groups.empty() && groups.front() == 0) {
    groups.erase(groups.begin());
    --weight;
  }
  while (!groups.empty() && groups.back() == 0) groups.pop_back();
  if (groups.empty()) weight = 0;
  std::vector<uint8_t> out;
  auto put16 = [&](int v) {
    out.push_back(static_cast<uint8_t>((v >> 8) & 0xff));
    out.push_back(static_cast<uint8_t>(v & 0xff));
  };
  put16(static_cast<int>(groups.size()));
  put16(weight);
  put16(negative ? 0x4000 : 0);
  put16(dscale);
  for (int g : groups) put16(g);
  return out;
}

// A COPY binary stream of one numeric column, one row per value.
std::vector<uint8_t> NumericStream(const std::vector<std::vector<uint8_t>>& fields) {
  std::vector<uint8_t> out = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n',
                              0,   0,   0,   0,   0,   0,   0,    0,    0};
  for (const auto& f : fields) {
    const auto n = static_cast<uint32_t>(f.size());
    out.insert(out.end(), {0, 1, static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                           static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
    out.insert(out.end(), f.begin(), f.end());
  }
  out.insert(out.end(), {0xff, 0xff});
  return out;
}

// decimal(p,s) is exact at every precision, on both sides of the 18 digits that 64 bits hold:
// the largest value fits, one more does not, nor does a digit below the scale.
TEST(CopyParserStreams, DecimalsAreExactAtEveryPrecision) {
  for (int precision : {1, 2, 9, 15, 16, 17, 18, 19, 20, 37, 38}) {
    for (int scale : {0, 1, precision / 2, precision}) {
      const Int128 max = Pow10(precision) - 1;
      const std::vector<ResultColumn> columns = {
          {"v", oid::kNumeric, NumericTypmod(precision, scale)}};
      const auto plans = Plan(columns);
      const std::vector<Int128> fitting = {max, -max, 0, 1, -1, max / 7, -(max / 3)};
      std::vector<std::vector<uint8_t>> fields;
      for (Int128 v : fitting) fields.push_back(NumericSend(v, scale));
      // The same values written with a longer scale and trailing zeros are still exact.
      // (Below 38 digits: ten times the largest 38-digit value is beyond 128 bits.)
      if (precision < 38) {
        for (Int128 v : fitting) fields.push_back(NumericSend(v * 10, scale + 1));
      }
      Parsed p = ParseAll(NumericStream(fields), plans);
      ASSERT_TRUE(p.status.ok()) << precision << "," << scale << ": " << p.status.message();
      const Column& c = p.batch->column(0);
      for (size_t i = 0; i < fields.size(); ++i) {
        const Int128 want = fitting[i % fitting.size()];
        const Int128 got = precision <= 18 ? Int128{c.values<int64_t>()[i]} : c.values<Int128>()[i];
        EXPECT_TRUE(got == want) << precision << "," << scale << " row " << i;
      }
      if (precision == 38) continue;  // 10^38 is beyond numeric(38)'s reach anyway
      // Besides the next value, values whose top digit group times its power of ten passes
      // 2^64 and would wrap to a small number in 64-bit arithmetic.
      std::vector<Int128> too_big = {max + 1, -(max + 1)};
      for (int e = 12; e <= 19; ++e) {
        for (Int128 group : {Int128{1845}, Int128{9999}}) {
          if (group * Pow10(e) > max) too_big.push_back(group * Pow10(e));
        }
      }
      for (Int128 bad : too_big) {
        Parsed q = ParseAll(NumericStream({NumericSend(bad, scale)}), plans);
        EXPECT_EQ(q.status.code(), ErrorCode::kData) << precision << "," << scale;
        EXPECT_NE(q.status.message().find("does not fit"), std::string::npos) << q.status.message();
      }
      Parsed r = ParseAll(NumericStream({NumericSend(max / 10 * 10 + 1, scale + 1)}), plans);
      EXPECT_EQ(r.status.code(), ErrorCode::kData) << precision << "," << scale << " inexact";
    }
  }
}

TEST(CopyParserFixture, TextBinaryJsonUuid) {
  auto bytes = ReadFixture("text.bin");
  auto plans = Plan({{"id", oid::kInt4, -1},
                     {"t", oid::kText, -1},
                     {"v", oid::kVarchar, 14},
                     {"c", oid::kBpchar, 8},
                     {"bin", oid::kBytea, -1},
                     {"j", oid::kJson, -1},
                     {"jb", oid::kJsonb, -1},
                     {"u", oid::kUuid, -1}});
  EXPECT_EQ(plans[4].field.type.id, TypeId::kBinary);
  EXPECT_EQ(plans[6].field.type.id, TypeId::kJson);
  EXPECT_EQ(plans[7].field.type.id, TypeId::kUuid);
  Parsed p = ParseAll(bytes, plans);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const Batch& b = *p.batch;
  ASSERT_EQ(b.num_rows(), 3u);
  EXPECT_EQ(Str(b.column(1), 0), "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80\xF0\x9D\x84\x9E");
  EXPECT_EQ(Str(b.column(1), 1), "");
  EXPECT_TRUE(b.column(1).IsValid(1));
  EXPECT_FALSE(b.column(1).IsValid(2));
  EXPECT_EQ(Str(b.column(2), 0), "abc");
  EXPECT_EQ(Str(b.column(3), 0), "ab  ");  // bpchar keeps its padding
  EXPECT_EQ(Str(b.column(4), 0), std::string("\x00\xff\x00\x01", 4));
  EXPECT_EQ(Str(b.column(4), 1), "");
  EXPECT_EQ(Str(b.column(5), 0), R"({"a": [1, 2.5, null]})");
  EXPECT_EQ(Str(b.column(6), 0), "{\"a\": 1, \"b\": \"\xC3\xBC\xF0\x9F\x98\x80\"}");
  EXPECT_EQ(Str(b.column(6), 1), "{}");
  const auto& uuid = b.column(7).data();
  ASSERT_EQ(uuid.size(), 48u);
  const uint8_t expected[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
  EXPECT_EQ(std::memcmp(uuid.data(), expected, 16), 0);
  EXPECT_FALSE(b.column(7).IsValid(2));
}

TEST(CopyParserFixture, DatesTimesTimestamps) {
  auto bytes = ReadFixture("temporal.bin");
  auto plans = Plan({{"id", oid::kInt4, -1},
                     {"d", oid::kDate, -1},
                     {"tm", oid::kTime, -1},
                     {"ts", oid::kTimestamp, -1},
                     {"tstz", oid::kTimestampTz, -1}});
  EXPECT_EQ(plans[3].field.type.id, TypeId::kTimestamp);
  EXPECT_EQ(plans[4].field.type.id, TypeId::kTimestampTz);
  Parsed p = ParseAll(bytes, plans);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const Batch& b = *p.batch;
  ASSERT_EQ(b.num_rows(), 4u);
  EXPECT_EQ(b.column(1).values<int32_t>()[0], -1);
  EXPECT_EQ(b.column(1).values<int32_t>()[1], 10957);
  EXPECT_EQ(b.column(1).values<int32_t>()[2], kDays19000301);
  EXPECT_EQ(b.column(2).values<int64_t>()[0], 0);
  EXPECT_EQ(b.column(2).values<int64_t>()[1], 86399999999);
  EXPECT_EQ(b.column(2).values<int64_t>()[2], ((12 * 60 + 34) * 60 + 56) * 1000000LL + 789000);
  EXPECT_EQ(b.column(3).values<int64_t>()[0], kMicros1969Moon);
  EXPECT_EQ(b.column(3).values<int64_t>()[1], 946684800000000);
  EXPECT_EQ(b.column(3).values<int64_t>()[2], kMicros1900Plus1);
  EXPECT_EQ(b.column(4).values<int64_t>()[0], -1);
  EXPECT_EQ(b.column(4).values<int64_t>()[1], kMicrosLeapDayUtc);
  EXPECT_EQ(b.column(4).values<int64_t>()[2], 0);
  for (size_t c = 1; c < 5; ++c) EXPECT_FALSE(b.column(c).IsValid(3));
}

TEST(CopyParserFixture, OneDimensionalArraysKeepNullElements) {
  auto bytes = ReadFixture("arrays.bin");
  auto plans = Plan({{"id", oid::kInt4, -1},
                     {"ia", 1007, -1},
                     {"ta", 1009, -1},
                     {"na", 1231, NumericTypmod(10, 2)},
                     {"ba", 1000, -1}});
  EXPECT_EQ(plans[1].field.type.ToString(), "list<int32>");
  EXPECT_EQ(plans[3].field.type.ToString(), "list<decimal(10,2)>");
  Parsed p = ParseAll(bytes, plans);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const Batch& b = *p.batch;
  ASSERT_EQ(b.num_rows(), 4u);
  const Column& ia = b.column(1);
  EXPECT_EQ(ia.offsets(), (std::vector<int64_t>{0, 3, 3, 3, 4}));
  EXPECT_TRUE(ia.IsValid(1));   // empty array
  EXPECT_FALSE(ia.IsValid(2));  // NULL array
  EXPECT_EQ(ia.child().values<int32_t>()[0], 1);
  EXPECT_FALSE(ia.child().IsValid(1));
  EXPECT_EQ(ia.child().values<int32_t>()[2], 3);
  EXPECT_FALSE(ia.child().IsValid(3));
  const Column& ta = b.column(2);
  EXPECT_EQ(ta.offsets(), (std::vector<int64_t>{0, 4, 4, 4, 5}));
  EXPECT_EQ(Str(ta.child(), 0), "a");
  EXPECT_FALSE(ta.child().IsValid(1));
  EXPECT_EQ(Str(ta.child(), 2), "\xF0\x9F\x98\x80");
  EXPECT_EQ(Str(ta.child(), 3), "");
  EXPECT_TRUE(ta.child().IsValid(3));
  const Column& na = b.column(3);
  EXPECT_EQ(na.child().values<int64_t>()[0], 150);
  EXPECT_EQ(na.child().values<int64_t>()[1], -1);
  EXPECT_FALSE(na.child().IsValid(2));
  const Column& ba = b.column(4);
  EXPECT_EQ(ba.child().values<uint8_t>(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_FALSE(ba.child().IsValid(2));
}

TEST(CopyParserFixture, FloatsKeepNaNAndInfinities) {
  auto bytes = ReadFixture("floats.bin");
  Parsed p = ParseAll(
      bytes, Plan({{"id", oid::kInt4, -1}, {"f4", oid::kFloat4, -1}, {"f8", oid::kFloat8, -1}}));
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  const auto& f4 = p.batch->column(1).values<float>();
  const auto& f8 = p.batch->column(2).values<double>();
  ASSERT_EQ(p.batch->num_rows(), 7u);
  EXPECT_TRUE(std::isnan(f4[0]) && std::isnan(f8[0]));
  EXPECT_TRUE(std::isinf(f4[1]) && f4[1] > 0 && std::isinf(f8[1]) && f8[1] > 0);
  EXPECT_TRUE(std::isinf(f4[2]) && f4[2] < 0 && std::isinf(f8[2]) && f8[2] < 0);
  EXPECT_EQ(f4[3], 0.1f);
  EXPECT_EQ(f8[3], 0.1);
  EXPECT_TRUE(f4[4] == 0 && std::signbit(f4[4]));
  EXPECT_TRUE(f8[4] == 0 && std::signbit(f8[4]));
  EXPECT_EQ(f4[5], 3.4028235e38f);
  EXPECT_EQ(f8[5], 1.7976931348623157e308);
  EXPECT_FALSE(p.batch->column(1).IsValid(6));
}

const std::vector<ResultColumn> kManyColumns = {{"id", oid::kInt8, -1},
                                                {"name", oid::kText, -1},
                                                {"amount", oid::kNumeric, NumericTypmod(12, 2)},
                                                {"at", oid::kTimestampTz, -1}};

void CheckManyRow(const Batch& b, size_t row, int64_t id) {
  EXPECT_EQ(b.column(0).values<int64_t>()[row], id);
  EXPECT_EQ(Str(b.column(1), row), "user_" + std::to_string(id));
  EXPECT_EQ(b.column(2).values<int64_t>()[row], id * 37 % 100000);
  EXPECT_EQ(b.column(3).values<int64_t>()[row], 1704067200000000LL + id * 60000000LL);
}

TEST(CopyParserFixture, AnyChunkingGivesTheSameRows) {
  auto bytes = ReadFixture("many.bin");
  auto plans = Plan(kManyColumns);
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{19}, size_t{4096}}) {
    Parsed p = ParseAll(bytes, plans, chunk);
    ASSERT_TRUE(p.status.ok()) << "chunk " << chunk << ": " << p.status.message();
    ASSERT_EQ(p.batch->num_rows(), 1000u);
    for (size_t r = 0; r < 1000; r += 111) CheckManyRow(*p.batch, r, static_cast<int64_t>(r) + 1);
  }
}

TEST(CopyParserFixture, BatchesStopAtMaxRowsAndResumeFromKeptBytes) {
  auto bytes = ReadFixture("many.bin");
  auto plans = Plan(kManyColumns);
  auto schema = std::make_shared<columnar::Schema>();
  std::vector<ColumnDecoder> decoders;
  for (const auto& p : plans) {
    schema->push_back(p.field);
    decoders.push_back(p.decoder);
  }
  CopyParser parser(decoders);
  Batch batch(schema);
  // Everything arrives in one chunk; batches of 300 rows come out of the kept bytes.
  ASSERT_TRUE(parser.Consume(bytes, batch, 300).ok());
  int64_t next_id = 1;
  std::vector<size_t> sizes;
  for (;;) {
    sizes.push_back(batch.num_rows());
    for (size_t r = 0; r < batch.num_rows(); ++r) CheckManyRow(batch, r, next_id++);
    if (!parser.has_pending()) break;
    batch.Clear();
    ASSERT_TRUE(parser.Drain(batch, 300).ok());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{300, 300, 300, 100}));
  EXPECT_TRUE(parser.done());
  EXPECT_TRUE(parser.Finish().ok());
  EXPECT_EQ(parser.rows(), 1000);
}

struct Fixture {
  std::string file;
  std::vector<ResultColumn> columns;
};

std::vector<Fixture> SmallFixtures() {
  return {
      {"ints.bin", kIntColumns},
      {"numeric.bin", kNumericColumns},
      {"text.bin",
       {{"id", oid::kInt4, -1},
        {"t", oid::kText, -1},
        {"v", oid::kVarchar, 14},
        {"c", oid::kBpchar, 8},
        {"bin", oid::kBytea, -1},
        {"j", oid::kJson, -1},
        {"jb", oid::kJsonb, -1},
        {"u", oid::kUuid, -1}}},
      {"temporal.bin",
       {{"id", oid::kInt4, -1},
        {"d", oid::kDate, -1},
        {"tm", oid::kTime, -1},
        {"ts", oid::kTimestamp, -1},
        {"tstz", oid::kTimestampTz, -1}}},
      {"arrays.bin",
       {{"id", oid::kInt4, -1},
        {"ia", 1007, -1},
        {"ta", 1009, -1},
        {"na", 1231, NumericTypmod(10, 2)},
        {"ba", 1000, -1}}},
      {"floats.bin", {{"id", oid::kInt4, -1}, {"f4", oid::kFloat4, -1}, {"f8", oid::kFloat8, -1}}},
  };
}

TEST(CopyParserMalformed, EveryTruncationIsCorrupt) {
  for (const Fixture& f : SmallFixtures()) {
    auto bytes = ReadFixture(f.file);
    auto plans = Plan(f.columns);
    ASSERT_TRUE(ParseAll(bytes, plans).status.ok()) << f.file;
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      std::span<const uint8_t> prefix(bytes.data(), cut);
      for (size_t chunk : {size_t{0}, size_t{3}}) {
        Parsed p = ParseAll(prefix, plans, chunk);
        ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt)
            << f.file << " cut at " << cut << ": " << p.status.message();
        EXPECT_FALSE(p.status.message().empty());
      }
    }
  }
}

TEST(CopyParserMalformed, CorruptedBytesNeverCrash) {
  // Every byte of every small fixture replaced by values that break lengths, counts and
  // headers: the parser must answer with a status (ASan builds check the bounds too).
  for (const Fixture& f : SmallFixtures()) {
    const auto original = ReadFixture(f.file);
    auto plans = Plan(f.columns);
    for (size_t i = 0; i < original.size(); ++i) {
      for (uint8_t value : {uint8_t{0x00}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
        if (original[i] == value) continue;
        auto bytes = original;
        bytes[i] = value;
        Parsed p = ParseAll(bytes, plans, 5);
        if (!p.status.ok()) {
          EXPECT_TRUE(p.status.code() == ErrorCode::kCorrupt || p.status.code() == ErrorCode::kData)
              << f.file << " byte " << i << ": " << p.status.message();
        }
      }
    }
  }
}

TEST(CopyParserMalformed, BadSignature) {
  auto bytes = ReadFixture("ints.bin");
  bytes[1] = 'X';
  Parsed p = ParseAll(bytes, Plan(kIntColumns));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("signature"), std::string::npos) << p.status.message();
  // Detected from the first bytes, before a whole header has arrived.
  Parsed early = ParseAll(std::span<const uint8_t>(bytes.data(), 3), Plan(kIntColumns));
  EXPECT_NE(early.status.message().find("signature"), std::string::npos);
}

TEST(CopyParserMalformed, WrongFieldCount) {
  auto bytes = ReadFixture("ints.bin");
  auto columns = kIntColumns;
  columns.pop_back();
  Parsed p = ParseAll(bytes, Plan(columns));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("6 fields"), std::string::npos) << p.status.message();
  EXPECT_NE(p.status.message().find("offset 19"), std::string::npos) << p.status.message();
}

TEST(CopyParserMalformed, WidthMismatchNamesTheColumn) {
  auto bytes = ReadFixture("ints.bin");
  auto columns = kIntColumns;
  columns[3].type_oid = oid::kInt8;  // the wire carries 4-byte int4 values
  Parsed p = ParseAll(bytes, Plan(columns));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("column 'i'"), std::string::npos) << p.status.message();
  EXPECT_NE(p.status.message().find("8 bytes, got 4"), std::string::npos) << p.status.message();
}

// Hand-built streams for cases PostgreSQL does not produce on request.
class StreamBuilder {
 public:
  StreamBuilder& Header(uint32_t flags = 0, std::string extension = "") {
    bytes_.insert(bytes_.end(), {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0});
    U32(flags);
    U32(static_cast<uint32_t>(extension.size()));
    bytes_.insert(bytes_.end(), extension.begin(), extension.end());
    return *this;
  }
  StreamBuilder& Fields(int16_t n) {
    U16(static_cast<uint16_t>(n));
    return *this;
  }
  StreamBuilder& Field(const std::vector<uint8_t>& value) {
    U32(static_cast<uint32_t>(value.size()));
    bytes_.insert(bytes_.end(), value.begin(), value.end());
    return *this;
  }
  StreamBuilder& Null() {
    U32(0xffffffff);
    return *this;
  }
  StreamBuilder& Trailer() { return Fields(-1); }
  StreamBuilder& Raw(std::vector<uint8_t> raw) {
    bytes_.insert(bytes_.end(), raw.begin(), raw.end());
    return *this;
  }
  void U16(uint16_t v) { bytes_.insert(bytes_.end(), {uint8_t(v >> 8), uint8_t(v)}); }
  void U32(uint32_t v) {
    bytes_.insert(bytes_.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> Be64(int64_t v) {
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = uint8_t(uint64_t(v) >> (56 - 8 * i));
  return out;
}
std::vector<uint8_t> Be32(int32_t v) {
  return {uint8_t(uint32_t(v) >> 24), uint8_t(uint32_t(v) >> 16), uint8_t(uint32_t(v) >> 8),
          uint8_t(v)};
}
std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(CopyParserStreams, HeaderExtensionIsSkippedAndEmptyResultParses) {
  StreamBuilder s;
  s.Header(0, "ext-data").Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"x", oid::kInt4, -1}}), 1);
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(p.batch->num_rows(), 0u);
}

TEST(CopyParserStreams, UnknownCriticalFlagOrOidsAreCorrupt) {
  for (uint32_t flags : {1u, 1u << 16}) {
    StreamBuilder s;
    s.Header(flags).Trailer();
    Parsed p = ParseAll(s.bytes(), Plan({{"x", oid::kInt4, -1}}));
    EXPECT_EQ(p.status.code(), ErrorCode::kCorrupt) << flags;
  }
  StreamBuilder ignored;  // bits 17-31 are for compatible extensions: ignored
  ignored.Header(1u << 20).Trailer();
  EXPECT_TRUE(ParseAll(ignored.bytes(), Plan({{"x", oid::kInt4, -1}})).status.ok());
}

TEST(CopyParserStreams, BytesAfterTrailerAreCorrupt) {
  StreamBuilder s;
  s.Header().Fields(1).Field(Be32(7)).Trailer().Raw({0});
  Parsed p = ParseAll(s.bytes(), Plan({{"x", oid::kInt4, -1}}));
  EXPECT_EQ(p.status.code(), ErrorCode::kCorrupt);
}

TEST(CopyParserStreams, NegativeLengthOtherThanNullIsCorrupt) {
  StreamBuilder s;
  s.Header().Fields(1).Raw(Be32(-2)).Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"x", oid::kInt4, -1}}));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("column 'x'"), std::string::npos);
}

TEST(CopyParserStreams, HugeLengthIsATruncationNotARead) {
  StreamBuilder s;
  s.Header().Fields(1).Raw(Be32(0x7fffffff)).Raw({1, 2, 3});
  Parsed p = ParseAll(s.bytes(), Plan({{"x", oid::kText, -1}}));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("ended inside row 1"), std::string::npos) << p.status.message();
}

TEST(CopyParserStreams, InfiniteTimestampsAndDatesAreDataErrors) {
  for (int64_t v : {INT64_MAX, INT64_MIN}) {
    StreamBuilder s;
    s.Header().Fields(1).Field(Be64(v)).Trailer();
    Parsed p = ParseAll(s.bytes(), Plan({{"happened_at", oid::kTimestampTz, -1}}));
    ASSERT_EQ(p.status.code(), ErrorCode::kData);
    EXPECT_NE(p.status.message().find("'happened_at'"), std::string::npos);
    EXPECT_NE(p.status.message().find("infinity"), std::string::npos);
  }
  for (int32_t v : {INT32_MAX, INT32_MIN}) {
    StreamBuilder s;
    s.Header().Fields(1).Field(Be32(v)).Trailer();
    Parsed p = ParseAll(s.bytes(), Plan({{"day", oid::kDate, -1}}));
    ASSERT_EQ(p.status.code(), ErrorCode::kData);
    EXPECT_NE(p.status.message().find("'day'"), std::string::npos);
  }
}

TEST(CopyParserStreams, MultiDimensionalArrayIsADataErrorSuggestingACast) {
  // int4[][] {{1},{2}}: ndim 2, no NULLs, int4, dims (2,1) (1,1), two elements.
  auto value = Concat({Be32(2), Be32(0), Be32(oid::kInt4), Be32(2), Be32(1), Be32(1), Be32(1),
                       Be32(4), Be32(1), Be32(4), Be32(2)});
  StreamBuilder s;
  s.Header().Fields(1).Field(value).Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"grid", 1007, -1}}));
  ASSERT_EQ(p.status.code(), ErrorCode::kData);
  EXPECT_NE(p.status.message().find("'grid'"), std::string::npos);
  EXPECT_NE(p.status.message().find("::text"), std::string::npos) << p.status.message();
}

TEST(CopyParserStreams, ArrayWithOtherBoundsIsADataErrorSuggestingACast) {
  // Row 1: '{7}' (bounds [1:1]) exports; row 2: '[-2:0]={1,2,3}'::int4[]: ndim 1, no NULLs,
  // int4, size 3, lower bound -2, three elements.
  auto plain = Concat({Be32(1), Be32(0), Be32(oid::kInt4), Be32(1), Be32(1), Be32(4), Be32(7)});
  auto shifted = Concat({Be32(1), Be32(0), Be32(oid::kInt4), Be32(3), Be32(-2), Be32(4), Be32(1),
                         Be32(4), Be32(2), Be32(4), Be32(3)});
  StreamBuilder s;
  s.Header().Fields(1).Field(plain).Fields(1).Field(shifted).Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"slots", 1007, -1}}));
  ASSERT_EQ(p.status.code(), ErrorCode::kData) << p.status.message();
  EXPECT_NE(p.status.message().find("column 'slots' (row 2): an array with bounds [-2:0]"),
            std::string::npos)
      << p.status.message();
  EXPECT_NE(p.status.message().find("cannot be exported as a list; cast the column to text in "
                                    "the query (\"slots\"::text)"),
            std::string::npos)
      << p.status.message();
  EXPECT_EQ(p.batch->num_rows(), 1u);  // the row before is kept; the bad one is not committed

  // An empty array has no bounds, and bounds starting at 1 are the default shape.
  auto empty = Concat({Be32(0), Be32(0), Be32(oid::kInt4)});
  StreamBuilder ok;
  ok.Header().Fields(1).Field(empty).Fields(1).Field(plain).Trailer();
  Parsed fine = ParseAll(ok.bytes(), Plan({{"slots", 1007, -1}}));
  ASSERT_TRUE(fine.status.ok()) << fine.status.message();
  EXPECT_EQ(fine.batch->num_rows(), 2u);
}

TEST(CopyParserStreams, ArrayElementTypeAndLengthsAreChecked) {
  auto wrong_type =
      Concat({Be32(1), Be32(0), Be32(oid::kInt8), Be32(1), Be32(1), Be32(4), Be32(1)});
  auto short_element =
      Concat({Be32(1), Be32(0), Be32(oid::kInt4), Be32(2), Be32(1), Be32(4), Be32(1), Be32(9)});
  auto trailing = Concat({Be32(0), Be32(0), Be32(oid::kInt4), Be32(0)});
  for (const auto& value : {wrong_type, short_element, trailing}) {
    StreamBuilder s;
    s.Header().Fields(1).Field(value).Trailer();
    Parsed p = ParseAll(s.bytes(), Plan({{"arr", 1007, -1}}));
    EXPECT_EQ(p.status.code(), ErrorCode::kCorrupt) << p.status.message();
  }
}

TEST(CopyParserStreams, JsonbVersionIsChecked) {
  StreamBuilder s;
  s.Header().Fields(1).Field({2, '{', '}'}).Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"doc", oid::kJsonb, -1}}));
  ASSERT_EQ(p.status.code(), ErrorCode::kCorrupt);
  EXPECT_NE(p.status.message().find("jsonb version 2"), std::string::npos);
}

TEST(CopyParserStreams, NumericDigitsAreValidated) {
  // ndigits 1, weight 0, positive, dscale 0, digit 10000 (out of base-10000 range).
  StreamBuilder s;
  s.Header().Fields(1).Field({0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}).Trailer();
  Parsed p = ParseAll(s.bytes(), Plan({{"n", oid::kNumeric, -1}}));
  EXPECT_EQ(p.status.code(), ErrorCode::kCorrupt);
}

TEST(NumericText, MatchesPostgresOutput) {
  struct Case {
    std::vector<uint8_t> wire;
    std::string text;
  };
  const Case cases[] = {
      // 12345.678: ndigits 3, weight 1, +, dscale 3, digits 1 2345 6780
      {{0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c}, "12345.678"},
      // -0.05 with dscale 2: ndigits 1, weight -1, -, digits 500
      {{0, 1, 0xff, 0xff, 0x40, 0, 0, 2, 0x01, 0xf4}, "-0.05"},
      // 0 with dscale 3
      {{0, 0, 0, 0, 0, 0, 0, 3}, "0.000"},
      // 1e8 (digits 1, weight 2, trailing zero groups stripped)
      {{0, 1, 0, 2, 0, 0, 0, 0, 0, 1}, "100000000"},
      // 0.00000001: weight -2 (10000^-2), digit 1
      {{0, 1, 0xff, 0xfe, 0, 0, 0, 8, 0, 1}, "0.00000001"},
      {{0, 0, 0, 0, 0xc0, 0, 0, 0}, "NaN"},
      {{0, 0, 0, 0, 0xf0, 0, 0, 0}, "-Infinity"},
  };
  for (const Case& c : cases) {
    std::string text;
    ASSERT_TRUE(NumericToText(c.wire.data(), static_cast<int32_t>(c.wire.size()), &text).ok());
    EXPECT_EQ(text, c.text);
  }
}

}  // namespace
}  // namespace rivet::source::postgres
