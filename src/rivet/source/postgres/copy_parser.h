// Pure parser of PostgreSQL's binary COPY stream ("COPY ... TO STDOUT (FORMAT binary)") into a
// columnar::Batch. No sockets: the source hands it the bytes of each CopyData message as they
// arrive (PostgreSQL protocol docs, "COPY" > "Binary Format").
//
// Stream layout, parsed in this order:
//   1. header: the 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags (bits 0-15 must be zero,
//      bit 16 = OIDs included, which Rivet never asks for; bits 17-31 are ignored as the docs
//      say), int32 length of the header extension, then that many bytes (skipped);
//   2. tuples: int16 field count (must equal the number of result columns), then per field an
//      int32 length (-1 = NULL) followed by that many bytes in the type's binary send format;
//   3. trailer: int16 -1, after which nothing may follow.
// All integers are big-endian. A row may be split across chunks (the protocol does not promise
// one row per CopyData message: in practice the header travels with the first row and the
// trailer with the last), so bytes of an incomplete row are kept until the next chunk.
//
// Every length is checked against the bytes present and against the width the column's type
// requires; malformed input gives ErrorCode::kCorrupt naming the stream offset and the column,
// never an assert or an out-of-bounds read. Values that are well-formed but cannot be exported
// exactly (NaN in a DECIMAL column, infinite timestamps, multi-dimensional arrays) give
// ErrorCode::kData naming the column and the value.
//
// Decoding is dispatched per column through a table of ColumnDecoder built once per stream
// (a switch on a small enum, no virtual call per value); once the batch has capacity, no value
// allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rivet/columnar/batch.h"
#include "rivet/common/result.h"

namespace rivet::source::postgres {

// How one value travels on the wire and where it lands.
enum class ValueKind : uint8_t {
  kBool,         // 1 byte -> uint8
  kInt16,        // int2 -> int32 storage
  kInt32,        // int4 -> int32
  kInt64,        // int8 -> int64
  kOid,          // uint32 -> int64
  kFloat32,      // float4 -> float
  kFloat64,      // float8 -> double
  kDecimal64,    // numeric -> unscaled int64 at the column's scale (precision <= 18)
  kDecimal128,   // numeric -> unscaled Int128 (precision 19..38)
  kNumericText,  // numeric -> exact decimal text ("NaN", "Infinity" kept as text)
  kBytes,        // text, varchar, bpchar, name, citext, enum, json, bytea, text casts: raw bytes
  kJsonb,        // jsonb: version byte 1, then the JSON text
  kDate,         // int32 days since 2000-01-01 -> days since 1970-01-01
  kTime,         // int64 microseconds since midnight
  kTimestamp,    // int64 microseconds since 2000-01-01 -> since 1970-01-01 (both timestamp types)
  kUuid,         // 16 bytes
  kArray,        // 1-D array of `element` values -> list
};

struct ValueDecoder {
  ValueKind kind = ValueKind::kBytes;
  int32_t precision = 0;  // kDecimal64 / kDecimal128
  int32_t scale = 0;
};

struct ColumnDecoder {
  std::string name;               // the column's name, for error messages
  ValueDecoder value;             // how the field decodes (kArray: see element)
  ValueDecoder element;           // kArray: how each element decodes (never kArray)
  uint32_t element_oid = 0;       // kArray: element type OID expected in the array header
  uint32_t element_base_oid = 0;  // kArray: also accepted (a domain element's base type)
};

class CopyParser {
 public:
  // Decodes a well-formed field of a common kind into `column`; false (nothing appended)
  // otherwise, and the field goes through the full decoder, which says what is wrong.
  using FastDecode = bool (*)(const ValueDecoder& decoder, const uint8_t* field, int32_t length,
                              columnar::Column& column);

  // `columns` must match the batch's schema, column for column.
  explicit CopyParser(std::vector<ColumnDecoder> columns);

  // Parses complete rows from the bytes kept from earlier calls followed by `chunk`, appending
  // them to `batch` until it holds `max_rows` rows. Bytes not parsed yet (an incomplete row, or
  // rows beyond max_rows) are kept for the next call.
  Status Consume(std::span<const uint8_t> chunk, columnar::Batch& batch, size_t max_rows);
  // Parses rows from the bytes kept so far, without new input.
  Status Drain(columnar::Batch& batch, size_t max_rows) { return Consume({}, batch, max_rows); }

  // True once the trailer has been read.
  bool done() const { return state_ == State::kDone; }
  // True when kept bytes may hold more complete rows (Drain before reading more).
  bool has_pending() const { return pending_.size() > pending_pos_; }
  // Call once the server has ended the COPY: kCorrupt unless the trailer was read and nothing
  // follows it.
  Status Finish() const;

  // Rows parsed since the start of the stream.
  int64_t rows() const { return rows_; }
  // Bytes of the stream parsed so far (offsets in error messages count from the first byte).
  int64_t offset() const { return consumed_; }

 private:
  enum class State : uint8_t { kHeader, kTuples, kDone };

  // Parses from [data, data+size). Sets *used to the bytes consumed (whole rows only).
  Status Parse(const uint8_t* data, size_t size, columnar::Batch& batch, size_t max_rows,
               size_t* used);
  // Header: returns false (no error) if more bytes are needed.
  Result<bool> ParseHeader(const uint8_t* data, size_t size, size_t* used);
  Status DecodeField(size_t column_index, const uint8_t* p, int32_t length, int64_t offset,
                     columnar::Column& column);
  Status DecodeArray(const ColumnDecoder& decoder, const uint8_t* p, int32_t length, int64_t offset,
                     columnar::Column& column);

  std::vector<ColumnDecoder> columns_;
  State state_ = State::kHeader;
  // Bytes kept across calls; pending_[pending_pos_..] is not parsed yet.
  std::vector<uint8_t> pending_;
  size_t pending_pos_ = 0;
  // Per row: where each field starts (relative to the row) and its length; reused for every row.
  std::vector<size_t> field_starts_;
  std::vector<int32_t> field_lengths_;
  std::vector<FastDecode> fast_;  // per column; nullptr: always the full decoder
  int64_t rows_ = 0;
  int64_t consumed_ = 0;
};

// Exact decimal text of a numeric in binary send format (the digits PostgreSQL prints).
// Exposed for tests. `out` receives the text.
Status NumericToText(const uint8_t* p, int32_t length, std::string* out);

}  // namespace rivet::source::postgres
