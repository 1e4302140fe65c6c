#include "rivet/format/parquet/metadata.h"

#include "rivet/format/parquet/thrift_compact.h"

namespace rivet::format::parquet {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;

namespace {

int32_t E(auto value) { return static_cast<int32_t>(value); }

// ---------------------------------------------------------------------------------------------
// Serialization

void WriteTimeUnitMicros(CompactWriter& w, int16_t field) {
  w.FieldStructBegin(field);  // union TimeUnit
  w.FieldStructBegin(2);      // 2: MicroSeconds MICROS
  w.StructEnd();
  w.StructEnd();
}

void WriteLogicalType(CompactWriter& w, const LogicalType& t) {
  using Kind = LogicalType::Kind;
  w.FieldStructBegin(10);  // SchemaElement 10: logicalType (a union: exactly one member)
  switch (t.kind) {
    case Kind::kString:
      w.FieldStructBegin(1);
      break;
    case Kind::kList:
      w.FieldStructBegin(3);
      break;
    case Kind::kDecimal:
      w.FieldStructBegin(5);
      w.FieldI32(1, t.scale);
      w.FieldI32(2, t.precision);
      break;
    case Kind::kDate:
      w.FieldStructBegin(6);
      break;
    case Kind::kTime:
    case Kind::kTimestamp:
      w.FieldStructBegin(t.kind == Kind::kTime ? 7 : 8);
      w.FieldBool(1, t.adjusted_to_utc);
      WriteTimeUnitMicros(w, 2);
      break;
    case Kind::kInteger:
      w.FieldStructBegin(10);
      w.FieldI8(1, t.bit_width);
      w.FieldBool(2, t.is_signed);
      break;
    case Kind::kJson:
      w.FieldStructBegin(12);
      break;
    case Kind::kUuid:
      w.FieldStructBegin(14);
      break;
    case Kind::kNone:
    case Kind::kOther:
      break;
  }
  w.StructEnd();  // the member struct
  w.StructEnd();  // the union
}

void WriteSchemaElement(CompactWriter& w, const SchemaElement& e) {
  w.StructBegin();
  if (e.type) w.FieldI32(1, E(*e.type));
  if (e.type_length) w.FieldI32(2, *e.type_length);
  if (e.repetition) w.FieldI32(3, E(*e.repetition));
  w.FieldString(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted) w.FieldI32(6, E(*e.converted));
  if (e.scale) w.FieldI32(7, *e.scale);
  if (e.precision) w.FieldI32(8, *e.precision);
  if (e.logical.kind != LogicalType::Kind::kNone && e.logical.kind != LogicalType::Kind::kOther) {
    WriteLogicalType(w, e.logical);
  }
  w.StructEnd();
}

void WriteStatistics(CompactWriter& w, int16_t field, const Statistics& s) {
  w.FieldStructBegin(field);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.max_value) w.FieldString(5, *s.max_value);
  if (s.min_value) w.FieldString(6, *s.min_value);
  if (s.max_value) w.FieldBool(7, true);
  if (s.min_value) w.FieldBool(8, true);
  if (s.nan_count) w.FieldI64(9, *s.nan_count);
  w.StructEnd();
}

void WriteColumnMetaData(CompactWriter& w, const ColumnMetaData& m) {
  w.FieldStructBegin(3);  // ColumnChunk 3: meta_data
  w.FieldI32(1, E(m.type));
  w.FieldListBegin(2, CType::kI32, m.encodings.size());
  for (Encoding e : m.encodings) w.I32(E(e));
  w.FieldListBegin(3, CType::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.String(p);
  w.FieldI32(4, E(m.codec));
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.index_page_offset) w.FieldI64(10, *m.index_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) WriteStatistics(w, 12, *m.statistics);
  w.StructEnd();
}

void WriteRowGroup(CompactWriter& w, const RowGroup& g) {
  w.StructBegin();
  w.FieldListBegin(1, CType::kStruct, g.columns.size());
  for (const ColumnChunk& c : g.columns) {
    w.StructBegin();
    w.FieldI64(2, c.file_offset);
    if (c.meta_data) WriteColumnMetaData(w, *c.meta_data);
    w.StructEnd();
  }
  w.FieldI64(2, g.total_byte_size);
  w.FieldI64(3, g.num_rows);
  if (g.file_offset) w.FieldI64(5, *g.file_offset);
  if (g.total_compressed_size) w.FieldI64(6, *g.total_compressed_size);
  if (g.ordinal) w.FieldI16(7, *g.ordinal);
  w.StructEnd();
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& m, std::vector<uint8_t>& out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, m.version);
  w.FieldListBegin(2, CType::kStruct, m.schema.size());
  for (const SchemaElement& e : m.schema) WriteSchemaElement(w, e);
  w.FieldI64(3, m.num_rows);
  w.FieldListBegin(4, CType::kStruct, m.row_groups.size());
  for (const RowGroup& g : m.row_groups) WriteRowGroup(w, g);
  if (!m.key_value_metadata.empty()) {
    w.FieldListBegin(5, CType::kStruct, m.key_value_metadata.size());
    for (const auto& [key, value] : m.key_value_metadata) {
      w.StructBegin();
      w.FieldString(1, key);
      w.FieldString(2, value);
      w.StructEnd();
    }
  }
  if (m.created_by) w.FieldString(6, *m.created_by);
  if (m.column_order_count > 0) {
    w.FieldListBegin(7, CType::kStruct, m.column_order_count);
    for (size_t i = 0; i < m.column_order_count; ++i) {
      w.StructBegin();        // union ColumnOrder
      w.FieldStructBegin(1);  // 1: TypeDefinedOrder TYPE_ORDER
      w.StructEnd();
      w.StructEnd();
    }
  }
  w.StructEnd();
}

