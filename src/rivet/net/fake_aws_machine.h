// For the unit tests: a made-up machine, its environment variables and files, as an
// AwsEnvironment.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "rivet/net/aws_credentials.h"

namespace rivet::net {

struct FakeAwsMachine {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;

  // Reads this machine as it is at each call (tests may change it between calls); the
  // machine must outlive the environment. "/unreadable" cannot be read.
  AwsEnvironment Environment() const {
    AwsEnvironment e;
    e.get_env = [this](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    e.read_file = [this](const std::string& path) -> Result<std::optional<std::string>> {
      if (path == "/unreadable") return Error(ErrorCode::kConfig, "cannot read {}", path);
      auto it = files.find(path);
      if (it == files.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    };
    return e;
  }
};

}  // namespace rivet::net
