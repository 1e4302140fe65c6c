#include "rivet/plan/plan.h"

#include <fmt/format.h>

#include "rivet/common/text.h"

namespace rivet::plan {

namespace {

// The key text of the NULL chunk in a checkpoint task.
constexpr std::string_view kNullKey = "NULL";

}  // namespace

std::vector<ChunkWindow> ChunkWindows(int64_t min, int64_t max, int64_t size) {
  std::vector<ChunkWindow> windows;
  if (size <= 0 || min > max) return windows;
  // Unsigned arithmetic on the distance from min: exact for any int64 range.
  const auto span = static_cast<uint64_t>(max) - static_cast<uint64_t>(min);
  const auto step = static_cast<uint64_t>(size);
  for (uint64_t offset = 0;; offset += step) {
    const uint64_t last = span - offset < step - 1 ? span : offset + step - 1;
    windows.push_back({static_cast<int64_t>(static_cast<uint64_t>(min) + offset),
                       static_cast<int64_t>(static_cast<uint64_t>(min) + last)});
    if (last == span) break;
  }
  return windows;
}

Result<int64_t> ParseChunkKey(std::string_view export_name, std::string_view column,
                              std::string_view text) {
  std::optional<int64_t> value = ParseWhole<int64_t>(text);
  if (!value) {
    return Error(ErrorCode::kConfig,
                 "export '{}': chunk_column '{}' must be an integer column (its MIN/MAX is "
                 "'{}'); chunk by an integer key, e.g. an id or ROW_NUMBER() OVER (ORDER BY ...)",
                 export_name, column, text.substr(0, 40));
  }
  return *value;
}

std::vector<ChunkSpec> ChunkSpecs(const std::optional<ChunkWindow>& range, int64_t size) {
  std::vector<ChunkSpec> specs;
  if (range) {
    for (const ChunkWindow& w : ChunkWindows(range->lo, range->hi, size)) {
      specs.push_back({static_cast<int64_t>(specs.size()), w});
    }
  }
  specs.push_back({static_cast<int64_t>(specs.size()), std::nullopt});
  return specs;
}

std::pair<std::string, std::string> ChunkTaskKeys(const ChunkSpec& spec) {
  if (!spec.window) return {std::string(kNullKey), std::string(kNullKey)};
  return {std::to_string(spec.window->lo), std::to_string(spec.window->hi)};
}

Result<ChunkSpec> ChunkSpecFromTask(int64_t index, std::string_view start_key,
                                    std::string_view end_key) {
  if (start_key == kNullKey && end_key == kNullKey) return ChunkSpec{index, std::nullopt};
  std::optional<int64_t> lo = ParseWhole<int64_t>(start_key);
  std::optional<int64_t> hi = ParseWhole<int64_t>(end_key);
  if (!lo || !hi || *lo > *hi) {
    return Error(ErrorCode::kCorrupt,
                 "state database: chunk {} has the range '{}'..'{}', not two integer keys; drop "
                 "the plan with `rivet state reset-chunks`",
                 index, start_key.substr(0, 40), end_key.substr(0, 40));
  }
  return ChunkSpec{index, ChunkWindow{*lo, *hi}};
}

std::string Fingerprint(const std::vector<std::string_view>& parts) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](unsigned char c) {
    hash ^= c;
    hash *= 1099511628211ull;
  };
  for (std::string_view part : parts) {
    for (char c : fmt::format("{}:", part.size())) mix(static_cast<unsigned char>(c));
    for (char c : part) mix(static_cast<unsigned char>(c));
  }
  return fmt::format("{:016x}", hash);
}

}  // namespace rivet::plan
