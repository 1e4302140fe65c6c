#include "rivet/pipeline/batch_queue.h"

namespace rivet::pipeline {

BatchQueue::BatchQueue(columnar::SchemaPtr schema, size_t pool_size, size_t reserve_rows) {
  for (size_t i = 0; i < pool_size; ++i) {
    pool_.push_back(std::make_unique<columnar::Batch>(schema));
    pool_.back()->Reserve(reserve_rows);
    empty_.push_back(pool_.back().get());
  }
}

columnar::Batch* BatchQueue::AcquireEmpty() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return cancelled_ || !empty_.empty(); });
  if (cancelled_) return nullptr;
  columnar::Batch* b = empty_.back();
  empty_.pop_back();
  return b;
}

void BatchQueue::PushFull(columnar::Batch* batch) {
  {
    std::lock_guard lock(mu_);
    full_.push_back(batch);
  }
  cv_.notify_all();
}

void BatchQueue::Close(Status status) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    status_ = std::move(status);
  }
  cv_.notify_all();
}

columnar::Batch* BatchQueue::PopFull() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !full_.empty() || closed_; });
  // Batches read before an error are still delivered; the error is seen after them.
  if (full_.empty()) return nullptr;
  columnar::Batch* b = full_.front();
  full_.pop_front();
  return b;
}

void BatchQueue::Release(columnar::Batch* batch) {
  {
    std::lock_guard lock(mu_);
    empty_.push_back(batch);
  }
  cv_.notify_all();
}

void BatchQueue::Cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

Status BatchQueue::closed_status() {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace rivet::pipeline
