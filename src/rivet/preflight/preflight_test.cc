// The plan parsers against plans captured from PostgreSQL 15 and MariaDB 10.11
// (tests/fixtures/plans, made by scripts/regen-plan-fixtures.sh), and the judgement rules of
// reference §3 at every boundary.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rivet/preflight/check.h"
#include "rivet/preflight/explain.h"
#include "rivet/preflight/verdict.h"

namespace rivet::preflight {
namespace {

using config::Mode;
using config::Profile;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(RIVET_SOURCE_DIR) + "/tests/fixtures/plans/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

PlanFacts Pg(const std::string& name) {
  auto facts = ParsePostgresPlan(Fixture("pg_" + name + ".json"));
  EXPECT_TRUE(facts.has_value()) << name << ": " << facts.error().message();
  return facts.has_value() ? *facts : PlanFacts{};
}

PlanFacts My(const std::string& name) {
  auto facts = ParseMysqlPlan(Fixture("mysql_" + name + ".json"));
  EXPECT_TRUE(facts.has_value()) << name << ": " << facts.error().message();
  return facts.has_value() ? *facts : PlanFacts{};
}

TEST(PostgresPlan, SequentialScanOfAWholeTable) {
  PlanFacts f = Pg("seq_scan");
  EXPECT_EQ(f.rows, 200000);
  EXPECT_GT(f.width, 0);
  EXPECT_FALSE(f.index_used);
  EXPECT_EQ(f.scan, "Seq Scan on plain (cost=0.00..4273.00 rows=200000 width=53)");
}

TEST(PostgresPlan, IncrementalQueriesWithAndWithoutAnIndex) {
  PlanFacts indexed = Pg("incremental_index");
  EXPECT_TRUE(indexed.index_used);
  EXPECT_TRUE(indexed.scan.starts_with("Index Scan using events_pkey on events (cost="))
      << indexed.scan;
  EXPECT_NEAR(indexed.rows, 50000, 10000);
  // A Sort over a Seq Scan: the scan is shown, not the sort.
  PlanFacts unindexed = Pg("incremental_no_index");
  EXPECT_FALSE(unindexed.index_used);
  EXPECT_TRUE(unindexed.scan.starts_with("Seq Scan on plain (cost=")) << unindexed.scan;
}

TEST(PostgresPlan, MinMaxFromAnIndexAndFromAScan) {
  PlanFacts indexed = Pg("min_max_index");
  EXPECT_EQ(indexed.rows, 1);
  EXPECT_TRUE(indexed.index_used);
  EXPECT_NE(indexed.scan.find("Index Only Scan"), std::string::npos) << indexed.scan;
  PlanFacts scanned = Pg("min_max_no_index");
  EXPECT_FALSE(scanned.index_used);
  // Under Aggregate and Gather: a parallel worker's scan.
  EXPECT_TRUE(scanned.scan.starts_with("Parallel Seq Scan on plain")) << scanned.scan;
}

TEST(PostgresPlan, BitmapHeapScanCountsAsAnIndex) {
  PlanFacts f = Pg("bitmap");
  EXPECT_TRUE(f.index_used);
  EXPECT_TRUE(f.scan.starts_with("Bitmap Heap Scan on events (cost=")) << f.scan;
}

TEST(PostgresPlan, JoinsCtesAndGatherAreJudgedByTheHeaviestScan) {
  PlanFacts join = Pg("join");
  EXPECT_FALSE(join.index_used);  // events is read whole; customers is small
  EXPECT_TRUE(join.scan.starts_with("Seq Scan on events e (cost=")) << join.scan;
  EXPECT_EQ(join.rows, 200000);

  PlanFacts cte = Pg("cte");
  EXPECT_TRUE(cte.index_used);  // the CTE reads events through its primary key
  EXPECT_TRUE(cte.scan.starts_with("Index Scan using events_pkey on events")) << cte.scan;

  PlanFacts gather = Pg("gather");
  EXPECT_FALSE(gather.index_used);
  EXPECT_TRUE(gather.scan.starts_with("Parallel Seq Scan on plain")) << gather.scan;
  EXPECT_GT(gather.rows, 5000);  // the Gather's total, not one worker's share
}

TEST(PostgresPlan, BackwardIndexScansAndAliasesPrintLikePostgres) {
  auto f = ParsePostgresPlan(R"json([{"Plan": {"Node Type": "Index Scan",
    "Scan Direction": "Backward", "Index Name": "t_pkey", "Relation Name": "t", "Alias": "x",
    "Startup Cost": 0.29, "Total Cost": 8.31, "Plan Rows": 1, "Plan Width": 12}}])json");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->scan, "Index Scan Backward using t_pkey on t x (cost=0.29..8.31 rows=1 width=12)");
  auto values = ParsePostgresPlan(R"json([{"Plan": {"Node Type": "Result",
    "Startup Cost": 0.0, "Total Cost": 0.01, "Plan Rows": 1, "Plan Width": 4}}])json");
  ASSERT_TRUE(values.has_value());
  EXPECT_FALSE(values->index_used);
  EXPECT_EQ(values->scan, "Result (cost=0.00..0.01 rows=1 width=4)");
}

