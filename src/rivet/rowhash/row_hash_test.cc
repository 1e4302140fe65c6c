#include "rivet/rowhash/row_hash.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace rivet::rowhash {
namespace {

using columnar::Batch;
using columnar::DataType;
using columnar::Field;
using columnar::Int128;
using columnar::Schema;
using columnar::TypeId;

// Hand-built canonical encoding pieces, independent of the implementation.
std::string Null() { return std::string(1, '\0'); }
std::string Tag() { return std::string(1, '\1'); }
std::string Le64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string I64(int64_t v) { return Tag() + Le64(static_cast<uint64_t>(v)); }
std::string F64(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return Tag() + Le64(bits);
}
std::string Str(const std::string& s) { return Tag() + Le64(s.size()) + s; }
std::string Dec(Int128 unscaled, int scale) {
  auto u = static_cast<unsigned __int128>(unscaled);
  return Tag() + Le64(static_cast<uint64_t>(u)) + Le64(static_cast<uint64_t>(u >> 64)) +
         std::string(1, static_cast<char>(scale));
}
uint64_t Xxh(const std::string& bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

std::shared_ptr<Schema> MakeSchema(std::vector<DataType> types) {
  auto schema = std::make_shared<Schema>();
  for (size_t i = 0; i < types.size(); ++i)
    schema->push_back(Field{"c" + std::to_string(i), types[i]});
  return schema;
}

std::vector<uint64_t> Hashes(const Batch& b, size_t query_columns) {
  std::vector<uint64_t> out;
  RowHashes(b, query_columns, out);
  return out;
}

TEST(RowHash, EveryTypeMatchesHandBuiltEncoding) {
  auto schema = MakeSchema({
      DataType::Of(TypeId::kBool),      DataType::Of(TypeId::kInt8),
      DataType::Of(TypeId::kInt16),     DataType::Of(TypeId::kInt32),
      DataType::Of(TypeId::kInt64),     DataType::Of(TypeId::kUInt8),
      DataType::Of(TypeId::kUInt16),    DataType::Of(TypeId::kUInt32),
      DataType::Of(TypeId::kUInt64),    DataType::Of(TypeId::kFloat32),
      DataType::Of(TypeId::kFloat64),   DataType::Decimal(12, 2),
      DataType::Decimal(30, 4),         DataType::Of(TypeId::kString),
      DataType::Of(TypeId::kBinary),    DataType::Of(TypeId::kJson),
      DataType::Of(TypeId::kDate),      DataType::Of(TypeId::kTime),
      DataType::Of(TypeId::kTimestamp), DataType::Of(TypeId::kTimestampTz),
      DataType::Of(TypeId::kUuid),      DataType::List(DataType::Of(TypeId::kInt32)),
  });
  Batch b(schema);
  b.mutable_column(0).Append<uint8_t>(1);
  b.mutable_column(1).Append<int32_t>(-5);
  b.mutable_column(2).Append<int32_t>(300);
  b.mutable_column(3).Append<int32_t>(-70000);
  b.mutable_column(4).Append<int64_t>(1LL << 40);
  b.mutable_column(5).Append<int32_t>(255);
  b.mutable_column(6).Append<int32_t>(65535);
  b.mutable_column(7).Append<int64_t>(4294967295LL);
  b.mutable_column(8).Append<int64_t>(-1);  // uint64 max as its bit pattern
  b.mutable_column(9).Append<float>(1.5f);
  b.mutable_column(10).Append<double>(-0.25);
  b.mutable_column(11).Append<int64_t>(-12345);
  b.mutable_column(12).Append<Int128>(static_cast<Int128>(1) << 70);
  b.mutable_column(13).AppendString("héllo");
  b.mutable_column(14).AppendString(std::string("\0\1", 2));
  b.mutable_column(15).AppendString("{\"a\":1}");
  b.mutable_column(16).Append<int32_t>(19000);
  b.mutable_column(17).Append<int64_t>(3600000000LL);
  b.mutable_column(18).Append<int64_t>(1700000000000000LL);
  b.mutable_column(19).Append<int64_t>(-1000000LL);
  uint8_t uuid[16];
  for (int i = 0; i < 16; ++i) uuid[i] = static_cast<uint8_t>(0xa0 + i);
  b.mutable_column(20).AppendBytes(uuid, 16);
  b.mutable_column(21).mutable_child().Append<int32_t>(7);
  b.mutable_column(21).mutable_child().AppendNull();
  b.mutable_column(21).CloseList();
  b.CommitRow();

  std::string expected = Tag() + std::string(1, '\1');
  expected += I64(-5) + I64(300) + I64(-70000) + I64(1LL << 40) + I64(255) + I64(65535) +
              I64(4294967295LL) + I64(-1) + F64(1.5) + F64(-0.25);
  expected += Dec(-12345, 2) + Dec(static_cast<Int128>(1) << 70, 4);
  expected += Str("héllo") + Str(std::string("\0\1", 2)) + Str("{\"a\":1}");
  expected += I64(19000) + I64(3600000000LL) + I64(1700000000000000LL) + I64(-1000000LL);
  expected += Tag() + std::string(reinterpret_cast<const char*>(uuid), 16);
  expected += Tag() + Le64(2) + I64(7) + Null();
  std::vector<uint64_t> h = Hashes(b, schema->size());
  EXPECT_EQ(h, std::vector<uint64_t>{Xxh(expected)});
  EXPECT_EQ(h[0], 0x57ec7aff4c251b2eULL);
}

TEST(RowHash, LiteralHashesPinTheEncoding) {
  // docs/row-hash.md worked example: (id bigint 42, name text 'ab', note text NULL).
  auto schema = MakeSchema(
      {DataType::Of(TypeId::kInt64), DataType::Of(TypeId::kString), DataType::Of(TypeId::kString)});
  Batch b(schema);
  b.mutable_column(0).Append<int64_t>(42);
  b.mutable_column(1).AppendString("ab");
  b.mutable_column(2).AppendNull();
  b.CommitRow();
  std::string bytes = I64(42) + Str("ab") + Null();
  ASSERT_EQ(bytes.size(), 21u);
  std::vector<uint64_t> h = Hashes(b, 3);
  EXPECT_EQ(h[0], Xxh(bytes));
  EXPECT_EQ(h[0], 0x79beec5a5aca657aULL);

  auto empty = MakeSchema({});
  Batch e(empty);
  e.CommitRow();
  EXPECT_EQ(Hashes(e, 0)[0], 0xef46db3751d8e999ULL);  // XXH64 of no bytes, seed 0
}

TEST(RowHash, NullAndEmptyStringDiffer) {
  auto schema = MakeSchema({DataType::Of(TypeId::kString)});
  Batch b(schema);
  b.mutable_column(0).AppendNull();
  b.CommitRow();
  b.mutable_column(0).AppendString("");
  b.CommitRow();
  std::vector<uint64_t> h = Hashes(b, 1);
  EXPECT_NE(h[0], h[1]);
  EXPECT_EQ(h[0], Xxh(Null()));
  EXPECT_EQ(h[1], Xxh(Str("")));
}

TEST(RowHash, StringBoundariesMatter) {
  auto schema = MakeSchema({DataType::Of(TypeId::kString), DataType::Of(TypeId::kString)});
  Batch b(schema);
  b.mutable_column(0).AppendString("ab");
  b.mutable_column(1).AppendString("c");
  b.CommitRow();
  b.mutable_column(0).AppendString("a");
  b.mutable_column(1).AppendString("bc");
  b.CommitRow();
  std::vector<uint64_t> h = Hashes(b, 2);
  EXPECT_NE(h[0], h[1]);
}

TEST(RowHash, IntegerWidthDoesNotMatter) {
  auto narrow = MakeSchema({DataType::Of(TypeId::kInt32), DataType::Of(TypeId::kInt16)});
  auto wide = MakeSchema({DataType::Of(TypeId::kInt64), DataType::Of(TypeId::kInt64)});
  Batch a(narrow), w(wide);
  a.mutable_column(0).Append<int32_t>(-7);
  a.mutable_column(1).Append<int32_t>(12);
  a.CommitRow();
  w.mutable_column(0).Append<int64_t>(-7);
  w.mutable_column(1).Append<int64_t>(12);
  w.CommitRow();
  EXPECT_EQ(Hashes(a, 2), Hashes(w, 2));
}

TEST(RowHash, FloatsAreWidenedAndNaNIsCanonical) {
  auto schema = MakeSchema({DataType::Of(TypeId::kFloat32), DataType::Of(TypeId::kFloat64)});
  Batch b(schema);
  b.mutable_column(0).Append<float>(0.5f);
  b.mutable_column(1).Append<double>(0.5);
  b.CommitRow();
  b.mutable_column(0).Append<float>(std::numeric_limits<float>::quiet_NaN());
  b.mutable_column(1).Append<double>(-std::numeric_limits<double>::quiet_NaN());
  b.CommitRow();
  b.mutable_column(0).Append<float>(-0.0f);
  b.mutable_column(1).Append<double>(0.0);
  b.CommitRow();
  std::vector<uint64_t> h = Hashes(b, 2);
  EXPECT_EQ(h[0], Xxh(F64(0.5) + F64(0.5)));
  std::string nan = Tag() + Le64(0x7ff8000000000000ULL);
  EXPECT_EQ(h[1], Xxh(nan + nan));
  EXPECT_EQ(h[2], Xxh(F64(-0.0) + F64(0.0)));
  EXPECT_NE(Xxh(F64(-0.0)), Xxh(F64(0.0)));
}

TEST(RowHash, MetaColumnsAndBufferReuse) {
  // Columns past query_columns are not hashed; a second, smaller batch reuses the hasher.
  auto schema = MakeSchema({DataType::Of(TypeId::kInt64), DataType::Of(TypeId::kInt64)});
  Batch b(schema);
  for (int64_t i = 0; i < 3; ++i) {
    b.mutable_column(0).Append<int64_t>(i);
    b.mutable_column(1).Append<int64_t>(i * 100);
    b.CommitRow();
  }
  RowHasher hasher;
  std::vector<uint64_t> out;
  hasher.Hash(b, 1, out);
  ASSERT_EQ(out.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(out[i], Xxh(I64(i)));
  b.Clear();
  b.mutable_column(0).Append<int64_t>(9);
  b.mutable_column(1).Append<int64_t>(0);
  b.CommitRow();
  hasher.Hash(b, 1, out);
  EXPECT_EQ(out, std::vector<uint64_t>{Xxh(I64(9))});
}

TEST(RowHash, RowsAcrossBlockBoundariesHashAsAlone) {
  // Rows are encoded in blocks; every row of a batch longer than several blocks, with NULLs,
  // strings and a fixed-width column, hashes as its own hand-built encoding.
  auto schema = MakeSchema({DataType::Of(TypeId::kInt64), DataType::Of(TypeId::kString)});
  Batch b(schema);
  constexpr int64_t kRows = 2500;
  for (int64_t i = 0; i < kRows; ++i) {
    b.mutable_column(0).Append<int64_t>(i);
    if (i % 7 == 0) {
      b.mutable_column(1).AppendNull();
    } else {
      b.mutable_column(1).AppendString(std::string(static_cast<size_t>(i % 50), 'x'));
    }
    b.CommitRow();
  }
  RowHasher hasher;
  std::vector<uint64_t> out;
  hasher.Hash(b, 2, out);
  ASSERT_EQ(out.size(), static_cast<size_t>(kRows));
  for (int64_t i = 0; i < kRows; ++i) {
    std::string text = i % 7 == 0 ? Null() : Str(std::string(static_cast<size_t>(i % 50), 'x'));
    ASSERT_EQ(out[static_cast<size_t>(i)], Xxh(I64(i) + text)) << "row " << i;
  }
}

}  // namespace
}  // namespace rivet::rowhash
