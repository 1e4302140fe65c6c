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
// Tokens are cached and fetched again before they expire; token requests are retried on
// retryable failures. Errors name the file, the key and the identity (a service account's
// client_email), never a private key, an access token, a refresh token or a client secret.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rivet/common/result.h"
#include "rivet/net/aws_credentials.h"  // AwsEnvironment: the environment and files, injectable

namespace rivet::net {

// The OAuth scope asked for: objects are created, read back and (probe, pending copies) deleted.
inline constexpr const char* kGcsScope = "https://www.googleapis.com/auth/devstorage.read_write";

class GoogleTokenProvider {
 public:
  virtual ~GoogleTokenProvider() = default;
  // A bearer access token valid for at least the next few minutes; "" for anonymous access.
  // Thread-safe.
  virtual Result<std::string> Token() = 0;
  // Who the requests run as, for messages: "service account rivet@p.iam.gserviceaccount.com
  // (credentials_file /etc/rivet/sa.json)", "authorized user (application default credentials
  // ~/.config/gcloud/...)", "metadata server (default service account)", "anonymous". Never a
  // secret.
  virtual std::string Identity() const = 0;
};

struct GoogleCredentialOptions {
  std::string credentials_file;  // the export's; "" when not set
  bool allow_anonymous = false;
  // What time it is, for expiry and the JWT's iat/exp (tests give their own); empty: the
  // system clock.
  std::function<std::chrono::system_clock::time_point()> now;
};

// The first source of the chain that is configured wins; its first token is fetched here, so
// a wrong key or an unreachable token endpoint fails before any export starts. An auth error
// naming every source tried when none is configured.
Result<std::shared_ptr<GoogleTokenProvider>> MakeGoogleTokenProvider(
    const GoogleCredentialOptions& options, const AwsEnvironment& env);

}  // namespace rivet::net
