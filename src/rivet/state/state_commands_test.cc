// Golden output of `rivet metrics` and `rivet state ...` (reference §3).
#include "rivet/cli/state_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "rivet/common/test_dir.h"
#include "rivet/state/state.h"

namespace rivet::cli {
namespace {

using state::CursorState;
using state::FileRecord;
using state::RunRecord;
using state::RunStatus;
using state::StateStore;
using testutil::TempDir;

constexpr int64_t kMiB = 1024 * 1024;

const std::string kMetricsHeader =
    "EXPORT               STATUS           ROWS   DURATION      RSS  FILES      BYTES RUN ID\n" +
    std::string(110, '-') + "\n";
const std::string kCursorsHeader =
    "EXPORT                         LAST CURSOR                              LAST RUN\n" +
    std::string(90, '-') + "\n";

config::Config MakeConfig(const std::string& directory) {
  config::Config config;
  config.path = directory + "/rivet.yaml";
  config.directory = directory;
  for (const char* name : {"orders_incremental", "users_full"}) {
    config::ExportConfig e;
    e.name = name;
    config.exports.push_back(e);
  }
  return config;
}

StateStore OpenStore(const config::Config& config) {
  auto store = StateStore::Open(StateDbPath(config));
  EXPECT_TRUE(store.has_value()) << store.error().message();
  return std::move(store).value();
}

RunRecord MakeRun(std::string run_id, std::string export_name, std::string started_at,
                  RunStatus status, int64_t rows, int64_t duration_ms, int64_t rss, int64_t files,
                  int64_t bytes) {
  RunRecord run;
  run.run_id = std::move(run_id);
  run.export_name = std::move(export_name);
  run.status = status;
  run.started_at = started_at;
  run.finished_at = std::move(started_at);
  run.rows = rows;
  run.duration_ms = duration_ms;
  run.peak_rss_bytes = rss;
  run.files = files;
  run.bytes = bytes;
  run.profile = "balanced (default)";
  run.batch_size = 10000;
  return run;
}

// The three runs of the guide's §20 example plus an older failed one.
void RecordGuideRuns(StateStore& store) {
  RunRecord failed =
      MakeRun("orders_incremental_20260329T140000.000", "orders_incremental",
              "2026-03-29T14:00:00+00:00", RunStatus::kFailed, 0, 2000, 9 * kMiB + 12345, 0, 0);
  failed.error_message = "connection refused (after 3 retries)";
  failed.error_code = ErrorCode::kNetwork;
  ASSERT_TRUE(store.RecordRun(failed).ok());
  ASSERT_TRUE(store
                  .RecordRun(MakeRun("orders_incremental_20260329T150000.789", "orders_incremental",
                                     "2026-03-29T15:00:00+00:00", RunStatus::kSkipped, 0, 12,
                                     8 * kMiB, 0, 0))
                  .ok());
  ASSERT_TRUE(store
                  .RecordRun(MakeRun("orders_incremental_20260329T160000.123", "orders_incremental",
                                     "2026-03-29T16:00:00+00:00", RunStatus::kSuccess, 1523, 340,
                                     22 * kMiB + kMiB / 2, 1, 123392))
                  .ok());
  ASSERT_TRUE(store
                  .RecordRun(MakeRun("users_full_20260329T155900.456", "users_full",
                                     "2026-03-29T15:59:00+00:00", RunStatus::kSuccess, 50000, 1200,
                                     45 * kMiB, 1, 2202010))
                  .ok());
}

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

template <typename Fn>
Output Capture(Fn&& fn) {
  std::ostringstream out;
  std::ostringstream err;
  Output result;
  result.code = fn(out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// --- rivet metrics --------------------------------------------------------------------------

TEST(MetricsCommand, NoStoreYetPrintsTheEmptyMessageAndCreatesNothing) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output o = Capture([&](auto& out, auto& err) {
    return RunMetricsCommand(config, std::nullopt, kDefaultMetricsLimit, out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "No metrics recorded yet.\n");
  EXPECT_EQ(o.err, "");
  EXPECT_FALSE(std::filesystem::exists(StateDbPath(config)));
}

TEST(MetricsCommand, EmptyStorePrintsTheEmptyMessage) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  { StateStore store = OpenStore(config); }
  Output o = Capture([&](auto& out, auto& err) {
    return RunMetricsCommand(config, std::nullopt, kDefaultMetricsLimit, out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "No metrics recorded yet.\n");
}

TEST(MetricsCommand, TableNewestFirstWithErrorsUnderFailedRuns) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    RecordGuideRuns(store);
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunMetricsCommand(config, std::nullopt, kDefaultMetricsLimit, out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            kMetricsHeader +
                "orders_incremental   success          1523      340ms     22MB      1   120.5 KB "
                "orders_incremental_20260329T160000.123\n"
                "users_full           success         50000       1.2s     45MB      1     2.1 MB "
                "users_full_20260329T155900.456\n"
                "orders_incremental   skipped             0       12ms      8MB      0          - "
                "orders_incremental_20260329T150000.789\n"
                "orders_incremental   failed              0       2.0s      9MB      0          - "
                "orders_incremental_20260329T140000.000\n"
                "  Error: connection refused (after 3 retries)\n");
}

TEST(MetricsCommand, ExportFilterAndLimit) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    RecordGuideRuns(store);
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunMetricsCommand(config, std::string("orders_incremental"), 2, out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out,
            kMetricsHeader +
                "orders_incremental   success          1523      340ms     22MB      1   120.5 KB "
                "orders_incremental_20260329T160000.123\n"
                "orders_incremental   skipped             0       12ms      8MB      0          - "
                "orders_incremental_20260329T150000.789\n");
}

TEST(MetricsCommand, LastBelowOneIsAUsageError) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output o = Capture(
      [&](auto& out, auto& err) { return RunMetricsCommand(config, std::nullopt, 0, out, err); });
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "error: --last must be at least 1 (got 0)\n");
}

TEST(MetricsCommand, DegradedRunsShowTheirStatus) {
  std::ostringstream out;
  RunRecord run = MakeRun("x_20260329T140000.000", "x", "2026-03-29T14:00:00+00:00",
                          RunStatus::kDegraded, 25, 5, 0, 1, 100);
  run.retries = 1;
  RenderMetrics({run}, out);
  EXPECT_EQ(out.str(), kMetricsHeader +
                           "x                    degraded           25        5ms      0MB      1"
                           "      100 B x_20260329T140000.000\n");
}

TEST(MetricsCommand, MultiLineErrorsStayUnderTheirRun) {
  std::ostringstream out;
  RunRecord run = MakeRun("x_20260329T140000.000", "x", "2026-03-29T14:00:00+00:00",
                          RunStatus::kFailed, 0, 5, 0, 0, 0);
  run.error_message = "query failed\nLINE 1: SELEC";
  RenderMetrics({run}, out);
  EXPECT_EQ(out.str(), kMetricsHeader +
                           "x                    failed              0        5ms      0MB      0"
                           "          - x_20260329T140000.000\n"
                           "  Error: query failed\n"
                           "         LINE 1: SELEC\n");
}

TEST(MetricsCommand, UnreadableStoreIsReportedOnStderr) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    std::FILE* f = std::fopen(StateDbPath(config).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunMetricsCommand(config, std::nullopt, kDefaultMetricsLimit, out, err);
  });
  EXPECT_EQ(o.code, static_cast<int>(ExitCodeFor(ErrorCode::kCorrupt)));
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err.rfind("error: state database: ", 0), 0u) << o.err;
}

