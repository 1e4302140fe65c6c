// Human-readable sizes and durations, exactly as the summary and tables print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rivet {

// 1024-based: "512 B", "2.1 KB", "3.4 MB", "1.2 GB" (reference §3).
std::string FormatBytes(uint64_t bytes);

// "340ms" under one second, else "1.2s".
std::string FormatDuration(int64_t millis);

// "100KB" | "512MB" | "1GB" | "1073741824" (1024-based, case-insensitive, optional B and spaces).
// nullopt on anything else.
std::optional<uint64_t> ParseByteSize(std::string_view text);

// "90s" | "30m" | "2h" | "1d" | "1h30m" (whole numbers, each with a unit) in milliseconds;
// nullopt on anything else, zero, or more than a year (`rivet snapshot hold --for`).
std::optional<int64_t> ParseDurationMs(std::string_view text);

}  // namespace rivet
