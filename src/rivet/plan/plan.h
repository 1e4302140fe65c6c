// What one export run does, as pure data: the work units of its mode (reference §3 file names,
// §4 semantics). The pipeline runs the units; nothing here talks to a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rivet/common/result.h"

namespace rivet::plan {

// One inclusive window of the chunk column.
struct ChunkWindow {
  int64_t lo = 0;
  int64_t hi = 0;
  bool operator==(const ChunkWindow&) const = default;
};

// One query whose rows become one file (or its size-split parts).
struct WorkUnit {
  std::string sql;
  // Appended to the run's file base: "" for a single-unit mode, "_chunk{i}" for a chunk.
  std::string name_suffix;
  // Chunk index (the checkpoint key); nullopt for single-unit modes.
  std::optional<int64_t> chunk_index;
  // Chunks produce no file when empty; single-unit modes follow skip_empty.
  bool empty_makes_no_file = false;
  // incremental: the column whose last exported value becomes the new cursor.
  std::string cursor_column;
  // chunked: the chunk column, whose type the runner checks before any row is written (MIN/MAX
  // of a text column can parse as numbers while its windows compare as text).
  std::string chunk_column;
  // --worker: the claim on the shared plan this unit runs under (state ChunkClaim::token).
  std::string claim_token;
};

// Windows [min, min+size-1], [min+size, min+2*size-1], ... covering [min, max], the last one
// clamped to max. Overflow-safe over the whole int64 range. size must be > 0, min <= max.
std::vector<ChunkWindow> ChunkWindows(int64_t min, int64_t max, int64_t size);

// The MIN/MAX text of an integer chunk column; a non-integer value is a clear config error
// naming the export and the column (chunking needs an integer column).
Result<int64_t> ParseChunkKey(std::string_view export_name, std::string_view column,
                              std::string_view text);

// One chunk of a chunked export: a window of the chunk column, or (nullopt) the rows whose
// chunk column is NULL. `index` names the file ("_chunk{index}") and the checkpoint task.
struct ChunkSpec {
  int64_t index = 0;
  std::optional<ChunkWindow> window;
  bool operator==(const ChunkSpec&) const = default;
};

// Every chunk of an export whose chunk column spans [min, max] (nullopt: no non-NULL key):
// the windows in key order, then the NULL chunk, indexed from 0.
std::vector<ChunkSpec> ChunkSpecs(const std::optional<ChunkWindow>& range, int64_t size);

// A chunk's keys as a checkpoint task stores them ("NULL", "NULL" for the NULL chunk), and back.
// A task that does not parse is a corrupt state DB, said so.
std::pair<std::string, std::string> ChunkTaskKeys(const ChunkSpec& spec);
Result<ChunkSpec> ChunkSpecFromTask(int64_t index, std::string_view start_key,
                                    std::string_view end_key);

// Stable fingerprint (FNV-1a 64, hex) of the parts, separated so that ("ab","c") differs from
// ("a","bc"). Stored with checkpoint plans; never stores the query itself.
std::string Fingerprint(const std::vector<std::string_view>& parts);

}  // namespace rivet::plan
