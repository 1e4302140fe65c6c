#include "rivet/format/parquet/thrift_compact.h"

#include <cstring>
#include <limits>

namespace rivet::format::parquet::thrift {

namespace {
// A list header stores sizes 0..14 in its high nibble; 15 means "size follows as a varint".
constexpr size_t kShortListMax = 14;
constexpr uint8_t kLongListMarker = 0xF0;
// ULEB128 of a 64-bit value takes at most 10 bytes.
constexpr int kMaxVarintBytes = 10;
}  // namespace

// ---------------------------------------------------------------------------------------------
// CompactWriter

void CompactWriter::Varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(value));
}

void CompactWriter::StructBegin() {
  id_stack_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::StructEnd() {
  out_.push_back(static_cast<uint8_t>(CType::kStop));
  last_id_ = id_stack_.back();
  id_stack_.pop_back();
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<uint8_t>((delta << 4) | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<uint8_t>(type));
    Varint(ZigZag(id));
  }
  last_id_ = id;
}

void CompactWriter::FieldBool(int16_t id, bool value) {
  FieldHeader(id, value ? CType::kBoolTrue : CType::kBoolFalse);
}

void CompactWriter::FieldI8(int16_t id, int8_t value) {
  FieldHeader(id, CType::kByte);
  out_.push_back(static_cast<uint8_t>(value));
}

void CompactWriter::FieldI16(int16_t id, int16_t value) {
  FieldHeader(id, CType::kI16);
  Varint(ZigZag(value));
}

void CompactWriter::FieldI32(int16_t id, int32_t value) {
  FieldHeader(id, CType::kI32);
  Varint(ZigZag(value));
}

void CompactWriter::FieldI64(int16_t id, int64_t value) {
  FieldHeader(id, CType::kI64);
  Varint(ZigZag(value));
}

void CompactWriter::FieldDouble(int16_t id, double value) {
  FieldHeader(id, CType::kDouble);
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
}

void CompactWriter::Binary(const void* data, size_t size) {
  Varint(size);
  const auto* p = static_cast<const uint8_t*>(data);
  out_.insert(out_.end(), p, p + size);
}

void CompactWriter::FieldBinary(int16_t id, const void* data, size_t size) {
  FieldHeader(id, CType::kBinary);
  Binary(data, size);
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CType::kStruct);
  StructBegin();
}

void CompactWriter::ListBegin(CType element_type, size_t size) {
  if (size <= kShortListMax) {
    out_.push_back(static_cast<uint8_t>((size << 4) | static_cast<size_t>(element_type)));
  } else {
    out_.push_back(static_cast<uint8_t>(kLongListMarker | static_cast<uint8_t>(element_type)));
    Varint(size);
  }
}

void CompactWriter::FieldListBegin(int16_t id, CType element_type, size_t size) {
  FieldHeader(id, CType::kList);
  ListBegin(element_type, size);
}

// ---------------------------------------------------------------------------------------------
// CompactReader

Status CompactReader::Corrupt(std::string_view what) const {
  return Error(ErrorCode::kCorrupt, "thrift: {} at byte {}", what, pos_);
}

Status CompactReader::ReadByte(uint8_t& value) {
  if (pos_ >= size_) return Corrupt("unexpected end of data");
  value = data_[pos_++];
  return Status::Ok();
}

Status CompactReader::ReadVarint(uint64_t& value) {
  value = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    uint8_t byte = 0;
    RIVET_RETURN_IF_ERROR(ReadByte(byte));
    uint64_t bits = byte & 0x7F;
    // The tenth byte may only carry the single top bit of a 64-bit value.
    if (i == kMaxVarintBytes - 1 && bits > 1) return Corrupt("varint overflows 64 bits");
    value |= bits << (7 * i);
    if ((byte & 0x80) == 0) return Status::Ok();
  }
  return Corrupt("varint longer than 10 bytes");
}

Status CompactReader::StructBegin() {
  if (depth_ >= kMaxDepth) return Corrupt("structures nested too deeply");
  id_stack_[depth_++] = last_id_;
  last_id_ = 0;
  return Status::Ok();
}

Status CompactReader::StructEnd() {
  if (depth_ == 0) return Corrupt("struct end without a struct");
  last_id_ = id_stack_[--depth_];
  return Status::Ok();
}

Status CompactReader::FieldHeader(int16_t& id, CType& type) {
  uint8_t byte = 0;
  RIVET_RETURN_IF_ERROR(ReadByte(byte));
  type = static_cast<CType>(byte & 0x0F);
  if (type == CType::kStop) {
    if (byte != 0) return Corrupt("malformed stop byte");
    id = 0;
    return Status::Ok();
  }
  if (static_cast<uint8_t>(type) > static_cast<uint8_t>(CType::kStruct)) {
    return Corrupt("unknown field type");
  }
  int delta = byte >> 4;
  if (delta != 0) {
    int next = last_id_ + delta;
    if (next > std::numeric_limits<int16_t>::max()) return Corrupt("field id overflows");
    id = static_cast<int16_t>(next);
  } else {
    RIVET_RETURN_IF_ERROR(ReadI16(id));
  }
  last_id_ = id;
  return Status::Ok();
}

Status CompactReader::ReadBool(CType field_type, bool& value) {
  if (field_type == CType::kBoolTrue) {
    value = true;
  } else if (field_type == CType::kBoolFalse) {
    value = false;
  } else {
    return Corrupt("field is not a bool");
  }
  return Status::Ok();
}

Status CompactReader::ReadI8(int8_t& value) {
  uint8_t byte = 0;
  RIVET_RETURN_IF_ERROR(ReadByte(byte));
  value = static_cast<int8_t>(byte);
  return Status::Ok();
}