void SerializePageHeader(const PageHeader& h, std::vector<uint8_t>& out) {
  CompactWriter w(out);
  w.StructBegin();
  w.FieldI32(1, E(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  switch (h.type) {
    case PageType::kDataPage:
      w.FieldStructBegin(5);  // DataPageHeader
      w.FieldI32(1, h.num_values);
      w.FieldI32(2, E(h.encoding));
      w.FieldI32(3, E(Encoding::kRle));  // definition levels
      w.FieldI32(4, E(Encoding::kRle));  // repetition levels
      w.StructEnd();
      break;
    case PageType::kDictionaryPage:
      w.FieldStructBegin(7);  // DictionaryPageHeader
      w.FieldI32(1, h.num_values);
      w.FieldI32(2, E(h.encoding));
      w.StructEnd();
      break;
    case PageType::kDataPageV2:
      w.FieldStructBegin(8);  // DataPageHeaderV2
      w.FieldI32(1, h.num_values);
      w.FieldI32(2, h.num_nulls);
      w.FieldI32(3, h.num_rows);
      w.FieldI32(4, E(h.encoding));
      w.FieldI32(5, h.definition_levels_byte_length);
      w.FieldI32(6, h.repetition_levels_byte_length);
      w.FieldBool(7, h.is_compressed);
      w.StructEnd();
      break;
    case PageType::kIndexPage:
      break;
  }
  w.StructEnd();
}

// ---------------------------------------------------------------------------------------------
// Parsing. Each Parse* function is called after the struct's StructBegin() and consumes fields
// up to and including its stop byte. Unknown fields are skipped. Required fields are tracked in
// a bit mask and checked at the end.

namespace {

Status Corrupt(std::string_view what) {
  return Error(ErrorCode::kCorrupt, "parquet footer: {}", what);
}

Status Expect(CType got, CType want, std::string_view field) {
  if (got != want)
    return Error(ErrorCode::kCorrupt, "parquet footer: field {} has the wrong type", field);
  return Status::Ok();
}

Status ExpectBool(CType got, std::string_view field) {
  if (got != CType::kBoolTrue && got != CType::kBoolFalse) {
    return Error(ErrorCode::kCorrupt, "parquet footer: field {} has the wrong type", field);
  }
  return Status::Ok();
}

template <typename Fn>
Status ForEachField(CompactReader& r, Fn&& on_field) {
  RIVET_RETURN_IF_ERROR(r.StructBegin());
  while (true) {
    int16_t id = 0;
    CType type = CType::kStop;
    RIVET_RETURN_IF_ERROR(r.FieldHeader(id, type));
    if (type == CType::kStop) break;
    RIVET_RETURN_IF_ERROR(on_field(id, type));
  }
  return r.StructEnd();
}

template <typename Fn>
Status ForEachListElement(CompactReader& r, CType field_type, CType element_type,
                          std::string_view field, Fn&& on_element) {
  RIVET_RETURN_IF_ERROR(Expect(field_type, CType::kList, field));
  CType got = CType::kStop;
  uint32_t count = 0;
  RIVET_RETURN_IF_ERROR(r.ReadListHeader(got, count));
  if (got != element_type && count > 0) {
    return Error(ErrorCode::kCorrupt, "parquet footer: list {} has the wrong element type", field);
  }
  for (uint32_t i = 0; i < count; ++i) RIVET_RETURN_IF_ERROR(on_element());
  return Status::Ok();
}

Status ReadI32Field(CompactReader& r, CType type, std::string_view name, int32_t& value) {
  RIVET_RETURN_IF_ERROR(Expect(type, CType::kI32, name));
  return r.ReadI32(value);
}

Status ReadI64Field(CompactReader& r, CType type, std::string_view name, int64_t& value) {
  RIVET_RETURN_IF_ERROR(Expect(type, CType::kI64, name));
  return r.ReadI64(value);
}

Status ReadStringField(CompactReader& r, CType type, std::string_view name, std::string& value) {
  RIVET_RETURN_IF_ERROR(Expect(type, CType::kBinary, name));
  std::string_view view;
  RIVET_RETURN_IF_ERROR(r.ReadBinary(view));
  value.assign(view);
  return Status::Ok();
}

template <typename Enum>
Status ReadEnumField(CompactReader& r, CType type, std::string_view name, Enum& value) {
  int32_t raw = 0;
  RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, name, raw));
  value = static_cast<Enum>(raw);
  return Status::Ok();
}

Status ParseTimeLike(CompactReader& r, LogicalType& t) {
  return ForEachField(r, [&](int16_t id, CType type) -> Status {
    if (id == 1) {
      RIVET_RETURN_IF_ERROR(ExpectBool(type, "isAdjustedToUTC"));
      return r.ReadBool(type, t.adjusted_to_utc);
    }
    return r.Skip(type);
  });
}

Status ParseLogicalType(CompactReader& r, LogicalType& t) {
  using Kind = LogicalType::Kind;
  return ForEachField(r, [&](int16_t id, CType type) -> Status {
    RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "logicalType member"));
    switch (id) {
      case 1:
        t.kind = Kind::kString;
        break;
      case 3:
        t.kind = Kind::kList;
        break;
      case 5:
        t.kind = Kind::kDecimal;
        return ForEachField(r, [&](int16_t sub, CType sub_type) -> Status {
          if (sub == 1) return ReadI32Field(r, sub_type, "DecimalType.scale", t.scale);
          if (sub == 2) return ReadI32Field(r, sub_type, "DecimalType.precision", t.precision);
          return r.Skip(sub_type);
        });
      case 6:
        t.kind = Kind::kDate;
        break;
      case 7:
        t.kind = Kind::kTime;
        return ParseTimeLike(r, t);
      case 8:
        t.kind = Kind::kTimestamp;
        return ParseTimeLike(r, t);
      case 10:
        t.kind = Kind::kInteger;
        return ForEachField(r, [&](int16_t sub, CType sub_type) -> Status {
          if (sub == 1) {
            RIVET_RETURN_IF_ERROR(Expect(sub_type, CType::kByte, "IntType.bitWidth"));
            return r.ReadI8(t.bit_width);
          }
          if (sub == 2) {
            RIVET_RETURN_IF_ERROR(ExpectBool(sub_type, "IntType.isSigned"));
            return r.ReadBool(sub_type, t.is_signed);
          }
          return r.Skip(sub_type);
        });
      case 12:
        t.kind = Kind::kJson;
        break;
      case 14:
        t.kind = Kind::kUuid;
        break;
      default:
        t.kind = Kind::kOther;
        break;
    }
    return r.Skip(type);
  });
}

