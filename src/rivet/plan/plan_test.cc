#include "rivet/plan/plan.h"

#include <gtest/gtest.h>

#include <limits>

#include "rivet/plan/cursor.h"
#include "rivet/plan/shard.h"
#include "rivet/plan/sql.h"

namespace rivet::plan {
namespace {

// PostgreSQL's quoting (standard_conforming_strings = on), as PostgresSource does it.
Dialect Postgres() {
  Dialect d;
  d.engine = Engine::kPostgres;
  d.quote_identifier = [](std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    return out + "\"";
  };
  d.quote_literal = [](std::string_view s) -> Result<std::string> {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out.push_back('\'');
      out.push_back(c);
    }
    return out + "'";
  };
  return d;
}

Dialect Mysql() {
  Dialect d;
  d.engine = Engine::kMysql;
  d.quote_identifier = [](std::string_view s) { return "`" + std::string(s) + "`"; };
  d.quote_literal = [](std::string_view s) -> Result<std::string> {
    return "'" + std::string(s) + "'";
  };
  return d;
}

SystemTime At(int64_t unix_seconds) { return SystemTime(std::chrono::seconds(unix_seconds)); }

TEST(IncrementalQuery, FirstRunExportsEverythingInCursorOrder) {
  auto q = IncrementalQuery(Postgres(), "  SELECT * FROM t ;\n", "Updated At", std::nullopt);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*q, "SELECT * FROM (\nSELECT * FROM t\n) AS _rivet ORDER BY \"Updated At\"");
}

TEST(IncrementalQuery, QuotesTheIdentifierAndTheStoredValue) {
  auto q = IncrementalQuery(Postgres(), "SELECT 1 -- comment", "na\"me",
                            CursorValue{CursorKind::kText, "O'Brien"});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*q,
            "SELECT * FROM (\nSELECT 1 -- comment\n) AS _rivet WHERE \"na\"\"me\" > 'O''Brien' "
            "ORDER BY \"na\"\"me\"");
}

TEST(CursorLiteral, EveryKindPerDialect) {
  struct Case {
    CursorValue value;
    std::string postgres;
    std::string mysql;
  };
  const Case cases[] = {
      {{CursorKind::kInteger, "-42"}, "-42", "-42"},
      {{CursorKind::kDecimal, "12.50"}, "12.50", "12.50"},
      {{CursorKind::kDate, "2026-03-29"}, "'2026-03-29'", "'2026-03-29'"},
      {{CursorKind::kTimestamp, "2026-03-29T16:00:00.000001"},
       "'2026-03-29 16:00:00.000001'",
       "'2026-03-29 16:00:00.000001'"},
      {{CursorKind::kTimestampTz, "2026-03-29T16:00:00.000001"},
       "'2026-03-29 16:00:00.000001+00'",
       "'2026-03-29 16:00:00.000001'"},
      {{CursorKind::kText, "abc"}, "'abc'", "'abc'"},
  };
  for (const Case& c : cases) {
    auto pg = CursorLiteral(Postgres(), c.value);
    auto my = CursorLiteral(Mysql(), c.value);
    ASSERT_TRUE(pg.has_value() && my.has_value()) << c.value.text;
    EXPECT_EQ(*pg, c.postgres);
    EXPECT_EQ(*my, c.mysql);
  }
}

TEST(CursorLiteral, RefusesANumberThatIsNotOne) {
  for (std::string text : {"1; DROP TABLE t", "", "-", "1.", "1.2.3", "0x10"}) {
    auto r = CursorLiteral(Postgres(), CursorValue{CursorKind::kDecimal, text});
    EXPECT_FALSE(r.has_value()) << text;
  }
  EXPECT_FALSE(CursorLiteral(Postgres(), CursorValue{CursorKind::kInteger, "1.5"}).has_value());
}

