#include "rivet/columnar/batch.h"

namespace rivet::columnar {

Batch::Batch(SchemaPtr schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_->size());
  for (const Field& field : *schema_) columns_.emplace_back(field.type);
}

void Batch::ExtendColumns(SchemaPtr extended) {
  if (!base_schema_) base_schema_ = schema_;
  schema_ = std::move(extended);
  const size_t base = base_schema_->size();
  for (size_t i = columns_.size(); i < schema_->size(); ++i) {
    const size_t extra = i - base;
    if (extra < spare_.size() && spare_[extra].type() == (*schema_)[i].type) {
      columns_.push_back(std::move(spare_[extra]));
    } else {
      columns_.emplace_back((*schema_)[i].type);
    }
    columns_.back().Clear();
  }
  spare_.clear();
}

void Batch::DropExtraColumns() {
  if (!base_schema_) return;
  const size_t base = base_schema_->size();
  spare_.clear();
  for (size_t i = base; i < columns_.size(); ++i) spare_.push_back(std::move(columns_[i]));
  for (Column& c : spare_) c.Clear();
  columns_.erase(columns_.begin() + static_cast<std::ptrdiff_t>(base), columns_.end());
  schema_ = std::move(base_schema_);
  base_schema_ = nullptr;
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
