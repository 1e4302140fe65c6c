// Row hashes for the _rivet_row_hash meta column.
//
// Each row's query columns are written into a canonical byte encoding (docs/row-hash.md) and
// hashed with xxHash64, seed 0. The encoding depends only on the values, not on the source
// engine's storage width, so the same values hash the same from PostgreSQL or MySQL, in any
// chunk and in any output format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rivet/columnar/batch.h"

namespace rivet::rowhash {

class RowHasher {
 public:
  // Hashes the first query_columns columns of every row of batch into out (resized to
  // num_rows).
  void Hash(const columnar::Batch& batch, size_t query_columns, std::vector<uint64_t>& out);

 private:
  // Rows are encoded a block at a time, column by column within the block: the encodings held
  // at once stay at kBlockRows rows whatever the batch size, and the buffers are reused, so
  // steady-state batches allocate nothing.
  static constexpr size_t kBlockRows = 1024;
  std::vector<std::string> rows_;
};

// One-shot form of RowHasher::Hash.
void RowHashes(const columnar::Batch& batch, size_t query_columns, std::vector<uint64_t>& out);

}  // namespace rivet::rowhash
