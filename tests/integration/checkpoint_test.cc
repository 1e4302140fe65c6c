// Chunk checkpoints end to end, on PostgreSQL and MariaDB: rivet killed with SIGKILL at random
// moments of a `parallel: 2` export and resumed until it completes; SIGTERM leaves a resumable
// plan; --resume refuses a plan made with other settings and says what changed.
//
// Every row carries its own serial `g`; the files are read back and compared with the source:
// every row present, and a row twice only when its whole chunk was delivered twice (a chunk in
// flight when the process died).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>

#include "support/csv_reader.h"
#include "support/sql_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kRows = 40000;  // as the set-up below creates them

// The same table on both engines: g = 1..kRows, id = 3g - 1000 (gaps, negatives) or NULL.
constexpr const char* kPgSetup = R"sql(
DROP SCHEMA IF EXISTS rivet_ckpt CASCADE;
CREATE SCHEMA rivet_ckpt;
CREATE TABLE rivet_ckpt.events AS
  SELECT g, CASE WHEN g % 800 = 0 THEN NULL ELSE 3 * g - 1000 END AS id, md5(g::text) AS v
  FROM generate_series(1, 40000) g;
)sql";
constexpr const char* kMysqlSetup = R"sql(
DROP TABLE IF EXISTS rivet_ckpt_events;
CREATE TABLE rivet_ckpt_events (g INT PRIMARY KEY, id BIGINT, v CHAR(32));
INSERT INTO rivet_ckpt_events
  SELECT seq, IF(seq % 800 = 0, NULL, 3 * CAST(seq AS SIGNED) - 1000), MD5(seq)
  FROM seq_1_to_40000;
)sql";

class CheckpointTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    const Engine& engine = GetParam();
    auto url = EnvVar(engine.url_env);
    if (!url) {
      if (InCi()) FAIL() << engine.url_env << " is not set: the test server is missing";
      GTEST_SKIP() << engine.url_env << " is not set: start the test servers with scripts/test.sh";
    }
    url_ = *url;
    SqlClient db(engine, url_);
    ASSERT_TRUE(db.ok()) << db.error();
    ASSERT_EQ(db.Exec(engine.postgres() ? kPgSetup : kMysqlSetup), "");
    dir_ = MakeTempDir(std::string("checkpoint-") + engine.name);
    out_ = dir_ + "/out";
  }

  // A checkpointed chunked export slowed down (small batches, a pause after each) so that a
  // run lasts a few seconds and can be cut anywhere.
  std::string WriteConfig(int64_t chunk_size = 10000, const std::string& where = "") {
    const std::string path = dir_ + "/rivet.yaml";
    WriteFile(path, fmt::format("source:\n  type: {}\n  url_env: RIVET_E2E_URL\n"
                                "  tuning: {{batch_size: 500, throttle_ms: 40, max_retries: 1, "
                                "retry_backoff_ms: 10}}\n"
                                "exports:\n"
                                "  - name: big\n"
                                "    query: \"SELECT g, id, v FROM {}{}\"\n"
                                "    mode: chunked\n    chunk_column: id\n"
                                "    chunk_size: {}\n    parallel: 2\n    chunk_checkpoint: true\n"
                                "    format: csv\n"
                                "    destination: {{type: local, path: out}}\n",
                                GetParam().source_type,
                                GetParam().postgres() ? "rivet_ckpt.events" : "rivet_ckpt_events",
                                where, chunk_size));
    return path;
  }

  std::string Env() const { return "RIVET_E2E_URL=" + ShellQuote(url_) + " " + RIVET_BINARY; }

  CommandResult Rivet(const std::string& args) {
    return RunCommand(Env() + " " + args + " -c " + dir_ + "/rivet.yaml");
  }

  // Starts `rivet run [args]` in the background and sends `signal` after `delay_s`, or once a
  // staged file shows a chunk is being written when delay_s < 0 (bounded: 600 polls of 50 ms).
  // Returns the exit status (137 when SIGKILL landed, 0 when the run was faster).
  int RunAndSignal(const std::string& args, const std::string& signal, double delay_s) {
    const std::string wait =
        delay_s >= 0 ? fmt::format("sleep {:.3f}", delay_s)
                     : "i=0; while [ $i -lt 600 ] && ! ls -a " + out_ +
                           " 2>/dev/null | grep -q rivet-tmp; do sleep 0.05; i=$((i+1)); done";
    CommandResult r = RunCommand(Env() + " run -c " + dir_ + "/rivet.yaml " + args +
                                 " >/dev/null 2>>" + dir_ + "/err & P=$!; " + wait + "; kill -" +
                                 signal + " $P 2>/dev/null; wait $P; echo $?");
    return std::atoi(r.out.c_str());
  }

  std::string PlanStatus() {
    CommandResult r = Rivet("state chunks -e big");
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("status: +(\\w+)"))) return m[1];
    return r.out.find("No chunk checkpoint data") != std::string::npos ? "none" : r.out + r.err;
  }

  // g -> how many times it was delivered, and chunk index -> the sets of g of each file of it.
  struct Delivered {
    std::map<int64_t, int> count;
    std::map<int, std::vector<std::set<int64_t>>> chunk_files;
  };
  Delivered ReadOutput() {
    Delivered d;
    const std::regex chunk_name(".*_chunk([0-9]+)\\.csv");
    for (const std::string& name : ListDir(out_)) {
      EXPECT_EQ(name.find(".rivet-tmp"), std::string::npos) << "staging file left: " << name;
      std::smatch m;
      if (!std::regex_match(name, m, chunk_name)) {
        ADD_FAILURE() << "unexpected file " << name;
        continue;
      }
      std::vector<CsvRow> rows = ParseCsv(ReadFile(out_ + "/" + name));
      EXPECT_FALSE(rows.size() <= 1) << "a file without rows: " << name;
      std::set<int64_t> gs;
      for (size_t i = 1; i < rows.size(); ++i) {
        const int64_t g = std::stoll(rows[i].at(0).value_or("0"));
        ++d.count[g];
        gs.insert(g);
      }
      d.chunk_files[std::stoi(m[1])].push_back(std::move(gs));
    }
    return d;
  }

  // Every source row was delivered, and each chunk delivered twice was delivered whole both
  // times. Returns how many chunks were delivered more than once.
  int ExpectEveryRowWithWholeChunkDuplicates() {
    Delivered d = ReadOutput();
    EXPECT_EQ(d.count.size(), static_cast<size_t>(kRows));
    if (!d.count.empty()) {
      EXPECT_EQ(d.count.begin()->first, 1);
      EXPECT_EQ(d.count.rbegin()->first, kRows);
    }
    int twice = 0;
    for (const auto& [chunk, files] : d.chunk_files) {
      for (const auto& f : files) EXPECT_EQ(f, files.front()) << "chunk " << chunk;
      if (files.size() > 1) ++twice;
    }
    return twice;
  }

  std::string url_;
  std::string dir_;
  std::string out_;
};

