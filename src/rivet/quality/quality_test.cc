#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "rivet/quality/gate.h"
#include "rivet/quality/unique.h"

namespace rivet::quality {
namespace {

using columnar::Batch;
using columnar::Column;
using columnar::DataType;
using columnar::TypeId;

Column Int64s(const std::vector<std::optional<int64_t>>& values) {
  Column c(DataType::Of(TypeId::kInt64));
  for (const auto& v : values) {
    if (v)
      c.Append<int64_t>(*v);
    else
      c.AppendNull();
  }
  return c;
}

// A collector with a tiny budget spills after almost every batch: the merge must still find
// every duplicate, and the first repeat in row order.
TEST(Unique, SpilledRunsMergeExactly) {
  UniqueCollector c(DataType::Of(TypeId::kInt64), 4096);
  uint64_t ordinal = 0;
  for (int batch = 0; batch < 50; ++batch) {
    std::vector<std::optional<int64_t>> values;
    for (int i = 0; i < 1000; ++i) values.emplace_back(batch * 1000 + i);
    if (batch == 30) values[7] = 12345;  // repeats row 12345 at ordinal 30007
    if (batch == 40) values[1] = 777;    // repeats row 777 at ordinal 40001, later
    if (batch == 45) values[2] = std::nullopt;
    Column col = Int64s(values);
    ASSERT_TRUE(c.Add(col, ordinal).ok());
    ordinal += values.size();
  }
  EXPECT_GT(c.spilled_runs(), 10U);
  std::vector<UniqueCollector> parts;
  parts.push_back(std::move(c));
  auto d = FindDuplicates(DataType::Of(TypeId::kInt64), parts, 1 << 20);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->count, 2U);
  EXPECT_EQ(d->first, "12345");
}

TEST(Unique, NoDuplicatesAndNullsAreNotValues) {
  UniqueCollector c(DataType::Of(TypeId::kInt64), 1 << 20);
  Column col = Int64s({1, std::nullopt, 2, std::nullopt, -3});
  ASSERT_TRUE(c.Add(col, 0).ok());
  std::vector<UniqueCollector> parts;
  parts.push_back(std::move(c));
  auto d = FindDuplicates(DataType::Of(TypeId::kInt64), parts, 1 << 20);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count, 0U);
  EXPECT_FALSE(d->first.has_value());
}

TEST(Unique, StringsAcrossParts) {
  DataType text = DataType::Of(TypeId::kString);
  std::vector<UniqueCollector> parts;
  for (int p = 0; p < 3; ++p) {
    UniqueCollector c(text, 1 << 20);
    Column col(text);
    col.AppendString("a");  // in every part: 2 repeats
    col.AppendString(std::string("b\0c", 3));
    col.AppendString(p == 0 ? "" : "x" + std::to_string(p));  // "" is a value, once
    col.AppendString("prefix-longer-than-eight-" + std::to_string(p));
    ASSERT_TRUE(c.Add(col, static_cast<uint64_t>(p) << 40).ok());
    if (p == 1) {
      ASSERT_TRUE(c.Spill().ok());
    }
    parts.push_back(std::move(c));
  }
  auto d = FindDuplicates(text, parts, 1 << 20);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count, 4U);  // "a" twice, "b\0c" twice
  EXPECT_EQ(d->first, "a");
}

TEST(Unique, FloatZeroesAndNaNsAreOneValueEach) {
  DataType f = DataType::Of(TypeId::kFloat64);
  UniqueCollector c(f, 1 << 20);
  Column col(f);
  col.Append<double>(0.0);
  col.Append<double>(-0.0);
  col.Append<double>(std::nan("1"));
  col.Append<double>(std::nan("2"));
  col.Append<double>(1.5);
  ASSERT_TRUE(c.Add(col, 0).ok());
  std::vector<UniqueCollector> parts;
  parts.push_back(std::move(c));
  auto d = FindDuplicates(f, parts, 1 << 20);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count, 2U);
  EXPECT_EQ(d->first, "0");
}

TEST(Unique, ShowsDecimalsAndDatesAsCsvWould) {
  DataType dec = DataType::Decimal(30, 2);
  UniqueCollector c(dec, 1 << 20);
  Column col(dec);
  col.Append<columnar::Int128>(-12345);
  col.Append<columnar::Int128>(-12345);
  ASSERT_TRUE(c.Add(col, 0).ok());
  std::vector<UniqueCollector> parts;
  parts.push_back(std::move(c));
  auto d = FindDuplicates(dec, parts, 1 << 20);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->first, "-123.45");

  DataType date = DataType::Of(TypeId::kDate);
  UniqueCollector dc(date, 1 << 20);
  Column dcol(date);
  dcol.Append<int32_t>(20000);
  dcol.Append<int32_t>(-1);
  dcol.Append<int32_t>(20000);
  ASSERT_TRUE(dc.Add(dcol, 0).ok());
  std::vector<UniqueCollector> dparts;
  dparts.push_back(std::move(dc));
  auto dd = FindDuplicates(date, dparts, 1 << 20);
  ASSERT_TRUE(dd.has_value());
  EXPECT_EQ(dd->first, "2024-10-04");
}

