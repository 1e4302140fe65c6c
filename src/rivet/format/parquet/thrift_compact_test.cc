// Thrift compact protocol: bytes worked out by hand from the compact-protocol specification.
#include "rivet/format/parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace rivet::format::parquet::thrift {
namespace {

using Bytes = std::vector<uint8_t>;

template <typename Fn>
Bytes Encode(Fn&& fn) {
  Bytes out;
  CompactWriter w(out);
  w.StructBegin();
  fn(w);
  w.StructEnd();
  return out;
}

TEST(ThriftCompactWriter, SmallIntegersAreZigzagVarints) {
  // Field 1, type i32 (5), delta 1: header 0x15. zigzag(0)=0, zigzag(-1)=1, zigzag(1)=2,
  // zigzag(3)=6. Then the stop byte.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI32(1, 0); }), (Bytes{0x15, 0x00, 0x00}));
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI32(1, -1); }), (Bytes{0x15, 0x01, 0x00}));
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI32(1, 1); }), (Bytes{0x15, 0x02, 0x00}));
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI32(1, 3); }), (Bytes{0x15, 0x06, 0x00}));
}

TEST(ThriftCompactWriter, MultiByteVarints) {
  // zigzag(50399) = 100798 = 0b1_1000100_1011110 -> groups (LSB first) 0x3E, 0x13, 0x06 ->
  // bytes 0xBE 0x93 0x06. Field 1 type i64 (6): header 0x16.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI64(1, 50399); }),
            (Bytes{0x16, 0xBE, 0x93, 0x06, 0x00}));
  // zigzag(INT64_MIN) = 2^64 - 1: nine 0xFF bytes then 0x01.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI64(1, std::numeric_limits<int64_t>::min()); }),
            (Bytes{0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00}));
  // zigzag(INT64_MAX) = 2^64 - 2: 0xFE, eight 0xFF, 0x01.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI64(1, std::numeric_limits<int64_t>::max()); }),
            (Bytes{0x16, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00}));
}

TEST(ThriftCompactWriter, FieldDeltasAndLongFormHeaders) {
  // 1 then 3: deltas 1 and 2 -> 0x15, 0x25.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldI32(1, 0);
              w.FieldI32(3, 0);
            }),
            (Bytes{0x15, 0x00, 0x25, 0x00, 0x00}));
  // 1 then 20: delta 19 > 15 -> long form: type byte 0x05, zigzag(20) = 40 = 0x28.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldI32(1, 0);
              w.FieldI32(20, 0);
            }),
            (Bytes{0x15, 0x00, 0x05, 0x28, 0x00, 0x00}));
  // 5 then 2: a negative delta also needs the long form: 0x05, zigzag(2) = 4.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldI32(5, 0);
              w.FieldI32(2, 0);
            }),
            (Bytes{0x55, 0x00, 0x05, 0x04, 0x00, 0x00}));
  // Delta exactly 15 stays short: 0xF5.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI32(15, 0); }), (Bytes{0xF5, 0x00, 0x00}));
}

TEST(ThriftCompactWriter, BoolFieldsCarryTheValueInTheType) {
  // true = type 1, false = type 2, no value byte.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldBool(1, true);
              w.FieldBool(2, false);
            }),
            (Bytes{0x11, 0x12, 0x00}));
}

TEST(ThriftCompactWriter, ByteDoubleAndBinary) {
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI8(1, -1); }), (Bytes{0x13, 0xFF, 0x00}));
  // 1.0 = 0x3FF0000000000000, little-endian.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldDouble(1, 1.0); }),
            (Bytes{0x17, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x00}));
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldString(1, "ab"); }),
            (Bytes{0x18, 0x02, 'a', 'b', 0x00}));
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldI16(1, -2); }), (Bytes{0x14, 0x03, 0x00}));
}

TEST(ThriftCompactWriter, ShortAndLongLists) {
  // Field 1 type list (9): 0x19. Three i32: (3 << 4) | 5 = 0x35, then 2, 4, 6.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldListBegin(1, CType::kI32, 3);
              w.I32(1);
              w.I32(2);
              w.I32(3);
            }),
            (Bytes{0x19, 0x35, 0x02, 0x04, 0x06, 0x00}));
  // Fifteen binaries: 0xF8 then varint 15, then each (length 0).
  Bytes expected{0x19, 0xF8, 0x0F};
  expected.insert(expected.end(), 15, 0x00);
  expected.push_back(0x00);
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldListBegin(1, CType::kBinary, 15);
              for (int i = 0; i < 15; ++i) w.String("");
            }),
            expected);
  // Empty list of structs: 0x0C.
  EXPECT_EQ(Encode([](CompactWriter& w) { w.FieldListBegin(4, CType::kStruct, 0); }),
            (Bytes{0x49, 0x0C, 0x00}));
}

