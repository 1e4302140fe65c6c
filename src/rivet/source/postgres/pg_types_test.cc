// The PostgreSQL -> Rivet type mapping (reference §5) and the COPY statement built from it.
#include "rivet/source/postgres/pg_types.h"

#include <gtest/gtest.h>

namespace rivet::source::postgres {
namespace {

using columnar::DataType;
using columnar::TypeId;

int32_t NumericTypmod(int32_t precision, int32_t scale) { return ((precision << 16) | scale) + 4; }

ColumnPlan PlanOne(uint32_t type_oid, int32_t typmod = -1, const TypeCatalog& catalog = {}) {
  return PlanColumns({{"c", type_oid, typmod}}, catalog).at(0);
}

TEST(PgTypes, BuiltinScalarsMapPerReference) {
  struct Case {
    uint32_t oid;
    int32_t typmod;
    std::string type;
    ValueKind kind;
  };
  const Case cases[] = {
      {oid::kBool, -1, "bool", ValueKind::kBool},
      {oid::kInt2, -1, "int16", ValueKind::kInt16},
      {oid::kInt4, -1, "int32", ValueKind::kInt32},
      {oid::kInt8, -1, "int64", ValueKind::kInt64},
      {oid::kOid, -1, "int64", ValueKind::kOid},
      {oid::kFloat4, -1, "float32", ValueKind::kFloat32},
      {oid::kFloat8, -1, "float64", ValueKind::kFloat64},
      {oid::kNumeric, NumericTypmod(12, 2), "decimal(12,2)", ValueKind::kDecimal64},
      {oid::kNumeric, NumericTypmod(18, 0), "decimal(18,0)", ValueKind::kDecimal64},
      {oid::kNumeric, NumericTypmod(19, 4), "decimal(19,4)", ValueKind::kDecimal128},
      {oid::kNumeric, NumericTypmod(38, 38), "decimal(38,38)", ValueKind::kDecimal128},
      {oid::kNumeric, -1, "string", ValueKind::kNumericText},
      {oid::kNumeric, NumericTypmod(39, 2), "string", ValueKind::kNumericText},
      {oid::kText, -1, "string", ValueKind::kBytes},
      {oid::kVarchar, 14, "string", ValueKind::kBytes},
      {oid::kBpchar, 6, "string", ValueKind::kBytes},
      {oid::kName, -1, "string", ValueKind::kBytes},
      {oid::kBytea, -1, "binary", ValueKind::kBytes},
      {oid::kDate, -1, "date", ValueKind::kDate},
      {oid::kTime, -1, "time", ValueKind::kTime},
      {oid::kTimestamp, -1, "timestamp", ValueKind::kTimestamp},
      {oid::kTimestampTz, -1, "timestamptz", ValueKind::kTimestamp},
      {oid::kUuid, -1, "uuid", ValueKind::kUuid},
      {oid::kJson, -1, "json", ValueKind::kBytes},
      {oid::kJsonb, -1, "json", ValueKind::kJsonb},
  };
  for (const Case& c : cases) {
    ColumnPlan plan = PlanOne(c.oid, c.typmod);
    EXPECT_EQ(plan.field.type.ToString(), c.type) << c.oid;
    EXPECT_EQ(plan.decoder.value.kind, c.kind) << c.oid;
    EXPECT_EQ(plan.cast, "") << c.oid;
  }
}

TEST(PgTypes, NumericTypmodDecoding) {
  auto t = DecodeNumericTypmod(NumericTypmod(10, 2));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->precision, 10);
  EXPECT_EQ(t->scale, 2);
  EXPECT_FALSE(DecodeNumericTypmod(-1));
  // PostgreSQL 15 allows negative scales (numeric(5,-2)): stored as 11-bit two's complement.
  auto negative = DecodeNumericTypmod(((5 << 16) | (0x7ff & -2)) + 4);
  ASSERT_TRUE(negative);
  EXPECT_EQ(negative->scale, -2);
  EXPECT_EQ(PlanOne(oid::kNumeric, ((5 << 16) | (0x7ff & -2)) + 4).field.type.id, TypeId::kString);
  // Scale above precision (numeric(3,5)) cannot be a Parquet DECIMAL: exact text.
  EXPECT_EQ(PlanOne(oid::kNumeric, NumericTypmod(3, 5)).field.type.id, TypeId::kString);
}

TEST(PgTypes, UnknownTypesNeedTheCatalogThenCastToText) {
  constexpr uint32_t kInet = 869;
  std::vector<ResultColumn> columns = {{"ip", kInet, -1}, {"n", oid::kInt4, -1}};
  EXPECT_EQ(MissingTypeOids(columns, {}), std::vector<uint32_t>{kInet});
  TypeCatalog catalog{{kInet, PgTypeInfo{"inet", 'b', 0, 0, 'I', -1}}};
  EXPECT_TRUE(MissingTypeOids(columns, catalog).empty());
  auto plans = PlanColumns(columns, catalog);
  EXPECT_EQ(plans[0].cast, "(ARRAY[{}]::text::text[])[1]");  // inet: not its text() cast
  EXPECT_EQ(plans[0].field.type.id, TypeId::kString);
  EXPECT_EQ(plans[0].field.name, "ip");
  EXPECT_EQ(plans[1].cast, "");
  // Without catalog rows at all, the column is still exported as text, never dropped.
  EXPECT_EQ(PlanColumns(columns, {})[0].cast, "{}::text");
  EXPECT_EQ(PlanOne(oid::kInterval, -1, {{oid::kInterval, {"interval", 'b', 0, 0, 'T', -1}}}).cast,
            "{}::text");
}

TEST(PgTypes, DomainsEnumsCitextAndArrays) {
  constexpr uint32_t kPriceDomain = 90001, kMood = 90002, kCitext = 90003, kMoodArray = 90004,
                     kCitextArray = 90005, kInetArray = 1041, kInet = 869, kDomainArray = 90006,
                     kIntervalArray = 1187;
  TypeCatalog catalog{
      {kPriceDomain, {"price", 'd', 0, oid::kNumeric, 'N', NumericTypmod(10, 2)}},
      {kMood, {"mood", 'e', 0, 0, 'E', -1}},
      {kCitext, {"citext", 'b', 0, 0, 'S', -1}},
      {kMoodArray, {"_mood", 'b', kMood, 0, 'A', -1}},
      {kCitextArray, {"_citext", 'b', kCitext, 0, 'A', -1}},
      {kInetArray, {"_inet", 'b', kInet, 0, 'A', -1}},
      {kInet, {"inet", 'b', 0, 0, 'I', -1}},
      {kDomainArray, {"_price", 'b', kPriceDomain, 0, 'A', -1}},
      {kIntervalArray, {"_interval", 'b', oid::kInterval, 0, 'A', -1}},
      {oid::kInterval, {"interval", 'b', 0, 0, 'T', -1}},
  };
  EXPECT_EQ(PlanOne(kPriceDomain, -1, catalog).field.type, DataType::Decimal(10, 2));
  EXPECT_EQ(PlanOne(kMood, -1, catalog).field.type.id, TypeId::kString);
  EXPECT_EQ(PlanOne(kMood, -1, catalog).cast, "");
  EXPECT_EQ(PlanOne(kCitext, -1, catalog).field.type.id, TypeId::kString);
  ColumnPlan moods = PlanOne(kMoodArray, -1, catalog);
  EXPECT_EQ(moods.field.type.ToString(), "list<string>");
  EXPECT_EQ(moods.decoder.element_oid, kMood);
  EXPECT_EQ(moods.cast, "");
  EXPECT_EQ(PlanOne(kCitextArray, -1, catalog).field.type.ToString(), "list<string>");
  ColumnPlan prices = PlanOne(kDomainArray, -1, catalog);
  EXPECT_EQ(prices.field.type.ToString(), "list<decimal(10,2)>");
  EXPECT_EQ(prices.decoder.element_oid, kPriceDomain);
  EXPECT_EQ(prices.decoder.element_base_oid, oid::kNumeric);
  for (uint32_t array : {kInetArray, kIntervalArray}) {
    ColumnPlan plan = PlanOne(array, -1, catalog);
    EXPECT_EQ(plan.cast, "{}::text::text[]");
    EXPECT_EQ(plan.field.type.ToString(), "list<string>");
    EXPECT_EQ(plan.decoder.element_oid, oid::kText);
  }
  ColumnPlan numbers = PlanOne(1231, NumericTypmod(10, 2));
  EXPECT_EQ(numbers.field.type.ToString(), "list<decimal(10,2)>");
  EXPECT_EQ(PlanOne(1231).field.type.ToString(), "list<string>");
}

TEST(PgTypes, CopyQueryIsPlainWhenEveryColumnIsNative) {
  auto plans = PlanColumns({{"a", oid::kInt4, -1}, {"a", oid::kText, -1}}, {});
  EXPECT_EQ(BuildCopyQuery("SELECT 1 AS a, 'x' AS a;  \n", plans),
            "COPY (\nSELECT 1 AS a, 'x' AS a\n) TO STDOUT (FORMAT binary)");
}

TEST(PgTypes, CopyQueryCastsWithPositionalAliases) {
  constexpr uint32_t kInet = 869, kInetArray = 1041;
  TypeCatalog catalog{{kInet, {"inet", 'b', 0, 0, 'I', -1}},
                      {kInetArray, {"_inet", 'b', kInet, 0, 'A', -1}}};
  constexpr uint32_t kMoney = 790;
  catalog[kMoney] = {"money", 'b', 0, 0, 'N', -1};
  auto plans = PlanColumns(
      {{"id", oid::kInt4, -1}, {"id", kInet, -1}, {"addrs", kInetArray, -1}, {"cash", kMoney, -1}},
      catalog);
  EXPECT_EQ(BuildCopyQuery("SELECT * FROM t -- all of it", plans),
            "COPY (SELECT \"_c1\", (ARRAY[\"_c2\"]::text::text[])[1], \"_c3\"::text::text[], "
            "\"_c4\"::text FROM (\nSELECT * FROM t -- all of it\n) AS _rivet(\"_c1\", \"_c2\", "
            "\"_c3\", \"_c4\")) TO STDOUT (FORMAT binary)");
  // Schema names stay the original ones.
  EXPECT_EQ(plans[1].field.name, "id");
  EXPECT_EQ(plans[2].field.name, "addrs");
}

TEST(PgTypes, StripQueryAndQuoting) {
  EXPECT_EQ(StripQuery("  SELECT 1 ;; \n"), "SELECT 1");
  EXPECT_EQ(StripQuery(";"), "");
  EXPECT_EQ(QuotePgIdentifier("plain"), "\"plain\"");
  EXPECT_EQ(QuotePgIdentifier("we\"ird"), "\"we\"\"ird\"");
}

TEST(PgTypes, QuoteLiteralDoublesQuotesOnly) {
  struct Case {
    std::string_view text;
    std::string_view quoted;
  };
  const Case cases[] = {
      {"", "''"},
      {"plain", "'plain'"},
      {"it's", "'it''s'"},
      {"''", "''''''"},
      // standard_conforming_strings = on: a backslash is an ordinary character.
      {R"(back\slash\')", R"('back\slash\''')"},
      {"line\nbreak\ttab", "'line\nbreak\ttab'"},
      {"\xF0\x9F\x98\x80 ok", "'\xF0\x9F\x98\x80 ok'"},
  };
  for (const Case& c : cases) {
    auto quoted = QuotePgLiteral(c.text);
    ASSERT_TRUE(quoted.has_value()) << c.text;
    EXPECT_EQ(*quoted, c.quoted) << c.text;
  }
  auto nul = QuotePgLiteral(std::string_view("a\0b", 3));
  ASSERT_FALSE(nul.has_value());
  EXPECT_EQ(nul.error().code(), ErrorCode::kData);
}

}  // namespace
}  // namespace rivet::source::postgres
