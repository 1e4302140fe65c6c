// Parallel exports end to end (guide §11, reference §2): threads and child processes against a
// real PostgreSQL. Every export is attempted, the exit code is the most severe class, each
// summary block reaches stderr whole, the exports overlap in time, process mode wins, --export
// runs one export alone, and SIGTERM stops everything without leaving a staging file or a child.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>

#include "support/csv_reader.h"
#include "support/pg_client.h"
#include "support/test_env.h"

namespace rivet::testing {
namespace {

namespace fs = std::filesystem;

// Our own schema, so this test can run beside the others on the shared server.
constexpr const char* kSetup = R"sql(
CREATE SCHEMA IF NOT EXISTS rivet_parexp;
DROP TABLE IF EXISTS rivet_parexp.items;
CREATE TABLE rivet_parexp.items AS
  SELECT g AS id, 'item ' || g AS label FROM generate_series(1, 1000) g;
)sql";

// Two exports that take about a second each (10 batches, 100 ms apart), one that fails as an
// export (a missing table: exit 1) and one that fails as configuration (max_file_size on
// stdout: exit 2), so the folded exit code must be 2.
std::string Exports(const std::string& out) {
  std::string slow =
      "    query: \"SELECT id, label FROM rivet_parexp.items ORDER BY id\"\n"
      "    format: csv\n    tuning: {batch_size: 100, throttle_ms: 100}\n"
      "    destination: {type: local, path: " +
      out + "}\n";
  return "  - name: first\n" + slow + "  - name: second\n" + slow +
         "  - name: missing\n    query: \"SELECT * FROM rivet_parexp.no_such_table\"\n"
         "    format: csv\n    destination: {type: local, path: " +
         out +
         "}\n"
         "  - name: misconfigured\n    query: \"SELECT 1 AS one\"\n    format: csv\n"
         "    max_file_size: 1MB\n    destination: {type: stdout}\n";
}

// The lines of the summary block of `name`: the header and the "  key: value" lines that
// follow it without anything in between. Fails when the block is not there exactly once.
std::vector<std::string> SummaryBlock(const std::string& err, const std::string& name) {
  const std::vector<std::string> lines = SplitLines(err);
  const std::string header = "── " + name + " ──";
  std::vector<std::string> block;
  int found = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != header) continue;
    ++found;
    block = {lines[i]};
    static const std::regex kField(R"(^  [A-Za-z_ ]+:\s+.*$)");
    for (size_t j = i + 1; j < lines.size() && std::regex_match(lines[j], kField); ++j) {
      block.push_back(lines[j]);
    }
  }
  EXPECT_EQ(found, 1) << "summary of '" << name << "' in:\n" << err;
  return block;
}

std::string Field(const std::vector<std::string>& block, const std::string& key) {
  for (const std::string& line : block) {
    if (line.rfind("  " + key + ":", 0) == 0) {
      const size_t v = line.find_first_not_of(' ', key.size() + 3);
      return v == std::string::npos ? "" : line.substr(v);
    }
  }
  return "";
}

// "1.0s" or "340ms" in milliseconds.
double DurationMs(const std::string& text) {
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") return std::stod(text);
  return std::stod(text) * 1000;
}

class ParallelExportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RIVET_REQUIRE_ENV(url, "RIVET_TEST_PG_URL");
    url_ = url;
    PgClient pg(url_);
    ASSERT_TRUE(pg.ok()) << pg.error();
    ASSERT_EQ(pg.Exec(kSetup), "");
    dir_ = MakeTempDir("parallel-exports");
  }

  std::string ConfigPath() const { return dir_ + "/rivet.yaml"; }

  std::string WriteConfig(const std::string& top, const std::string& exports) {
    const std::string path = ConfigPath();
    WriteFile(path, "source:\n  type: postgres\n  url_env: RIVET_PAR_URL\n" + top + "exports:\n" +
                        exports);
    return path;
  }

  std::string Env() const { return "RIVET_PAR_URL=" + ShellQuote(url_) + " "; }

  CommandResult Rivet(const std::string& args, double* wall_ms = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    CommandResult r = RunCommand(Env() + RIVET_BINARY + " " + args);
    if (wall_ms) {
      *wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count();
    }
    return r;
  }

  // Every export attempted, the exit code of the most severe failure, whole summaries, the
  // good exports' files complete, and the two slow exports overlapping in time.
  void ExpectParallelRun(const std::string& args, const std::string& out) {
    double wall_ms = 0;
    CommandResult r = Rivet(args, &wall_ms);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    double slow_ms = 0;
    for (const std::string name : {"first", "second"}) {
      const std::vector<std::string> block = SummaryBlock(r.err, name);
      EXPECT_EQ(Field(block, "status"), "success") << r.err;
      EXPECT_EQ(Field(block, "rows"), "1000") << r.err;
      EXPECT_EQ(Field(block, "run_id").rfind(name + "_", 0), 0u) << r.err;
      ASSERT_FALSE(Field(block, "peak RSS").empty()) << r.err;
      slow_ms += DurationMs(Field(block, "duration"));
    }
    for (const std::string name : {"missing", "misconfigured"}) {
      const std::vector<std::string> block = SummaryBlock(r.err, name);
      EXPECT_EQ(Field(block, "status"), "failed") << r.err;
      ASSERT_FALSE(Field(block, "duration").empty()) << r.err;
      EXPECT_FALSE(Field(block, "error").empty()) << r.err;
    }
    // A failed export's error line comes right before its block: a child's stderr is passed on
    // in one piece, and a thread logs it together with its summary.
    for (const std::string name : {"missing", "misconfigured"}) {
      const size_t header = r.err.find("\n── " + name + " ──\n");
      ASSERT_NE(header, std::string::npos) << r.err;
      const size_t line_start = r.err.rfind('\n', header - 1);
      const std::string before = r.err.substr(line_start + 1, header - line_start - 1);
      EXPECT_NE(before.find("export '" + name + "' failed: "), std::string::npos) << before << "\n"
                                                                                  << r.err;
    }
    EXPECT_NE(r.err.find("no_such_table"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("max_file_size cannot split a stream on stdout"), std::string::npos)
        << r.err;
    // One after another the run lasts at least the sum of the two slow exports.
    EXPECT_LT(wall_ms, slow_ms) << "the exports did not overlap:\n" << r.err;

    // Every export recorded its run in the one state DB, written from threads or processes.
    CommandResult metrics = Rivet("metrics -c " + ConfigPath());
    for (const std::string name : {"first", "second", "missing", "misconfigured"}) {
      EXPECT_NE(metrics.out.find(name + "_"), std::string::npos) << metrics.out;
    }

    std::map<std::string, std::string> files;
    for (const std::string& f : ListDir(out)) {
      EXPECT_EQ(f.find(".rivet-tmp"), std::string::npos) << "staging file left: " << f;
      files[f.substr(0, f.find('_'))] = f;
    }
    ASSERT_EQ(files.size(), 2u) << r.err;
    for (const std::string name : {"first", "second"}) {
      ASSERT_TRUE(files.count(name)) << name;
      const std::vector<CsvRow> rows = ParseCsv(ReadFile(out + "/" + files[name]));
      ASSERT_EQ(rows.size(), 1001u);  // header + 1000
      EXPECT_EQ(rows[1][0], "1");
      EXPECT_EQ(rows[1000][1], "item 1000");
    }
  }

  std::string url_;
  std::string dir_;
};

TEST_F(ParallelExportsTest, ThreadsAttemptEveryExportAndFoldTheExitCode) {
  const std::string out = dir_ + "/out";
  const std::string config = WriteConfig("", Exports(out));
  ExpectParallelRun("run -c " + config + " --parallel-exports", out);
}

TEST_F(ParallelExportsTest, ProcessesAttemptEveryExportAndPassEachStderrOnWhole) {
  const std::string out = dir_ + "/out";
  const std::string config = WriteConfig("", Exports(out));
  ExpectParallelRun("run -c " + config + " --parallel-export-processes", out);
}