TEST(ThriftCompactWriter, NestedStructsRestartFieldIds) {
  // Field 1 struct (0x1C) { field 1 i32 1 (0x15 0x02), stop }, then field 2 i32 1: the outer
  // struct's last id is still 1, so the delta is 1 -> 0x15.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldStructBegin(1);
              w.FieldI32(1, 1);
              w.StructEnd();
              w.FieldI32(2, 1);
            }),
            (Bytes{0x1C, 0x15, 0x02, 0x00, 0x15, 0x02, 0x00}));
  // List of two structs, each with field 1 = 0.
  EXPECT_EQ(Encode([](CompactWriter& w) {
              w.FieldListBegin(2, CType::kStruct, 2);
              for (int i = 0; i < 2; ++i) {
                w.StructBegin();
                w.FieldI32(1, 0);
                w.StructEnd();
              }
            }),
            (Bytes{0x29, 0x2C, 0x15, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00}));
}

// --- reader ---

TEST(ThriftCompactReader, ReadsWhatTheWriterWrote) {
  Bytes bytes = Encode([](CompactWriter& w) {
    w.FieldI32(1, -7);
    w.FieldBool(2, true);
    w.FieldI64(40, std::numeric_limits<int64_t>::min());
    w.FieldString(41, "hello");
    w.FieldListBegin(42, CType::kI32, 20);
    for (int i = 0; i < 20; ++i) w.I32(i * 1000);
  });
  CompactReader r(bytes.data(), bytes.size());
  ASSERT_TRUE(r.StructBegin().ok());
  int16_t id = 0;
  CType type = CType::kStop;
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(id, 1);
  int32_t i32 = 0;
  ASSERT_TRUE(r.ReadI32(i32).ok());
  EXPECT_EQ(i32, -7);
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  bool flag = false;
  ASSERT_TRUE(r.ReadBool(type, flag).ok());
  EXPECT_EQ(id, 2);
  EXPECT_TRUE(flag);
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(id, 40);
  int64_t i64 = 0;
  ASSERT_TRUE(r.ReadI64(i64).ok());
  EXPECT_EQ(i64, std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(id, 41);
  std::string_view text;
  ASSERT_TRUE(r.ReadBinary(text).ok());
  EXPECT_EQ(text, "hello");
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(id, 42);
  ASSERT_TRUE(r.Skip(type).ok());  // the whole list
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(type, CType::kStop);
  ASSERT_TRUE(r.StructEnd().ok());
  EXPECT_EQ(r.position(), bytes.size());
}

TEST(ThriftCompactReader, SkipsUnknownNestedValues) {
  Bytes bytes = Encode([](CompactWriter& w) {
    w.FieldStructBegin(1);
    w.FieldDouble(3, 2.5);
    w.FieldListBegin(4, CType::kStruct, 1);
    w.StructBegin();
    w.FieldString(1, "x");
    w.StructEnd();
    w.FieldBool(5, false);
    w.StructEnd();
    w.FieldI32(2, 9);
  });
  CompactReader r(bytes.data(), bytes.size());
  ASSERT_TRUE(r.StructBegin().ok());
  int16_t id = 0;
  CType type = CType::kStop;
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  ASSERT_TRUE(r.Skip(type).ok());
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  EXPECT_EQ(id, 2);  // the delta is relative to field 1 of the outer struct
  int32_t v = 0;
  ASSERT_TRUE(r.ReadI32(v).ok());
  EXPECT_EQ(v, 9);
}

Status SkipAll(const Bytes& bytes) {
  CompactReader r(bytes.data(), bytes.size());
  return r.Skip(CType::kStruct);
}

TEST(ThriftCompactReader, RejectsMalformedInputWithoutCrashing) {
  // Truncated at every position of a valid struct.
  Bytes good = Encode([](CompactWriter& w) {
    w.FieldI64(1, 123456789);
    w.FieldString(2, "abcdef");
    w.FieldListBegin(3, CType::kI32, 2);
    w.I32(1);
    w.I32(2);
  });
  ASSERT_TRUE(SkipAll(good).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    Status s = SkipAll(cut);
    EXPECT_EQ(s.code(), ErrorCode::kCorrupt) << "prefix " << n;
  }
  // A binary claiming more bytes than there are.
  EXPECT_EQ(SkipAll(Bytes{0x18, 0x7F, 'a'}).code(), ErrorCode::kCorrupt);
  // A list claiming a million elements.
  EXPECT_EQ(SkipAll(Bytes{0x19, 0xF5, 0xC0, 0x84, 0x3D, 0x00}).code(), ErrorCode::kCorrupt);
  // A varint longer than 10 bytes.
  Bytes long_varint{0x16};
  long_varint.insert(long_varint.end(), 11, 0xFF);
  EXPECT_EQ(SkipAll(long_varint).code(), ErrorCode::kCorrupt);
  // An unknown type code (13).
  EXPECT_EQ(SkipAll(Bytes{0x1D, 0x00}).code(), ErrorCode::kCorrupt);
  // Structs nested far deeper than any Parquet structure: rejected, no stack exhaustion.
  Bytes deep(100000, 0x1C);
  EXPECT_EQ(SkipAll(deep).code(), ErrorCode::kCorrupt);
  // An i32 field whose value needs more than 32 bits.
  Bytes wide{0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00};
  CompactReader r(wide.data(), wide.size());
  ASSERT_TRUE(r.StructBegin().ok());
  int16_t id = 0;
  CType type = CType::kStop;
  ASSERT_TRUE(r.FieldHeader(id, type).ok());
  int32_t v = 0;
  EXPECT_EQ(r.ReadI32(v).code(), ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace rivet::format::parquet::thrift
