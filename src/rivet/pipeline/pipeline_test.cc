#include "rivet/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <thread>

#include "rivet/pipeline/batch_queue.h"
#include "rivet/pipeline/redact.h"
#include "rivet/pipeline/unit_runner.h"

namespace rivet::pipeline {
namespace {

TEST(Redact, RemovesPasswordsRawAndDecoded) {
  config::Config c;
  c.source.url = config::Secret("postgresql://app:p%40ss%3Aw0rd@db:5432/x");
  c.source.password = config::Secret("hunter2");
  config::ExportConfig e;
  e.destination.secret_key = config::Secret("AKIASECRET");
  c.exports.push_back(e);
  std::string out = Redact(
      "failed for postgresql://app:p%40ss%3Aw0rd@db:5432/x, p@ss:w0rd, hunter2, AKIASECRET", c);
  EXPECT_EQ(out, "failed for ***, ***, ***, ***");
}

TEST(Summary, MatchesTheReferenceLayout) {
  ExportSummary s;
  s.export_name = "users_full";
  s.run_id = "users_full_20260329T143000.123";
  s.status = ExportStatus::kFailed;
  s.tuning = "profile=balanced (default), batch_size=10000";
  s.rows = 50000;
  s.files = 1;
  s.bytes = 2202009;
  s.duration_ms = 1200;
  s.peak_rss_bytes = 45ull << 20;
  s.retries = 2;
  s.validated = true;
  s.error = Status(ErrorCode::kNetwork, "connection reset");
  EXPECT_EQ(FormatSummary(s),
            "── users_full ──\n"
            "  run_id:      users_full_20260329T143000.123\n"
            "  status:      failed\n"
            "  tuning:      profile=balanced (default), batch_size=10000\n"
            "  rows:        50000\n"
            "  files:       1\n"
            "  bytes:       2.1 MB\n"
            "  duration:    1.2s\n"
            "  peak RSS:    45MB (sampled during run)\n"
            "  retries:     2\n"
            "  validated:   pass\n"
            "  schema:      unchanged\n"
            "  error:       connection reset\n");
}

TEST(Summary, DegradedIsPrintedAsItsOwnStatus) {
  ExportSummary s;
  s.export_name = "big";
  s.status = ExportStatus::kDegraded;
  s.retries = 1;
  s.consistency = "per-chunk";
  const std::string out = FormatSummary(s);
  EXPECT_NE(out.find("  status:      degraded\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  retries:     1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  consistency: per-chunk\n"), std::string::npos) << out;
  EXPECT_EQ(ToString(ExportStatus::kDegraded), "degraded");
}

TEST(Summary, APaceIsPrintedWithTheTimePaused) {
  ExportSummary s;
  s.export_name = "paced";
  s.max_source_share = 0.25;
  s.paused_ms = 3200;
  const std::string out = FormatSummary(s);
  EXPECT_NE(out.find("  pace:        max_source_share=0.25, readers paused 3.2s\n"),
            std::string::npos)
      << out;
}

// waited / (waited + pause) = share.
TEST(PauseForShare, WaitingTakesTheShareOfTheTime) {
  using std::chrono::milliseconds;
  EXPECT_EQ(PauseForShare(milliseconds(100), 0.25), milliseconds(300));
  EXPECT_EQ(PauseForShare(milliseconds(100), 0.5), milliseconds(100));
  EXPECT_EQ(PauseForShare(milliseconds(100), 1.0), milliseconds(0));
  EXPECT_EQ(PauseForShare(milliseconds(0), 0.1), milliseconds(0));
}

TEST(BatchQueue, DeliversEveryBatchInOrderThenTheError) {
  auto schema = std::make_shared<const columnar::Schema>(
      columnar::Schema{{"v", columnar::DataType::Of(columnar::TypeId::kInt64)}});
  BatchQueue queue(schema, 2, 4);
  std::thread reader([&] {
    for (int64_t i = 0; i < 100; ++i) {
      columnar::Batch* b = queue.AcquireEmpty();
      ASSERT_NE(b, nullptr);
      b->Clear();
      b->mutable_column(0).Append<int64_t>(i);
      b->CommitRow();
      queue.PushFull(b);
    }
    queue.Close(Status(ErrorCode::kNetwork, "gone"));
  });
  int64_t expected = 0;
  while (columnar::Batch* b = queue.PopFull()) {
    EXPECT_EQ(b->column(0).values<int64_t>()[0], expected++);
    queue.Release(b);
  }
  reader.join();
  EXPECT_EQ(expected, 100);
  EXPECT_EQ(queue.closed_status().code(), ErrorCode::kNetwork);
}

TEST(BatchQueue, CancelStopsAWaitingReader) {
  auto schema = std::make_shared<const columnar::Schema>(
      columnar::Schema{{"v", columnar::DataType::Of(columnar::TypeId::kInt64)}});
  BatchQueue queue(schema, 1, 1);
  columnar::Batch* first = queue.AcquireEmpty();
  ASSERT_NE(first, nullptr);
  std::thread reader([&] { EXPECT_EQ(queue.AcquireEmpty(), nullptr); });
  queue.Cancel();
  reader.join();
}

}  // namespace
}  // namespace rivet::pipeline
