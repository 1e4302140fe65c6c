// Google Cloud credentials for the GCS destination, in the order Google's client libraries use
// (README "GCS"): the export's credentials_file; GOOGLE_APPLICATION_CREDENTIALS; the gcloud
// application-default credentials file (~/.config/gcloud/application_default_credentials.json,
// or $CLOUDSDK_CONFIG/application_default_credentials.json); the metadata server of GCE/GKE
// (GCE_METADATA_HOST overrides its address; METADATA_SERVER_DETECTION=none turns it off).
// allow_anonymous sends no credentials at all.
//
// A credentials file is a service account key (an RS256-signed JWT exchanged for an access
// token at the file's token_uri) or an authorized_user file (its refresh token exchanged at
// token_uri, default https://oauth2.googleapis.com/token). Other types (external_account,
// impersonated_service_account, ...) are refused by name.
//
// The metadata server is the last resort: one short try (1.5 s at most, no proxy) of
// GET /computeMetadata/v1/instance/service-accounts/default/email with "Metadata-Flavor: Google",
// whose answer must carry that header too; where it does not answer, the chain ends in an auth
// error naming every source tried and how to configure one. Once found, its
// .../default/token gives the tokens. A credentials file that is named or exists but fails
// (unreadable, malformed, an unsupported type, a refused key) is the chain's error: the chain
// does not go on to the next source, as in Google's libraries.
//
// Tokens are cached and fetched again before they expire; token requests are retried on
// retryable failures. Errors name the file, the key and the identity (a service account's
// client_email), never a private key, an access token, a refresh token or a client secret.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rivet/common/result.h"
#include "rivet/net/aws_credentials.h"  // AwsEnvironment: the environment and files, injectable