// Both switches in the config: process mode wins (each export is in its own process, so the
// parent logs the child's pid).
TEST_F(ParallelExportsTest, ConfigSwitchesWorkAndProcessModeWins) {
  const std::string out = dir_ + "/out";
  const std::string config =
      WriteConfig("parallel_exports: true\nparallel_export_processes: true\n", Exports(out));
  CommandResult r = RunCommand("RIVET_LOG=info " + Env() + RIVET_BINARY + " run -c " + config);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const std::string name : {"first", "second", "missing", "misconfigured"}) {
    EXPECT_NE(r.err.find("export '" + name + "' runs in process "), std::string::npos) << r.err;
  }
  EXPECT_EQ(Field(SummaryBlock(r.err, "second"), "status"), "success") << r.err;
}

TEST_F(ParallelExportsTest, WithExportOnlyThatExportRuns) {
  const std::string out = dir_ + "/out";
  const std::string config = WriteConfig("", Exports(out));
  CommandResult r = RunCommand("RIVET_LOG=info " + Env() + RIVET_BINARY + " run -c " + config +
                               " --export first --parallel-exports --parallel-export-processes");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--export names one export"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("runs in process"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("── second ──"), std::string::npos) << r.err;
  EXPECT_EQ(ListDir(out).size(), 1u);
}