Status ParseSchemaElement(CompactReader& r, SchemaElement& e) {
  bool has_name = false;
  Status fields = ForEachField(r, [&](int16_t id, CType type) -> Status {
    int32_t v = 0;
    switch (id) {
      case 1:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.type", v));
        e.type = static_cast<PhysicalType>(v);
        return Status::Ok();
      case 2:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.type_length", v));
        e.type_length = v;
        return Status::Ok();
      case 3:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.repetition_type", v));
        e.repetition = static_cast<Repetition>(v);
        return Status::Ok();
      case 4:
        has_name = true;
        return ReadStringField(r, type, "SchemaElement.name", e.name);
      case 5:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.num_children", v));
        e.num_children = v;
        return Status::Ok();
      case 6:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.converted_type", v));
        e.converted = static_cast<ConvertedType>(v);
        return Status::Ok();
      case 7:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.scale", v));
        e.scale = v;
        return Status::Ok();
      case 8:
        RIVET_RETURN_IF_ERROR(ReadI32Field(r, type, "SchemaElement.precision", v));
        e.precision = v;
        return Status::Ok();
      case 10:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "SchemaElement.logicalType"));
        return ParseLogicalType(r, e.logical);
      default:
        return r.Skip(type);
    }
  });
  if (!fields.ok()) return fields;
  if (!has_name) return Corrupt("schema element without a name");
  return Status::Ok();
}

