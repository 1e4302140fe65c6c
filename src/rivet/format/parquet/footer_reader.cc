#include "rivet/format/parquet/footer_reader.h"

#include <cstring>
#include <limits>
#include <vector>

namespace rivet::format::parquet {

namespace {

constexpr size_t kMagicBytes = 4;
constexpr size_t kLengthBytes = 4;
// "PAR1" + footer length + "PAR1": the smallest possible file before any metadata.
constexpr size_t kMinFileBytes = 2 * kMagicBytes + kLengthBytes;

Status Corrupt(std::string_view what) {
  return Error(ErrorCode::kCorrupt, "not a valid Parquet file: {}", what);
}

template <typename... Args>
Status CorruptF(fmt::format_string<Args...> format, Args&&... args) {
  return Error(ErrorCode::kCorrupt, "not a valid Parquet file: {}",
               fmt::format(format, std::forward<Args>(args)...));
}

Status CheckMagic(const uint8_t* bytes, std::string_view where) {
  if (std::memcmp(bytes, "PAR1", kMagicBytes) == 0) return Status::Ok();
  if (std::memcmp(bytes, "PARE", kMagicBytes) == 0) {
    return Error(ErrorCode::kNotSupported,
                 "Parquet files with encrypted footers are not supported");
  }
  return CorruptF("no PAR1 magic at the {}", where);
}

// Walks the depth-first schema list; returns the number of leaves.
Result<size_t> CountLeaves(const std::vector<SchemaElement>& schema) {
  if (schema.empty()) return Corrupt("empty schema");
  size_t leaves = 0;
  // Children still expected at each open group; the root is the first group.
  std::vector<int64_t> pending;
  for (size_t i = 0; i < schema.size(); ++i) {
    const SchemaElement& e = schema[i];
    if (i > 0) {
      if (pending.empty()) return Corrupt("schema has elements outside the root");
      --pending.back();
    }
    if (e.num_children.has_value()) {
      if (*e.num_children < 0) return Corrupt("schema group with a negative child count");
      pending.push_back(*e.num_children);
    } else if (i == 0) {
      return Corrupt("schema root is not a group");
    } else {
      ++leaves;
    }
    while (!pending.empty() && pending.back() == 0) pending.pop_back();
  }
  if (!pending.empty()) return Corrupt("schema ends before all of its groups' children");
  if (leaves == 0) return Corrupt("schema has no columns");
  return leaves;
}

Status CheckChunk(const ColumnChunk& chunk, size_t group, size_t column, int64_t data_end) {
  if (!chunk.meta_data) {
    return CorruptF("row group {} column {} has no metadata", group, column);
  }
  const ColumnMetaData& m = *chunk.meta_data;
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset > 0) {
    start = std::min(start, *m.dictionary_page_offset);
  }
  if (m.index_page_offset && *m.index_page_offset > 0)
    start = std::min(start, *m.index_page_offset);
  auto outside = [&](int64_t offset) {
    return offset < static_cast<int64_t>(kMagicBytes) || offset >= data_end;
  };
  if (outside(m.data_page_offset) || outside(start)) {
    return CorruptF("row group {} column {} starts at offset {}, outside the data [4, {})", group,
                    column, start, data_end);
  }
  if (m.total_compressed_size <= 0 || m.total_compressed_size > data_end - start) {
    return CorruptF("row group {} column {} of {} bytes at offset {} runs past the data end {}",
                    group, column, m.total_compressed_size, start, data_end);
  }
  if (m.num_values < 0)
    return CorruptF("row group {} column {} has a negative value count", group, column);
  return Status::Ok();
}

// Steps 3-6 once the footer bytes are known. `footer_offset` is where they start in the file.
Result<FileMetaData> CheckFooter(const uint8_t* footer, size_t footer_size,
                                 uint64_t footer_offset) {
  auto parsed = ParseFileMetaData(footer, footer_size);
  if (!parsed) return parsed.error().WithContext("not a valid Parquet file");
  FileMetaData m = std::move(parsed).value();
  RIVET_ASSIGN_OR_RETURN(size_t leaves, CountLeaves(m.schema));
  if (m.num_rows < 0) return Corrupt("negative row count");
  auto data_end = static_cast<int64_t>(footer_offset);
  int64_t rows = 0;
  for (size_t g = 0; g < m.row_groups.size(); ++g) {
    const RowGroup& group = m.row_groups[g];
    if (group.num_rows < 0) return CorruptF("row group {} has a negative row count", g);
    if (group.columns.size() != leaves) {
      return CorruptF("row group {} has {} column chunks for {} columns", g, group.columns.size(),
                      leaves);
    }
    for (size_t c = 0; c < group.columns.size(); ++c) {
      RIVET_RETURN_IF_ERROR(CheckChunk(group.columns[c], g, c, data_end));
    }
    if (group.num_rows > std::numeric_limits<int64_t>::max() - rows) {
      return Corrupt("row counts overflow");
    }
    rows += group.num_rows;
  }
  if (rows != m.num_rows) {
    return CorruptF("row groups hold {} rows but the footer says {}", rows, m.num_rows);
  }
  return m;
}

// Steps 1-2 on the file's size and tail; returns the footer length.
Result<uint32_t> CheckTail(uint64_t file_size, const uint8_t* head, const uint8_t* tail) {
  if (file_size < kMinFileBytes) {
    return CorruptF("{} bytes is too short for a Parquet file", file_size);
  }
  RIVET_RETURN_IF_ERROR(CheckMagic(head, "start"));
  RIVET_RETURN_IF_ERROR(CheckMagic(tail + kLengthBytes, "end"));
  uint32_t length = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) length |= static_cast<uint32_t>(tail[i]) << (8 * i);
  if (length == 0) return Corrupt("footer length is zero");
  if (length > file_size - kMinFileBytes) {
    return CorruptF("footer length {} exceeds the file size {}", length, file_size);
  }
  return length;
}

}  // namespace

