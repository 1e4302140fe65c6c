// The exact `unique_columns` check in bounded memory (README "Quality gates").
//
// Every non-NULL value of the column becomes a key (its bytes in a canonical form: equal values,
// equal keys) tagged with its row's ordinal in the export. Keys collect in memory until the
// collector's budget is reached; then they are sorted and written to an anonymous temporary
// file as one sorted run, and collection starts again. At the end all runs and what is still in
// memory are merged in one pass: equal keys meet, so duplicates are counted exactly, whatever
// the number of distinct values, with memory bounded by the budget and disk by the keys.
//
// NULLs are not values (SQL UNIQUE semantics): any number of them is allowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rivet/columnar/column.h"
#include "rivet/common/result.h"
#include "rivet/common/temp_file.h"

namespace rivet::quality {

// Keys for values of `type`; an error for types without one (lists).
Status CheckUniqueType(const columnar::DataType& type);

// One try of one work unit collects into its own collector, so that a failed try is dropped
// with its keys.
class UniqueCollector {
 public:
  // `memory_budget`: bytes of keys and their index this collector may hold before it spills.
  UniqueCollector(columnar::DataType type, size_t memory_budget);

  // Adds the non-NULL rows of `col`; row i has ordinal `first_ordinal + i`.
  Status Add(const columnar::Column& col, uint64_t first_ordinal);

  // Sorts what is in memory into a run on disk and frees the memory (also when a finished
  // try's keys are kept for the final merge while other tries still collect).
  Status Spill();

  size_t spilled_runs() const { return runs_.size(); }
  uint64_t spilled_bytes() const;

 private:
  friend struct Merger;
  // Index entry of one key in arena_: sorted by (key bytes, ordinal).
  struct Entry {
    uint64_t prefix;  // the key's first 8 bytes, big-endian: most comparisons stop here
    uint64_t ordinal;
    uint32_t offset;
    uint32_t length;
  };
  void AddKey(const uint8_t* key, size_t length, uint64_t ordinal);
  void SortEntries();

  columnar::DataType type_;
  size_t budget_;
  std::vector<uint8_t> arena_;
  std::vector<Entry> entries_;
  std::vector<TempFile> runs_;
};

struct Duplicates {
  uint64_t count = 0;  // rows whose value appeared on a row before them
  // The earliest row (in export order) that repeats a value: that value, as CSV would show it.
  std::optional<std::string> first;
  size_t runs_merged = 0;
};

// Merges every collector of one column (each successful try of the export).
Result<Duplicates> FindDuplicates(const columnar::DataType& type,
                                  std::vector<UniqueCollector>& parts, size_t memory_budget);

}  // namespace rivet::quality
