#include "rivet/source/mysql/mysql_types.h"

#include <algorithm>
#include <limits>

namespace rivet::source::mysql {
namespace {

using columnar::DataType;
using columnar::TypeId;

// MySQL's widest DECIMAL (65 digits) and its largest scale (30; MariaDB allows 38).
constexpr int32_t kMaxMysqlDecimalPrecision = 65;
// Strings start with a buffer of at most this many bytes in the binary protocol; longer values
// grow it once (the column's declared length can be 4 GiB for LONGTEXT).
constexpr unsigned long kMaxInitialStringBuffer = 16 * 1024;

ColumnPlan IntPlan(TypeId id, int64_t min, int64_t max) {
  ColumnPlan plan;
  plan.type = DataType::Of(id);
  plan.decoder = Decoder::kInt;
  plan.min = min;
  plan.max = max;
  return plan;
}

}  // namespace

int32_t DecimalPrecision(const FieldMeta& field) {
  int64_t length = static_cast<int64_t>(field.length);
  if (field.decimals > 0) --length;              // decimal point
  if (!(field.flags & UNSIGNED_FLAG)) --length;  // sign
  int64_t precision = std::clamp<int64_t>(length, 1, kMaxMysqlDecimalPrecision);
  return static_cast<int32_t>(std::max<int64_t>(precision, field.decimals));
}

ColumnPlan PlanColumn(const FieldMeta& f) {
  const bool is_unsigned = (f.flags & UNSIGNED_FLAG) != 0;
  ColumnPlan plan;
  switch (f.type) {
    case MYSQL_TYPE_TINY:
      if (f.length == 1) {
        plan.type = DataType::Of(TypeId::kBool);
        plan.decoder = Decoder::kBool;
      } else if (is_unsigned) {
        plan = IntPlan(TypeId::kUInt8, 0, 255);
      } else {
        plan = IntPlan(TypeId::kInt8, -128, 127);
      }
      break;
    case MYSQL_TYPE_SHORT:
      plan =
          is_unsigned ? IntPlan(TypeId::kUInt16, 0, 65535) : IntPlan(TypeId::kInt16, -32768, 32767);
      break;
    case MYSQL_TYPE_INT24:
      plan = IntPlan(TypeId::kInt32, is_unsigned ? 0 : -8388608, is_unsigned ? 16777215 : 8388607);
      break;
    case MYSQL_TYPE_LONG:
      plan = is_unsigned ? IntPlan(TypeId::kInt64, 0, 4294967295LL)
                         : IntPlan(TypeId::kInt32, std::numeric_limits<int32_t>::min(),
                                   std::numeric_limits<int32_t>::max());
      break;
    case MYSQL_TYPE_LONGLONG:
      if (is_unsigned) {
        plan.type = DataType::Of(TypeId::kUInt64);
        plan.decoder = Decoder::kUInt64;
      } else {
        plan = IntPlan(TypeId::kInt64, std::numeric_limits<int64_t>::min(),
                       std::numeric_limits<int64_t>::max());
      }
      break;
    case MYSQL_TYPE_YEAR:
      plan = IntPlan(TypeId::kInt32, 0, 9999);
      break;
    case MYSQL_TYPE_BIT:
      plan.decoder = Decoder::kBit;
      plan.type = DataType::Of(f.length <= 1   ? TypeId::kBool
                               : f.length < 64 ? TypeId::kInt64
                                               : TypeId::kUInt64);
      plan.initial_buffer = 8;
      break;
    case MYSQL_TYPE_FLOAT:
      plan.type = DataType::Of(TypeId::kFloat32);
      plan.decoder = Decoder::kFloat32;
      break;
    case MYSQL_TYPE_DOUBLE:
      plan.type = DataType::Of(TypeId::kFloat64);
      plan.decoder = Decoder::kFloat64;
      break;
    case MYSQL_TYPE_NEWDECIMAL: {
      int32_t precision = DecimalPrecision(f);
      auto scale = static_cast<int32_t>(f.decimals);
      if (precision <= columnar::kMaxDecimalPrecision) {
        plan.type = DataType::Decimal(precision, scale);
        plan.decoder = Decoder::kDecimal;
      } else {
        plan.type = DataType::Of(TypeId::kString);
        plan.decoder = Decoder::kBytes;
      }
      plan.initial_buffer = kMaxMysqlDecimalPrecision + 3;  // digits, point, sign, NUL
      break;
    }
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
      plan.type = DataType::Of(TypeId::kDate);
      plan.decoder = Decoder::kDate;
      break;
    case MYSQL_TYPE_TIME:
      plan.type = DataType::Of(TypeId::kTime);
      plan.decoder = Decoder::kTime;
      break;
    case MYSQL_TYPE_DATETIME:
      plan.type = DataType::Of(TypeId::kTimestamp);
      plan.decoder = Decoder::kDatetime;
      break;
    case MYSQL_TYPE_TIMESTAMP:
      plan.type = DataType::Of(TypeId::kTimestampTz);
      plan.decoder = Decoder::kDatetime;
      break;
    case MYSQL_TYPE_JSON:
      plan.type = DataType::Of(TypeId::kJson);
      plan.decoder = Decoder::kBytes;
      break;
    case MYSQL_TYPE_GEOMETRY:
      plan.type = DataType::Of(TypeId::kBinary);
      plan.decoder = Decoder::kBytes;
      break;
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_ENUM:
    case MYSQL_TYPE_SET:
      plan.decoder = Decoder::kBytes;
      if (f.json_format) {
        plan.type = DataType::Of(TypeId::kJson);
      } else if (f.charsetnr == kBinaryCharset && !(f.flags & (ENUM_FLAG | SET_FLAG))) {
        plan.type = DataType::Of(TypeId::kBinary);
      } else {
        plan.type = DataType::Of(TypeId::kString);
      }
      break;
    default:
      // Legacy DECIMAL, NULL-typed expressions and anything newer: the server's text form.
      plan.type = DataType::Of(TypeId::kString);
      plan.decoder = Decoder::kBytes;
      break;
  }
  if (plan.decoder == Decoder::kBytes && plan.initial_buffer == 0) {
    plan.initial_buffer = std::clamp<unsigned long>(f.length + 1, 64, kMaxInitialStringBuffer);
  }
  plan.storage = plan.type.storage();
  plan.name = f.name;
  plan.field_type = f.type;
  plan.is_unsigned = is_unsigned;
  return plan;
}

}  // namespace rivet::source::mysql
