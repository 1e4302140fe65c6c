#include "rivet/columnar/column.h"

namespace rivet::columnar {

Column::Column(DataType type) : type_(std::move(type)) {
  Storage s = type_.storage();
  if (s == Storage::kBytes || s == Storage::kList) offsets_.push_back(0);
  if (s == Storage::kList) child_ = std::make_unique<Column>(*type_.element);
}

void Column::AppendNull() {
  switch (type_.storage()) {
    case Storage::kU8: u8_.push_back(0); break;
    case Storage::kI32: i32_.push_back(0); break;
    case Storage::kI64: i64_.push_back(0); break;
    case Storage::kF32: f32_.push_back(0); break;
    case Storage::kF64: f64_.push_back(0); break;
    case Storage::kI128: i128_.push_back(0); break;
    case Storage::kBytes: offsets_.push_back(static_cast<int64_t>(data_.size())); break;
    case Storage::kFixed16: data_.insert(data_.end(), 16, 0); break;
    case Storage::kList: offsets_.push_back(static_cast<int64_t>(child_->size())); break;
  }
  validity_.push_back(0);
  ++null_count_;
}

void Column::Clear() {
  validity_.clear();
  null_count_ = 0;
  u8_.clear();
  i32_.clear();
  i64_.clear();
  f32_.clear();
  f64_.clear();
  i128_.clear();
  data_.clear();
  if (!offsets_.empty()) offsets_.resize(1);
  if (child_) child_->Clear();
}

void Column::Reserve(size_t rows) {
  validity_.reserve(rows);
  switch (type_.storage()) {
    case Storage::kU8: u8_.reserve(rows); break;
    case Storage::kI32: i32_.reserve(rows); break;
    case Storage::kI64: i64_.reserve(rows); break;
    case Storage::kF32: f32_.reserve(rows); break;
    case Storage::kF64: f64_.reserve(rows); break;
    case Storage::kI128: i128_.reserve(rows); break;
    case Storage::kBytes:
    case Storage::kList: offsets_.reserve(rows + 1); break;
    case Storage::kFixed16: data_.reserve(rows * 16); break;
  }
}

size_t Column::ByteSize() const {
  size_t total = validity_.size() + u8_.size() + i32_.size() * 4 + i64_.size() * 8 +
                 f32_.size() * 4 + f64_.size() * 8 + i128_.size() * 16 + offsets_.size() * 8 +
                 data_.size();
  if (child_) total += child_->ByteSize();
  return total;
}

}  // namespace rivet::columnar
