// RunExport's orchestration without servers: a scripted source, the real local destination
// and state store in a temporary folder.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "rivet/pipeline/pipeline.h"
#include "rivet/rowhash/row_hash.h"

namespace rivet::pipeline {
namespace {

namespace fs = std::filesystem;

// What the scripted source does on each Stream (one entry per try; the last repeats).
struct Script {
  int64_t batches = 3;
  int64_t rows_per_batch = 4;
  std::optional<int64_t> fail_at_batch;       // Next() of this batch (0-based) fails...
  ErrorCode fail_code = ErrorCode::kNetwork;  // ...with this code
};

struct Shared {
  std::vector<Script> tries;
  std::atomic<int> streams{0};
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  // After this many batches Next() blocks like a stalled network read until Cancel().
  std::optional<int64_t> stall_after_batches;
  // What QueryText answers (the MIN/MAX of a chunked export); an error when not set.
  std::optional<std::vector<std::vector<std::optional<std::string>>>> query_rows;
};

// Bound on a stalled read in these tests: long enough to tell "cancelled" from "timed out".
constexpr auto kStallLimit = std::chrono::seconds(20);

class ScriptedStream final : public source::RowStream {
 public:
  ScriptedStream(columnar::SchemaPtr schema, Script script, Shared* shared)
      : schema_(std::move(schema)), script_(script), shared_(shared) {}
  const columnar::SchemaPtr& schema() const override { return schema_; }
  Result<bool> Next(columnar::Batch& batch) override {
    batch.Clear();
    if (script_.fail_at_batch && next_ == *script_.fail_at_batch) {
      return Error(script_.fail_code, "scripted failure at batch {}", next_);
    }
    if (shared_->stall_after_batches && next_ == *shared_->stall_after_batches) {
      std::unique_lock lock(shared_->mu);
      if (!shared_->cv.wait_for(lock, kStallLimit, [&] { return shared_->cancelled; })) {
        return Error(ErrorCode::kTimeout, "stalled read was never cancelled");
      }
      return Error(ErrorCode::kTimeout, "cancelled");
    }
    if (next_ >= script_.batches) return false;
    for (int64_t r = 0; r < script_.rows_per_batch; ++r) {
      batch.mutable_column(0).Append<int64_t>(next_ * script_.rows_per_batch + r);
      batch.CommitRow();
    }
    ++next_;
    return true;
  }

 private:
  columnar::SchemaPtr schema_;
  Script script_;
  Shared* shared_;
  int64_t next_ = 0;
};

class ScriptedSource final : public source::Source {
 public:
  explicit ScriptedSource(Shared* shared) : shared_(shared) {}
  Status Connect() override { return Status::Ok(); }
  Result<std::unique_ptr<source::RowStream>> Stream(const std::string&) override {
    const int n = shared_->streams++;
    const Script& s =
        shared_->tries[std::min<size_t>(static_cast<size_t>(n), shared_->tries.size() - 1)];
    auto schema = std::make_shared<const columnar::Schema>(
        columnar::Schema{{"id", columnar::DataType::Of(columnar::TypeId::kInt64)}});
    return std::unique_ptr<source::RowStream>(std::make_unique<ScriptedStream>(schema, s, shared_));
  }
  Result<std::vector<std::vector<std::optional<std::string>>>> QueryText(
      const std::string&) override {
    if (!shared_->query_rows) return Error(ErrorCode::kInternal, "not scripted");
    return *shared_->query_rows;
  }
  std::string ServerDescription() const override { return "scripted"; }
  std::string TlsDescription() const override { return ""; }
  Status InReadOnlyTransaction(const std::function<Status()>& body) override { return body(); }
  std::string QuoteIdentifier(std::string_view name) const override {
    return "\"" + std::string(name) + "\"";
  }
  Result<std::string> QuoteLiteral(std::string_view text) const override {
    return "'" + std::string(text) + "'";
  }
  void Cancel() override {
    std::lock_guard lock(shared_->mu);
    shared_->cancelled = true;
    shared_->cv.notify_all();
  }
  Status ShareSnapshot(std::span<Source* const>) override {
    return Error(ErrorCode::kNotSupported, "not scripted");
  }
  bool InSharedSnapshot() const override { return false; }
  Result<std::string> HoldSnapshot() override {
    return Error(ErrorCode::kNotSupported, "not scripted");
  }

