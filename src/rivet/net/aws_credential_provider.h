// The AWS credential chain as something an upload asks before every request: static keys
// never change, temporary ones (web identity, the ECS endpoint, EC2 instance metadata) are
// fetched over the network and fetched again before they expire, so a long export never signs
// with an expired token.
#pragma once

#include <chrono>
#include <functional>
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
//
// After the static sources (aws_credentials.h) come those of aws_remote_credentials.h: web
// identity, the ECS container endpoint, EC2 instance metadata. The first two are chosen by
// their variables: once configured, their failure is the chain's (as in the AWS SDKs); instance
// metadata is the last resort, and its failure ends in the "no AWS credentials found" error.
// A network source's credentials are fetched here once (so a missing role fails before any
// export starts) and again before they expire (MakeRefreshingAwsCredentialProvider).
Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env);

// What time it is, for the refresh (tests give their own).
using AwsClock = std::function<std::chrono::system_clock::time_point()>;

struct AwsCredentialChainOptions {
  AwsClock now;  // empty: the system clock
};

Result<std::shared_ptr<AwsCredentialProvider>> MakeAwsCredentialProvider(
    const std::optional<std::string>& configured_key,
    const std::optional<std::string>& configured_secret, const AwsEnvironment& env,
    const AwsCredentialChainOptions& options);

// Temporary credentials fetched again when fewer than this remain before their expiration.
inline constexpr std::chrono::minutes kAwsRefreshBeforeExpiry{5};
// When a fetch fails, the cached credentials are still used while more than this remains...
inline constexpr std::chrono::minutes kAwsUsableAfterFailedRefresh{1};
// ...and the next fetch waits this long, so a down endpoint does not slow every request.
inline constexpr std::chrono::seconds kAwsRefreshRetryAfter{10};

// A provider of temporary credentials: `fetch` is called at the first Current(), then whenever
// the cached credentials have fewer than kAwsRefreshBeforeExpiry left (at once when expired;
// never for credentials without an expiration). A failed fetch while the cached credentials
// have more than kAwsUsableAfterFailedRefresh left keeps them (a warning without any secret);
// otherwise Current() returns the fetch's error. Credentials already expired when fetched are
// an auth error (a wrong clock). One fetch at a time: callers wait on a mutex.
using AwsCredentialFetch = std::function<Result<AwsCredentials>()>;
std::shared_ptr<AwsCredentialProvider> MakeRefreshingAwsCredentialProvider(std::string source,
                                                                           AwsCredentialFetch fetch,
                                                                           AwsClock now = {});

}  // namespace rivet::net
