// Quality gates of one export (reference §1 `quality`, guide §16), computed while the data
// streams: row count, NULL ratio per column and exact uniqueness, from the batches the export
// writes, never by reading the source again.
//
// Each try of a work unit counts into its own Tally; only the tallies of tries that succeeded
// are accepted, so a retried unit is counted once. After the last unit, Failures() gives the
// messages of every gate that failed (empty: pass).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/quality/unique.h"

namespace rivet::quality {

// The memory every unique_columns check of one export shares (keys and their index); beyond
// it keys spill to sorted runs in the temporary folder (README "Quality gates").
inline constexpr size_t kUniqueMemoryBudget = size_t{64} << 20;

class Gate;

// What one try of one unit saw.
class Tally {
 public:
  Status Observe(const columnar::Batch& batch);

 private:
  friend class Gate;
  Tally(const Gate& gate, uint64_t first_ordinal);
  const Gate& gate_;
  uint64_t next_ordinal_;
  uint64_t rows_ = 0;
  std::vector<uint64_t> nulls_;          // per null_ratio_max column
  std::vector<UniqueCollector> unique_;  // per unique_columns column
};

class Gate {
 public:
  // `concurrent_tries`: how many tallies may collect at once (the export's workers).
  Gate(const config::QualityConfig& config, std::string export_name, size_t concurrent_tries,
       size_t memory_budget = kUniqueMemoryBudget);

  // The result's columns: every column the gates name must be one of them. Called with each
  // unit's schema; the first one binds.
  Status Bind(const columnar::Schema& schema);

  // A tally for one try of unit `unit_index` (row ordinals: unit order, then row order).
  std::unique_ptr<Tally> NewTally(uint64_t unit_index) const;
  // The try succeeded: its counts are part of the export.
  Status Accept(std::unique_ptr<Tally> tally);

  // After every unit: one message per failed gate, in the guide's words.
  Result<std::vector<std::string>> Failures();

 private:
  friend class Tally;
  size_t PerCollectorBudget() const;

  config::QualityConfig config_;
  std::string export_name_;
  size_t concurrent_tries_;
  size_t memory_budget_;
  bool bound_ = false;
  std::vector<std::pair<std::string, size_t>> null_columns_;  // name, index in the result
  std::vector<double> null_thresholds_;
  std::vector<std::pair<std::string, size_t>> unique_columns_;
  std::vector<columnar::DataType> unique_types_;

  std::mutex mu_;
  uint64_t rows_ = 0;
  std::vector<uint64_t> nulls_;
  std::vector<std::vector<UniqueCollector>> unique_parts_;
  bool holds_memory_part_ = false;  // one accepted collector per column may keep its keys
};

}  // namespace rivet::quality