 private:
  Shared* shared_;
};

class RunExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rivet-run-export-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    config_.path = (dir_ / "rivet.yaml").string();
    config_.directory = dir_.string();
    e_.name = "orders";
    e_.query = "SELECT id FROM orders";
    e_.format = config::Format::kCsv;
    e_.destination.type = config::DestinationType::kLocal;
    e_.destination.path = "out";
    e_.tuning.throttle_ms = 0;
    e_.tuning.max_retries = 2;
    e_.tuning.retry_backoff_ms = 1;
    config_.exports.push_back(e_);
    auto store = state::StateStore::Open((dir_ / ".rivet_state.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
    state_.emplace(std::move(*store));
    options_.version = "test";
    options_.factories.make_source = [this](const config::SourceConfig&,
                                            const source::ReadOptions&) {
      return Result<std::unique_ptr<source::Source>>(std::make_unique<ScriptedSource>(&shared_));
    };
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExportSummary Run() { return RunExport(config_, e_, *state_, options_); }

  // Every file name in the output folder (staging files included).
  std::set<std::string> Files() const {
    std::set<std::string> names;
    if (!fs::exists(dir_ / "out")) return names;
    for (const auto& entry : fs::directory_iterator(dir_ / "out")) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }
  // Data lines (after the header) of one output file.
  int64_t DataLines(const std::string& name) const {
    std::ifstream in(dir_ / "out" / name);
    std::string line;
    int64_t lines = -1;
    while (std::getline(in, line)) ++lines;
    return lines;
  }
  static bool AnyStaging(const std::set<std::string>& names) {
    for (const std::string& n : names) {
      if (n.rfind(".rivet-tmp-", 0) == 0) return true;
    }
    return false;
  }

  fs::path dir_;
  config::Config config_;
  config::ExportConfig e_;
  std::optional<state::StateStore> state_;
  RunOptions options_;
  Shared shared_;
};

TEST_F(RunExportTest, RetriesARetryableErrorBeforeAnyFileIsDelivered) {
  shared_.tries = {Script{3, 4, 2, ErrorCode::kNetwork}, Script{3, 4, std::nullopt}};
  ExportSummary s = Run();
  // Every row delivered, but it took a retry: degraded, a success for the exit code.
  ASSERT_EQ(s.status, ExportStatus::kDegraded) << s.error.message();
  EXPECT_EQ(s.retries, 1);
  EXPECT_EQ(s.rows, 12u);  // the failed try's rows are not counted
  auto runs = state_->ListRuns(std::string("orders"), 10);
  ASSERT_TRUE(runs.has_value() && runs->size() == 1u);
  EXPECT_EQ(runs->front().status, state::RunStatus::kDegraded);
  EXPECT_EQ(runs->front().retries, 1);
  EXPECT_EQ(s.files, 1u);
  EXPECT_EQ(shared_.streams.load(), 2);
  std::set<std::string> names = Files();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_FALSE(AnyStaging(names));
  EXPECT_EQ(DataLines(*names.begin()), 12);
}

TEST_F(RunExportTest, GivesUpAfterMaxRetries) {
  shared_.tries = {Script{3, 4, 0, ErrorCode::kTimeout}};
  ExportSummary s = Run();
  EXPECT_EQ(s.status, ExportStatus::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kTimeout);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(shared_.streams.load(), 3);
  EXPECT_TRUE(Files().empty());
}

TEST_F(RunExportTest, NeverRetriesOnceAFileIsDelivered) {
  e_.max_file_size = 1;  // a new part after every batch
  shared_.tries = {Script{5, 4, 3, ErrorCode::kNetwork}};
  ExportSummary s = Run();
  EXPECT_EQ(s.status, ExportStatus::kFailed);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(shared_.streams.load(), 1);
  // Parts 0 and 1 were delivered before the failure; part 2 (open) was discarded.
  std::set<std::string> names = Files();
  EXPECT_EQ(names.size(), 2u);
  EXPECT_FALSE(AnyStaging(names));
  auto manifest = state_->ListFiles(std::string("orders"), 10);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->size(), 2u);
}

TEST_F(RunExportTest, RotatesPartsWithNamesAndEveryRowOnce) {
  e_.max_file_size = 1;
  shared_.tries = {Script{3, 4, std::nullopt}};
  ExportSummary s = Run();
  ASSERT_EQ(s.status, ExportStatus::kSuccess) << s.error.message();
  EXPECT_EQ(s.files, 3u);
  std::set<std::string> names = Files();
  ASSERT_EQ(names.size(), 3u);
  int64_t rows = 0;
  int part = 0;
  for (const std::string& n : names) {
    EXPECT_NE(n.find(fmt::format("_part{}.csv", part++)), std::string::npos) << n;
    rows += DataLines(n);
  }
  EXPECT_EQ(rows, 12);
}

TEST_F(RunExportTest, MetaColumnsFollowTheQueryColumnsInEveryBatchAndPart) {
  e_.max_file_size = 1;
  e_.meta_columns.exported_at = true;
  e_.meta_columns.row_hash = true;
  shared_.tries = {Script{3, 4, std::nullopt}};
  ExportSummary s = Run();
  ASSERT_EQ(s.status, ExportStatus::kSuccess) << s.error.message();
  std::set<std::string> names = Files();
  ASSERT_EQ(names.size(), 3u);
  auto schema = std::make_shared<const columnar::Schema>(
      columnar::Schema{{"id", columnar::DataType::Of(columnar::TypeId::kInt64)}});
  std::set<std::string> stamps;
  int64_t rows = 0;
  for (const std::string& n : names) {
    std::ifstream in(dir_ / "out" / n);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line, "id,_rivet_exported_at,_rivet_row_hash");
    while (std::getline(in, line)) {
      const size_t a = line.find(',');
      const size_t b = line.rfind(',');
      ASSERT_NE(a, b) << line;
      columnar::Batch one(schema);
      one.mutable_column(0).Append<int64_t>(std::stoll(line.substr(0, a)));
      one.CommitRow();
      std::vector<uint64_t> hash;
      rowhash::RowHashes(one, 1, hash);
      EXPECT_EQ(line.substr(b + 1), std::to_string(static_cast<int64_t>(hash[0]))) << line;
      stamps.insert(line.substr(a + 1, b - a - 1));
      ++rows;
    }
  }
  EXPECT_EQ(rows, 12);
  EXPECT_EQ(stamps.size(), 1u) << "one _rivet_exported_at for the whole run";
}

TEST_F(RunExportTest, SkipEmptyWritesNothingOtherwiseAHeaderOnlyFile) {
  shared_.tries = {Script{0, 4, std::nullopt}};
  e_.skip_empty = true;
  ExportSummary skipped = Run();
  EXPECT_EQ(skipped.status, ExportStatus::kSkipped);
  EXPECT_TRUE(Files().empty());

  e_.skip_empty = false;
  ExportSummary empty = Run();
  ASSERT_EQ(empty.status, ExportStatus::kSuccess) << empty.error.message();
  std::set<std::string> names = Files();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(DataLines(*names.begin()), 0);
}

TEST_F(RunExportTest, FailsAtOnceOnANonRetryableError) {
  shared_.tries = {Script{3, 4, 1, ErrorCode::kQuery}};
  ExportSummary s = Run();
  EXPECT_EQ(s.status, ExportStatus::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kQuery);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(shared_.streams.load(), 1);
  EXPECT_TRUE(Files().empty());
  auto runs = state_->ListRuns(std::string("orders"), 10);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front().status, state::RunStatus::kFailed);
}