namespace {
int64_t UnZigZag(uint64_t n) { return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1); }
}  // namespace

Status CompactReader::ReadI16(int16_t& value) {
  int64_t wide = 0;
  RIVET_RETURN_IF_ERROR(ReadI64(wide));
  if (wide < std::numeric_limits<int16_t>::min() || wide > std::numeric_limits<int16_t>::max()) {
    return Corrupt("i16 out of range");
  }
  value = static_cast<int16_t>(wide);
  return Status::Ok();
}

Status CompactReader::ReadI32(int32_t& value) {
  int64_t wide = 0;
  RIVET_RETURN_IF_ERROR(ReadI64(wide));
  if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
    return Corrupt("i32 out of range");
  }
  value = static_cast<int32_t>(wide);
  return Status::Ok();
}

Status CompactReader::ReadI64(int64_t& value) {
  uint64_t raw = 0;
  RIVET_RETURN_IF_ERROR(ReadVarint(raw));
  value = UnZigZag(raw);
  return Status::Ok();
}

Status CompactReader::ReadDouble(double& value) {
  if (size_ - pos_ < 8) return Corrupt("unexpected end of data in double");
  uint64_t bits = 0;
  for (size_t i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  pos_ += 8;
  std::memcpy(&value, &bits, sizeof value);
  return Status::Ok();
}

Status CompactReader::ReadBinary(std::string_view& value) {
  uint64_t length = 0;
  RIVET_RETURN_IF_ERROR(ReadVarint(length));
  if (length > size_ - pos_) return Corrupt("binary length runs past the end");
  value = std::string_view(reinterpret_cast<const char*>(data_ + pos_), length);
  pos_ += length;
  return Status::Ok();
}

Status CompactReader::ReadListHeader(CType& element_type, uint32_t& size) {
  uint8_t byte = 0;
  RIVET_RETURN_IF_ERROR(ReadByte(byte));
  element_type = static_cast<CType>(byte & 0x0F);
  uint64_t count = byte >> 4;
  if (count == 15) RIVET_RETURN_IF_ERROR(ReadVarint(count));
  if (element_type == CType::kStop ||
      static_cast<uint8_t>(element_type) > static_cast<uint8_t>(CType::kStruct)) {
    return Corrupt("unknown list element type");
  }
  // Every element takes at least one byte, so a larger count is a lie.
  if (count > size_ - pos_) return Corrupt("list size exceeds the data left");
  size = static_cast<uint32_t>(count);
  return Status::Ok();
}

Status CompactReader::Skip(CType type) { return SkipDepth(type, depth_); }

Status CompactReader::SkipDepth(CType type, int depth) {
  if (depth >= kMaxDepth) return Corrupt("structures nested too deeply");
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      return Status::Ok();  // value lives in the field header
    case CType::kByte: {
      uint8_t ignored = 0;
      return ReadByte(ignored);
    }
    case CType::kI16:
    case CType::kI32:
    case CType::kI64: {
      uint64_t ignored = 0;
      return ReadVarint(ignored);
    }
    case CType::kDouble: {
      if (size_ - pos_ < 8) return Corrupt("unexpected end of data in double");
      pos_ += 8;
      return Status::Ok();
    }
    case CType::kBinary: {
      std::string_view ignored;
      return ReadBinary(ignored);
    }
    case CType::kList:
    case CType::kSet: {
      CType element = CType::kStop;
      uint32_t count = 0;
      RIVET_RETURN_IF_ERROR(ReadListHeader(element, count));
      for (uint32_t i = 0; i < count; ++i) {
        if (element == CType::kBoolTrue || element == CType::kBoolFalse) {
          uint8_t ignored = 0;  // bool elements are one byte each
          RIVET_RETURN_IF_ERROR(ReadByte(ignored));
        } else {
          RIVET_RETURN_IF_ERROR(SkipDepth(element, depth + 1));
        }
      }
      return Status::Ok();
    }
    case CType::kMap: {
      uint64_t count = 0;
      RIVET_RETURN_IF_ERROR(ReadVarint(count));
      if (count == 0) return Status::Ok();
      uint8_t kinds = 0;
      RIVET_RETURN_IF_ERROR(ReadByte(kinds));
      if (count > size_ - pos_) return Corrupt("map size exceeds the data left");
      auto key = static_cast<CType>(kinds >> 4);
      auto val = static_cast<CType>(kinds & 0x0F);
      for (auto kind : {key, val}) {
        if (kind == CType::kStop ||
            static_cast<uint8_t>(kind) > static_cast<uint8_t>(CType::kStruct)) {
          return Corrupt("unknown map element type");
        }
      }
      for (uint64_t i = 0; i < count; ++i) {
        for (auto kind : {key, val}) {
          if (kind == CType::kBoolTrue || kind == CType::kBoolFalse) {
            uint8_t ignored = 0;
            RIVET_RETURN_IF_ERROR(ReadByte(ignored));
          } else {
            RIVET_RETURN_IF_ERROR(SkipDepth(kind, depth + 1));
          }
        }
      }
      return Status::Ok();
    }
    case CType::kStruct: {
      RIVET_RETURN_IF_ERROR(StructBegin());
      while (true) {
        int16_t id = 0;
        CType field = CType::kStop;
        RIVET_RETURN_IF_ERROR(FieldHeader(id, field));
        if (field == CType::kStop) break;
        RIVET_RETURN_IF_ERROR(SkipDepth(field, depth + 1));
      }
      return StructEnd();
    }
    case CType::kStop:
      break;
  }
  return Corrupt("cannot skip a value of unknown type");
}

}  // namespace rivet::format::parquet::thrift
