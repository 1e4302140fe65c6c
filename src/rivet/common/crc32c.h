// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Google Cloud Storage
// keeps for every object: computed while an upload streams, sent with it and compared with the
// object's metadata. Pure; slicing-by-8 tables built at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rivet {

// Continues `crc` (0 to start) over `data`: Crc32c(Crc32c(0, a), b) == Crc32c(0, a + b).
uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t size);
inline uint32_t Crc32c(uint32_t crc, std::string_view data) {
  return Crc32c(crc, reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

// base64 of the four big-endian bytes, as GCS writes crc32c in metadata and X-Goog-Hash.
std::string Crc32cBase64(uint32_t crc);

}  // namespace rivet