TEST(PostgresPlan, NotAPlanIsAnError) {
  EXPECT_EQ(ParsePostgresPlan("not json").error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(ParsePostgresPlan("[]").error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(ParsePostgresPlan(R"json({"query_block": {}})json").error().code(),
            ErrorCode::kCorrupt);
}

TEST(MysqlPlan, FullTableScanAndRange) {
  PlanFacts all = My("seq_scan");
  EXPECT_FALSE(all.index_used);
  EXPECT_EQ(all.scan, "ALL on plain (full table scan, rows=199104)");
  EXPECT_EQ(all.rows, 199104);
  EXPECT_EQ(all.width, 0);  // MySQL does not estimate it

  PlanFacts range = My("incremental_index");
  EXPECT_TRUE(range.index_used);
  EXPECT_TRUE(range.scan.starts_with("range on events using PRIMARY (index range scan"))
      << range.scan;
  // filesort around the table
  PlanFacts sorted = My("incremental_no_index");
  EXPECT_FALSE(sorted.index_used);
  EXPECT_TRUE(sorted.scan.starts_with("ALL on plain")) << sorted.scan;
}

TEST(MysqlPlan, FilteredRowsScaleTheEstimate) {
  PlanFacts f = My("time_window");
  EXPECT_FALSE(f.index_used);  // possible_keys only: the optimizer chose ALL
  EXPECT_NEAR(f.rows, 199177 * 0.2768391991, 1);
  EXPECT_NE(f.scan.find("filtered=27.68%"), std::string::npos) << f.scan;
}

TEST(MysqlPlan, MinMaxOptimizedAwayIsAnIndex) {
  PlanFacts f = My("min_max_index");
  EXPECT_TRUE(f.index_used);
  EXPECT_EQ(f.rows, 1);
  EXPECT_EQ(f.scan, "Select tables optimized away");
  EXPECT_FALSE(My("min_max_no_index").index_used);
}

TEST(MysqlPlan, NestedLoopJoinMaterializedDerivedAndUnion) {
  PlanFacts join = My("join");
  EXPECT_FALSE(join.index_used);  // e is scanned whole; c by eq_ref
  EXPECT_TRUE(join.scan.starts_with("ALL on e")) << join.scan;
  EXPECT_EQ(join.rows, 199104);  // 199104 x 1

  PlanFacts derived = My("materialized");
  EXPECT_FALSE(derived.index_used);
  EXPECT_TRUE(derived.scan.starts_with("ALL on plain")) << derived.scan;  // not <derived2>

  PlanFacts u = My("union");
  EXPECT_EQ(u.rows, 99 + 199104);
  EXPECT_FALSE(u.index_used);  // the heavy branch scans plain
}

TEST(MysqlPlan, Mysql8ShapesAndJoinProducts) {
  auto f = ParseMysqlPlan(R"json({"query_block": {"select_id": 1,
    "cost_info": {"query_cost": "120.50"},
    "nested_loop": [
      {"table": {"table_name": "a", "access_type": "ALL", "rows_examined_per_scan": 1000,
                 "rows_produced_per_join": 1000, "filtered": "100.00",
                 "cost_info": {"read_cost": "10.00"}}},
      {"table": {"table_name": "b", "access_type": "ref", "key": "b_a", "rows_examined_per_scan": 5,
                 "rows_produced_per_join": 5000, "filtered": "100.00"}}]}})json");
  ASSERT_TRUE(f.has_value()) << f.error().message();
  EXPECT_EQ(f->rows, 5000);
  EXPECT_FALSE(f->index_used);
  EXPECT_EQ(f->scan, "ALL on a (full table scan, rows=1000, cost=10.00)");
  auto impossible = ParseMysqlPlan(
      R"json({"query_block": {"select_id": 1, "table": {"message": "Impossible WHERE"}}})json");
  ASSERT_TRUE(impossible.has_value());
  EXPECT_EQ(impossible->rows, 0);
  EXPECT_FALSE(impossible->index_used);
  EXPECT_EQ(ParseMysqlPlan("[1]").error().code(), ErrorCode::kCorrupt);
}

