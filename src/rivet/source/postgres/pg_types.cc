#include "rivet/source/postgres/pg_types.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace rivet::source::postgres {

namespace {

using columnar::DataType;
using columnar::TypeId;

// Domains over domains are legal; this bounds the walk through a malformed catalog.
constexpr int kMaxTypeDepth = 16;

// Built-in array types whose elements have a binary decoder: array OID -> element OID.
constexpr std::pair<uint32_t, uint32_t> kBuiltinArrays[] = {
    {1000, oid::kBool},      {1001, oid::kBytea},  {1003, oid::kName},   {1005, oid::kInt2},
    {1007, oid::kInt4},      {1009, oid::kText},   {1014, oid::kBpchar}, {1015, oid::kVarchar},
    {1016, oid::kInt8},      {1021, oid::kFloat4}, {1022, oid::kFloat8}, {1028, oid::kOid},
    {1115, oid::kTimestamp}, {1182, oid::kDate},   {1183, oid::kTime},   {1185, oid::kTimestampTz},
    {1231, oid::kNumeric},   {2951, oid::kUuid},   {199, oid::kJson},    {3807, oid::kJsonb},
};

uint32_t BuiltinArrayElement(uint32_t type_oid) {
  for (const auto& [array, element] : kBuiltinArrays) {
    if (array == type_oid) return element;
  }
  return 0;
}

struct Scalar {
  ValueDecoder decoder;
  DataType type;
};

ValueDecoder Kind(ValueKind kind) { return ValueDecoder{kind, 0, 0}; }

// Types decoded from their binary form (reference §5).
std::optional<Scalar> NativeScalar(uint32_t type_oid, int32_t typmod) {
  switch (type_oid) {
    case oid::kBool:
      return Scalar{Kind(ValueKind::kBool), DataType::Of(TypeId::kBool)};
    case oid::kInt2:
      return Scalar{Kind(ValueKind::kInt16), DataType::Of(TypeId::kInt16)};
    case oid::kInt4:
      return Scalar{Kind(ValueKind::kInt32), DataType::Of(TypeId::kInt32)};
    case oid::kInt8:
      return Scalar{Kind(ValueKind::kInt64), DataType::Of(TypeId::kInt64)};
    case oid::kOid:
      return Scalar{Kind(ValueKind::kOid), DataType::Of(TypeId::kInt64)};
    case oid::kFloat4:
      return Scalar{Kind(ValueKind::kFloat32), DataType::Of(TypeId::kFloat32)};
    case oid::kFloat8:
      return Scalar{Kind(ValueKind::kFloat64), DataType::Of(TypeId::kFloat64)};
    case oid::kNumeric: {
      auto nt = DecodeNumericTypmod(typmod);
      if (nt && nt->precision >= 1 && nt->precision <= columnar::kMaxDecimalPrecision &&
          nt->scale >= 0 && nt->scale <= nt->precision) {
        ValueKind kind = nt->precision <= columnar::kMaxDecimal64Precision ? ValueKind::kDecimal64
                                                                           : ValueKind::kDecimal128;
        return Scalar{ValueDecoder{kind, nt->precision, nt->scale},
                      DataType::Decimal(nt->precision, nt->scale)};
      }
      // No declared precision, precision > 38, or a scale outside [0, precision]: exact text.
      return Scalar{Kind(ValueKind::kNumericText), DataType::Of(TypeId::kString)};
    }
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
      return Scalar{Kind(ValueKind::kBytes), DataType::Of(TypeId::kString)};
    case oid::kBytea:
      return Scalar{Kind(ValueKind::kBytes), DataType::Of(TypeId::kBinary)};
    case oid::kJson:
      return Scalar{Kind(ValueKind::kBytes), DataType::Of(TypeId::kJson)};
    case oid::kJsonb:
      return Scalar{Kind(ValueKind::kJsonb), DataType::Of(TypeId::kJson)};
    case oid::kDate:
      return Scalar{Kind(ValueKind::kDate), DataType::Of(TypeId::kDate)};
    case oid::kTime:
      return Scalar{Kind(ValueKind::kTime), DataType::Of(TypeId::kTime)};
    case oid::kTimestamp:
      return Scalar{Kind(ValueKind::kTimestamp), DataType::Of(TypeId::kTimestamp)};
    case oid::kTimestampTz:
      return Scalar{Kind(ValueKind::kTimestamp), DataType::Of(TypeId::kTimestampTz)};
    case oid::kUuid:
      return Scalar{Kind(ValueKind::kUuid), DataType::Of(TypeId::kUuid)};
    default:
      return std::nullopt;
  }
}

Scalar TextScalar() { return Scalar{Kind(ValueKind::kBytes), DataType::Of(TypeId::kString)}; }

// Casts producing the output function's text (see the header).
constexpr const char* kCastText = "{}::text";
constexpr const char* kCastOutputText = "(ARRAY[{}]::text::text[])[1]";
constexpr const char* kCastTextArray = "{}::text::text[]";

// The cast for a scalar without a decoder: its base type's name decides (domains resolved).
const char* TextCastFor(uint32_t type_oid, const TypeCatalog& catalog) {
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    auto it = catalog.find(type_oid);
    if (it == catalog.end()) break;
    const PgTypeInfo& info = it->second;
    if (info.type == 'd' && info.base != 0) {
      type_oid = info.base;
      continue;
    }
    if (info.name == "inet" || info.name == "cidr") return kCastOutputText;
    break;
  }
  return kCastText;
}

