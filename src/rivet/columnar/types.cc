#include "rivet/columnar/types.h"

#include <fmt/format.h>

namespace rivet::columnar {

Storage DataType::storage() const {
  switch (id) {
    case TypeId::kBool: return Storage::kU8;
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kDate: return Storage::kI32;
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return Storage::kI64;
    case TypeId::kFloat32: return Storage::kF32;
    case TypeId::kFloat64: return Storage::kF64;
    case TypeId::kDecimal:
      return precision <= kMaxDecimal64Precision ? Storage::kI64 : Storage::kI128;
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kJson: return Storage::kBytes;
    case TypeId::kUuid: return Storage::kFixed16;
    case TypeId::kList: return Storage::kList;
  }
  return Storage::kBytes;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kBool: return "bool";
    case TypeId::kInt8: return "int8";
    case TypeId::kInt16: return "int16";
    case TypeId::kInt32: return "int32";
    case TypeId::kInt64: return "int64";
    case TypeId::kUInt8: return "uint8";
    case TypeId::kUInt16: return "uint16";
    case TypeId::kUInt32: return "uint32";
    case TypeId::kUInt64: return "uint64";
    case TypeId::kFloat32: return "float32";
    case TypeId::kFloat64: return "float64";
    case TypeId::kDecimal: return fmt::format("decimal({},{})", precision, scale);
    case TypeId::kString: return "string";
    case TypeId::kBinary: return "binary";
    case TypeId::kJson: return "json";
    case TypeId::kDate: return "date";
    case TypeId::kTime: return "time";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kTimestampTz: return "timestamptz";
    case TypeId::kUuid: return "uuid";
    case TypeId::kList: return fmt::format("list<{}>", element ? element->ToString() : "?");
  }
  return "unknown";
}

bool DataType::operator==(const DataType& other) const {
  if (id != other.id || precision != other.precision || scale != other.scale) return false;
  if (id != TypeId::kList) return true;
  if (!element || !other.element) return element == other.element;
  return *element == *other.element;
}

int64_t EstimatedValueBytes(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
    case TypeId::kInt8:
    case TypeId::kUInt8: return 1;
    case TypeId::kInt16:
    case TypeId::kUInt16: return 2;
    case TypeId::kInt32:
    case TypeId::kFloat32:
    case TypeId::kDate: return 4;
    case TypeId::kInt64:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
    case TypeId::kFloat64:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return 8;
    case TypeId::kDecimal: return 16;
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kJson: return 256;
    default: return 64;
  }
}

int64_t EstimatedRowBytes(const Schema& schema) {
  int64_t total = 0;
  for (const Field& f : schema) total += EstimatedValueBytes(f.type) + 1;
  return total;
}

}  // namespace rivet::columnar