TEST(Estimate, Formats) {
  EXPECT_EQ(FormatEstimate(0), "~0");
  EXPECT_EQ(FormatEstimate(850), "~850");
  EXPECT_EQ(FormatEstimate(1000), "~1K");
  EXPECT_EQ(FormatEstimate(1500), "~1.5K");
  EXPECT_EQ(FormatEstimate(50000), "~50K");
  EXPECT_EQ(FormatEstimate(999999), "~1M");
  EXPECT_EQ(FormatEstimate(1234567), "~1.2M");
  EXPECT_EQ(FormatEstimate(25e6), "~25M");
}

// Reference §3 at every boundary of rows, index use and cursor presence.
TEST(Rules, VerdictProfileAndParallelismTable) {
  struct Row {
    double rows;
    bool index;
    bool cursor;
    Verdict verdict;
    Profile profile;
    int64_t chunked_parallel;
  };
  const Row table[] = {
      // index + cursor: EFFICIENT <= 10M, ACCEPTABLE above
      {49'999, true, true, Verdict::kEfficient, Profile::kFast, 1},
      {50'000, true, true, Verdict::kEfficient, Profile::kFast, 2},
      {499'999, true, true, Verdict::kEfficient, Profile::kFast, 2},
      {500'000, true, true, Verdict::kEfficient, Profile::kFast, 4},
      {1'000'000, true, true, Verdict::kEfficient, Profile::kFast, 4},
      {1'000'001, true, true, Verdict::kEfficient, Profile::kBalanced, 4},
      {10'000'000, true, true, Verdict::kEfficient, Profile::kBalanced, 4},
      {10'000'001, true, true, Verdict::kAcceptable, Profile::kSafe, 4},
      // index without cursor: ACCEPTABLE <= 10M
      {10'000'000, true, false, Verdict::kAcceptable, Profile::kBalanced, 4},
      {10'000'001, true, false, Verdict::kDegraded, Profile::kSafe, 4},
      // no index: DEGRADED <= 1M, <= 50M with a cursor, UNSAFE beyond
      {1'000'000, false, false, Verdict::kDegraded, Profile::kBalanced, 2},
      {1'000'001, false, false, Verdict::kUnsafe, Profile::kSafe, 2},
      {1'000'001, false, true, Verdict::kDegraded, Profile::kSafe, 2},
      {5'000'000, false, true, Verdict::kDegraded, Profile::kSafe, 2},
      {5'000'001, false, true, Verdict::kDegraded, Profile::kSafe, 1},
      {50'000'000, false, true, Verdict::kDegraded, Profile::kSafe, 1},
      {50'000'001, false, true, Verdict::kUnsafe, Profile::kSafe, 1},
      {49'999, false, true, Verdict::kDegraded, Profile::kBalanced, 1},
  };
  for (const Row& r : table) {
    const Judged j{r.rows, r.index, r.cursor};
    SCOPED_TRACE(testing::Message()
                 << r.rows << " rows, index=" << r.index << " cursor=" << r.cursor);
    EXPECT_EQ(JudgeVerdict(j), r.verdict);
    EXPECT_EQ(RecommendProfile(j), r.profile);
    EXPECT_EQ(RecommendParallelism(j, Mode::kChunked).value, r.chunked_parallel);
    for (Mode m : {Mode::kFull, Mode::kIncremental, Mode::kTimeWindow}) {
      EXPECT_EQ(RecommendParallelism(j, m).value, 1);
    }
  }
  EXPECT_EQ(RecommendParallelism({10, false, false}, Mode::kFull).reason,
            "only chunked mode benefits from parallelism");
  EXPECT_EQ(RecommendParallelism({5e6, true, true}, Mode::kChunked).reason,
            "large dataset with index support");
}

TEST(Rules, SparseKeyRange) {
  // 1000 rows over keys 1..1,000,000 in windows of 10,000: 0.1% dense, 100 windows.
  EXPECT_TRUE(SparseKeyRange(1000, 1, 1'000'000, 10'000));
  // dense enough: 10% exactly is not sparse
  EXPECT_FALSE(SparseKeyRange(100'000, 1, 1'000'000, 10'000));
  EXPECT_TRUE(SparseKeyRange(99'999, 1, 1'000'000, 10'000));
  // sparse but only 10 windows: not worth a warning
  EXPECT_FALSE(SparseKeyRange(10, 1, 100'000, 10'000));
  EXPECT_TRUE(SparseKeyRange(10, 1, 100'001, 10'000));
  // the whole int64 range does not overflow
  EXPECT_TRUE(SparseKeyRange(1e6, INT64_MIN, INT64_MAX, 100'000));
  EXPECT_FALSE(SparseKeyRange(10, 5, 4, 1));
}

TEST(Rules, BatchMemory) {
  EXPECT_EQ(BatchMemoryBytes(100, 10'000, 1), 2'000'000);
  EXPECT_EQ(BatchMemoryBytes(100, 10'000, 4), 8'000'000);
  EXPECT_GT(BatchMemoryBytes(2000, 50'000, 4), kMemoryBudgetBytes);
}

TEST(Rules, SuggestionsNameTheColumnAndTheFix) {
  EXPECT_EQ(Suggestion(Verdict::kDegraded, {50000, false, false}, Mode::kFull, ""),
            "No index detected -- full table scan. Add an indexed cursor column and switch to "
            "incremental mode.");
  std::string s = Suggestion(Verdict::kUnsafe, {6e7, false, true}, Mode::kIncremental, "id");
  EXPECT_NE(s.find("Create an index on 'id'"), std::string::npos) << s;
  EXPECT_NE(s.find("Do NOT run"), std::string::npos) << s;
  EXPECT_NE(Suggestion(Verdict::kEfficient, {5, true, true}, Mode::kChunked, "id").find("'id'"),
            std::string::npos);
}

TEST(Connections, ParallelExportsSumEveryExportsConnections) {
  config::ExportConfig full;
  full.mode = Mode::kFull;
  config::ExportConfig chunked;
  chunked.mode = Mode::kChunked;
  chunked.parallel = 4;
  EXPECT_EQ(ConnectionsFor(full), 1);
  EXPECT_EQ(ConnectionsFor(chunked), 5);  // 4 workers + the coordinator

  // 1 + 5 + 1 = 7 at once; free = 10 - 3 reserved - 2 in use + the asking one = 6.
  const ServerConnections server{.max_connections = 10, .reserved = 3, .in_use = 2};
  auto warning = ParallelConnectionWarning({&full, &chunked, &full}, server);
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("open 7 connections at once (3 exports"), std::string::npos) << *warning;
  EXPECT_NE(warning->find("server has 6 free (max_connections=10, 3 reserved, 1 in use"),
            std::string::npos)
      << *warning;
  EXPECT_NE(warning->find("lower parallel"), std::string::npos) << *warning;
  // Exactly the free connections fit.
  EXPECT_FALSE(ParallelConnectionWarning({&full, &chunked}, server).has_value());
  // A server with no room at all reports 0 free, never a negative number.
  auto full_server =
      ParallelConnectionWarning({&full, &full}, {.max_connections = 5, .reserved = 3, .in_use = 9});
  ASSERT_TRUE(full_server.has_value());
  EXPECT_NE(full_server->find("server has 0 free"), std::string::npos) << *full_server;
}

TEST(Format, ReferenceLayoutAndTheConnectionWarning) {
  CheckReport r;
  r.export_name = "users_full";
  r.strategy = "full-scan";
  r.mode = "full";
  r.rows = 50000;
  r.plan.scan = "Seq Scan on users (cost=0.00..1234.00 rows=50000 width=84)";
  r.verdict = Verdict::kDegraded;
  r.profile = Profile::kBalanced;
  r.parallelism = {1, "only chunked mode benefits from parallelism"};
  r.suggestion = "No index detected -- full table scan.";
  CheckReport chunked = r;
  chunked.export_name = "events";
  chunked.connections = 9;

  config::Config cfg;
  std::vector<CheckReport> reports = {r, chunked};
  WarnAboutConnections(cfg, {.max_connections = 10, .reserved = 3, .in_use = 2}, reports);
  EXPECT_TRUE(reports[0].warnings.empty());  // 1 <= 10 - 3 - 2 + 1
  ASSERT_EQ(reports[1].warnings.size(), 1u);
  EXPECT_NE(reports[1].warnings[0].find("opens 9 connections (parallel 8 + 1"), std::string::npos)
      << reports[1].warnings[0];
  EXPECT_NE(reports[1].warnings[0].find("server has 6 free"), std::string::npos);

  cfg.parallel_exports = true;  // summed: 1 + 6 > 6
  reports = {r, chunked};
  reports[1].connections = 6;
  WarnAboutConnections(cfg, {.max_connections = 10, .reserved = 3, .in_use = 2}, reports);
  EXPECT_EQ(reports[0].warnings.size(), 1u);
  EXPECT_EQ(reports[1].warnings.size(), 1u);

  EXPECT_EQ(FormatCheck(r),
            "Export: users_full\n"
            "  Strategy:     full-scan\n"
            "  Mode:         full\n"
            "  Row estimate: ~50K\n"
            "  Scan type:    Seq Scan on users (cost=0.00..1234.00 rows=50000 width=84)\n"
            "  Verdict:      DEGRADED\n"
            "  Recommended:  tuning.profile: balanced\n"
            "  Parallelism:  1 (only chunked mode benefits from parallelism)\n"
            "  Suggestion:   No index detected -- full table scan.\n");
  CheckReport failed;
  failed.export_name = "bad";
  failed.error = Error(ErrorCode::kQuery, "relation \"nope\" does not exist");
  EXPECT_EQ(FormatCheck(failed), "Export: bad\n  Error:        relation \"nope\" does not exist\n");
  const std::string json = FormatCheckJson("rivet.yaml", {r, failed});
  EXPECT_NE(json.find("\"ok\": false"), std::string::npos) << json;
  EXPECT_NE(json.find("\"verdict\": \"DEGRADED\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"error_class\": \"query\""), std::string::npos) << json;
}

}  // namespace
}  // namespace rivet::preflight
