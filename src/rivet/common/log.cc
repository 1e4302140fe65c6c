#include "rivet/common/log.h"

#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace rivet {

namespace {
// "rivet=debug,hyper=info" -> "debug"; "info" -> "info".
std::string LevelFromFilter(std::string filter) {
  for (size_t start = 0; start <= filter.size();) {
    size_t end = filter.find(',', start);
    if (end == std::string::npos) end = filter.size();
    std::string part = filter.substr(start, end - start);
    size_t eq = part.find('=');
    if (eq == std::string::npos) return part;
    if (part.substr(0, eq) == "rivet") return part.substr(eq + 1);
    start = end + 1;
  }
  return "warn";
}
}  // namespace

void InitLogging() {
  const char* env = std::getenv("RIVET_LOG");
  if (env == nullptr || *env == '\0') env = std::getenv("RUST_LOG");
  std::string level = env != nullptr ? LevelFromFilter(env) : "warn";
  auto logger = spdlog::stderr_logger_mt("rivet");
  logger->set_pattern("[%Y-%m-%dT%H:%M:%S.%eZ %^%l%$] %v", spdlog::pattern_time_type::utc);
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only accept it when asked for.
  if (parsed == spdlog::level::off && level != "off") parsed = spdlog::level::warn;
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
}

}  // namespace rivet