// --- rivet state show -----------------------------------------------------------------------

TEST(StateShowCommand, EmptyAndMissingStores) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output missing = Capture(
      [&](auto& out, auto& err) { return RunStateShowCommand(config, std::nullopt, out, err); });
  EXPECT_EQ(missing.code, 0);
  EXPECT_EQ(missing.out, "No export state recorded yet.\n");
  { StateStore store = OpenStore(config); }
  Output empty = Capture(
      [&](auto& out, auto& err) { return RunStateShowCommand(config, std::nullopt, out, err); });
  EXPECT_EQ(empty.code, 0);
  EXPECT_EQ(empty.out, "No export state recorded yet.\n");
}

TEST(StateShowCommand, CursorsByExportName) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    ASSERT_TRUE(store.SetCursor({"users_inc", "id", "1523", "2026-03-29T16:05:00+00:00"}).ok());
    ASSERT_TRUE(store
                    .SetCursor({"orders_incremental", "updated_at", "2026-03-29T16:00:00.000000",
                                "2026-03-29T16:00:01+00:00"})
                    .ok());
  }
  Output o = Capture(
      [&](auto& out, auto& err) { return RunStateShowCommand(config, std::nullopt, out, err); });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, kCursorsHeader +
                       "orders_incremental             2026-03-29T16:00:00.000000               "
                       "2026-03-29T16:00:01+00:00\n"
                       "users_inc                      1523                                     "
                       "2026-03-29T16:05:00+00:00\n");
  Output one = Capture([&](auto& out, auto& err) {
    return RunStateShowCommand(config, std::string("users_inc"), out, err);
  });
  EXPECT_EQ(one.out, kCursorsHeader +
                         "users_inc                      1523                                     "
                         "2026-03-29T16:05:00+00:00\n");
}

