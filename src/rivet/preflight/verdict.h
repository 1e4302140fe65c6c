// The judgement rules of `rivet check` (reference §3), as pure functions of the plan facts:
// verdict, recommended profile and parallelism, and the warnings' arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rivet/config/config.h"

namespace rivet::preflight {

enum class Verdict { kEfficient, kAcceptable, kDegraded, kUnsafe };
std::string_view ToString(Verdict v);  // "EFFICIENT", ...

struct Judged {
  double rows = 0;          // the row estimate of the export's query
  bool index_used = false;  // reference §3 "index used"
  bool has_cursor = false;  // incremental or chunked: a cursor / chunk column
};

// Index and cursor: EFFICIENT up to 10M rows, ACCEPTABLE above. Index without cursor:
// ACCEPTABLE up to 10M, DEGRADED above (the reference leaves it open; a long scan through an
// index is no worse than an unindexed one with a cursor). No index: DEGRADED up to 1M, or up
// to 50M with a cursor; UNSAFE beyond.
Verdict JudgeVerdict(const Judged& j);

// Indexed: fast up to 1M rows, balanced up to 10M, else safe. Unindexed: balanced up to 1M,
// else safe.
config::Profile RecommendProfile(const Judged& j);

struct Parallelism {
  int64_t value = 1;
  std::string reason;
};
// Not chunked or under 50K rows: 1; unindexed over 5M: 1; unindexed: 2; under 500K: 2; else 4.
Parallelism RecommendParallelism(const Judged& j, config::Mode mode);

// Reference §3: rows / (max - min + 1) < 0.1 with more than 10 windows of `chunk_size`.
bool SparseKeyRange(double rows, int64_t min, int64_t max, int64_t chunk_size);

// The flat-memory budget a run should stay under; above it check warns of a memory risk.
inline constexpr int64_t kMemoryBudgetBytes = 256LL << 20;
// Batches held at once per reader: the one being filled and the one being encoded.
inline constexpr int64_t kBatchesInFlight = 2;
// Bytes of batches a run holds at once: row bytes x rows per batch x batches x readers.
int64_t BatchMemoryBytes(double row_bytes, int64_t batch_rows, int64_t readers);

// The suggestion sentence for a judged export. `column` is the cursor, chunk or time column.
std::string Suggestion(Verdict v, const Judged& j, config::Mode mode, std::string_view column);

}  // namespace rivet::preflight
