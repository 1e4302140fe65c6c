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

  // Extra columns computed after the source filled the batch (the meta columns): `extended`
  // must start with the batch's own fields. ExtendColumns switches the batch to it with empty
  // columns for the added fields; DropExtraColumns restores the source's schema so the batch
  // can be refilled, keeping the extra columns (and their capacity) for the next extension.
  void ExtendColumns(SchemaPtr extended);
  void DropExtraColumns();

 private:
  SchemaPtr schema_;
  SchemaPtr base_schema_;  // set while extended: the schema the source fills
  std::vector<Column> columns_;
  std::vector<Column> spare_;  // dropped extra columns, in field order
  size_t num_rows_ = 0;
};

}  // namespace rivet::columnar
