#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string_view>

#include "rivet/cli/commands.h"

namespace rivet::cli {

namespace {

// "a: a: rest" -> "a: rest". Errors from the config module already start with the file's path;
// a caller that adds the path again as context would otherwise print "error: rivet.yaml:
// rivet.yaml: exports[0] ...".
std::string_view DropRepeatedContext(std::string_view message) {
  constexpr std::string_view kSeparator = ": ";
  const size_t end = message.find(kSeparator);
  if (end == std::string_view::npos || end == 0) return message;
  const std::string_view context = message.substr(0, end + kSeparator.size());
  const std::string_view rest = message.substr(context.size());
  return rest.substr(0, context.size()) == context ? rest : message;
}

}  // namespace

int Severity(ExitCode code) {
  switch (code) {
    case ExitCode::kSuccess:
      return 0;
    case ExitCode::kExportFailed:
      return 1;
    case ExitCode::kDataIntegrity:
      return 2;
    case ExitCode::kUsage:
      return 3;
    case ExitCode::kInternal:
      return 4;
  }
  return 4;
}

int ReportError(const Status& status) {
  std::fputs(fmt::format("error: {}\n", DropRepeatedContext(status.message())).c_str(), stderr);
  return static_cast<int>(ExitCodeFor(status.code()));
}

Result<std::vector<const config::ExportConfig*>> SelectExports(
    const config::Config& config, const std::optional<std::string>& export_name) {
  std::vector<const config::ExportConfig*> selected;
  for (const config::ExportConfig& e : config.exports) {
    if (!export_name || e.name == *export_name) selected.push_back(&e);
  }
  if (selected.empty()) {
    std::string known;
    for (const config::ExportConfig& e : config.exports) {
      known += (known.empty() ? "" : ", ") + e.name;
    }
    return Error(ErrorCode::kConfig, "{}: no export named '{}'; known exports: {}", config.path,
                 export_name.value_or(""), known);
  }
  return selected;
}

Result<config::Loaded> LoadForCommand(const std::string& config_path,
                                      const std::vector<std::string>& params,
                                      bool require_secrets) {
  config::LoadOptions options;
  options.require_secrets = require_secrets;
  for (const std::string& p : params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::kConfig, "--param '{}' must be KEY=VALUE, e.g. --param COUNTRY=US",
                   p);
    }
    options.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  RIVET_ASSIGN_OR_RETURN(config::Loaded loaded, config::LoadConfigFile(config_path, options));
  for (const std::string& w : loaded.warnings) spdlog::warn("{}", w);
  return loaded;
}

}  // namespace rivet::cli