TEST_F(ParallelExportsTest, TwoStdoutExportsAreRefusedBeforeAnythingRuns) {
  const std::string out = dir_ + "/out";
  const std::string config =
      WriteConfig("",
                  "  - name: a\n    query: \"SELECT 1 AS one\"\n    format: csv\n"
                  "    destination: {type: stdout}\n"
                  "  - name: b\n    query: \"SELECT 2 AS two\"\n    format: csv\n"
                  "    destination: {type: stdout}\n");
  CommandResult r = Rivet("run -c " + config + " --parallel-exports");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("exports 'a', 'b' all write to stdout"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // One after another they are fine.
  CommandResult sequential = Rivet("run -c " + config);
  EXPECT_EQ(sequential.exit_code, 0) << sequential.err;
  EXPECT_EQ(sequential.out, "one\n1\ntwo\n2\n");
}

// The connections all exports hold at once are compared with the server's free ones, as
// `rivet check` does. The chunked export fails before it connects (max_file_size on stdout), so
// the test never opens more connections than the server allows.
TEST_F(ParallelExportsTest, WarnsWhenTheSummedConnectionsExceedTheServer) {
  PgClient pg(url_);
  const std::vector<CsvRow> rows = pg.Query("SELECT current_setting('max_connections')");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(rows[0][0].has_value());
  const std::string max = *rows[0][0];
  const int parallel = std::stoi(max);  // + 1 coordinator + 1 other export: too many
  const std::string config =
      WriteConfig("",
                  "  - name: wide\n    query: \"SELECT id FROM rivet_parexp.items\"\n"
                  "    mode: chunked\n    chunk_column: id\n    chunk_size: 100\n    parallel: " +
                      std::to_string(parallel) +
                      "\n    format: csv\n    max_file_size: 1MB\n    destination: {type: stdout}\n"
                      "  - name: narrow\n    query: \"SELECT 1 AS one\"\n    format: csv\n"
                      "    destination: {type: local, path: " +
                      dir_ + "/out}\n");
  CommandResult r = Rivet("run -c " + config + " --parallel-exports");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("parallel exports open " + std::to_string(parallel + 2) +
                       " connections at once (2 exports"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("max_connections=" + max), std::string::npos) << r.err;
  // Without the parallel switch each export alone is judged by `rivet check`, not here.
  CommandResult sequential = Rivet("run -c " + config);
  EXPECT_EQ(sequential.err.find("parallel exports open"), std::string::npos) << sequential.err;
}

// A child killed outright (kill -9, the OOM killer) is a failed export; the others finish.
TEST_F(ParallelExportsTest, AKilledChildIsAFailedExport) {
  const std::string out = dir_ + "/out";
  const std::string config = WriteConfig(
      "",
      "  - name: steady\n    query: \"SELECT id FROM rivet_parexp.items\"\n    format: csv\n"
      "    tuning: {batch_size: 100, throttle_ms: 100}\n"
      "    destination: {type: local, path: " +
          out +
          "}\n"
          "  - name: doomed\n    query: \"SELECT id FROM rivet_parexp.items\"\n"
          "    format: csv\n    tuning: {batch_size: 10, throttle_ms: 200}\n"
          "    destination: {type: local, path: " +
          out + "}\n");
  // The child of 'doomed' is found by its command line (bounded: 200 polls of 0.05 s).
  const std::string pattern = ShellQuote("[r]un --config " + config + " --export doomed");
  // Killed by its pid, the one child of this test's config that exports 'doomed'.
  const std::string script = Env() + RIVET_BINARY + " run -c " + config +
                             " --parallel-export-processes >/dev/null 2>" + dir_ +
                             "/err & P=$!; i=0; C=; while [ $i -lt 200 ] && [ -z \"$C\" ]; do "
                             "sleep 0.05; C=$(pgrep -f -- " +
                             pattern +
                             "); i=$((i+1)); done; sleep 0.3; kill -KILL $C; wait $P; echo $?";
  CommandResult r = RunCommand(script);
  const std::string err = ReadFile(dir_ + "/err");
  EXPECT_EQ(r.out, "1\n") << err;
  EXPECT_EQ(Field(SummaryBlock(err, "steady"), "status"), "success") << err;
  EXPECT_NE(err.find("export 'doomed' failed: its process "), std::string::npos) << err;
  EXPECT_NE(err.find("was killed by signal 9"), std::string::npos) << err;
}

// SIGTERM while both exports stream: every thread or child stops, the run exits 143 within a
// bounded time, no staging file stays and no child outlives the parent.
TEST_F(ParallelExportsTest, SigtermStopsEveryExport) {
  for (const std::string mode : {"--parallel-exports", "--parallel-export-processes"}) {
    const std::string out = dir_ + "/sig" + mode;
    const std::string slow =
        "    query: \"SELECT id, label FROM rivet_parexp.items\"\n"
        "    format: csv\n    tuning: {batch_size: 10, throttle_ms: 200}\n"
        "    destination: {type: local, path: " +
        out + "}\n";
    const std::string config = WriteConfig("", "  - name: one\n" + slow + "  - name: two\n" + slow);
    // The signal goes once both exports have a staged file (bounded: 600 polls of 0.05 s);
    // 20 s at most is allowed for the stop, against 20 s each export would need to finish.
    const std::string script =
        Env() + RIVET_BINARY + " run -c " + config + " " + mode + " >/dev/null 2>" + dir_ +
        "/err & P=$!; i=0; while [ $i -lt 600 ] && [ \"$(ls -a " + out +
        " 2>/dev/null | grep -c rivet-tmp)\" -lt 2 ]; do sleep 0.05; i=$((i+1)); done; "
        "kill -TERM $P; wait $P; echo $?";
    const auto start = std::chrono::steady_clock::now();
    CommandResult r = RunCommand(script);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string err = ReadFile(dir_ + "/err");
    EXPECT_EQ(r.out, "143\n") << mode << "\n" << err;
    EXPECT_LT(seconds, 15) << mode;
    for (const std::string name : {"one", "two"}) {
      const std::vector<std::string> block = SummaryBlock(err, name);
      EXPECT_EQ(Field(block, "status"), "failed") << mode << "\n" << err;
      EXPECT_NE(Field(block, "error").find("interrupted by SIGTERM"), std::string::npos)
          << mode << "\n"
          << err;
    }
    for (const std::string& f : ListDir(out)) {
      EXPECT_EQ(f.find(".rivet-tmp"), std::string::npos) << "staging file left: " << f;
    }
    // No process still runs this config (a child would name it on its command line).
    CommandResult left =
        RunCommand("pgrep -f -- " + ShellQuote("[r]un --config " + config) + " || true");
    EXPECT_EQ(left.out, "") << mode;
    CommandResult metrics = Rivet("metrics -c " + config + " -l 2");
    EXPECT_NE(metrics.out.find("interrupted by SIGTERM"), std::string::npos) << metrics.out;
  }
}

}  // namespace
}  // namespace rivet::testing
