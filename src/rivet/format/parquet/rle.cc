#include "rivet/format/parquet/rle.h"

#include <bit>

namespace rivet::format::parquet {

namespace {

constexpr size_t kGroupSize = 8;

void PutVarint(uint64_t value, std::vector<uint8_t>& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

template <typename T>
void PutRleRun(T value, size_t length, int bit_width, std::vector<uint8_t>& out) {
  PutVarint(static_cast<uint64_t>(length) << 1, out);
  auto v = static_cast<uint64_t>(value);
  for (int i = 0; i < (bit_width + 7) / 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Bit-packs values[begin, end) as one run; `end - begin` is a multiple of 8 except possibly for
// the final run of the sequence, whose last group is zero-padded.
template <typename T>
void PutBitPackedRun(const T* values, size_t begin, size_t end, int bit_width,
                     std::vector<uint8_t>& out) {
  size_t groups = (end - begin + kGroupSize - 1) / kGroupSize;
  PutVarint((static_cast<uint64_t>(groups) << 1) | 1, out);
  uint64_t acc = 0;  // pending bits, least significant first
  int acc_bits = 0;
  size_t padded_end = begin + groups * kGroupSize;
  for (size_t i = begin; i < padded_end; ++i) {
    uint64_t v = i < end ? static_cast<uint64_t>(values[i]) : 0;
    acc |= v << acc_bits;
    acc_bits += bit_width;
    while (acc_bits >= 8) {
      out.push_back(static_cast<uint8_t>(acc));
      acc >>= 8;
      acc_bits -= 8;
    }
  }
  // groups of 8 values of bit_width bits are whole bytes, so nothing is left over.
}

}  // namespace

int BitWidth(uint64_t max_value) { return static_cast<int>(std::bit_width(max_value)); }

template <typename T>
void EncodeRleBitPacked(const T* values, size_t count, int bit_width, std::vector<uint8_t>& out) {
  size_t literal_start = 0;
  size_t i = 0;
  while (i < count) {
    size_t j = i + 1;
    while (j < count && values[j] == values[i]) ++j;
    size_t run = j - i;
    if (run >= kMinRleRun) {
      // Close the literal stretch on a group boundary by borrowing from this run.
      size_t literal = i - literal_start;
      size_t borrow = (kGroupSize - literal % kGroupSize) % kGroupSize;
      if (run - borrow >= kMinRleRun) {
        if (literal + borrow > 0) {
          PutBitPackedRun(values, literal_start, i + borrow, bit_width, out);
        }
        PutRleRun(values[i], run - borrow, bit_width, out);
        literal_start = j;
      }
    }
    i = j;
  }
  if (literal_start < count) PutBitPackedRun(values, literal_start, count, bit_width, out);
}

template void EncodeRleBitPacked<uint8_t>(const uint8_t*, size_t, int, std::vector<uint8_t>&);
template void EncodeRleBitPacked<uint32_t>(const uint32_t*, size_t, int, std::vector<uint8_t>&);

void PackBooleans(const uint8_t* values, size_t count, std::vector<uint8_t>& out) {
  size_t start = out.size();
  out.resize(start + (count + 7) / 8, 0);
  uint8_t* dst = out.data() + start;
  for (size_t i = 0; i < count; ++i) {
    dst[i >> 3] = static_cast<uint8_t>(dst[i >> 3] | ((values[i] & 1u) << (i & 7)));
  }
}

Status DecodeRleBitPacked(const uint8_t* data, size_t size, int bit_width, size_t count,
                          std::vector<uint32_t>& out) {
  if (bit_width < 0 || bit_width > 32) {
    return Error(ErrorCode::kCorrupt, "rle: bit width {} out of range", bit_width);
  }
  size_t pos = 0;
  size_t produced = 0;
  const size_t value_bytes = static_cast<size_t>(bit_width + 7) / 8;
  while (produced < count) {
    uint64_t header = 0;
    int shift = 0;
    while (true) {
      if (pos >= size) return Error(ErrorCode::kCorrupt, "rle: run header past the end");
      if (shift > 56) return Error(ErrorCode::kCorrupt, "rle: run header too long");
      uint8_t byte = data[pos++];
      header |= static_cast<uint64_t>(byte & 0x7F) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (header & 1) {
      const uint64_t groups = header >> 1;
      if (groups == 0) return Error(ErrorCode::kCorrupt, "rle: empty bit-packed run");
      // groups * bit_width bytes follow (8 values per group); checked without overflow.
      if (bit_width > 0 && groups > (size - pos) / static_cast<uint64_t>(bit_width)) {
        return Error(ErrorCode::kCorrupt, "rle: bit-packed run past the end");
      }
      const uint64_t bytes = groups * static_cast<uint64_t>(bit_width);
      // Values past `count` are the zero padding of the last group: not decoded.
      const uint64_t wanted = count - produced;
      const uint64_t take =
          groups >= (wanted + kGroupSize - 1) / kGroupSize ? wanted : groups * kGroupSize;
      uint64_t acc = 0;
      int acc_bits = 0;
      size_t p = pos;
      const uint64_t mask = bit_width == 0 ? 0 : (~uint64_t{0} >> (64 - bit_width));
      for (uint64_t k = 0; k < take; ++k) {
        while (acc_bits < bit_width) {
          acc |= static_cast<uint64_t>(data[p++]) << acc_bits;
          acc_bits += 8;
        }
        out.push_back(static_cast<uint32_t>(acc & mask));
        acc >>= bit_width;
        acc_bits -= bit_width;
      }
      produced += take;
      pos += bytes;
    } else {
      uint64_t length = header >> 1;
      if (length == 0) return Error(ErrorCode::kCorrupt, "rle: empty run");
      if (value_bytes > size - pos)
        return Error(ErrorCode::kCorrupt, "rle: run value past the end");
      uint64_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) v |= static_cast<uint64_t>(data[pos + b]) << (8 * b);
      pos += value_bytes;
      if (bit_width < 32 && v >> bit_width) {
        return Error(ErrorCode::kCorrupt, "rle: run value wider than the bit width");
      }
      for (uint64_t k = 0; k < length && produced < count; ++k, ++produced) {
        out.push_back(static_cast<uint32_t>(v));
      }
    }
  }
  return Status::Ok();
}

}  // namespace rivet::format::parquet
