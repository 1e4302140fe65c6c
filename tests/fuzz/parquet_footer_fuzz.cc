// libFuzzer target for the Parquet footer reader behind --validate, and the other bounds-checked
// decoders a hostile file reaches (page headers, RLE/bit-packed runs).
//
// Build (clang only):  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRIVET_FUZZ=ON
//                      cmake --build build-fuzz --target parquet_footer_fuzz
// Run:                 build-fuzz/tests/fuzz/parquet_footer_fuzz tests/fuzz/corpus/parquet_footer
// Contract: any input yields a value or an error (kCorrupt / kNotSupported), never a crash, a
// read out of bounds, undefined behaviour, or unbounded memory; an accepted file's row groups
// add up to its row count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rivet/format/parquet/footer_reader.h"
#include "rivet/format/parquet/metadata.h"
#include "rivet/format/parquet/rle.h"

using rivet::ErrorCode;
namespace pq = rivet::format::parquet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto metadata = pq::ReadFileMetaData(data, size);
  if (metadata.has_value()) {
    int64_t rows = 0;
    for (const auto& group : metadata->row_groups) rows += group.num_rows;
    if (rows != metadata->num_rows || metadata->num_rows < 0) std::abort();
    auto counted = pq::CountParquetRowsInMemory(data, size);
    if (!counted || *counted != static_cast<uint64_t>(rows)) std::abort();
  } else if (metadata.error().code() != ErrorCode::kCorrupt &&
             metadata.error().code() != ErrorCode::kNotSupported) {
    std::abort();
  }

  // The same bytes as a page header, then as levels of a small bit width.
  size_t header_size = 0;
  auto header = pq::ParsePageHeader(data, size, header_size);
  if (header.has_value() && header_size > size) std::abort();
  if (size > 0) {
    std::vector<uint32_t> values;
    int bit_width = data[0] % 33;
    size_t count = size > 1 ? data[1] * 16u : 0;
    auto status = pq::DecodeRleBitPacked(data + 1, size - 1, bit_width, count, values);
    if (status.ok() && values.size() != count) std::abort();
  }
  return 0;
}
