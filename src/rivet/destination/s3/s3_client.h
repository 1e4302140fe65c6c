// Signed requests to one S3 bucket: where the bucket is (virtual-hosted on AWS, path-style
// behind a custom endpoint), SigV4 on every request with credentials asked of the chain each
// time (temporary ones refresh), and each request retried on its own when the failure is
// transient (resets, timeouts, 5xx, SlowDown) with a growing pause. Failures come back as
// Rivet's error classes with the bucket, the key and the store's code and message, never a
// key, a token or a signature.
//
// Thread-safe: parts of several uploads go out in parallel, each on an HTTP connection of a
// small pool that keeps connections alive between requests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/net/aws_credential_provider.h"
#include "rivet/net/http_client.h"
#include "rivet/net/http_pool.h"

namespace rivet::destination::s3 {

// Where requests for a bucket go. Pure data, resolved once from the destination's settings.
struct S3Endpoint {
  std::string bucket;
  std::string region;
  std::string scheme;     // "https" | "http"
  std::string host;       // the Host header: "bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000"
  std::string base_path;  // "" when virtual-hosted, "/bucket" (after any endpoint path) otherwise
};

// Virtual-hosted style on AWS (a bucket name with dots goes path-style: TLS certificates do not
// cover it as a host name); path-style whenever `endpoint` is set (MinIO, R2, Ceph).
// `endpoint` is "http(s)://host[:port][/path]".
Result<S3Endpoint> ResolveEndpoint(const std::string& bucket, const std::string& region,
                                   const std::string& endpoint);

struct S3Request {
  std::string method = "GET";
  std::string key;  // the whole object key; empty for the bucket itself
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // signed and sent
  std::string_view body;
  // Statuses besides 2xx that the caller reads itself (404 on HEAD, 412 on a conditional
  // write): no error, no retry.
  std::vector<long> accept;
  // CompleteMultipartUpload and CopyObject may answer 200 and put the error in the body.
  bool error_may_hide_in_200 = false;
  // Sent after SIGINT/SIGTERM too (aborting an upload).
  bool cleanup = false;
};

using net::RequestRetry;

class S3Client {
 public:
  S3Client(S3Endpoint endpoint, std::shared_ptr<net::AwsCredentialProvider> credentials,
           RequestRetry retry = {})
      : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)), retry_(retry) {}

  Result<net::HttpResponse> Send(const S3Request& request);

  const S3Endpoint& endpoint() const { return endpoint_; }
  // "s3://bucket/key"
  std::string Url(std::string_view key) const;
  std::string CredentialSource() const { return credentials_->Source(); }

 private:
  // One try: signed now, sent on a pooled connection.
  Result<net::HttpResponse> SendOnce(const S3Request& request);
  // The failure a response stands for, or OK.
  Status ResponseError(const S3Request& request, const net::HttpResponse& response) const;

  S3Endpoint endpoint_;
  std::shared_ptr<net::AwsCredentialProvider> credentials_;
  RequestRetry retry_;
  net::HttpPool pool_;
};

// base64(MD5(data)), the Content-MD5 header S3 checks every body against.
std::string ContentMd5(std::string_view data);

}  // namespace rivet::destination::s3