Status ParseStatistics(CompactReader& r, Statistics& s) {
  return ForEachField(r, [&](int16_t id, CType type) -> Status {
    switch (id) {
      case 3:
        s.null_count.emplace();
        return ReadI64Field(r, type, "null_count", *s.null_count);
      case 5:
        s.max_value.emplace();
        return ReadStringField(r, type, "max_value", *s.max_value);
      case 6:
        s.min_value.emplace();
        return ReadStringField(r, type, "min_value", *s.min_value);
      case 9:
        s.nan_count.emplace();
        return ReadI64Field(r, type, "nan_count", *s.nan_count);
      default:
        return r.Skip(type);
    }
  });
}

Status ParseColumnMetaData(CompactReader& r, ColumnMetaData& m) {
  // Required: 1 type, 2 encodings, 3 path_in_schema, 4 codec, 5 num_values,
  // 6 total_uncompressed_size, 7 total_compressed_size, 9 data_page_offset.
  uint32_t seen = 0;
  Status fields = ForEachField(r, [&](int16_t id, CType type) -> Status {
    if (id > 0 && id < 32) seen |= 1u << id;
    switch (id) {
      case 1:
        return ReadEnumField(r, type, "ColumnMetaData.type", m.type);
      case 2:
        return ForEachListElement(r, type, CType::kI32, "ColumnMetaData.encodings", [&] {
          int32_t v = 0;
          RIVET_RETURN_IF_ERROR(r.ReadI32(v));
          m.encodings.push_back(static_cast<Encoding>(v));
          return Status::Ok();
        });
      case 3:
        return ForEachListElement(r, type, CType::kBinary, "ColumnMetaData.path_in_schema", [&] {
          std::string_view v;
          RIVET_RETURN_IF_ERROR(r.ReadBinary(v));
          m.path_in_schema.emplace_back(v);
          return Status::Ok();
        });
      case 4:
        return ReadEnumField(r, type, "ColumnMetaData.codec", m.codec);
      case 5:
        return ReadI64Field(r, type, "ColumnMetaData.num_values", m.num_values);
      case 6:
        return ReadI64Field(r, type, "ColumnMetaData.total_uncompressed_size",
                            m.total_uncompressed_size);
      case 7:
        return ReadI64Field(r, type, "ColumnMetaData.total_compressed_size",
                            m.total_compressed_size);
      case 9:
        return ReadI64Field(r, type, "ColumnMetaData.data_page_offset", m.data_page_offset);
      case 10:
        m.index_page_offset.emplace();
        return ReadI64Field(r, type, "ColumnMetaData.index_page_offset", *m.index_page_offset);
      case 11:
        m.dictionary_page_offset.emplace();
        return ReadI64Field(r, type, "ColumnMetaData.dictionary_page_offset",
                            *m.dictionary_page_offset);
      case 12:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "ColumnMetaData.statistics"));
        m.statistics.emplace();
        return ParseStatistics(r, *m.statistics);
      default:
        return r.Skip(type);
    }
  });
  if (!fields.ok()) return fields;
  constexpr uint32_t kRequired =
      (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 9);
  if ((seen & kRequired) != kRequired) return Corrupt("column metadata misses a required field");
  return Status::Ok();
}