Result<FileMetaData> ReadFileMetaData(const uint8_t* data, size_t size) {
  if (size < kMinFileBytes) return CorruptF("{} bytes is too short for a Parquet file", size);
  const uint8_t* tail = data + size - kLengthBytes - kMagicBytes;
  RIVET_ASSIGN_OR_RETURN(uint32_t length, CheckTail(size, data, tail));
  size_t footer_offset = size - kLengthBytes - kMagicBytes - length;
  return CheckFooter(data + footer_offset, length, footer_offset);
}

Result<FileMetaData> ReadFileMetaData(ByteSource& file) {
  const uint64_t size = file.size();
  auto in_file = [&](const Status& s) { return s.WithContext(file.Describe()); };
  if (size < kMinFileBytes) {
    return in_file(CorruptF("{} bytes is too short for a Parquet file", size));
  }
  uint8_t head[kMagicBytes];
  uint8_t tail[kLengthBytes + kMagicBytes];
  RIVET_RETURN_IF_ERROR(file.ReadAt(0, sizeof head, head));
  RIVET_RETURN_IF_ERROR(file.ReadAt(size - sizeof tail, sizeof tail, tail));
  auto length = CheckTail(size, head, tail);
  if (!length) return in_file(length.error());
  uint64_t footer_offset = size - sizeof tail - *length;
  std::vector<uint8_t> footer(*length);
  RIVET_RETURN_IF_ERROR(file.ReadAt(footer_offset, footer.size(), footer.data()));
  auto metadata = CheckFooter(footer.data(), footer.size(), footer_offset);
  if (!metadata) return in_file(metadata.error());
  return metadata;
}

Result<FileMetaData> ReadFileMetaDataFromFile(const std::string& path) {
  RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(path));
  return ReadFileMetaData(*file);
}

Result<uint64_t> CountParquetRowsInMemory(const uint8_t* data, size_t size) {
  RIVET_ASSIGN_OR_RETURN(FileMetaData m, ReadFileMetaData(data, size));
  return static_cast<uint64_t>(m.num_rows);
}

}  // namespace rivet::format::parquet