// --- rivet state files ----------------------------------------------------------------------

TEST(StateFilesCommand, EmptyAndMissingStores) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output missing = Capture([&](auto& out, auto& err) {
    return RunStateFilesCommand(config, std::nullopt, kDefaultFilesLimit, out, err);
  });
  EXPECT_EQ(missing.code, 0);
  EXPECT_EQ(missing.out, "No files recorded yet.\n");
  { StateStore store = OpenStore(config); }
  Output empty = Capture([&](auto& out, auto& err) {
    return RunStateFilesCommand(config, std::nullopt, kDefaultFilesLimit, out, err);
  });
  EXPECT_EQ(empty.out, "No files recorded yet.\n");
}

TEST(StateFilesCommand, AlignedColumnsNewestFirst) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    FileRecord users{"users_full_20260329T155900.456",
                     "users_full",
                     "users_full_20260329_155900.parquet",
                     "./output/users_full_20260329_155900.parquet",
                     50000,
                     2202010,
                     "parquet",
                     "zstd",
                     "2026-03-29T15:59:01+00:00",
                     0};
    FileRecord orders{"orders_incremental_20260329T160000.123",
                      "orders_incremental",
                      "orders_incremental_20260329_160000.parquet",
                      "./output/orders_incremental_20260329_160000.parquet",
                      1523,
                      123392,
                      "parquet",
                      "zstd",
                      "2026-03-29T16:00:01+00:00",
                      0};
    ASSERT_TRUE(store.RecordFile(users).ok());
    ASSERT_TRUE(store.RecordFile(orders).ok());
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunStateFilesCommand(config, std::nullopt, kDefaultFilesLimit, out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out,
            "RUN ID                                  FILE                                         "
            "ROWS     BYTES  CREATED\n"
            "orders_incremental_20260329T160000.123  orders_incremental_20260329_160000.parquet   "
            "1523  120.5 KB  2026-03-29T16:00:01+00:00\n"
            "users_full_20260329T155900.456          users_full_20260329_155900.parquet          "
            "50000    2.1 MB  2026-03-29T15:59:01+00:00\n");

  Output last = Capture([&](auto& out, auto& err) {
    return RunStateFilesCommand(config, std::string("users_full"), 1, out, err);
  });
  EXPECT_EQ(last.out,
            "RUN ID                          FILE                                 ROWS   BYTES  "
            "CREATED\n"
            "users_full_20260329T155900.456  users_full_20260329_155900.parquet  50000  2.1 MB  "
            "2026-03-29T15:59:01+00:00\n");
}

