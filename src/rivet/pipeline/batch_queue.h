// A bounded hand-off between the reading thread (source) and the writing thread (format).
//
// A fixed pool of batches circulates: the reader takes an empty one, fills it, pushes it; the
// writer pops it, encodes it, and gives it back. With a pool of two, reading the next batch
// overlaps encoding the last, and memory stays at two batches whatever the table size.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/common/result.h"

namespace rivet::pipeline {

class BatchQueue {
 public:
  BatchQueue(columnar::SchemaPtr schema, size_t pool_size, size_t reserve_rows);

  // Reader side. Null when the writer has cancelled.
  columnar::Batch* AcquireEmpty();
  void PushFull(columnar::Batch* batch);
  // Ends the stream: OK status at end of data, an error otherwise.
  void Close(Status status);

  // Writer side. Null at the end of the stream or on error; then closed_status() tells which.
  columnar::Batch* PopFull();
  void Release(columnar::Batch* batch);
  // Stops the reader at its next AcquireEmpty (e.g. after a write error).
  void Cancel();
  Status closed_status();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<columnar::Batch>> pool_;
  std::vector<columnar::Batch*> empty_;
  std::deque<columnar::Batch*> full_;
  bool closed_ = false;
  bool cancelled_ = false;
  Status status_;
};

}  // namespace rivet::pipeline
