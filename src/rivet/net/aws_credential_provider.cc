#include "rivet/net/aws_credential_provider.h"

#include <utility>

namespace rivet::net {

namespace {

class StaticProvider final : public AwsCredentialProvider {
 public:
  explicit StaticProvider(AwsCredentials credentials) : credentials_(std::move(credentials)) {}
  Result<AwsCredentials> Current() override { return credentials_; }
  std::string Source() const override { return credentials_.source; }

 private:
  AwsCredentials credentials_;
};

}  // namespace

Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env) {
  RIVET_ASSIGN_OR_RETURN(std::optional<AwsCredentials> found,
                         StaticAwsCredentials(configured_key, configured_secret, env));
  if (found) return std::shared_ptr<AwsCredentialProvider>(new StaticProvider(std::move(*found)));
  return Error(ErrorCode::kAuth,
               "no AWS credentials found: set access_key_env and secret_key_env on the "
               "destination, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in "
               "~/.aws/credentials");
}

}  // namespace rivet::net
