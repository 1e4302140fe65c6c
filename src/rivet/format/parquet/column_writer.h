// Column chunk writer: turns the rows of one leaf column into encoded, compressed pages.
//
// One ColumnWriter per leaf column lives as long as the file; it holds the pages of the current
// row group only. The file writer calls Write() once per column and batch slice (a virtual call
// per slice, never per value); inside, a template instantiated per ValueKind runs the loop.
//
// Per row, in order:
//   1. Definition (and for lists repetition) levels are appended; present values go to the
//      statistics and either the dictionary (index kept) or the PLAIN buffer.
//   2. At the row boundary, the page in progress is finished when its estimated encoded size
//      reaches page_max_bytes or it holds page_max_rows rows (pages never split a row, as data
//      page v2 requires and v1 readers prefer).
//   3. Also at the row boundary, a dictionary whose PLAIN size passed dictionary_max_bytes ends
//      dictionary encoding for the rest of the chunk (see dictionary.h).
// Finishing a page (data page v1, DataPageHeader):
//   [repetition levels: 4-byte LE length + RLE hybrid]  (lists only)
//   [definition levels: 4-byte LE length + RLE hybrid]
//   [values: PLAIN, or 1 byte bit width + RLE hybrid dictionary indices]
//   all compressed together (by the PageQueue, possibly on another thread), preceded by the
//   Thrift PageHeader.
// Data page v2 (DataPageHeaderV2): repetition then definition levels, uncompressed and without
// length prefixes (the lengths are in the header), then the values, compressed alone.
// FlushChunk() writes the dictionary page first (PLAIN values, when any page used it), then the
// data pages, and describes the chunk (offsets, sizes, encodings, statistics).
#pragma once

#include <cstdint>
#include <memory>

#include "rivet/columnar/column.h"
#include "rivet/common/result.h"
#include "rivet/format/parquet/codecs.h"
#include "rivet/format/parquet/metadata.h"
#include "rivet/format/parquet/page_queue.h"
#include "rivet/format/parquet/page_store.h"
#include "rivet/format/parquet/schema.h"
#include "rivet/format/writer.h"

namespace rivet::format::parquet {

struct PageOptions {
  uint64_t page_max_bytes = 1 << 20;        // estimated encoded bytes per data page
  uint64_t page_max_rows = 1 << 20;         // rows per data page
  uint64_t dictionary_max_bytes = 1 << 20;  // PLAIN size of a chunk's dictionary
  bool enable_dictionary = true;
  bool data_page_v2 = false;
};

class ColumnWriter {
 public:
  virtual ~ColumnWriter() = default;
  // Appends rows [begin, end) of `column`, whose type must be the leaf's (checked by the caller).
  // kData when a value cannot be stored exactly (a decimal beyond its precision, a uint32 out of
  // range, a page over 2 GiB).
  virtual Status Write(const columnar::Column& column, size_t begin, size_t end) = 0;
  // Encoded, uncompressed bytes of the current row group: finished pages (headers included),
  // the page in progress and the dictionary. Drives the row-group byte limit.
  virtual uint64_t BufferedUncompressedBytes() const = 0;
  // Bytes the current row group will add to the file, as far as known now: finished pages as
  // compressed, the page in progress and the dictionary as encoded.
  virtual uint64_t BufferedFileBytes() const = 0;
  // Writes the chunk (dictionary page, then data pages) to `sink`, whose next byte is at file
  // offset `offset`; fills `chunk`; resets for the next row group.
  virtual Status FlushChunk(ByteSink& sink, int64_t offset, ColumnChunk& chunk) = 0;
};

// `pages` and `pool` are shared by all columns of a file and must outlive the writer.
Result<std::unique_ptr<ColumnWriter>> MakeColumnWriter(const LeafColumn& leaf,
                                                       const PageOptions& options, PageQueue& pages,
                                                       BlockPool& pool);

}  // namespace rivet::format::parquet