// The local destination, except that every Commit fails.
class FailingCommit final : public destination::Destination {
 public:
  explicit FailingCommit(std::unique_ptr<destination::Destination> inner)
      : inner_(std::move(inner)) {}
  std::string Describe() const override { return inner_->Describe(); }
  Result<std::unique_ptr<destination::ObjectWriter>> Create(
      const std::string& name, const destination::ObjectOptions& options) override {
    RIVET_ASSIGN_OR_RETURN(auto object, inner_->Create(name, options));
    return std::unique_ptr<destination::ObjectWriter>(std::make_unique<Object>(std::move(object)));
  }
  Result<bool> Exists(const std::string& name) override { return inner_->Exists(name); }
  std::string Location(const std::string& name) const override { return inner_->Location(name); }
  Status Probe() override { return inner_->Probe(); }
  int SweepAbandoned(const std::string& prefix) override { return inner_->SweepAbandoned(prefix); }

 private:
  class Object final : public destination::ObjectWriter {
   public:
    explicit Object(std::unique_ptr<destination::ObjectWriter> inner) : inner_(std::move(inner)) {}
    Status Append(const uint8_t* data, size_t size) override { return inner_->Append(data, size); }
    uint64_t bytes_written() const override { return inner_->bytes_written(); }
    Status Finish() override { return inner_->Finish(); }
    std::optional<std::string> StagedPath() const override { return inner_->StagedPath(); }
    Status Commit(const std::string&) override {
      inner_->Abort();
      return Error(ErrorCode::kIo, "disk full (scripted)");
    }
    void Abort() override { inner_->Abort(); }

