// Requests to one Google Cloud Storage bucket through the JSON API: a bearer token from the
// credential chain on every request (google_credentials.h; refreshed before it expires), each
// request retried on its own when the failure is transient (resets, timeouts, 408, 429, 5xx)
// with a growing pause. Failures come back as Rivet's error classes with the bucket, the
// object, the JSON error's message and the identity in use, never a token or a key.
//
// Thread-safe: chunks of several uploads go out in parallel on a small pool of kept-alive
// connections.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/net/aws_credentials.h"
#include "rivet/net/google_credentials.h"
#include "rivet/net/http_client.h"
#include "rivet/net/http_pool.h"

namespace rivet::destination::gcs {

inline constexpr const char* kGoogleStorageEndpoint = "https://storage.googleapis.com";

// Where the requests for a bucket go. Pure data.
struct GcsEndpoint {
  std::string bucket;
  std::string base_url;  // "https://storage.googleapis.com", "http://127.0.0.1:4443/prefix"
};

// destination.endpoint, else STORAGE_EMULATOR_HOST (as Google's client libraries honour it;
// "host:port" means http://host:port), else storage.googleapis.com.
Result<GcsEndpoint> ResolveGcsEndpoint(const std::string& bucket, const std::string& endpoint,
                                       const net::AwsEnvironment& env);

struct GcsRequest {
  std::string method = "GET";
  // A path under the endpoint ("/storage/v1/b/..."), or the absolute URL of an upload session
  // (sent as it is: `query` applies to paths only).
  std::string target;
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  // The object the request is about, for messages ("" for the bucket).
  std::string object;
  // Statuses besides 2xx that the caller reads itself (308 of a resumable session, 404, 412).
  std::vector<long> accept;
  // Sent after SIGINT/SIGTERM too (cancelling an upload session).
  bool cleanup = false;
  // Upload session URLs are their own credential: no token is sent there (a long upload
  // outlives tokens).
  bool authorize = true;
};

class GcsClient {
 public:
  GcsClient(GcsEndpoint endpoint, std::shared_ptr<net::GoogleTokenProvider> tokens,
            net::RequestRetry retry = {})
      : endpoint_(std::move(endpoint)), tokens_(std::move(tokens)), retry_(retry) {}

  // Retried while the failure is transient; a response with a status outside 2xx and
  // request.accept is the classified error.
  Result<net::HttpResponse> Send(const GcsRequest& request);
  // One try, the failure classified (resumable uploads ask the session what it has between
  // tries and so drive their own retries).
  Result<net::HttpResponse> SendOnce(const GcsRequest& request);

  const GcsEndpoint& endpoint() const { return endpoint_; }
  const net::RequestRetry& retry() const { return retry_; }
  // "gs://bucket/name"
  std::string Url(std::string_view name) const;
  std::string Identity() const { return tokens_->Identity(); }

  // "/storage/v1/b/{bucket}/o" and ".../o/{name}", "/upload/storage/v1/b/{bucket}/o".
  std::string BucketPath() const;
  std::string ObjectsPath() const;
  std::string ObjectPath(std::string_view name) const;
  std::string UploadPath() const;

 private:
  Status ResponseError(const GcsRequest& request, const net::HttpResponse& response) const;

  GcsEndpoint endpoint_;
  std::shared_ptr<net::GoogleTokenProvider> tokens_;
  net::RequestRetry retry_;
  net::HttpPool pool_;
};

// The object resource an upload answers with: its size and crc32c (base64), checked against
// what was sent. An error naming `url` when the answer is not such a resource.
struct ObjectResource {
  uint64_t size = 0;
  std::string crc32c;
};
Result<ObjectResource> ParseObjectResource(std::string_view body, std::string_view url);

}  // namespace rivet::destination::gcs
