#include "rivet/columnar/batch.h"

namespace rivet::columnar {

Batch::Batch(SchemaPtr schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_->size());
  for (const Field& field : *schema_) columns_.emplace_back(field.type);
}

void Batch::Clear() {
  for (Column& c : columns_) c.Clear();
  num_rows_ = 0;
}

void Batch::Reserve(size_t rows) {
  for (Column& c : columns_) c.Reserve(rows);
}

size_t Batch::ByteSize() const {
  size_t total = 0;
  for (const Column& c : columns_) total += c.ByteSize();
  return total;
}

}  // namespace rivet::columnar