TEST(CursorKind, NamesRoundTripAndUnknownIsText) {
  for (CursorKind k : {CursorKind::kInteger, CursorKind::kDecimal, CursorKind::kDate,
                       CursorKind::kTimestamp, CursorKind::kTimestampTz, CursorKind::kText}) {
    EXPECT_EQ(CursorKindFromString(ToString(k)), k);
  }
  EXPECT_EQ(CursorKindFromString(""), CursorKind::kText);
}

TEST(TimeWindowQuery, BoundIsUtcMidnight) {
  // 2026-03-29T16:30:00Z; 7 days back from that UTC day is 2026-03-22T00:00:00Z.
  const SystemTime now = At(1774801800);
  EXPECT_EQ(UtcMidnightDaysAgo(now, 7), int64_t{1774137600} * 1000000);
  auto pg = TimeWindowQuery(Postgres(), "SELECT * FROM e", "created_at",
                            config::TimeColumnType::kTimestamp, 7, now);
  ASSERT_TRUE(pg.has_value());
  EXPECT_EQ(*pg,
            "SELECT * FROM (\nSELECT * FROM e\n) AS _rivet WHERE \"created_at\" >= "
            "'2026-03-22 00:00:00+00'");
  auto my = TimeWindowQuery(Mysql(), "SELECT * FROM e", "created_at",
                            config::TimeColumnType::kTimestamp, 7, now);
  ASSERT_TRUE(my.has_value());
  EXPECT_EQ(*my,
            "SELECT * FROM (\nSELECT * FROM e\n) AS _rivet WHERE `created_at` >= "
            "'2026-03-22 00:00:00'");
  auto unix_bound =
      TimeWindowQuery(Mysql(), "SELECT * FROM e", "ts", config::TimeColumnType::kUnix, 7, now);
  ASSERT_TRUE(unix_bound.has_value());
  EXPECT_EQ(*unix_bound, "SELECT * FROM (\nSELECT * FROM e\n) AS _rivet WHERE `ts` >= 1774137600");
}

TEST(TimeWindowQuery, ExactlyMidnightAndBeforeTheEpoch) {
  EXPECT_EQ(UtcMidnightDaysAgo(At(86400), 1), 0);
  EXPECT_EQ(UtcMidnightDaysAgo(At(86399), 0), 0);
  EXPECT_EQ(UtcMidnightDaysAgo(At(-1), 0), -int64_t{86400} * 1000000);
}

TEST(ChunkQueries, WindowsNullsAndMinMax) {
  EXPECT_EQ(ChunkQuery(Postgres(), "SELECT * FROM t", "id", -5, 4),
            "SELECT * FROM (\nSELECT * FROM t\n) AS _rivet WHERE \"id\" >= -5 AND \"id\" <= 4");
  EXPECT_EQ(NullChunkQuery(Mysql(), "SELECT * FROM t;", "id"),
            "SELECT * FROM (\nSELECT * FROM t\n) AS _rivet WHERE `id` IS NULL");
  EXPECT_EQ(MinMaxQuery(Postgres(), "SELECT * FROM t", "id"),
            "SELECT MIN(\"id\"), MAX(\"id\") FROM (\nSELECT * FROM t\n) AS _rivet");
}

TEST(ChunkWindows, CoverTheRangeOnceAndClampTheLast) {
  EXPECT_EQ(ChunkWindows(1, 10, 4), (std::vector<ChunkWindow>{{1, 4}, {5, 8}, {9, 10}}));
  EXPECT_EQ(ChunkWindows(-3, 2, 3), (std::vector<ChunkWindow>{{-3, -1}, {0, 2}}));
  EXPECT_EQ(ChunkWindows(7, 7, 100), (std::vector<ChunkWindow>{{7, 7}}));
  EXPECT_EQ(ChunkWindows(1, 8, 4), (std::vector<ChunkWindow>{{1, 4}, {5, 8}}));
  EXPECT_TRUE(ChunkWindows(2, 1, 4).empty());
}