enum class Outcome { kNative, kCast, kMissing };

// Resolves an array element type: sets *scalar and *base_oid (the OID of the type whose binary
// form is sent) when it has a decoder.
Outcome ResolveElement(uint32_t type_oid, int32_t typmod, const TypeCatalog& catalog,
                       Scalar* scalar, uint32_t* base_oid, std::vector<uint32_t>* missing) {
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    if (auto native = NativeScalar(type_oid, typmod)) {
      *scalar = *native;
      *base_oid = type_oid;
      return Outcome::kNative;
    }
    if (BuiltinArrayElement(type_oid) != 0) return Outcome::kCast;
    auto it = catalog.find(type_oid);
    if (it == catalog.end()) {
      if (missing) missing->push_back(type_oid);
      return Outcome::kMissing;
    }
    const PgTypeInfo& info = it->second;
    if (info.type == 'd' && info.base != 0) {
      if (typmod < 0) typmod = info.typmod;
      type_oid = info.base;
      continue;
    }
    // Enum and citext send their text as is (enum_send, citext uses textsend).
    if (info.type == 'e' || info.name == "citext") {
      *scalar = TextScalar();
      *base_oid = type_oid;
      return Outcome::kNative;
    }
    return Outcome::kCast;
  }
  return Outcome::kCast;
}

Outcome ResolveColumn(const ResultColumn& column, const TypeCatalog& catalog, ColumnPlan* plan,
                      std::vector<uint32_t>* missing) {
  uint32_t type_oid = column.type_oid;
  int32_t typmod = column.typmod;
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    if (auto native = NativeScalar(type_oid, typmod)) {
      plan->decoder.value = native->decoder;
      plan->field.type = native->type;
      return Outcome::kNative;
    }
    uint32_t element_oid = BuiltinArrayElement(type_oid);
    const PgTypeInfo* info = nullptr;
    if (element_oid == 0) {
      auto it = catalog.find(type_oid);
      if (it == catalog.end()) {
        if (missing) missing->push_back(type_oid);
        return Outcome::kMissing;
      }
      info = &it->second;
      if (info->type == 'd' && info->base != 0) {
        if (typmod < 0) typmod = info->typmod;
        type_oid = info->base;
        continue;
      }
      if (info->type == 'e' || info->name == "citext") {
        Scalar text = TextScalar();
        plan->decoder.value = text.decoder;
        plan->field.type = text.type;
        return Outcome::kNative;
      }
      if (info->category == 'A' && info->element != 0) element_oid = info->element;
    }
    if (element_oid == 0) return Outcome::kCast;
    // An array: the column's typmod is its element's (numeric(10,2)[]).
    Scalar element;
    uint32_t base_oid = 0;
    Outcome outcome = ResolveElement(element_oid, typmod, catalog, &element, &base_oid, missing);
    if (outcome == Outcome::kNative) {
      plan->decoder.value = Kind(ValueKind::kArray);
      plan->decoder.element = element.decoder;
      plan->decoder.element_oid = element_oid;
      plan->decoder.element_base_oid = base_oid;
      plan->field.type = DataType::List(element.type);
      return Outcome::kNative;
    }
    if (outcome == Outcome::kMissing) return outcome;
    // Arrays of elements without a decoder travel as text[].
    plan->decoder.value = Kind(ValueKind::kArray);
    plan->decoder.element = Kind(ValueKind::kBytes);
    plan->decoder.element_oid = oid::kText;
    plan->decoder.element_base_oid = oid::kText;
    plan->field.type = DataType::List(DataType::Of(TypeId::kString));
    plan->cast = kCastTextArray;
    return Outcome::kNative;
  }
  return Outcome::kCast;
}

}  // namespace

