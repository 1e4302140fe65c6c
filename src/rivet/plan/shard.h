// --shard: a deterministic subset of a chunked export's chunks, so N processes started by an
// orchestrator (a Kubernetes Indexed Job, Airflow task mapping, xargs on several hosts) cover
// the plan together without sharing a state store. Shard i of N takes the chunks whose index
// is i modulo N: neighbouring windows go to different shards, so a skewed key range spreads.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet::plan {

struct Shard {
  int64_t index = 0;  // 0-based
  int64_t count = 1;

  bool Owns(int64_t chunk_index) const { return chunk_index % count == index; }
  bool operator==(const Shard&) const = default;
};

// "i/N" (0 <= i < N), or "N" alone with i read from `completion_index` (the value of
// JOB_COMPLETION_INDEX, nullopt when unset). Errors say what was expected.
Result<Shard> ParseShard(std::string_view text, std::optional<std::string_view> completion_index);

}  // namespace rivet::plan
