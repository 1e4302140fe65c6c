// Thrift compact protocol: the encoding of every Parquet metadata structure (page headers and
// the footer FileMetaData), per the Thrift compact-protocol specification (THRIFT-110).
//
// Only what Parquet needs is here: structs, fields, lists, binary, bool, i8/i16/i32/i64 and
// double; no messages, sets or maps on the writing side.
//
// Wire rules implemented (writer and reader agree on them):
//   1. Integers i16/i32/i64 are zigzag-mapped ((n << 1) ^ (n >> 63)) then written as ULEB128
//      varints, 7 bits at a time, least significant group first, high bit = "more follows".
//      i8 is one raw byte. Enums are i32. double is 8 bytes little-endian.
//   2. binary/string: varint length, then the bytes.
//   3. A struct is its fields followed by a stop byte 0x00. Each field starts with a header:
//      short form, one byte (delta << 4) | type, when the id is 1..15 above the previous field id
//      of the same struct; otherwise the long form: one byte `type`, then the id as a zigzag
//      varint. Field ids restart at 0 inside every nested struct.
//   4. A bool field has no value bytes: its header type is 1 (true) or 2 (false).
//   5. A list header is one byte (size << 4) | element type when size < 15, else 0xF0 | type
//      followed by the size as a varint. Elements follow with no headers; a struct element is a
//      full struct ending in its stop byte; a bool element is one byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rivet/common/result.h"

namespace rivet::format::parquet::thrift {

// Compact-protocol type codes (the low nibble of field and list headers).
enum class CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends compact-protocol bytes to a caller-owned buffer. Call StructBegin() before the first
// field of the outermost struct and StructEnd() after its last; nested struct fields use
// FieldStructBegin()/StructEnd(); struct list elements use StructBegin()/StructEnd().
class CompactWriter {
 public:
  explicit CompactWriter(std::vector<uint8_t>& out) : out_(out) { id_stack_.reserve(8); }

  void StructBegin();
  void StructEnd();

  void FieldBool(int16_t id, bool value);
  void FieldI8(int16_t id, int8_t value);
  void FieldI16(int16_t id, int16_t value);
  void FieldI32(int16_t id, int32_t value);
  void FieldI64(int16_t id, int64_t value);
  void FieldDouble(int16_t id, double value);
  void FieldBinary(int16_t id, const void* data, size_t size);
  void FieldString(int16_t id, std::string_view value) {
    FieldBinary(id, value.data(), value.size());
  }
  // Writes the field header and opens the nested struct; close it with StructEnd().
  void FieldStructBegin(int16_t id);
  // Writes the field header and the list header; then write `size` elements.
  void FieldListBegin(int16_t id, CType element_type, size_t size);

  // List elements (no field header).
  void ListBegin(CType element_type, size_t size);
  void I32(int32_t value) { Varint(ZigZag(value)); }
  void I64(int64_t value) { Varint(ZigZag(value)); }
  void Binary(const void* data, size_t size);
  void String(std::string_view value) { Binary(value.data(), value.size()); }

  void Varint(uint64_t value);
  static uint64_t ZigZag(int64_t value) {
    return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  }

 private:
  void FieldHeader(int16_t id, CType type);

  std::vector<uint8_t>& out_;
  std::vector<int16_t> id_stack_;  // previous field id of each enclosing struct
  int16_t last_id_ = 0;
};

// Bounds-checked reader over untrusted bytes. Every failure is ErrorCode::kCorrupt with the
// byte position; nothing reads past `size`, and nesting is limited so hostile input cannot
// exhaust the stack.
class CompactReader {
 public:
  // Deeper nesting than any Parquet structure needs; guards recursion in Skip().
  static constexpr int kMaxDepth = 32;

  CompactReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  Status StructBegin();
  Status StructEnd();
  // Reads the next field header of the current struct; `type` is kStop at the end of the struct
  // (then call StructEnd()). For bool fields the value is the type (kBoolTrue / kBoolFalse).
  Status FieldHeader(int16_t& id, CType& type);

  Status ReadBool(CType field_type, bool& value);
  Status ReadI8(int8_t& value);
  Status ReadI16(int16_t& value);
  Status ReadI32(int32_t& value);
  Status ReadI64(int64_t& value);
  Status ReadDouble(double& value);
  // The view points into the reader's buffer.
  Status ReadBinary(std::string_view& value);
  // Element count is checked against the bytes left (every element takes at least one byte).
  Status ReadListHeader(CType& element_type, uint32_t& size);
  // Skips one value of `type` (structs, lists, sets and maps included).
  Status Skip(CType type);

  size_t position() const { return pos_; }

 private:
  Status ReadVarint(uint64_t& value);
  Status ReadByte(uint8_t& value);
  Status SkipDepth(CType type, int depth);
  Status Corrupt(std::string_view what) const;

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  int16_t last_id_ = 0;
  int16_t id_stack_[kMaxDepth] = {};
  int depth_ = 0;
};

}  // namespace rivet::format::parquet::thrift