std::optional<NumericTypmod> DecodeNumericTypmod(int32_t typmod) {
  constexpr int32_t kVarHdrSz = 4;  // typmod = ((precision << 16) | scale) + VARHDRSZ
  if (typmod < kVarHdrSz) return std::nullopt;
  const int32_t t = typmod - kVarHdrSz;
  const int32_t precision = (t >> 16) & 0xffff;
  const int32_t scale = ((t & 0x7ff) ^ 1024) - 1024;  // 11-bit signed since PostgreSQL 15
  return NumericTypmod{precision, scale};
}

std::vector<uint32_t> MissingTypeOids(const std::vector<ResultColumn>& columns,
                                      const TypeCatalog& catalog) {
  std::vector<uint32_t> missing;
  for (const ResultColumn& column : columns) {
    ColumnPlan plan;
    ResolveColumn(column, catalog, &plan, &missing);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

std::vector<ColumnPlan> PlanColumns(const std::vector<ResultColumn>& columns,
                                    const TypeCatalog& catalog) {
  std::vector<ColumnPlan> plans;
  plans.reserve(columns.size());
  for (const ResultColumn& column : columns) {
    ColumnPlan plan;
    plan.field.name = column.name;
    plan.decoder.name = column.name;
    if (ResolveColumn(column, catalog, &plan, nullptr) != Outcome::kNative) {
      // Reference §5: every other type is exported as its PostgreSQL text form.
      Scalar text = TextScalar();
      plan.decoder = ColumnDecoder{column.name, text.decoder, {}, 0, 0};
      plan.field.type = text.type;
      plan.cast = TextCastFor(column.type_oid, catalog);
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::string_view StripQuery(std::string_view query) {
  auto is_blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  };
  while (!query.empty() && is_blank(query.front())) query.remove_prefix(1);
  while (!query.empty() && (is_blank(query.back()) || query.back() == ';')) query.remove_suffix(1);
  return query;
}

namespace {

// `text` between two `quote` characters, each inner one doubled: how PostgreSQL quotes
// identifiers (") and, with standard_conforming_strings, string literals (').
std::string Enclose(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(quote);
  for (char c : text) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

}  // namespace

std::string QuotePgIdentifier(std::string_view name) { return Enclose(name, '"'); }

Result<std::string> QuotePgLiteral(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kData, "a PostgreSQL string literal cannot hold a NUL byte");
  }
  return Enclose(text, '\'');
}

std::string BuildCopyQuery(std::string_view query, const std::vector<ColumnPlan>& plans) {
  const std::string_view body = StripQuery(query);
  const bool any_cast =
      std::any_of(plans.begin(), plans.end(), [](const ColumnPlan& p) { return !p.cast.empty(); });
  if (!any_cast) return fmt::format("COPY (\n{}\n) TO STDOUT (FORMAT binary)", body);
  std::string select;
  std::string aliases;
  for (size_t i = 0; i < plans.size(); ++i) {
    const std::string alias = fmt::format("\"_c{}\"", i + 1);
    if (i > 0) {
      select += ", ";
      aliases += ", ";
    }
    select += plans[i].cast.empty() ? alias : fmt::format(fmt::runtime(plans[i].cast), alias);
    aliases += alias;
  }
  return fmt::format("COPY (SELECT {} FROM (\n{}\n) AS _rivet({})) TO STDOUT (FORMAT binary)",
                     select, body, aliases);
}

}  // namespace rivet::source::postgres
