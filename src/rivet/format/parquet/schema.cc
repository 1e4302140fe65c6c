#include "rivet/format/parquet/schema.h"

namespace rivet::format::parquet {

namespace {

using columnar::DataType;
using columnar::TypeId;
using Kind = LogicalType::Kind;

// Precision limits of the physical decimal representations (LogicalTypes.md, DECIMAL).
constexpr int32_t kMaxInt32DecimalPrecision = 9;
constexpr int32_t kMaxInt64DecimalPrecision = 18;
constexpr int32_t kUuidBytes = 16;

// The leaf's physical layout and annotations, without name or levels.
struct LeafType {
  PhysicalType physical;
  int32_t type_length = 0;
  ValueKind kind;
  SortOrder order;
  LogicalType logical;
  std::optional<ConvertedType> converted;
};

LogicalType IntLogical(int8_t bits, bool is_signed) {
  LogicalType t;
  t.kind = Kind::kInteger;
  t.bit_width = bits;
  t.is_signed = is_signed;
  return t;
}

LogicalType Simple(Kind kind) {
  LogicalType t;
  t.kind = kind;
  return t;
}

LogicalType TimeLike(Kind kind, bool utc) {
  LogicalType t;
  t.kind = kind;
  t.adjusted_to_utc = utc;
  return t;
}

Result<LeafType> MapType(const DataType& type) {
  using P = PhysicalType;
  using V = ValueKind;
  using S = SortOrder;
  using C = ConvertedType;
  switch (type.id) {
    case TypeId::kBool:
      return LeafType{P::kBoolean, 0, V::kBool, S::kUnsigned, {}, std::nullopt};
    case TypeId::kInt8:
      return LeafType{P::kInt32, 0, V::kInt32, S::kSigned, IntLogical(8, true), C::kInt8};
    case TypeId::kInt16:
      return LeafType{P::kInt32, 0, V::kInt32, S::kSigned, IntLogical(16, true), C::kInt16};
    case TypeId::kInt32:
      return LeafType{P::kInt32, 0, V::kInt32, S::kSigned, IntLogical(32, true), C::kInt32};
    case TypeId::kUInt8:
      return LeafType{P::kInt32, 0, V::kInt32, S::kUnsigned, IntLogical(8, false), C::kUint8};
    case TypeId::kUInt16:
      return LeafType{P::kInt32, 0, V::kInt32, S::kUnsigned, IntLogical(16, false), C::kUint16};
    case TypeId::kUInt32:
      return LeafType{P::kInt32, 0, V::kInt32FromI64, S::kUnsigned, IntLogical(32, false),
                      C::kUint32};
    case TypeId::kInt64:
      return LeafType{P::kInt64, 0, V::kInt64, S::kSigned, IntLogical(64, true), C::kInt64};
    case TypeId::kUInt64:
      return LeafType{P::kInt64, 0, V::kInt64, S::kUnsigned, IntLogical(64, false), C::kUint64};
    case TypeId::kFloat32:
      return LeafType{P::kFloat, 0, V::kFloat, S::kFloat, {}, std::nullopt};
    case TypeId::kFloat64:
      return LeafType{P::kDouble, 0, V::kDouble, S::kFloat, {}, std::nullopt};
    case TypeId::kDecimal: {
      if (type.precision < 1 || type.precision > columnar::kMaxDecimalPrecision || type.scale < 0 ||
          type.scale > type.precision) {
        return Error(ErrorCode::kNotSupported, "parquet: decimal({},{}) cannot be stored",
                     type.precision, type.scale);
      }
      LogicalType t;
      t.kind = Kind::kDecimal;
      t.precision = type.precision;
      t.scale = type.scale;
      if (type.precision <= kMaxInt32DecimalPrecision) {
        return LeafType{P::kInt32, 0, V::kInt32FromI64, S::kSigned, t, C::kDecimal};
      }
      if (type.precision <= kMaxInt64DecimalPrecision) {
        return LeafType{P::kInt64, 0, V::kInt64, S::kSigned, t, C::kDecimal};
      }
      return LeafType{P::kFixedLenByteArray,
                      DecimalByteWidth(type.precision),
                      V::kDecimal128,
                      S::kSigned,
                      t,
                      C::kDecimal};
    }
    case TypeId::kString:
      return LeafType{P::kByteArray, 0, V::kByteArray, S::kBytes, Simple(Kind::kString), C::kUtf8};
    case TypeId::kJson:
      return LeafType{P::kByteArray, 0, V::kByteArray, S::kBytes, Simple(Kind::kJson), C::kJson};
    case TypeId::kBinary:
      return LeafType{P::kByteArray, 0, V::kByteArray, S::kBytes, {}, std::nullopt};
    case TypeId::kDate:
      return LeafType{P::kInt32, 0, V::kInt32, S::kSigned, Simple(Kind::kDate), C::kDate};
    case TypeId::kTime:
      return LeafType{P::kInt64,     0, V::kInt64, S::kSigned, TimeLike(Kind::kTime, false),
                      C::kTimeMicros};
    case TypeId::kTimestamp:
      return LeafType{
          P::kInt64,          0, V::kInt64, S::kSigned, TimeLike(Kind::kTimestamp, false),
          C::kTimestampMicros};
    case TypeId::kTimestampTz:
      return LeafType{
          P::kInt64,          0, V::kInt64, S::kSigned, TimeLike(Kind::kTimestamp, true),
          C::kTimestampMicros};
    case TypeId::kUuid:
      return LeafType{P::kFixedLenByteArray, kUuidBytes,  V::kFixed16, S::kBytes,
                      Simple(Kind::kUuid),   std::nullopt};
    case TypeId::kList:
      break;
  }
  return Error(ErrorCode::kNotSupported, "parquet: type {} cannot be stored as a leaf",
               type.ToString());
}

SchemaElement LeafElement(const std::string& name, const LeafType& t, const DataType& type) {
  SchemaElement e;
  e.type = t.physical;
  if (t.physical == PhysicalType::kFixedLenByteArray) e.type_length = t.type_length;
  e.repetition = Repetition::kOptional;
  e.name = name;
  e.converted = t.converted;
  e.logical = t.logical;
  if (type.id == TypeId::kDecimal) {
    e.scale = type.scale;
    e.precision = type.precision;
  }
  return e;
}

}  // namespace

int32_t DecimalByteWidth(int32_t precision) {
  using U128 = unsigned __int128;
  U128 max_unscaled = 1;
  for (int32_t i = 0; i < precision; ++i) max_unscaled *= 10;
  max_unscaled -= 1;
  for (int32_t bytes = 1; bytes < 16; ++bytes) {
    U128 max_positive = (U128{1} << (8 * bytes - 1)) - 1;
    if (max_unscaled <= max_positive) return bytes;
  }
  return 16;
}

Result<std::vector<LeafColumn>> BuildLeafColumns(const columnar::Schema& schema) {
  std::vector<LeafColumn> leaves;
  leaves.reserve(schema.size());
  for (const columnar::Field& field : schema) {
    LeafColumn leaf;
    leaf.name = field.name;
    leaf.is_list = field.type.id == TypeId::kList;
    if (leaf.is_list) {
      if (!field.type.element) {
        return Error(ErrorCode::kInternal, "parquet: list column '{}' has no element type",
                     field.name);
      }
      if (field.type.element->id == TypeId::kList) {
        return Error(ErrorCode::kNotSupported,
                     "parquet: column '{}': lists of lists are not supported", field.name);
      }
      leaf.value_type = *field.type.element;
      leaf.max_definition_level = 3;
      leaf.max_repetition_level = 1;
      leaf.path = {field.name, "list", "element"};
      leaf.write_min_max = false;
    } else {
      leaf.value_type = field.type;
      leaf.path = {field.name};
    }
    auto mapped = MapType(leaf.value_type);
    if (!mapped) return mapped.error().WithContext(fmt::format("column '{}'", field.name));
    leaf.physical = mapped->physical;
    leaf.type_length = mapped->type_length;
    leaf.kind = mapped->kind;
    leaf.order = mapped->order;
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

std::vector<SchemaElement> BuildSchemaElements(const columnar::Schema& schema,
                                               const std::vector<LeafColumn>& leaves) {
  std::vector<SchemaElement> out;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(schema.size());
  out.push_back(std::move(root));
  for (size_t i = 0; i < leaves.size(); ++i) {
    const LeafColumn& leaf = leaves[i];
    // MapType succeeded in BuildLeafColumns for the same type.
    LeafType t = *MapType(leaf.value_type);
    if (!leaf.is_list) {
      out.push_back(LeafElement(leaf.name, t, leaf.value_type));
      continue;
    }
    SchemaElement group;
    group.repetition = Repetition::kOptional;
    group.name = leaf.name;
    group.num_children = 1;
    group.converted = ConvertedType::kList;
    group.logical = Simple(Kind::kList);
    out.push_back(std::move(group));
    SchemaElement repeated;
    repeated.repetition = Repetition::kRepeated;
    repeated.name = "list";
    repeated.num_children = 1;
    out.push_back(std::move(repeated));
    out.push_back(LeafElement("element", t, leaf.value_type));
  }
  return out;
}

}  // namespace rivet::format::parquet
