#include "rivet/config/loader.h"

#include <cstdlib>

namespace rivet::config {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<Loaded> LoadConfigFile(const std::string& path, const LoadOptions&) {
  return Error(ErrorCode::kNotSupported, "{}: config loading is not built yet", path);
}

Result<Loaded> LoadConfigText(std::string_view, const std::string& path, const LoadOptions&) {
  return Error(ErrorCode::kNotSupported, "{}: config loading is not built yet", path);
}

Status CheckSupported(const Config&, const ExportConfig&) { return Status::Ok(); }

}  // namespace rivet::config
