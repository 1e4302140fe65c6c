// --shard end to end on both engines: N rivet processes, each given one shard of a chunked
// export, together deliver every row exactly once (read back with DuckDB), each shard writing
// only the chunks it owns; the index may come from JOB_COMPLETION_INDEX; what --shard cannot
// split is refused before anything runs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/export_checks.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

class ShardTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, GetParam().url_env);
    RIVET_REQUIRE_ENV(tools, "RIVET_TEST_TOOLS");
    url_ = url;
    tools_ = tools;
    db_ = std::make_unique<SqlClient>(GetParam(), url_);
    ASSERT_TRUE(db_->ok()) << db_->error();
    if (pg()) {
      ASSERT_EQ(db_->Exec("DROP SCHEMA IF EXISTS rivet_shard CASCADE; CREATE SCHEMA rivet_shard;"
                          "CREATE TABLE rivet_shard.t (id BIGINT, v TEXT);"
                          "INSERT INTO rivet_shard.t SELECT g, 'v' || g FROM "
                          "generate_series(1, 10000) g; INSERT INTO rivet_shard.t VALUES "
                          "(NULL, 'no key')"),
                "");
    } else {
      ASSERT_EQ(db_->Exec("DROP TABLE IF EXISTS rivet_shard_t; CREATE TABLE rivet_shard_t (id "
                          "BIGINT, v TEXT); INSERT INTO rivet_shard_t SELECT seq, CONCAT('v', "
                          "seq) FROM seq_1_to_10000; INSERT INTO rivet_shard_t VALUES (NULL, "
                          "'no key')"),
                "");
    }
    dir_ = MakeTempDir(std::string("shard-") + GetParam().name);
  }

  bool pg() const { return GetParam().postgres(); }
  std::string Table() const { return pg() ? "rivet_shard.t" : "rivet_shard_t"; }

  // Export `t` (chunked by id, 700 rows a chunk: 15 windows and the NULL chunk) and a full one.
  void WriteConfig(const std::string& extra = "") {
    WriteFile(dir_ + "/rivet.yaml",
              fmt::format("source:\n  type: {0}\n  url_env: RIVET_E2E_URL\nexports:\n"
                          "  - name: t\n    query: \"SELECT id, v FROM {1}\"\n"
                          "    mode: chunked\n    chunk_column: id\n    chunk_size: 700\n"
                          "    parallel: 2\n    format: parquet\n{2}"
                          "    destination: {{type: local, path: ./out}}\n"
                          "  - name: whole\n    query: \"SELECT id, v FROM {1}\"\n"
                          "    destination: {{type: local, path: ./whole}}\n",
                          GetParam().source_type, Table(), extra));
  }
  CommandResult Rivet(const std::string& args, const std::string& env = "") {
    return RunCommand(env + " RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY + " " + args +
                      " -c " + dir_ + "/rivet.yaml");
  }
  std::vector<std::string> Duck(const std::string& sql) {
    CommandResult r = DuckDbQuery(tools_, sql);
    EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << sql;
    return SplitLines(r.out);
  }

  std::string url_;
  std::string tools_;
  std::string dir_;
  std::unique_ptr<SqlClient> db_;
};

// The chunk index in a file name "t_<time>_chunk<i>.parquet".
int ChunkOf(const std::string& file) {
  const size_t at = file.find("_chunk");
  return at == std::string::npos ? -1 : std::stoi(file.substr(at + 6));
}

TEST_P(ShardTest, ThreeShardsDeliverEveryRowOnceAndOnlyTheirChunks) {
  WriteConfig();
  std::set<int> seen;
  for (int i = 0; i < 3; ++i) {
    const std::vector<std::string> before = ListDir(dir_ + "/out");
    CommandResult r = Rivet(fmt::format("run --export t --shard {}/3", i));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(fmt::format("_shard{}of3", i)), std::string::npos) << r.err;
    std::vector<std::string> files = ListDir(dir_ + "/out");
    for (const std::string& f : files) {
      if (std::find(before.begin(), before.end(), f) != before.end()) continue;
      const int chunk = ChunkOf(f);
      EXPECT_EQ(chunk % 3, i) << f;
      EXPECT_TRUE(seen.insert(chunk).second) << "chunk written twice: " << f;
    }
  }
  EXPECT_EQ(seen.size(), 16u);  // 15 windows and the NULL chunk
  const std::string all = "read_parquet('" + dir_ + "/out/*.parquet')";
  EXPECT_EQ(IdTotals(tools_, dir_ + "/out/*.parquet"), "10001,10000,1,50005000");
  EXPECT_EQ(Duck("SELECT count(*) FROM " + all + " WHERE v <> 'v' || id::VARCHAR"),
            std::vector<std::string>{"[\"0\"]"});
}

TEST_P(ShardTest, CountAloneTakesTheIndexFromJobCompletionIndex) {
  WriteConfig();
  CommandResult r = Rivet("run --export t --shard 4", "JOB_COMPLETION_INDEX=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> files = ListDir(dir_ + "/out");
  ASSERT_EQ(files.size(), 4u);  // chunks 2, 6, 10, 14
  for (const std::string& f : files) EXPECT_EQ(ChunkOf(f) % 4, 2) << f;

  CommandResult unset = Rivet("run --export t --shard 4", "env -u JOB_COMPLETION_INDEX");
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_NE(unset.err.find("JOB_COMPLETION_INDEX is not set"), std::string::npos) << unset.err;
}

TEST_P(ShardTest, WhatCannotBeShardedIsRefusedBeforeAnythingRuns) {
  WriteConfig();
  CommandResult whole = Rivet("run --shard 0/2");
  EXPECT_EQ(whole.exit_code, 2);
  EXPECT_NE(whole.err.find("export 'whole' is mode full"), std::string::npos) << whole.err;
  EXPECT_TRUE(ListDir(dir_ + "/out").empty());

  CommandResult bad = Rivet("run --export t --shard 3/3");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("below 3"), std::string::npos) << bad.err;

  WriteConfig("    chunk_checkpoint: true\n");
  CommandResult checkpointed = Rivet("run --export t --shard 0/2");
  EXPECT_EQ(checkpointed.exit_code, 2);
  EXPECT_NE(checkpointed.err.find("--worker instead of --shard"), std::string::npos)
      << checkpointed.err;
  EXPECT_TRUE(ListDir(dir_ + "/out").empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, ShardTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace rivet::testing
