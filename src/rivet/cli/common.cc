#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "rivet/cli/commands.h"

namespace rivet::cli {

int ReportError(const Status& status) {
  std::fputs(fmt::format("error: {}\n", status.message()).c_str(), stderr);
  return static_cast<int>(ExitCodeFor(status.code()));
}

Result<config::Loaded> LoadForCommand(const std::string& config_path,
                                      const std::vector<std::string>& params,
                                      bool require_secrets) {
  config::LoadOptions options;
  options.require_secrets = require_secrets;
  for (const std::string& p : params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::kConfig, "--param '{}' must be KEY=VALUE, e.g. --param COUNTRY=US", p);
    }
    options.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  RIVET_ASSIGN_OR_RETURN(config::Loaded loaded, config::LoadConfigFile(config_path, options));
  for (const std::string& w : loaded.warnings) spdlog::warn("{}", w);
  return loaded;
}

}  // namespace rivet::cli