namespace rivet::net {

// The OAuth scope asked for: objects are created, read back and (probe, pending copies) deleted.
inline constexpr const char* kGcsScope = "https://www.googleapis.com/auth/devstorage.read_write";

class GoogleTokenProvider {
 public:
  virtual ~GoogleTokenProvider() = default;
  // A bearer access token valid for at least the next few minutes (a short-lived one: for at
  // least half of its life; see kGoogleRefreshBeforeExpiry); "" for anonymous access.
  // Thread-safe.
  virtual Result<std::string> Token() = 0;
  // Who the requests run as, for messages: "service account rivet@p.iam.gserviceaccount.com
  // (credentials_file /etc/rivet/sa.json)", "authorized user (application default credentials
  // ~/.config/gcloud/...)", "metadata server metadata.google.internal (default service account
  // vm@p.iam.gserviceaccount.com)", "anonymous". Never a secret.
  virtual std::string Identity() const = 0;
};

struct GoogleCredentialOptions {
  std::string credentials_file;  // the export's; "" when not set
  bool allow_anonymous = false;
  // What time it is, for expiry and the JWT's iat/exp (tests give their own); empty: the
  // system clock.
  std::function<std::chrono::system_clock::time_point()> now;
};

// ---- The pure parts, tested without a network --------------------------------------------------

inline constexpr const char* kGoogleTokenUri = "https://oauth2.googleapis.com/token";

// A service account key file ("type": "service_account").
struct GoogleServiceAccount {
  std::string client_email;
  std::string private_key;     // PEM (PKCS#8 "BEGIN PRIVATE KEY", or PKCS#1 "BEGIN RSA ...")
  std::string private_key_id;  // the JWT's kid; "" when the file has none (no kid then)
  std::string token_uri;       // kGoogleTokenUri when the file has none
};

// gcloud's application default credentials after `gcloud auth application-default login`
// ("type": "authorized_user").
struct GoogleAuthorizedUser {
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::string token_uri;  // kGoogleTokenUri when the file has none
};

using GoogleCredentialsFile = std::variant<GoogleServiceAccount, GoogleAuthorizedUser>;

// The text of a credentials file. `path` names it in errors: malformed JSON or a missing key is
// a config error naming the file and the key; a type Rivet does not handle (external_account,
// impersonated_service_account, ...) is kNotSupported naming the type and the file.
Result<GoogleCredentialsFile> ParseGoogleCredentialsFile(std::string_view text,
                                                         std::string_view path);

// RFC 4648 §5 base64url without padding, as JWTs use (RFC 7515 §2).
std::string Base64UrlEncode(std::string_view bytes);

// Lifetime of the assertion (the most Google's token endpoint accepts).
inline constexpr std::chrono::seconds kGoogleJwtLifetime{3600};

// The signed assertion of the JWT-bearer grant (RFC 7523; Google "Using OAuth 2.0 for Server to
// Server Applications"): header {"alg":"RS256","typ":"JWT","kid":private_key_id}, claims
// {"iss":client_email,"scope":kGcsScope,"aud":token_uri,"iat":now,"exp":now+3600}, each part
// base64url, the signature RSASSA-PKCS1-v1_5 SHA-256 of "header.claims". A config error naming
// the service account when private_key is not an RSA private key (never the key itself).
Result<std::string> BuildServiceAccountJwt(const GoogleServiceAccount& account,
                                           std::chrono::system_clock::time_point now);

// The application/x-www-form-urlencoded bodies POSTed to token_uri.
std::string ServiceAccountTokenRequestBody(std::string_view assertion);
std::string AuthorizedUserTokenRequestBody(const GoogleAuthorizedUser& user);

struct GoogleAccessToken {
  std::string token;
  std::chrono::system_clock::time_point expiration;
};

// A token answer {"access_token","expires_in","token_type":"Bearer"} (token endpoints and the
// metadata server) fetched at `now`. An OAuth error answer {"error","error_description"} is an
// auth error (400/401/403) or a retryable one (429, 5xx) naming `identity`, the endpoint's
// `where` and the description; never a token.
Result<GoogleAccessToken> ParseGoogleTokenResponse(long status, std::string_view body,
                                                   std::string_view identity,
                                                   std::string_view where,
                                                   std::chrono::system_clock::time_point now);

// Where the chain found a credentials file.
struct GoogleCredentialsLocation {
  std::string path;
  std::string origin;  // "credentials_file", "GOOGLE_APPLICATION_CREDENTIALS",
                       // "application default credentials"
  std::string text;
};

// The first of credentials_file, GOOGLE_APPLICATION_CREDENTIALS and the well-known ADC file
// ($CLOUDSDK_CONFIG/application_default_credentials.json, else
// $HOME/.config/gcloud/application_default_credentials.json) that is set or exists; nullopt when
// none. A file named by the export or the variable that does not exist or cannot be read is an
// error naming it (the chain does not go on to the next source).
Result<std::optional<GoogleCredentialsLocation>> FindGoogleCredentialsFile(
    const GoogleCredentialOptions& options, const AwsEnvironment& env);

// The metadata server's address: GCE_METADATA_HOST (host or host:port; a base URL
// "http://host:port/prefix" too, as Google's Node.js library takes it), else
// metadata.google.internal, as Google's client libraries resolve it; nullopt when
// METADATA_SERVER_DETECTION is "none".
std::optional<std::string> GoogleMetadataHost(const AwsEnvironment& env);

// Tokens are fetched again when fewer than this remain (refreshing_cache.h rule 2: a token that
// lives less than twice this long is fetched again when half its life has passed, so the short
// tokens of emulators still work)...
inline constexpr std::chrono::minutes kGoogleRefreshBeforeExpiry{5};
// ...after a failed fetch, the cached token is still used while more than this remains (a tenth
// of its life for a short one)...
inline constexpr std::chrono::minutes kGoogleUsableAfterFailedRefresh{1};
// ...and the next fetch waits this long.
inline constexpr std::chrono::seconds kGoogleRefreshRetryAfter{10};

// ---- The chain --------------------------------------------------------------------------------

// The first source of the chain that is configured wins; its first token is fetched here, so
// a wrong key or an unreachable token endpoint fails before any export starts. An auth error
// naming every source tried when none is configured.
Result<std::shared_ptr<GoogleTokenProvider>> MakeGoogleTokenProvider(
    const GoogleCredentialOptions& options, const AwsEnvironment& env);

}  // namespace rivet::net