// --- rivet state reset ----------------------------------------------------------------------

TEST(StateResetCommand, UnknownExportIsAUsageErrorListingTheKnownOnes) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    ASSERT_TRUE(store.SetCursor({"orders_inc", "id", "7", "2026-03-29T16:00:00+00:00"}).ok());
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunStateResetCommand(config, std::string("orders_inc"), out, err);
  });
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "error: export 'orders_inc' is not defined in " + config.path +
                       "; known exports: orders_incremental, users_full\n");
  // Nothing was touched.
  StateStore store = OpenStore(config);
  auto cursor = store.GetCursor("orders_inc");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_TRUE(cursor->has_value());
}

TEST(StateResetCommand, MissingExportFlagIsAUsageError) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output o = Capture(
      [&](auto& out, auto& err) { return RunStateResetCommand(config, std::nullopt, out, err); });
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err,
            "error: rivet state reset needs --export NAME (known exports: orders_incremental, "
            "users_full)\n");
}

TEST(StateResetCommand, ClearsTheCursorAndSaysWhatItWas) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  {
    StateStore store = OpenStore(config);
    ASSERT_TRUE(
        store.SetCursor({"orders_incremental", "id", "1523", "2026-03-29T16:00:00+00:00"}).ok());
    ASSERT_TRUE(store.SetCursor({"users_full", "id", "9", "2026-03-29T16:00:00+00:00"}).ok());
  }
  Output o = Capture([&](auto& out, auto& err) {
    return RunStateResetCommand(config, std::string("orders_incremental"), out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "Reset export 'orders_incremental': cursor cleared (was id = 1523); the next run "
            "exports from the beginning.\n");
  StateStore store = OpenStore(config);
  auto cursors = store.ListCursors();
  ASSERT_TRUE(cursors.has_value());
  ASSERT_EQ(cursors->size(), 1u);
  EXPECT_EQ((*cursors)[0].export_name, "users_full");

  Output again = Capture([&](auto& out, auto& err) {
    return RunStateResetCommand(config, std::string("orders_incremental"), out, err);
  });
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(again.out, "No state recorded for export 'orders_incremental'; nothing to reset.\n");
}

TEST(StateResetCommand, NoStoreYetHasNothingToResetAndCreatesNothing) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output o = Capture([&](auto& out, auto& err) {
    return RunStateResetCommand(config, std::string("users_full"), out, err);
  });
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "No state recorded for export 'users_full'; nothing to reset.\n");
  EXPECT_FALSE(std::filesystem::exists(StateDbPath(config)));
}

// --- rivet state chunks / reset-chunks ------------------------------------------------------

TEST(StateChunksCommands, KnownExportWithoutPlan) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  { StateStore store = OpenStore(config); }
  Output chunks = Capture([&](auto& out, auto& err) {
    return RunStateChunksCommand(config, std::string("users_full"), out, err);
  });
  EXPECT_EQ(chunks.code, 0);
  EXPECT_EQ(chunks.out, "No chunk checkpoint data for export 'users_full'.\n");
  Output reset = Capture([&](auto& out, auto& err) {
    return RunStateResetChunksCommand(config, std::string("users_full"), out, err);
  });
  EXPECT_EQ(reset.code, 0);
  EXPECT_EQ(reset.out, "No chunk checkpoint data for export 'users_full'.\n");
}

TEST(StateChunksCommands, UnknownOrMissingExportIsAUsageError) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  Output chunks = Capture([&](auto& out, auto& err) {
    return RunStateChunksCommand(config, std::string("big_table"), out, err);
  });
  EXPECT_EQ(chunks.code, 2);
  EXPECT_EQ(chunks.out, "");
  EXPECT_EQ(chunks.err, "error: export 'big_table' is not defined in " + config.path +
                            "; known exports: orders_incremental, users_full\n");
  Output reset = Capture([&](auto& out, auto& err) {
    return RunStateResetChunksCommand(config, std::nullopt, out, err);
  });
  EXPECT_EQ(reset.code, 2);
  EXPECT_EQ(reset.err,
            "error: rivet state reset-chunks needs --export NAME (known exports: "
            "orders_incremental, users_full)\n");
}

