#include "rivet/net/aws_credential_provider.h"

#include <utility>

#include "rivet/common/clock.h"
#include "rivet/net/aws_remote_credentials.h"
#include "rivet/net/http_client.h"
#include "rivet/net/refreshing_cache.h"

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

class RefreshingProvider final : public AwsCredentialProvider {
 public:
  RefreshingProvider(std::string source, AwsCredentialFetch fetch, AwsClock now)
      : cache_(
            "AWS credentials", std::move(source), std::move(fetch),
            [](const AwsCredentials& c) { return c.expiration; }, std::move(now),
            RefreshPolicy{kAwsRefreshBeforeExpiry, kAwsUsableAfterFailedRefresh,
                          kAwsRefreshRetryAfter, /*half_life_for_short_lived=*/false}) {}

  Result<AwsCredentials> Current() override { return cache_.Get(); }
  std::string Source() const override { return cache_.source(); }

 private:
  RefreshingCache<AwsCredentials> cache_;
};

SystemTime SystemNow() { return std::chrono::system_clock::now(); }

// A network source's provider, its first credentials already fetched.
Result<std::shared_ptr<AwsCredentialProvider>> Started(
    const char* source, HttpOptions options,
    std::function<Result<AwsCredentials>(HttpClient&)> fetch, const AwsClock& now) {
  RIVET_ASSIGN_OR_RETURN(HttpClient client, HttpClient::Create(options));
  auto http = std::make_shared<HttpClient>(std::move(client));
  std::shared_ptr<AwsCredentialProvider> provider = MakeRefreshingAwsCredentialProvider(
      source, [http, fetch = std::move(fetch)] { return fetch(*http); }, now);
  RIVET_RETURN_IF_ERROR(provider->Current());
  return provider;
}

// `instance_metadata` says how the last source failed: "EC2 instance metadata ...".
Status NoCredentials(const AwsEnvironment& env, std::string_view instance_metadata) {
  return Error(ErrorCode::kAuth,
               "no AWS credentials found; tried, in order: access_key_env/secret_key_env of the "
               "destination (not set); the environment (AWS_ACCESS_KEY_ID and "
               "AWS_SECRET_ACCESS_KEY not set); the shared credentials and config files (no keys "
               "for profile '{}'); web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set, no "
               "web_identity_token_file in the profile); the ECS container endpoint "
               "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
               "not set); {}",
               AwsProfileName(env), instance_metadata);
}

}  // namespace

std::shared_ptr<AwsCredentialProvider> MakeRefreshingAwsCredentialProvider(std::string source,
                                                                           AwsCredentialFetch fetch,
                                                                           AwsClock now) {
  return std::make_shared<RefreshingProvider>(std::move(source), std::move(fetch),
                                              now ? std::move(now) : AwsClock(SystemNow));
}

Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env) {
  return MakeAwsCredentialProvider(configured_key, configured_secret, env, {});
}

Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env,
    const AwsCredentialChainOptions& options) {
  const AwsClock now = options.now ? options.now : AwsClock(SystemNow);
  RIVET_ASSIGN_OR_RETURN(std::optional<AwsCredentials> found,
                         StaticAwsCredentials(configured_key, configured_secret, env));
  if (found) return std::shared_ptr<AwsCredentialProvider>(new StaticProvider(std::move(*found)));

  RIVET_ASSIGN_OR_RETURN(std::optional<WebIdentitySettings> web,
                         WebIdentitySettingsFrom(env, now()));
  if (web) {
    return Started(
        "web identity", StsHttpOptions(),
        [settings = *web, env](HttpClient& http) {
          return FetchWebIdentityCredentials(http, settings, env);
        },
        now);
  }
  RIVET_ASSIGN_OR_RETURN(std::optional<ContainerSettings> container, ContainerSettingsFrom(env));
  if (container) {
    return Started(
        "ECS container endpoint", ContainerHttpOptions(),
        [settings = *container, env](HttpClient& http) {
          return FetchContainerCredentials(http, settings, env);
        },
        now);
  }
  std::optional<ImdsSettings> imds = ImdsSettingsFrom(env);
  if (!imds)
    return NoCredentials(env, "EC2 instance metadata (turned off by AWS_EC2_METADATA_DISABLED)");
  Result<std::shared_ptr<AwsCredentialProvider>> instance = Started(
      "EC2 instance metadata", ImdsHttpOptions(),
      [settings = *imds](HttpClient& http) { return FetchImdsCredentials(http, settings); }, now);
  if (instance.has_value() || instance.error().code() == ErrorCode::kInterrupted) return instance;
  return NoCredentials(env, instance.error().message());
}

}  // namespace rivet::net
