// AWS credentials and region from what a machine already has, in the order the AWS tools use
// (README "S3 credentials"): the export's access_key_env/secret_key_env, then the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the shared files
// (~/.aws/credentials and ~/.aws/config, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE,
// AWS_CONFIG_FILE). The sources that need the network (web identity, the ECS endpoint, EC2
// instance metadata) come after these and live with the HTTP client.
//
// Pure: the environment and the files are read through AwsEnvironment, so tests give their own.
// Errors name the variable, file, profile and key, never a value.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/result.h"

namespace rivet::net {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
  std::string source;         // where they came from, for messages: "environment", ...
  // When temporary credentials stop working; nullopt for keys that do not expire.
  std::optional<std::chrono::system_clock::time_point> expiration;

  bool operator==(const AwsCredentials&) const = default;
};

struct AwsEnvironment {
  std::function<std::optional<std::string>(const char* name)> get_env;
  // The file's text, nullopt when it does not exist; an error when it exists but cannot be read.
  std::function<Result<std::optional<std::string>>(const std::string& path)> read_file;
};

// The process's own environment and file system.
AwsEnvironment SystemAwsEnvironment();

// An INI file of the AWS tools: section -> key -> value. In the config file a profile's section
// is "[profile NAME]" (kept as written; see ProfileSection). Indented lines belong to the key
// above them (nested settings such as `s3 =`) and are skipped. `what` names the file in errors.
using AwsIni = std::map<std::string, std::map<std::string, std::string>>;
Result<AwsIni> ParseAwsIni(std::string_view text, std::string_view what);

// The static credentials of the chain, or nullopt when none of these sources has any.
// `configured_key` / `configured_secret` are the export's (already read from its *_env
// variables; both or neither).
Result<std::optional<AwsCredentials>> StaticAwsCredentials(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env);

// The profile the shared files are read for: AWS_PROFILE, else "default".
std::string AwsProfileName(const AwsEnvironment& env);

// The settings of that profile in the shared config file (AWS_CONFIG_FILE, else
// ~/.aws/config): empty when the file or the profile is not there.
Result<std::map<std::string, std::string>> AwsConfigProfile(const AwsEnvironment& env);

// The region: the export's, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's
// `region` in the config file; nullopt when none says.
Result<std::optional<std::string>> AwsRegion(const std::string& configured,
                                             const AwsEnvironment& env);

}  // namespace rivet::net
