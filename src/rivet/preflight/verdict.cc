#include "rivet/preflight/verdict.h"

#include <fmt/format.h>

#include <cmath>

namespace rivet::preflight {
namespace {

constexpr double k50K = 50'000;
constexpr double k500K = 500'000;
constexpr double k1M = 1'000'000;
constexpr double k5M = 5'000'000;
constexpr double k10M = 10'000'000;
constexpr double k50M = 50'000'000;

}  // namespace

std::string_view ToString(Verdict v) {
  switch (v) {
    case Verdict::kEfficient:
      return "EFFICIENT";
    case Verdict::kAcceptable:
      return "ACCEPTABLE";
    case Verdict::kDegraded:
      return "DEGRADED";
    case Verdict::kUnsafe:
      return "UNSAFE";
  }
  return "UNSAFE";
}

Verdict JudgeVerdict(const Judged& j) {
  if (j.index_used) {
    if (j.has_cursor) return j.rows <= k10M ? Verdict::kEfficient : Verdict::kAcceptable;
    return j.rows <= k10M ? Verdict::kAcceptable : Verdict::kDegraded;
  }
  if (j.rows <= k1M) return Verdict::kDegraded;
  if (j.has_cursor && j.rows <= k50M) return Verdict::kDegraded;
  return Verdict::kUnsafe;
}

config::Profile RecommendProfile(const Judged& j) {
  if (j.index_used) {
    if (j.rows <= k1M) return config::Profile::kFast;
    return j.rows <= k10M ? config::Profile::kBalanced : config::Profile::kSafe;
  }
  return j.rows <= k1M ? config::Profile::kBalanced : config::Profile::kSafe;
}

Parallelism RecommendParallelism(const Judged& j, config::Mode mode) {
  if (mode != config::Mode::kChunked) return {1, "only chunked mode benefits from parallelism"};
  if (j.rows < k50K) return {1, "small dataset: one connection is enough"};
  if (!j.index_used && j.rows > k5M) {
    return {1, "no index: parallel full scans of a large table would multiply the load"};
  }
  if (!j.index_used) return {2, "no index: each chunk scans the table, so at most two at once"};
  if (j.rows < k500K) return {2, "moderate dataset with index support"};
  return {4, "large dataset with index support"};
}

bool SparseKeyRange(double rows, int64_t min, int64_t max, int64_t chunk_size) {
  if (max < min || chunk_size <= 0) return false;
  // In doubles: max - min + 1 overflows int64 for keys spread over the whole range.
  const double span = static_cast<double>(max) - static_cast<double>(min) + 1;
  const double windows = std::ceil(span / static_cast<double>(chunk_size));
  return windows > 10 && rows / span < 0.1;
}

int64_t BatchMemoryBytes(double row_bytes, int64_t batch_rows, int64_t readers) {
  return static_cast<int64_t>(row_bytes * static_cast<double>(batch_rows) *
                              static_cast<double>(kBatchesInFlight * readers));
}

std::string Suggestion(Verdict v, const Judged& j, config::Mode mode, std::string_view column) {
  const bool cursor_mode = mode == config::Mode::kIncremental || mode == config::Mode::kChunked;
  switch (v) {
    case Verdict::kEfficient:
      return fmt::format("The plan reads through an index on '{}'. Good to go.", column);
    case Verdict::kAcceptable:
      if (j.has_cursor) {
        return "Indexed, but the result is large: run it off-peak with the recommended profile, "
               "or split it with mode: chunked.";
      }
      return "The plan uses an index but every run reads the whole result. Switch to "
             "incremental mode with an indexed cursor column to export only new rows.";
    case Verdict::kDegraded:
    case Verdict::kUnsafe:
      break;
  }
  std::string s;
  if (cursor_mode || mode == config::Mode::kTimeWindow) {
    s = fmt::format("No index used on '{}': every run scans the table. Create an index on '{}'.",
                    column, column);
  } else if (j.index_used) {
    s = "A long scan without a cursor. Switch to incremental or chunked mode on an indexed "
        "column.";
  } else {
    s = "No index detected -- full table scan. Add an indexed cursor column and switch to "
        "incremental mode.";
  }
  if (v == Verdict::kUnsafe) s += " Do NOT run this against production as it is.";
  return s;
}

}  // namespace rivet::preflight
