// Small text helpers shared across modules: exact number parsing and ASCII case.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace rivet {

// The whole of `text` as a T (an integer in base 10, or a float), nothing before or after it:
// no sign for unsigned types, no spaces, no locale. nullopt when empty, malformed or out of
// T's range.
template <typename T>
std::optional<T> ParseWhole(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// `text` with A-Z lowered and every other byte kept (identifiers, header names, hex digits).
inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace rivet
