// Wall-clock helpers in UTC for run ids, file names and the state DB.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rivet {

using SystemTime = std::chrono::system_clock::time_point;

// "20260329T143000.123" (run_id suffix, reference §3).
std::string FormatRunIdTime(SystemTime t);
// "20260329_143000" (file name stamp).
std::string FormatFileTime(SystemTime t);
// "2026-03-29T14:30:00+00:00" (state DB and tables).
std::string FormatIsoSeconds(SystemTime t);
// Microseconds since the Unix epoch.
int64_t ToUnixMicros(SystemTime t);

}  // namespace rivet