TEST_P(CheckpointTest, KilledAtRandomMomentsAndResumedUntilCompleteLosesNoRow) {
  WriteConfig();
  std::random_device device;
  const unsigned seed = device();
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> moment(0.2, 1.6);
  SCOPED_TRACE(fmt::format("random seed {}", seed));

  int kills = 0;
  bool complete = false;
  // At most 4 runs cut short, then resumes left alone until the plan completes (at most 5).
  for (int run = 0; run < 9 && !complete; ++run) {
    const std::string status = PlanStatus();
    const std::string args = status == "in_progress" ? "--resume" : "";
    if (run < 4) {
      const int code = RunAndSignal(args, "KILL", moment(random));
      if (code == 137) ++kills;
      ASSERT_TRUE(code == 137 || code == 0) << "exit " << code << "\n" << ReadFile(dir_ + "/err");
    } else {
      CommandResult r = Rivet("run " + args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    complete = PlanStatus() == "completed";
  }
  ASSERT_TRUE(complete) << PlanStatus();
  EXPECT_GE(kills, 1) << "no run was cut short: the test proved nothing";

  const int twice = ExpectEveryRowWithWholeChunkDuplicates();
  // Only the chunks in flight when a process died (two workers) can come twice.
  EXPECT_LE(twice, 2 * kills);
  CommandResult chunks = Rivet("state chunks -e big");
  EXPECT_EQ(chunks.out.find("pending"), std::string::npos) << chunks.out;
  EXPECT_EQ(chunks.out.find("running"), std::string::npos) << chunks.out;
}

TEST_P(CheckpointTest, SigtermLeavesAResumablePlanAndResumeDeliversEveryRowOnce) {
  WriteConfig();
  ASSERT_EQ(RunAndSignal("", "TERM", -1), 143) << ReadFile(dir_ + "/err");
  for (const std::string& f : ListDir(out_)) {
    EXPECT_EQ(f.find(".rivet-tmp"), std::string::npos) << "staging file left: " << f;
  }
  EXPECT_EQ(PlanStatus(), "in_progress");
  CommandResult metrics = Rivet("metrics -e big -l 1");
  EXPECT_NE(metrics.out.find("interrupted by SIGTERM"), std::string::npos) << metrics.out;

  CommandResult resumed = Rivet("run --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(std::regex_search(
      resumed.err, std::regex("resumed: +[0-9]+ of 13 chunks were done by earlier runs")))
      << resumed.err;
  EXPECT_EQ(PlanStatus(), "completed");
  // Interrupted chunks were discarded, never committed: nothing comes twice.
  EXPECT_EQ(ExpectEveryRowWithWholeChunkDuplicates(), 0);
  for (const auto& [g, n] : ReadOutput().count) EXPECT_EQ(n, 1) << "row g=" << g;
}

TEST_P(CheckpointTest, ResumeRefusesAChangedPlanAndSaysWhatChanged) {
  WriteConfig();
  ASSERT_EQ(RunAndSignal("", "TERM", -1), 143) << ReadFile(dir_ + "/err");
  ASSERT_EQ(PlanStatus(), "in_progress");

  // A run without --resume would start the export over beside the plan: refused.
  CommandResult plain = Rivet("run");
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.err.find("is in progress"), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("--resume"), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("state reset-chunks"), std::string::npos) << plain.err;

  WriteConfig(7000);
  CommandResult size = Rivet("run --resume");
  EXPECT_NE(size.exit_code, 0);
  EXPECT_NE(size.err.find("chunk_size (10000 -> 7000) changed"), std::string::npos) << size.err;
  EXPECT_NE(size.err.find("state reset-chunks"), std::string::npos) << size.err;

  WriteConfig(10000, " WHERE g > 0");
  CommandResult query = Rivet("run --resume");
  EXPECT_NE(query.exit_code, 0);
  EXPECT_NE(query.err.find("the query (after params) changed"), std::string::npos) << query.err;
  EXPECT_EQ(PlanStatus(), "in_progress");  // refusing changed nothing

  // The way out the message names: drop the plan, run again.
  CommandResult reset = Rivet("state reset-chunks -e big");
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(PlanStatus(), "none");
  CommandResult again = Rivet("run");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(PlanStatus(), "completed");
  CommandResult nothing = Rivet("run --resume");
  EXPECT_NE(nothing.exit_code, 0);
  EXPECT_NE(nothing.err.find("no in-progress chunk plan"), std::string::npos) << nothing.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, CheckpointTest, ::testing::Values(kPostgres, kMysql),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace rivet::testing
