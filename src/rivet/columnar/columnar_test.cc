#include <gtest/gtest.h>

#include "rivet/columnar/batch.h"

namespace rivet::columnar {
namespace {

TEST(Column, KeepsRowsAlignedAcrossNulls) {
  Column c(DataType::Of(TypeId::kInt64));
  c.Append<int64_t>(7);
  c.AppendNull();
  c.Append<int64_t>(-1);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(c.values<int64_t>(), (std::vector<int64_t>{7, 0, -1}));
  EXPECT_EQ(c.validity(), (std::vector<uint8_t>{1, 0, 1}));
}

TEST(Column, DistinguishesEmptyStringFromNull) {
  Column c(DataType::Of(TypeId::kString));
  c.AppendString("a,b");
  c.AppendString("");
  c.AppendNull();
  EXPECT_EQ(c.StringAt(0), "a,b");
  EXPECT_EQ(c.StringAt(1), "");
  EXPECT_TRUE(c.IsValid(1));
  EXPECT_FALSE(c.IsValid(2));
  EXPECT_EQ(c.offsets(), (std::vector<int64_t>{0, 3, 3, 3}));
}

TEST(Column, ListsOffsetIntoChild) {
  Column c(DataType::List(DataType::Of(TypeId::kInt32)));
  c.mutable_child().Append<int32_t>(1);
  c.mutable_child().AppendNull();
  c.CloseList();
  c.AppendNull();
  c.CloseList();  // empty list
  EXPECT_EQ(c.offsets(), (std::vector<int64_t>{0, 2, 2, 2}));
  EXPECT_EQ(c.child().size(), 2u);
  EXPECT_EQ(c.null_count(), 1u);
  c.Clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.child().size(), 0u);
  EXPECT_EQ(c.offsets(), (std::vector<int64_t>{0}));
}

TEST(DataType, NamesAndStorage) {
  EXPECT_EQ(DataType::Decimal(12, 2).ToString(), "decimal(12,2)");
  EXPECT_EQ(DataType::Decimal(12, 2).storage(), Storage::kI64);
  EXPECT_EQ(DataType::Decimal(30, 2).storage(), Storage::kI128);
  EXPECT_EQ(DataType::List(DataType::Of(TypeId::kString)).ToString(), "list<string>");
  EXPECT_EQ(DataType::List(DataType::Of(TypeId::kInt32)),
            DataType::List(DataType::Of(TypeId::kInt32)));
  EXPECT_FALSE(DataType::Decimal(12, 2) == DataType::Decimal(12, 3));
}

TEST(Batch, EstimatesRowBytesFromTheReferenceTable) {
  Schema schema = {{"id", DataType::Of(TypeId::kInt64)},
                   {"name", DataType::Of(TypeId::kString)},
                   {"ok", DataType::Of(TypeId::kBool)}};
  EXPECT_EQ(EstimatedRowBytes(schema), 8 + 256 + 1 + 3);
  Batch b(std::make_shared<const Schema>(schema));
  b.mutable_column(0).Append<int64_t>(1);
  b.mutable_column(1).AppendString("x");
  b.mutable_column(2).Append<uint8_t>(1);
  b.CommitRow();
  EXPECT_EQ(b.num_rows(), 1u);
  b.Clear();
  EXPECT_EQ(b.num_rows(), 0u);
  EXPECT_EQ(b.column(1).size(), 0u);
}

TEST(Batch, ExtraColumnsComeAndGoKeepingTheirCapacity) {
  auto base = std::make_shared<const Schema>(Schema{{"id", DataType::Of(TypeId::kInt64)}});
  auto extended = std::make_shared<const Schema>(
      Schema{{"id", DataType::Of(TypeId::kInt64)}, {"h", DataType::Of(TypeId::kInt64)}});
  Batch b(base);
  for (int round = 0; round < 2; ++round) {
    b.Clear();
    b.mutable_column(0).Append<int64_t>(round);
    b.CommitRow();
    b.ExtendColumns(extended);
    EXPECT_EQ(b.schema(), extended);
    ASSERT_EQ(b.num_columns(), 2u);
    EXPECT_EQ(b.column(1).size(), 0u);  // the last round's values are gone
    for (int i = 0; i < 100; ++i) b.mutable_column(1).Append<int64_t>(i);
    const size_t capacity = b.column(1).values<int64_t>().capacity();
    b.DropExtraColumns();
    EXPECT_EQ(b.schema(), base);
    EXPECT_EQ(b.num_columns(), 1u);
    EXPECT_EQ(b.column(0).values<int64_t>(), std::vector<int64_t>{round});
    b.ExtendColumns(extended);
    EXPECT_GE(b.column(1).values<int64_t>().capacity(), capacity);
    b.DropExtraColumns();
  }
  b.DropExtraColumns();  // not extended: nothing to do
  EXPECT_EQ(b.num_columns(), 1u);
}

}  // namespace
}  // namespace rivet::columnar

#include "rivet/columnar/temporal.h"

namespace rivet::columnar {
namespace {

TEST(Temporal, RoundTripsCivilDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 1, 1), 10957);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(1900, 3, 1), -25508);
  for (int64_t d = -800000; d <= 800000; d += 997) {
    CivilDate c = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  CivilDate leap = CivilFromDays(DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(leap.year, 2024);
  EXPECT_EQ(leap.month, 2u);
  EXPECT_EQ(leap.day, 29u);
  EXPECT_EQ(FloorDiv(-1, kMicrosPerDay), -1);
  EXPECT_EQ(FloorDiv(kMicrosPerDay, kMicrosPerDay), 1);
}

}  // namespace
}  // namespace rivet::columnar
