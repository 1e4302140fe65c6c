#include "rivet/common/clock.h"

#include <ctime>

#include <fmt/format.h>

namespace rivet {

namespace {
std::tm UtcParts(SystemTime t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return parts;
}
int64_t MillisPart(SystemTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return ((ms % 1000) + 1000) % 1000;
}
}  // namespace

std::string FormatRunIdTime(SystemTime t) {
  std::tm p = UtcParts(t);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}", p.tm_year + 1900, p.tm_mon + 1,
                     p.tm_mday, p.tm_hour, p.tm_min, p.tm_sec, MillisPart(t));
}

std::string FormatFileTime(SystemTime t) {
  std::tm p = UtcParts(t);
  return fmt::format("{:04}{:02}{:02}_{:02}{:02}{:02}", p.tm_year + 1900, p.tm_mon + 1, p.tm_mday,
                     p.tm_hour, p.tm_min, p.tm_sec);
}

std::string FormatIsoSeconds(SystemTime t) {
  std::tm p = UtcParts(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00", p.tm_year + 1900, p.tm_mon + 1,
                     p.tm_mday, p.tm_hour, p.tm_min, p.tm_sec);
}

int64_t ToUnixMicros(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace rivet