Status ParseColumnChunk(CompactReader& r, ColumnChunk& c) {
  return ForEachField(r, [&](int16_t id, CType type) -> Status {
    switch (id) {
      case 2:
        return ReadI64Field(r, type, "ColumnChunk.file_offset", c.file_offset);
      case 3:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "ColumnChunk.meta_data"));
        c.meta_data.emplace();
        return ParseColumnMetaData(r, *c.meta_data);
      default:
        return r.Skip(type);
    }
  });
}

Status ParseRowGroup(CompactReader& r, RowGroup& g) {
  bool has_columns = false, has_rows = false, has_bytes = false;
  Status fields = ForEachField(r, [&](int16_t id, CType type) -> Status {
    switch (id) {
      case 1:
        has_columns = true;
        return ForEachListElement(r, type, CType::kStruct, "RowGroup.columns", [&] {
          g.columns.emplace_back();
          return ParseColumnChunk(r, g.columns.back());
        });
      case 2:
        has_bytes = true;
        return ReadI64Field(r, type, "RowGroup.total_byte_size", g.total_byte_size);
      case 3:
        has_rows = true;
        return ReadI64Field(r, type, "RowGroup.num_rows", g.num_rows);
      case 5:
        g.file_offset.emplace();
        return ReadI64Field(r, type, "RowGroup.file_offset", *g.file_offset);
      case 6:
        g.total_compressed_size.emplace();
        return ReadI64Field(r, type, "RowGroup.total_compressed_size", *g.total_compressed_size);
      case 7:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kI16, "RowGroup.ordinal"));
        g.ordinal.emplace();
        return r.ReadI16(*g.ordinal);
      default:
        return r.Skip(type);
    }
  });
  if (!fields.ok()) return fields;
  if (!has_columns || !has_rows || !has_bytes) return Corrupt("row group misses a required field");
  return Status::Ok();
}

}  // namespace

