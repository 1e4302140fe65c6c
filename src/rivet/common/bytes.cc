#include "rivet/common/bytes.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

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
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  uint64_t number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  std::string unit;
  for (const char* p = ptr; p != text.data() + text.size(); ++p) {
    if (*p == ' ') continue;
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
  }
  uint64_t multiplier = 0;
  if (unit.empty() || unit == "B")
    multiplier = 1;
  else if (unit == "KB" || unit == "K" || unit == "KIB")
    multiplier = 1ULL << 10;
  else if (unit == "MB" || unit == "M" || unit == "MIB")
    multiplier = 1ULL << 20;
  else if (unit == "GB" || unit == "G" || unit == "GIB")
    multiplier = 1ULL << 30;
  else if (unit == "TB" || unit == "T" || unit == "TIB")
    multiplier = 1ULL << 40;
  else
    return std::nullopt;
  if (number == 0 || number > UINT64_MAX / multiplier) return std::nullopt;
  return number * multiplier;
}

std::optional<int64_t> ParseDurationMs(std::string_view text) {
  constexpr int64_t kMaxMs = int64_t{366} * 24 * 3600 * 1000;
  int64_t total = 0;
  size_t i = 0;
  if (text.empty()) return std::nullopt;
  while (i < text.size()) {
    int64_t number = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxMs) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;  // a unit needs a number, and one
    int64_t unit_ms = 0;
    switch (text[i++]) {
      case 's':
        unit_ms = 1000;
        break;
      case 'm':
        unit_ms = 60 * 1000;
        break;
      case 'h':
        unit_ms = 3600 * 1000;
        break;
      case 'd':
        unit_ms = 24 * 3600 * 1000;
        break;
      default:
        return std::nullopt;
    }
    total += number * unit_ms;
    if (total > kMaxMs) return std::nullopt;
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace rivet
