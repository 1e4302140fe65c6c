// The sources of the AWS credential chain that need the network, in the order the AWS SDKs try
// them after the static ones (aws_credentials.h):
//   1. web identity (EKS IRSA): STS AssumeRoleWithWebIdentity with the token in
//      AWS_WEB_IDENTITY_TOKEN_FILE for AWS_ROLE_ARN, or web_identity_token_file / role_arn in
//      the profile of the shared config file;
//   2. the container endpoint (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
//   3. EC2 instance metadata, IMDSv2 (a session token first), unless AWS_EC2_METADATA_DISABLED.
//
// Each source has a pure part, tested without a network: where its settings come from
// (*Settings, from an AwsEnvironment) and what its answer means (Parse*); and a fetch over an
// HttpClient, which retries a few times on retryable failures. The tokens files are read again
// at every fetch (they rotate).
//
// Errors name the variable, the file, the role ARN and the endpoint; never an access key, a
// secret, a session token, a web identity token or a container authorization token.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "rivet/common/clock.h"
#include "rivet/common/result.h"
#include "rivet/net/aws_credentials.h"
#include "rivet/net/http_client.h"

namespace rivet::net {

// "2026-12-06T10:00:00Z" as a time point: the ISO-8601 form AWS services answer, with an
// optional fraction of a second and "Z" or a "+hh:mm" / "-hh:mm" offset. nullopt when malformed.
std::optional<SystemTime> ParseIso8601(std::string_view text);

// How many times a credential request is sent at most (SendRetried, http_client.h).
using AwsFetchRetry = HttpRetry;
// Instance metadata: two tries at most (where nothing answers, every try costs a timeout).
inline constexpr AwsFetchRetry kImdsFetchRetry{2, std::chrono::milliseconds(100)};

// ---- 1. Web identity --------------------------------------------------------------------------

struct WebIdentitySettings {
  std::string role_arn;
  std::string token_file;
  std::string session_name;  // AWS_ROLE_SESSION_NAME, role_session_name, else "rivet-<unix time>"
  std::string endpoint;      // STS, without a trailing '/'
  std::string origin;        // what configured it, for messages: "AWS_WEB_IDENTITY_TOKEN_FILE", ...
};

// From AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), else from
// web_identity_token_file + role_arn (+ role_session_name) in the profile of the config file.
// nullopt when neither configures it; a config error when a token file has no role ARN. `now`
// names the default session.
Result<std::optional<WebIdentitySettings>> WebIdentitySettingsFrom(const AwsEnvironment& env,
                                                                   SystemTime now);

// STS's endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint
// https://sts.REGION.amazonaws.com when a region is known (AwsRegion), else the global
// https://sts.amazonaws.com.
Result<std::string> StsEndpoint(const AwsEnvironment& env);

// The form body of the AssumeRoleWithWebIdentity request (POSTed, so the token is never in a
// URL).
std::string AssumeRoleWithWebIdentityBody(const WebIdentitySettings& settings,
                                          std::string_view token);

// STS's answer: the credentials of <AssumeRoleWithWebIdentityResult><Credentials>, or the error
// of <Error><Code>/<Message> classified (a refused token or role is kAuth and names the role ARN
// and the token file; throttling and 5xx are retryable).
Result<AwsCredentials> ParseAssumeRoleWithWebIdentityResponse(long status, std::string_view body,
                                                              const WebIdentitySettings& settings);

Result<AwsCredentials> FetchWebIdentityCredentials(HttpClient& http,
                                                   const WebIdentitySettings& settings,
                                                   const AwsEnvironment& env,
                                                   const AwsFetchRetry& retry = {});

// ---- 2. The container endpoint ----------------------------------------------------------------

struct ContainerSettings {
  std::string url;     // http://169.254.170.2 + the relative URI, or the full URI
  std::string origin;  // "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" or "..._FULL_URI"
};

// nullopt when neither variable is set; a config error for a full URI that is neither https
// nor http to a loopback host (127.0.0.0/8, localhost, ::1) or the ECS / EKS agents'
// addresses (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the SDKs refuse them.
Result<std::optional<ContainerSettings>> ContainerSettingsFrom(const AwsEnvironment& env);

// The endpoint's JSON answer {AccessKeyId, SecretAccessKey, Token, Expiration}.
Result<AwsCredentials> ParseContainerCredentials(long status, std::string_view body,
                                                 const ContainerSettings& settings);

// Sends Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at every fetch), else
// AWS_CONTAINER_AUTHORIZATION_TOKEN, when either is set.
Result<AwsCredentials> FetchContainerCredentials(HttpClient& http,
                                                 const ContainerSettings& settings,
                                                 const AwsEnvironment& env,
                                                 const AwsFetchRetry& retry = {});

// ---- 3. EC2 instance metadata (IMDSv2) ---------------------------------------------------------

struct ImdsSettings {
  std::string endpoint;  // without a trailing '/'
};

// http://169.254.169.254 (http://[fd00:ec2::254] with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
// IPv6), or AWS_EC2_METADATA_SERVICE_ENDPOINT; nullopt when AWS_EC2_METADATA_DISABLED is true.
std::optional<ImdsSettings> ImdsSettingsFrom(const AwsEnvironment& env);

// The JSON answer for the instance's role {Code: "Success", AccessKeyId, SecretAccessKey,
// Token, Expiration}.
Result<AwsCredentials> ParseImdsCredentials(long status, std::string_view body,
                                            const ImdsSettings& settings);

// PUT /latest/api/token, then the role's name from /latest/meta-data/iam/security-credentials/,
// then its credentials. Short timeouts (ImdsHttpOptions) and kImdsFetchRetry: on a machine that
// is not an EC2 instance nothing answers, and the chain must end quickly.
Result<AwsCredentials> FetchImdsCredentials(HttpClient& http, const ImdsSettings& settings,
                                            const AwsFetchRetry& retry = kImdsFetchRetry);

// The HTTP options of each source: STS is a public endpoint (ordinary timeouts); the container
// and instance-metadata endpoints are local (short timeouts, no proxy).
HttpOptions StsHttpOptions();
HttpOptions ContainerHttpOptions();
HttpOptions ImdsHttpOptions();

}  // namespace rivet::net
