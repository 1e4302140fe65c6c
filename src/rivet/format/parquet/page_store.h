// Where finished pages wait for their row group to be flushed.
//
// A column chunk's pages must be contiguous in the file (ColumnMetaData gives one offset and one
// size per chunk), so the compressed pages of every column of the current row group are held
// until the row group ends. They are held in fixed-size blocks from a pool shared by all columns
// of a file:
//   - no growing vector per chunk, so no copy of the chunk on every doubling and no transient
//     2x peak (a 40 MB chunk in one vector grew to a 64 MB capacity and briefly needed 96 MB);
//   - blocks freed by one flushed chunk serve the next chunk and the next row group, so after
//     the first row group the writer touches no new memory (no page faults, nothing for the
//     allocator to keep or return) and the memory held is the row group's compressed size
//     rounded up to a block per column.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/format/writer.h"

namespace rivet::format::parquet {

class BlockPool {
 public:
  // 256 KiB: small next to a row group, large enough that one Append per page is the norm.
  static constexpr size_t kBlockBytes = size_t{256} << 10;

  std::unique_ptr<uint8_t[]> Take() {
    if (free_.empty()) return std::unique_ptr<uint8_t[]>(new uint8_t[kBlockBytes]);
    std::unique_ptr<uint8_t[]> block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  void Give(std::unique_ptr<uint8_t[]> block) { free_.push_back(std::move(block)); }

 private:
  std::vector<std::unique_ptr<uint8_t[]>> free_;
};

// The finished pages of one column chunk, in order, as a sequence of pool blocks.
class PageStore {
 public:
  explicit PageStore(BlockPool& pool) : pool_(pool) {}
  ~PageStore() { Clear(); }
  PageStore(const PageStore&) = delete;
  PageStore& operator=(const PageStore&) = delete;

  void Append(const uint8_t* data, size_t size) {
    while (size > 0) {
      if (blocks_.empty() || tail_used_ == BlockPool::kBlockBytes) {
        blocks_.push_back(pool_.Take());
        tail_used_ = 0;
      }
      size_t n = std::min(size, BlockPool::kBlockBytes - tail_used_);
      std::memcpy(blocks_.back().get() + tail_used_, data, n);
      tail_used_ += n;
      size_ += n;
      data += n;
      size -= n;
    }
  }
  // One finished page: its serialized header, then the bytes stored as they are and the
  // (compressed) values; `uncompressed_body` is the body's size before compression.
  void AppendPage(const std::vector<uint8_t>& header, const uint8_t* prefix, size_t prefix_size,
                  const uint8_t* values, size_t values_size, uint64_t uncompressed_body) {
    Append(header.data(), header.size());
    if (prefix_size > 0) Append(prefix, prefix_size);
    if (values_size > 0) Append(values, values_size);
    uncompressed_ += header.size() + uncompressed_body;
  }
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Pages headers included, before compression (ColumnMetaData.total_uncompressed_size).
  uint64_t uncompressed() const { return uncompressed_; }
  // Bodies of pages submitted to a PageQueue and not appended yet, before compression.
  uint64_t pending() const { return pending_; }
  void AddPending(int64_t bytes) {
    pending_ = static_cast<uint64_t>(static_cast<int64_t>(pending_) + bytes);
  }

  Status WriteTo(ByteSink& sink) const {
    for (size_t i = 0; i < blocks_.size(); ++i) {
      size_t n = i + 1 == blocks_.size() ? tail_used_ : BlockPool::kBlockBytes;
      RIVET_RETURN_IF_ERROR(sink.Append(blocks_[i].get(), n));
    }
    return Status::Ok();
  }
  // Returns the blocks to the pool.
  void Clear() {
    for (auto& block : blocks_) pool_.Give(std::move(block));
    blocks_.clear();
    tail_used_ = 0;
    size_ = 0;
    uncompressed_ = 0;
  }

 private:
  BlockPool& pool_;
  std::vector<std::unique_ptr<uint8_t[]>> blocks_;
  size_t tail_used_ = 0;
  uint64_t size_ = 0;
  uint64_t uncompressed_ = 0;
  uint64_t pending_ = 0;
};

}  // namespace rivet::format::parquet
