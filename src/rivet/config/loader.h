// Loading and validating a rivet YAML config (reference §1 rules).
//
// Every error names the file, the export (when inside one) and the key, and says how to fix it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/config/config.h"

namespace rivet::config {

// Looks up an environment variable; nullopt when unset. Tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct LoadOptions {
  std::map<std::string, std::string> params;  // --param KEY=VALUE (wins over the environment)
  EnvLookup env = ProcessEnv();
};

struct Loaded {
  Config config;
  std::vector<std::string> warnings;  // unused --param, password in the file, ...
};

// Reads and validates the file at `path`.
Result<Loaded> LoadConfigFile(const std::string& path, const LoadOptions& options);
// Same, from text; `path` is used for messages and as the base of relative paths.
Result<Loaded> LoadConfigText(std::string_view yaml, const std::string& path,
                              const LoadOptions& options);

// Fails with kNotSupported, naming the key, when `e` needs behaviour rivet does not have yet.
// Called for the exports a command is about to run, never for the others.
Status CheckSupported(const Config& config, const ExportConfig& e);

}  // namespace rivet::config
