// The AWS credential chain as something an upload asks before every request: static keys
// never change, temporary ones (web identity, the ECS endpoint, EC2 instance metadata) are
// fetched over the network and fetched again before they expire, so a long export never signs
// with an expired token.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "rivet/common/result.h"
#include "rivet/net/aws_credentials.h"

namespace rivet::net {

class AwsCredentialProvider {
 public:
  virtual ~AwsCredentialProvider() = default;
  // Credentials valid for at least the next few minutes. Thread-safe: parts uploaded in
  // parallel share one provider.
  virtual Result<AwsCredentials> Current() = 0;
  // Where the credentials come from, for messages ("environment", "web identity"); never a
  // key or a token.
  virtual std::string Source() const = 0;
};

// The whole chain in the order of README "S3 credentials": the first source that has
// credentials wins; an auth error naming every source tried when none has.
// `configured_key` / `configured_secret` are the export's (both or neither).
Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env);

}  // namespace rivet::net
