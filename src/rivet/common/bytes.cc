#include "rivet/common/bytes.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace rivet {

std::string FormatBytes(uint64_t bytes) {
  constexpr double kKiB = 1024.0;
  const auto b = static_cast<double>(bytes);
  if (b < kKiB) return fmt::format("{} B", bytes);
  if (b < kKiB * kKiB) return fmt::format("{:.1f} KB", b / kKiB);
  if (b < kKiB * kKiB * kKiB) return fmt::format("{:.1f} MB", b / (kKiB * kKiB));
  return fmt::format("{:.1f} GB", b / (kKiB * kKiB * kKiB));
}

std::string FormatDuration(int64_t millis) {
  if (millis < 1000) return fmt::format("{}ms", millis);
  return fmt::format("{:.1f}s", static_cast<double>(millis) / 1000.0);
}

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  uint64_t number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  std::string unit;
  for (const char* p = ptr; p != text.data() + text.size(); ++p) {
    if (*p == ' ') continue;
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  uint64_t multiplier = 0;
  if (unit.empty() || unit == "B") multiplier = 1;
  else if (unit == "KB" || unit == "K" || unit == "KIB") multiplier = 1ULL << 10;
  else if (unit == "MB" || unit == "M" || unit == "MIB") multiplier = 1ULL << 20;
  else if (unit == "GB" || unit == "G" || unit == "GIB") multiplier = 1ULL << 30;
  else if (unit == "TB" || unit == "T" || unit == "TIB") multiplier = 1ULL << 40;
  else return std::nullopt;
  if (number == 0 || number > UINT64_MAX / multiplier) return std::nullopt;
  return number * multiplier;
}

}  // namespace rivet