Result<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size) {
  CompactReader r(data, size);
  FileMetaData m;
  m.all_type_defined_order = true;
  bool has_version = false, has_schema = false, has_rows = false, has_groups = false;
  Status status = ForEachField(r, [&](int16_t id, CType type) -> Status {
    switch (id) {
      case 1:
        has_version = true;
        return ReadI32Field(r, type, "FileMetaData.version", m.version);
      case 2:
        has_schema = true;
        return ForEachListElement(r, type, CType::kStruct, "FileMetaData.schema", [&] {
          m.schema.emplace_back();
          return ParseSchemaElement(r, m.schema.back());
        });
      case 3:
        has_rows = true;
        return ReadI64Field(r, type, "FileMetaData.num_rows", m.num_rows);
      case 4:
        has_groups = true;
        return ForEachListElement(r, type, CType::kStruct, "FileMetaData.row_groups", [&] {
          m.row_groups.emplace_back();
          return ParseRowGroup(r, m.row_groups.back());
        });
      case 5:
        return ForEachListElement(r, type, CType::kStruct, "FileMetaData.key_value_metadata", [&] {
          auto& kv = m.key_value_metadata.emplace_back();
          return ForEachField(r, [&](int16_t kv_id, CType kv_type) -> Status {
            if (kv_id == 1) return ReadStringField(r, kv_type, "KeyValue.key", kv.first);
            if (kv_id == 2) return ReadStringField(r, kv_type, "KeyValue.value", kv.second);
            return r.Skip(kv_type);
          });
        });
      case 6:
        m.created_by.emplace();
        return ReadStringField(r, type, "FileMetaData.created_by", *m.created_by);
      case 7:
        return ForEachListElement(r, type, CType::kStruct, "FileMetaData.column_orders", [&] {
          ++m.column_order_count;
          return ForEachField(r, [&](int16_t order_id, CType order_type) -> Status {
            if (order_id != 1) m.all_type_defined_order = false;
            return r.Skip(order_type);
          });
        });
      default:
        return r.Skip(type);
    }
  });
  if (!status.ok()) return status;
  if (!has_version || !has_schema || !has_rows || !has_groups) {
    return Corrupt("file metadata misses a required field");
  }
  return m;
}

Result<PageHeader> ParsePageHeader(const uint8_t* data, size_t size, size_t& header_size) {
  CompactReader r(data, size);
  PageHeader h;
  Status status = ForEachField(r, [&](int16_t id, CType type) -> Status {
    switch (id) {
      case 1:
        return ReadEnumField(r, type, "PageHeader.type", h.type);
      case 2:
        return ReadI32Field(r, type, "PageHeader.uncompressed_page_size", h.uncompressed_page_size);
      case 3:
        return ReadI32Field(r, type, "PageHeader.compressed_page_size", h.compressed_page_size);
      case 5:
      case 7:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "PageHeader page header"));
        return ForEachField(r, [&](int16_t sub, CType sub_type) -> Status {
          if (sub == 1) return ReadI32Field(r, sub_type, "num_values", h.num_values);
          if (sub == 2) return ReadEnumField(r, sub_type, "encoding", h.encoding);
          return r.Skip(sub_type);
        });
      case 8:
        RIVET_RETURN_IF_ERROR(Expect(type, CType::kStruct, "PageHeader.data_page_header_v2"));
        return ForEachField(r, [&](int16_t sub, CType sub_type) -> Status {
          switch (sub) {
            case 1:
              return ReadI32Field(r, sub_type, "num_values", h.num_values);
            case 2:
              return ReadI32Field(r, sub_type, "num_nulls", h.num_nulls);
            case 3:
              return ReadI32Field(r, sub_type, "num_rows", h.num_rows);
            case 4:
              return ReadEnumField(r, sub_type, "encoding", h.encoding);
            case 5:
              return ReadI32Field(r, sub_type, "definition_levels_byte_length",
                                  h.definition_levels_byte_length);
            case 6:
              return ReadI32Field(r, sub_type, "repetition_levels_byte_length",
                                  h.repetition_levels_byte_length);
            case 7:
              RIVET_RETURN_IF_ERROR(ExpectBool(sub_type, "is_compressed"));
              return r.ReadBool(sub_type, h.is_compressed);
            default:
              return r.Skip(sub_type);
          }
        });
      default:
        return r.Skip(type);
    }
  });
  if (!status.ok()) return status;
  header_size = r.position();
  return h;
}

}  // namespace rivet::format::parquet
