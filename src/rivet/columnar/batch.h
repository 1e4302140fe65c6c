// Batch: the only meeting point of sources and format writers.
//
// A batch is a schema plus one Column per field, all of num_rows() rows. Sources fill a batch
// (Clear() keeps capacity, so steady-state batches allocate nothing); writers consume it.
#pragma once

#include <vector>

#include "rivet/columnar/column.h"
#include "rivet/columnar/types.h"

namespace rivet::columnar {

class Batch {
 public:
  explicit Batch(SchemaPtr schema);

  const SchemaPtr& schema() const { return schema_; }
  size_t num_columns() const { return columns_.size(); }
  size_t num_rows() const { return num_rows_; }
  const Column& column(size_t i) const { return columns_[i]; }
  Column& mutable_column(size_t i) { return columns_[i]; }

  // Called by a source after appending one value to every column.
  void CommitRow() { ++num_rows_; }
  void Clear();
  void Reserve(size_t rows);
  size_t ByteSize() const;

 private:
  SchemaPtr schema_;
  std::vector<Column> columns_;
  size_t num_rows_ = 0;
};

}  // namespace rivet::columnar
