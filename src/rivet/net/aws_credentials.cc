#include "rivet/net/aws_credentials.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rivet::net {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::string> NonEmptyEnv(const AwsEnvironment& env, const char* name) {
  std::optional<std::string> value = env.get_env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else the file under ~/.aws.
std::optional<std::string> SharedFilePath(const AwsEnvironment& env, const char* variable,
                                          const char* file) {
  if (auto path = NonEmptyEnv(env, variable)) return path;
  if (auto home = NonEmptyEnv(env, "HOME")) return fmt::format("{}/.aws/{}", *home, file);
  return std::nullopt;
}

// The profile's section of a shared file, or nullptr. The config file names profiles
// "[profile NAME]" ("[default]" stays as is); the credentials file names them "[NAME]".
const std::map<std::string, std::string>* ProfileSection(const AwsIni& ini,
                                                         const std::string& profile,
                                                         bool config_file) {
  const std::string name = config_file && profile != "default" ? "profile " + profile : profile;
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

Result<std::optional<AwsIni>> ReadShared(const AwsEnvironment& env, const char* variable,
                                         const char* file) {
  std::optional<std::string> path = SharedFilePath(env, variable, file);
  if (!path) return std::optional<AwsIni>();
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> text, env.read_file(*path));
  if (!text) return std::optional<AwsIni>();
  RIVET_ASSIGN_OR_RETURN(AwsIni ini, ParseAwsIni(*text, *path));
  return std::optional<AwsIni>(std::move(ini));
}

std::optional<std::string> Get(const std::map<std::string, std::string>& section, const char* key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// The keys of one profile section, both or neither.
Result<std::optional<AwsCredentials>> FromSection(const std::map<std::string, std::string>& section,
                                                  const std::string& what) {
  std::optional<std::string> key = Get(section, "aws_access_key_id");
  std::optional<std::string> secret = Get(section, "aws_secret_access_key");
  if (!key && !secret) return std::optional<AwsCredentials>();
  if (!key || !secret) {
    return Error(ErrorCode::kConfig, "{} has {} but not {}; set both or neither", what,
                 key ? "aws_access_key_id" : "aws_secret_access_key",
                 key ? "aws_secret_access_key" : "aws_access_key_id");
  }
  AwsCredentials c{*key, *secret, Get(section, "aws_session_token").value_or(""), what,
                   std::nullopt};
  return std::optional<AwsCredentials>(std::move(c));
}

}  // namespace

AwsEnvironment SystemAwsEnvironment() {
  AwsEnvironment env;
  env.get_env = [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.read_file = [](const std::string& path) -> Result<std::optional<std::string>> {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (errno == ENOENT) return std::optional<std::string>();
      return Error(ErrorCode::kConfig, "cannot read {}: {}", path, std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return std::optional<std::string>(text.str());
  };
  return env;
}

Result<AwsIni> ParseAwsIni(std::string_view text, std::string_view what) {
  AwsIni ini;
  std::map<std::string, std::string>* section = nullptr;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (indented) continue;  // a nested setting of the key above
    if (line.front() == '[') {
      if (line.back() != ']') {
        return Error(ErrorCode::kConfig, "{} line {}: a section header must end with ']'", what,
                     line_number);
      }
      section = &ini[std::string(Trim(line.substr(1, line.size() - 2)))];
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || section == nullptr) {
      // The line may hold a secret: say where, never what.
      return Error(ErrorCode::kConfig, "{} line {}: expected 'key = value' inside a [section]",
                   what, line_number);
    }
    (*section)[std::string(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
  }
  return ini;
}

Result<std::optional<AwsCredentials>> StaticAwsCredentials(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env) {
  if (configured_key && configured_secret) {
    return std::optional<AwsCredentials>(AwsCredentials{
        *configured_key, *configured_secret, "", "access_key_env/secret_key_env", std::nullopt});
  }
  std::optional<std::string> key = NonEmptyEnv(env, "AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = NonEmptyEnv(env, "AWS_SECRET_ACCESS_KEY");
  if (key || secret) {
    if (!key || !secret) {
      return Error(ErrorCode::kConfig, "{} is set but {} is not; set both or neither",
                   key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                   key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    }
    return std::optional<AwsCredentials>(
        AwsCredentials{*key, *secret, NonEmptyEnv(env, "AWS_SESSION_TOKEN").value_or(""),
                       "environment", std::nullopt});
  }
  const std::string profile = AwsProfileName(env);
  struct Shared {
    const char* variable;
    const char* file;
    bool config_file;
  };
  for (const Shared& shared : {Shared{"AWS_SHARED_CREDENTIALS_FILE", "credentials", false},
                               Shared{"AWS_CONFIG_FILE", "config", true}}) {
    RIVET_ASSIGN_OR_RETURN(std::optional<AwsIni> ini,
                           ReadShared(env, shared.variable, shared.file));
    if (!ini) continue;
    const auto* section = ProfileSection(*ini, profile, shared.config_file);
    if (section == nullptr) continue;
    RIVET_ASSIGN_OR_RETURN(
        auto found, FromSection(*section, fmt::format("profile '{}' of the shared {} file", profile,
                                                      shared.file)));
    if (found) return found;
  }
  return std::optional<AwsCredentials>();
}

std::string AwsProfileName(const AwsEnvironment& env) {
  std::optional<std::string> profile = env.get_env("AWS_PROFILE");
  return profile && !profile->empty() ? *profile : "default";
}

Result<std::map<std::string, std::string>> AwsConfigProfile(const AwsEnvironment& env) {
  RIVET_ASSIGN_OR_RETURN(std::optional<AwsIni> ini, ReadShared(env, "AWS_CONFIG_FILE", "config"));
  if (!ini) return std::map<std::string, std::string>();
  const auto* section = ProfileSection(*ini, AwsProfileName(env), /*config_file=*/true);
  if (section == nullptr) return std::map<std::string, std::string>();
  return *section;
}

Result<std::optional<std::string>> AwsRegion(const std::string& configured,
                                             const AwsEnvironment& env) {
  if (!configured.empty()) return std::optional<std::string>(configured);
  if (auto region = NonEmptyEnv(env, "AWS_REGION")) return region;
  if (auto region = NonEmptyEnv(env, "AWS_DEFAULT_REGION")) return region;
  RIVET_ASSIGN_OR_RETURN(auto profile, AwsConfigProfile(env));
  return Get(profile, "region");
}

}  // namespace rivet::net