TEST(ChunkWindows, TheWholeInt64RangeWithoutOverflow) {
  constexpr int64_t lo = std::numeric_limits<int64_t>::min();
  constexpr int64_t hi = std::numeric_limits<int64_t>::max();
  auto w = ChunkWindows(lo, hi, std::numeric_limits<int64_t>::max());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w.front().lo, lo);
  EXPECT_EQ(w.back().hi, hi);
  for (size_t i = 1; i < w.size(); ++i) EXPECT_EQ(w[i].lo, w[i - 1].hi + 1);
  auto near_max = ChunkWindows(hi - 2, hi, 2);
  EXPECT_EQ(near_max, (std::vector<ChunkWindow>{{hi - 2, hi - 1}, {hi, hi}}));
}

TEST(ParseChunkKey, IntegersOnlyWithAClearMessage) {
  EXPECT_EQ(*ParseChunkKey("e", "id", "-17"), -17);
  auto bad = ParseChunkKey("events", "created_at", "2026-03-29 10:00:00");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("export 'events': chunk_column 'created_at' must be an "
                                       "integer column"),
            std::string::npos);
}

TEST(ChunkSpecs, WindowsThenTheNullChunkIndexedInOrder) {
  EXPECT_EQ(ChunkSpecs(ChunkWindow{-3, 5}, 4), (std::vector<ChunkSpec>{{0, ChunkWindow{-3, 0}},
                                                                       {1, ChunkWindow{1, 4}},
                                                                       {2, ChunkWindow{5, 5}},
                                                                       {3, std::nullopt}}));
  // No non-NULL key at all: only the NULL chunk, never "nothing to do".
  EXPECT_EQ(ChunkSpecs(std::nullopt, 4), (std::vector<ChunkSpec>{{0, std::nullopt}}));
}

TEST(ChunkSpecs, TaskKeysRoundTripAndCorruptOnesAreRefused) {
  for (const ChunkSpec& spec : ChunkSpecs(
           ChunkWindow{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
           std::numeric_limits<int64_t>::max())) {
    auto [start, end] = ChunkTaskKeys(spec);
    auto back = ChunkSpecFromTask(spec.index, start, end);
    ASSERT_TRUE(back.has_value()) << start << ".." << end;
    EXPECT_EQ(*back, spec);
  }
  for (auto [start, end] : std::vector<std::pair<std::string, std::string>>{
           {"1", "x"}, {"", "5"}, {"NULL", "5"}, {"9", "3"}, {"1 ", "2"}}) {
    auto bad = ChunkSpecFromTask(4, start, end);
    ASSERT_FALSE(bad.has_value()) << start << ".." << end;
    EXPECT_EQ(bad.error().code(), ErrorCode::kCorrupt);
    EXPECT_NE(bad.error().message().find("chunk 4"), std::string::npos);
  }
}

TEST(Fingerprint, StableAndSensitiveToEveryPart) {
  EXPECT_EQ(Fingerprint({"SELECT 1", "id", "100"}), Fingerprint({"SELECT 1", "id", "100"}));
  EXPECT_NE(Fingerprint({"SELECT 1", "id", "100"}), Fingerprint({"SELECT 1", "id", "101"}));
  EXPECT_NE(Fingerprint({"ab", "c"}), Fingerprint({"a", "bc"}));
  EXPECT_EQ(Fingerprint({}).size(), 16u);
}

}  // namespace
}  // namespace rivet::plan