   private:
    std::unique_ptr<destination::ObjectWriter> inner_;
  };
  std::unique_ptr<destination::Destination> inner_;
};

// A destination that hands bytes over as they come, like stdout, into memory.
class StreamingDestination final : public destination::Destination {
 public:
  std::string Describe() const override { return "Stream"; }
  Result<std::unique_ptr<destination::ObjectWriter>> Create(
      const std::string&, const destination::ObjectOptions&) override {
    return std::unique_ptr<destination::ObjectWriter>(std::make_unique<Object>());
  }
  Result<bool> Exists(const std::string&) override { return false; }
  std::string Location(const std::string&) const override { return "stream"; }
  Status Probe() override { return Status::Ok(); }
  int SweepAbandoned(const std::string&) override { return 0; }

 private:
  class Object final : public destination::ObjectWriter {
   public:
    Status Append(const uint8_t*, size_t size) override {
      written_ += size;
      return Status::Ok();
    }
    uint64_t bytes_written() const override { return written_; }
    Status Finish() override { return Status::Ok(); }
    std::optional<std::string> StagedPath() const override { return std::nullopt; }
    Status Commit(const std::string&) override { return Status::Ok(); }
    void Abort() override {}
    bool PartlyDelivered() const override { return written_ > 0; }

   private:
    uint64_t written_ = 0;
  };
};

TEST_F(RunExportTest, NeverRetriesOnceAStreamHandedBytesOver) {
  options_.factories.make_destination = [](const config::DestinationConfig&, const std::string&) {
    return Result<std::unique_ptr<destination::Destination>>(
        std::make_unique<StreamingDestination>());
  };
  // The first try fails after 2 MB of CSV (past the writer's 1 MiB flush) reached the stream:
  // a second try would send those rows again after a partial file.
  shared_.tries = {Script{4, 100000, 3, ErrorCode::kNetwork}, Script{4, 100000, std::nullopt}};
  ExportSummary s = Run();
  EXPECT_EQ(s.status, ExportStatus::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kNetwork);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(shared_.streams.load(), 1);

  // Before any byte left, a retry is safe and happens.
  shared_.streams = 0;
  shared_.tries = {Script{3, 4, 2, ErrorCode::kNetwork}, Script{3, 4, std::nullopt}};
  ExportSummary early = Run();
  EXPECT_EQ(early.status, ExportStatus::kDegraded) << early.error.message();
  EXPECT_EQ(early.retries, 1);
}

TEST_F(RunExportTest, AWriteFailureCancelsAReaderStalledOnTheSource) {
  e_.max_file_size = 1;  // commit (and fail) after the first batch, while the reader stalls
  // Two batches in flight: the writer fails committing on the second while the reader stalls
  // on the third.
  shared_.tries = {Script{5, 4, std::nullopt}};
  shared_.stall_after_batches = 2;
  options_.factories.make_destination = [](const config::DestinationConfig& d,
                                           const std::string& dir) {
    auto inner = destination::MakeDestination(d, dir);
    if (!inner.has_value()) return inner;
    return Result<std::unique_ptr<destination::Destination>>(
        std::make_unique<FailingCommit>(std::move(*inner)));
  };
  const auto start = std::chrono::steady_clock::now();
  ExportSummary s = Run();
  EXPECT_EQ(s.status, ExportStatus::kFailed);
  EXPECT_EQ(s.error.code(), ErrorCode::kIo) << s.error.message();
  EXPECT_TRUE(shared_.cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kStallLimit);
  EXPECT_TRUE(Files().empty());
}

TEST_F(RunExportTest, SweepsFilesStagedByAKilledRunButNotByALiveOne) {
  // A pid that certainly ran and is gone: a child that has exited and been reaped.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  fs::create_directories(dir_ / "out");
  const std::string dead = fmt::format(".rivet-tmp-{}-0-orders_20260101_000000.csv", child);
  const std::string live = fmt::format(".rivet-tmp-{}-0-orders_20260101_000000.csv", getpid());
  const std::string other = fmt::format(".rivet-tmp-{}-0-users_20260101_000000.csv", child);
  for (const std::string& n : {dead, live, other}) std::ofstream(dir_ / "out" / n) << "id\n1\n";

  shared_.tries = {Script{1, 4, std::nullopt}};
  ExportSummary s = Run();
  ASSERT_EQ(s.status, ExportStatus::kSuccess) << s.error.message();
  std::set<std::string> names = Files();
  EXPECT_EQ(names.count(dead), 0u);
  EXPECT_EQ(names.count(live), 1u);   // another running process's file
  EXPECT_EQ(names.count(other), 1u);  // another export's file
  EXPECT_EQ(names.size(), 3u);        // plus the export's own file
}

