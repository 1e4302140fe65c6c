#include "rivet/format/parquet/page_queue.h"

#include <sched.h>

#include <algorithm>

namespace rivet::format::parquet {

int CompressionThreads(config::Compression compression, int usable_cpus) {
  if (compression == config::Compression::kNone) return 0;
  return std::clamp(usable_cpus - 1, 0, kMaxCompressionThreads);
}

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(CPU_COUNT(&set), 1);
}

Result<std::unique_ptr<PageQueue>> PageQueue::Make(config::Compression compression,
                                                   std::optional<int> level, int threads) {
  RIVET_ASSIGN_OR_RETURN(auto inline_compressor, MakeCompressor(compression, level));
  std::vector<std::unique_ptr<Compressor>> workers;
  for (int i = 0; i < threads; ++i) {
    // One codec context per thread, reused for every page it compresses.
    RIVET_ASSIGN_OR_RETURN(auto c, MakeCompressor(compression, level));
    workers.push_back(std::move(c));
  }
  return std::unique_ptr<PageQueue>(
      new PageQueue(std::move(inline_compressor), std::move(workers)));
}

PageQueue::PageQueue(std::unique_ptr<Compressor> inline_compressor,
                     std::vector<std::unique_ptr<Compressor>> workers)
    : inline_(std::move(inline_compressor)),
      worker_compressors_(std::move(workers)),
      max_in_flight_(worker_compressors_.size()) {
  for (auto& c : worker_compressors_) threads_.emplace_back([this, &c] { Work(*c); });
}

PageQueue::~PageQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::vector<uint8_t> PageQueue::TakeBuffer() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return {};
  std::vector<uint8_t> buffer = std::move(free_.back());
  free_.pop_back();
  buffer.clear();
  return buffer;
}

namespace {
Status Compress(Compressor& compressor, const PendingPage& page, std::vector<uint8_t>& out) {
  if (!page.compress) return Status::Ok();
  return compressor.Compress(page.body.data() + page.keep, page.body.size() - page.keep, out);
}
}  // namespace

void PageQueue::Work(Compressor& compressor) {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || next_ < slots_.size(); });
    if (stop_) return;
    Slot& slot = slots_[next_++];
    slot.taken = true;
    lock.unlock();
    // The slot's address holds: only the calling thread removes slots, and only done ones.
    Status status = Compress(compressor, slot.page, slot.out);
    lock.lock();
    slot.status = std::move(status);
    slot.done = true;
    done_.notify_all();
  }
}

Status PageQueue::Submit(PendingPage page) {
  // Without a codec the page is stored as it is, not copied through one.
  if (codec() == CompressionCodec::kUncompressed) page.compress = false;
  page.store->AddPending(page.body.size());
  std::unique_lock lock(mu_);
  slots_.emplace_back();
  Slot& slot = slots_.back();
  slot.page = std::move(page);
  slot.out = free_.empty() ? std::vector<uint8_t>() : std::move(free_.back());
  if (!free_.empty()) free_.pop_back();
  if (threads_.empty()) {  // compressed here and now
    slot.taken = true;
    lock.unlock();
    slot.status = Compress(*inline_, slot.page, slot.out);
    lock.lock();
    slot.done = true;
    return FinishOldest(lock);
  }
  work_.notify_one();
  while (slots_.size() > max_in_flight_) RIVET_RETURN_IF_ERROR(FinishOldest(lock));
  return Status::Ok();
}

Status PageQueue::Drain() {
  std::unique_lock lock(mu_);
  Status first;
  while (!slots_.empty()) {
    Status s = FinishOldest(lock);
    if (first.ok() && !s.ok()) first = std::move(s);
  }
  return first;
}

Status PageQueue::FinishOldest(std::unique_lock<std::mutex>& lock) {
  done_.wait(lock, [this] { return slots_.front().done; });
  Slot slot = std::move(slots_.front());
  slots_.pop_front();
  --next_;
  lock.unlock();
  PendingPage& page = slot.page;
  page.store->AddPending(-static_cast<int64_t>(page.body.size()));
  Status status = slot.status;
  const uint8_t* values = page.compress ? slot.out.data() : page.body.data() + page.keep;
  const size_t values_size = page.compress ? slot.out.size() : page.body.size() - page.keep;
  const uint64_t stored = page.keep + values_size;
  if (status.ok() && stored > kMaxPageBytes) {
    status =
        Error(ErrorCode::kData, "column '{}': a page of {} bytes exceeds Parquet's 2 GiB limit",
              *page.column, stored);
  }
  if (status.ok()) {
    page.header.uncompressed_page_size = static_cast<int32_t>(page.body.size());
    page.header.compressed_page_size = static_cast<int32_t>(stored);
    header_.clear();
    SerializePageHeader(page.header, header_);
    page.store->AppendPage(header_, page.body.data(), page.keep, values, values_size,
                           page.body.size());
  }
  lock.lock();
  free_.push_back(std::move(page.body));
  free_.push_back(std::move(slot.out));
  return status;
}

}  // namespace rivet::format::parquet