TEST(StateChunksCommands, ThePlanWithEveryTaskAndTheLastErrors) {
  TempDir dir;
  const config::Config config = MakeConfig(dir.path());
  StateStore store = OpenStore(config);
  state::ChunkPlan plan;
  plan.run_id = "users_full_20260329T150000.456";
  plan.export_name = "users_full";
  plan.plan_hash = "9f86d081884c7d65";
  plan.query_hash = "1b4f0e9851971998";
  plan.chunk_column = "id";
  plan.chunk_size = 50000;
  plan.created_at = "2026-03-29T15:00:00+00:00";
  plan.updated_at = plan.created_at;
  const std::vector<std::pair<std::string, std::string>> windows = {
      {"-5", "49994"}, {"49995", "99994"}, {"99995", "120000"}, {"NULL", "NULL"}};
  for (size_t i = 0; i < windows.size(); ++i) {
    state::ChunkTask t;
    t.idx = static_cast<int64_t>(i);
    t.start_key = windows[i].first;
    t.end_key = windows[i].second;
    plan.tasks.push_back(t);
  }
  ASSERT_TRUE(store.CreateChunkPlan(plan).ok());
  ASSERT_TRUE(store.StartChunk(plan.run_id, 0).ok());
  FileRecord file;
  file.run_id = plan.run_id;
  file.export_name = "users_full";
  file.file_name = "users_full_20260329_150000_chunk0.parquet";
  file.location = dir.path() + "/out/" + file.file_name;
  file.created_at = "2026-03-29T15:00:01+00:00";
  ASSERT_TRUE(store.CompleteChunk(plan.run_id, 0, 50000, {file}).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(store.StartChunk(plan.run_id, 1).ok());
  ASSERT_TRUE(store
                  .FailChunk(plan.run_id, 1, state::ChunkStatus::kFailed,
                             "connection reset\nserver closed the connection")
                  .ok());
  ASSERT_TRUE(store.StartChunk(plan.run_id, 2).ok());

  Output o = Capture([&](auto& out, auto& err) {
    return RunStateChunksCommand(config, std::string("users_full"), out, err);
  });
  EXPECT_EQ(o.code, 0) << o.err;
  // updated_at is the time of the last change: compare the rest exactly.
  const std::string head = "database:   " + StateDbPath(config) +
                           "\n"
                           "export:     users_full\n"
                           "run_id:     users_full_20260329T150000.456\n"
                           "plan_hash:  9f86d081884c7d65\n"
                           "status:     in_progress\n"
                           "updated_at: ";
  ASSERT_EQ(o.out.substr(0, head.size()), head);
  const std::string table = o.out.substr(o.out.find('\n', head.size()) + 1);
  EXPECT_EQ(table,
            "\n"
            "IDX  STATUS     START     END  ATT   ROWS  FILE\n"
            "  0  completed     -5   49994    1  50000  "
            "users_full_20260329_150000_chunk0.parquet\n"
            "  1  failed     49995   99994    2      0  -\n"
            "  error: connection reset\n"
            "         server closed the connection\n"
            "  2  running    99995  120000    1      0  -\n"
            "  3  pending     NULL    NULL    0      0  -\n");
}

TEST(StateDbPath, NextToTheConfig) {
  config::Config config;
  config.directory = "/etc/rivet";
  EXPECT_EQ(StateDbPath(config), "/etc/rivet/.rivet_state.db");
  config.directory = "";
  EXPECT_EQ(StateDbPath(config), "./.rivet_state.db");
}

}  // namespace
}  // namespace rivet::cli
