// Finished data pages on their way into their column chunk: compressed on a small pool of
// threads, then appended with their headers to the chunk's PageStore in the order the pages
// were submitted.
//
// Compression is most of the writer's CPU at zstd level 3, and it is the only step that needs
// no order: each page is compressed on its own. The column writers keep encoding on the calling
// thread; a page's header depends on its compressed size, so the calling thread serializes it
// and appends the page once its compression is done, oldest page first (pages of one column
// stay in order, and the file's bytes are the same whatever the number of threads).
//
// Bounded: at most 2 pages per thread are in flight (the calling thread then waits for the
// oldest), and page buffers are recycled, so memory grows by a few pages, not with the table.
// With 0 threads every page is compressed on the calling thread when it is submitted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"
#include "rivet/format/parquet/codecs.h"
#include "rivet/format/parquet/metadata.h"
#include "rivet/format/parquet/page_store.h"

namespace rivet::format::parquet {

// The page-compression threads for a writer that may use `usable_cpus` CPUs: one fewer than
// that (the calling thread encodes), at most kMaxCompressionThreads, none without compression.
inline constexpr int kMaxCompressionThreads = 3;
int CompressionThreads(config::Compression compression, int usable_cpus);
// The CPUs this process may run on (its affinity mask, so `taskset` counts).
int UsableCpus();

// What one compression thread holds beside the row group: its page in flight, that page's
// output and its codec context (measured: 4.3 MB at zstd level 3 with 1 MiB pages).
inline constexpr uint64_t kBytesPerCompressionThread = uint64_t{4} << 20;

// parquet.thrift's page sizes are i32.
inline constexpr uint64_t kMaxPageBytes = 0x7fffffff;

struct PendingPage {
  PageHeader header;          // everything but the two sizes, which are set here
  std::vector<uint8_t> body;  // the page after its header, before compression
  size_t keep = 0;            // body[0, keep) is stored as is (data page v2 levels)
  bool compress = true;       // false: the rest is stored as is too
  PageStore* store = nullptr;
  const std::string* column = nullptr;  // for the 2 GiB page limit's message
};

class PageQueue {
 public:
  static Result<std::unique_ptr<PageQueue>> Make(config::Compression compression,
                                                 std::optional<int> level, int threads);
  ~PageQueue();
  PageQueue(const PageQueue&) = delete;
  PageQueue& operator=(const PageQueue&) = delete;

  CompressionCodec codec() const { return inline_->codec(); }
  // For pages written on the calling thread (dictionary pages).
  Compressor& inline_compressor() { return *inline_; }
  // An empty buffer for the next page's body, recycled from finished pages.
  std::vector<uint8_t> TakeBuffer();
  // Takes the page; it reaches its store by the next Drain() at the latest.
  Status Submit(PendingPage page);
  // Every submitted page is in its store.
  Status Drain();

 private:
  struct Slot {
    PendingPage page;
    std::vector<uint8_t> out;
    Status status;
    bool taken = false;  // a thread is compressing it
    bool done = false;
  };
  PageQueue(std::unique_ptr<Compressor> inline_compressor,
            std::vector<std::unique_ptr<Compressor>> workers);
  void Work(Compressor& compressor);
  // Waits for the oldest slot, appends its page to its store and recycles its buffers.
  Status FinishOldest(std::unique_lock<std::mutex>& lock);

  std::unique_ptr<Compressor> inline_;
  std::vector<std::unique_ptr<Compressor>> worker_compressors_;
  std::mutex mu_;
  std::condition_variable work_;  // a slot to compress, or stop
  std::condition_variable done_;  // a slot finished
  std::deque<Slot> slots_;        // submitted, oldest first; stable addresses at both ends
  size_t next_ = 0;               // first slot no thread has taken
  bool stop_ = false;
  std::vector<std::vector<uint8_t>> free_;
  std::vector<uint8_t> header_;
  size_t max_in_flight_ = 0;
  std::vector<std::thread> threads_;  // last: they start once the members above exist
};

}  // namespace rivet::format::parquet