namespace rivet::plan {
namespace {

using columnar::Column;
using columnar::DataType;
using columnar::TypeId;

TEST(LastCursorValue, TheLastNonNullValueOfEachKind) {
  Column ints(DataType::Of(TypeId::kInt64));
  ints.Append<int64_t>(5);
  ints.Append<int64_t>(-9);
  ints.AppendNull();
  auto v = LastCursorValue("id", ints);
  ASSERT_TRUE(v.has_value() && v->has_value());
  EXPECT_EQ(**v, (CursorValue{CursorKind::kInteger, "-9"}));

  Column big(DataType::Of(TypeId::kUInt64));
  big.Append<int64_t>(-1);  // the bit pattern of 2^64-1
  EXPECT_EQ(LastCursorValue("u", big)->value().text, "18446744073709551615");

  Column dec(DataType::Decimal(30, 4));
  dec.Append<columnar::Int128>(-5);
  EXPECT_EQ(LastCursorValue("d", dec)->value(), (CursorValue{CursorKind::kDecimal, "-0.0005"}));

  Column small_dec(DataType::Decimal(10, 2));
  small_dec.Append<int64_t>(1230);
  EXPECT_EQ(LastCursorValue("d", small_dec)->value().text, "12.30");

  Column date(DataType::Of(TypeId::kDate));
  date.Append<int32_t>(-1);
  EXPECT_EQ(LastCursorValue("d", date)->value(), (CursorValue{CursorKind::kDate, "1969-12-31"}));

  Column ts(DataType::Of(TypeId::kTimestampTz));
  ts.Append<int64_t>(-1);  // one microsecond before the epoch
  EXPECT_EQ(LastCursorValue("t", ts)->value(),
            (CursorValue{CursorKind::kTimestampTz, "1969-12-31T23:59:59.999999"}));

  Column text(DataType::Of(TypeId::kString));
  text.AppendString("it's");
  text.AppendNull();
  EXPECT_EQ(LastCursorValue("s", text)->value(), (CursorValue{CursorKind::kText, "it's"}));
}

TEST(LastCursorValue, AllNullIsNoValueAndFloatsAreRefused) {
  Column ints(DataType::Of(TypeId::kInt32));
  ints.AppendNull();
  auto none = LastCursorValue("id", ints);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  Column f(DataType::Of(TypeId::kFloat64));
  f.Append<double>(1.5);
  auto refused = LastCursorValue("score", f);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("cursor_column 'score' has type"), std::string::npos);
}

}  // namespace
}  // namespace rivet::plan

namespace rivet::plan {
namespace {

TEST(ParseShard, IndexAndCount) {
  EXPECT_EQ(ParseShard("0/1", std::nullopt).value(), (Shard{0, 1}));
  EXPECT_EQ(ParseShard("2/3", std::nullopt).value(), (Shard{2, 3}));
  // An explicit index wins over the environment.
  EXPECT_EQ(ParseShard("1/4", "3").value(), (Shard{1, 4}));
}

TEST(ParseShard, CountAloneTakesTheJobCompletionIndex) {
  EXPECT_EQ(ParseShard("4", "3").value(), (Shard{3, 4}));
  auto unset = ParseShard("4", std::nullopt);
  ASSERT_FALSE(unset.has_value());
  EXPECT_NE(unset.error().message().find("JOB_COMPLETION_INDEX is not set"), std::string::npos);
  auto beyond = ParseShard("4", "4");
  ASSERT_FALSE(beyond.has_value());
  EXPECT_NE(beyond.error().message().find("below 4"), std::string::npos);
  EXPECT_FALSE(ParseShard("4", "x").has_value());
}

TEST(ParseShard, RefusesMalformedAndOutOfRange) {
  for (const char* bad :
       {"", "/", "1/", "/2", "a/2", "1/b", "-1/2", "2/2", "0/0", "1/2/3", " 1/2"}) {
    auto r = ParseShard(bad, std::nullopt);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code(), ErrorCode::kConfig) << bad;
    }
  }
}

TEST(Shard, EveryChunkBelongsToExactlyOneShard) {
  for (int64_t count = 1; count <= 5; ++count) {
    for (int64_t chunk = 0; chunk < 23; ++chunk) {
      int owners = 0;
      for (int64_t i = 0; i < count; ++i) owners += Shard{i, count}.Owns(chunk) ? 1 : 0;
      EXPECT_EQ(owners, 1) << chunk << " of " << count;
    }
  }
}

}  // namespace
}  // namespace rivet::plan