TEST_F(RunExportTest, CheckpointedChunksStopAtChunkMaxAttemptsAndResumeWhereTheyStopped) {
  e_.mode = config::Mode::kChunked;
  e_.chunk_column = "id";
  e_.chunk_size = 10;
  e_.parallel = 1;  // one worker: the scripted tries meet the chunks in order
  e_.chunk_checkpoint = true;
  e_.chunk_max_attempts = 2;  // fewer than max_retries + 1 = 3
  shared_.query_rows = std::vector<std::vector<std::optional<std::string>>>{
      {"1", "25"}};  // windows [1,10] [11,20] [21,25], then NULL
  // chunk 0 delivers; chunk 1 fails twice (its tries are spent); nothing else runs.
  shared_.tries = {Script{1, 4, std::nullopt}, Script{1, 4, 0, ErrorCode::kNetwork},
                   Script{1, 4, 0, ErrorCode::kNetwork}};
  ExportSummary first = Run();
  ASSERT_EQ(first.status, ExportStatus::kFailed);
  EXPECT_EQ(first.error.code(), ErrorCode::kNetwork);
  EXPECT_EQ(shared_.streams.load(), 3);
  auto plan = state_->InProgressChunkPlan("orders");
  ASSERT_TRUE(plan.has_value() && plan->has_value()) << first.error.message();
  EXPECT_EQ((*plan)->run_id, first.run_id);
  ASSERT_EQ((*plan)->tasks.size(), 4u);
  const auto& t = (*plan)->tasks;
  EXPECT_EQ(t[0].status, state::ChunkStatus::kCompleted);
  EXPECT_EQ(t[0].rows, 4);
  EXPECT_EQ(t[1].status, state::ChunkStatus::kFailed);
  EXPECT_EQ(t[1].attempts, 2);
  EXPECT_NE(t[1].last_error.value_or("").find("scripted failure"), std::string::npos);
  EXPECT_EQ(t[2].status, state::ChunkStatus::kPending);
  EXPECT_EQ(t[3].start_key, "NULL");
  auto manifest = state_->ListFiles(std::string("orders"), 10);
  ASSERT_TRUE(manifest.has_value());
  ASSERT_EQ(manifest->size(), 1u);
  EXPECT_EQ(t[0].file_name, manifest->front().file_name);

  // A plain run would start over beside the plan: refused, nothing streamed.
  ExportSummary plain = Run();
  EXPECT_EQ(plain.status, ExportStatus::kFailed);
  EXPECT_NE(plain.error.message().find("--resume"), std::string::npos) << plain.error.message();
  EXPECT_EQ(shared_.streams.load(), 3);

  // --resume: chunk 0 is skipped, the other three run, the run id is the plan's.
  options_.resume = true;
  shared_.streams = 0;
  shared_.tries = {Script{1, 4, std::nullopt}};
  ExportSummary resumed = Run();
  // The scripted source cannot share a snapshot, so the chunks fell back to per-chunk reads:
  // everything delivered, not cleanly.
  ASSERT_EQ(resumed.status, ExportStatus::kDegraded) << resumed.error.message();
  EXPECT_EQ(resumed.consistency, "per-chunk");
  EXPECT_EQ(resumed.retries, 0);
  EXPECT_EQ(resumed.run_id, first.run_id);
  EXPECT_EQ(shared_.streams.load(), 3);
  EXPECT_EQ(resumed.rows, 12u);
  EXPECT_NE(resumed.resumed.find("1 of 4 chunks were done"), std::string::npos) << resumed.resumed;
  auto done = state_->LatestChunkPlan("orders");
  ASSERT_TRUE(done.has_value() && done->has_value());
  EXPECT_EQ((*done)->status, state::ChunkPlanStatus::kCompleted);
  for (const state::ChunkTask& task : (*done)->tasks) {
    EXPECT_EQ(task.status, state::ChunkStatus::kCompleted) << task.idx;
  }
  manifest = state_->ListFiles(std::string("orders"), 10);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->size(), 4u);
  EXPECT_EQ(Files().size(), 4u);
}

}  // namespace
}  // namespace rivet::pipeline