TEST(Unique, ListsAreRefused) {
  Status s = CheckUniqueType(DataType::List(DataType::Of(TypeId::kInt32)));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("list"), std::string::npos);
}

columnar::SchemaPtr OrdersSchema() {
  return std::make_shared<const columnar::Schema>(columnar::Schema{
      {"id", DataType::Of(TypeId::kInt64)}, {"email", DataType::Of(TypeId::kString)}});
}

// 100 rows: ids 0..99 with `dupes` ids repeated, every `null_every`-th email NULL.
Batch Orders(int rows, int null_every, int dupes) {
  Batch b(OrdersSchema());
  for (int i = 0; i < rows; ++i) {
    b.mutable_column(0).Append<int64_t>(i < dupes ? 17 : i);
    if (null_every > 0 && i % null_every == 0)
      b.mutable_column(1).AppendNull();
    else
      b.mutable_column(1).AppendString("user" + std::to_string(i) + "@example.com");
    b.CommitRow();
  }
  return b;
}

std::vector<std::string> Check(const config::QualityConfig& q, const std::vector<Batch>& units) {
  Gate gate(q, "orders", 2);
  EXPECT_TRUE(gate.Bind(*OrdersSchema()).ok());
  for (size_t u = 0; u < units.size(); ++u) {
    auto tally = gate.NewTally(u);
    EXPECT_TRUE(tally->Observe(units[u]).ok());
    EXPECT_TRUE(gate.Accept(std::move(tally)).ok());
  }
  auto failures = gate.Failures();
  if (!failures.has_value()) return {"error: " + failures.error().message()};
  return *failures;
}

TEST(Gate, MessagesAreTheGuides) {
  config::QualityConfig q;
  q.row_count_min = 100;
  std::vector<Batch> units;
  units.push_back(Orders(42, 0, 0));
  EXPECT_EQ(Check(q, units), std::vector<std::string>{"row_count 42 below minimum 100"});

  q = {};
  q.row_count_max = 100;
  units.clear();
  units.push_back(Orders(60, 0, 0));
  units.push_back(Orders(41, 0, 0));
  EXPECT_EQ(Check(q, units), std::vector<std::string>{"row_count 101 exceeds maximum 100"});

  q = {};
  q.null_ratio_max = {{"email", 0.05}};
  units.clear();
  units.push_back(Orders(100, 0, 0));
  EXPECT_TRUE(Check(q, units).empty());
  units.clear();
  units.push_back(Orders(100, 9, 0));  // rows 0, 9, ..., 99: 12 NULLs
  EXPECT_EQ(Check(q, units),
            std::vector<std::string>{"column 'email': null ratio 0.1200 exceeds threshold 0.0500"});

  q = {};
  q.unique_columns = {"id"};
  units.clear();
  units.push_back(Orders(100, 0, 4));  // 17 four times, and 17 again at row 17
  EXPECT_EQ(Check(q, units),
            std::vector<std::string>{"column 'id': 4 duplicate values (first: 17)"});
}

TEST(Gate, BoundaryValuesPass) {
  config::QualityConfig q;
  q.row_count_min = 100;
  q.row_count_max = 100;
  q.null_ratio_max = {{"email", 0.25}};
  std::vector<Batch> units;
  units.push_back(Orders(100, 4, 0));  // exactly 25 NULLs
  EXPECT_TRUE(Check(q, units).empty());
}

TEST(Gate, AnUnknownColumnIsNamed) {
  config::QualityConfig q;
  q.null_ratio_max = {{"Email", 0.1}};
  Gate gate(q, "orders", 1);
  Status s = gate.Bind(*OrdersSchema());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kConfig);
  EXPECT_EQ(s.message(),
            "export 'orders': quality.null_ratio_max names column 'Email', which is not in the "
            "query's result (columns: id, email); did you mean 'email'? (names match exactly)");
  config::QualityConfig u;
  u.unique_columns = {"order_id"};
  Gate g2(u, "orders", 1);
  Status s2 = g2.Bind(*OrdersSchema());
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.message().find("quality.unique_columns names column 'order_id'"), std::string::npos);
}

// A try that failed is never accepted: its rows count nowhere.
TEST(Gate, OnlyAcceptedTriesCount) {
  config::QualityConfig q;
  q.row_count_max = 50;
  q.unique_columns = {"id"};
  Gate gate(q, "orders", 1);
  ASSERT_TRUE(gate.Bind(*OrdersSchema()).ok());
  {
    auto dropped = gate.NewTally(0);
    ASSERT_TRUE(dropped->Observe(Orders(40, 0, 0)).ok());
  }
  auto tally = gate.NewTally(0);
  ASSERT_TRUE(tally->Observe(Orders(40, 0, 0)).ok());
  ASSERT_TRUE(gate.Accept(std::move(tally)).ok());
  auto failures = gate.Failures();
  ASSERT_TRUE(failures.has_value());
  EXPECT_TRUE(failures->empty());
}

}  // namespace
}  // namespace rivet::quality
