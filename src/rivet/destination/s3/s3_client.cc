#include "rivet/destination/s3/s3_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "rivet/common/secrets.h"
#include "rivet/net/http_errors.h"
#include "rivet/net/sigv4.h"
#include "rivet/net/xml.h"

namespace rivet::destination::s3 {

namespace {

// A store's message is quoted in errors: short, and with anything shaped like a credential
// masked (some stores echo parts of the request).
std::string StoreMessage(std::string_view body) {
  std::string message = net::XmlText(body, "Message").value_or("");
  if (message.size() > 300) message = message.substr(0, 300) + "...";
  return HideCredentialShapes(message);
}

// What to tell the user beyond the store's words (a HEAD answer has none: 400 and 403 there
// are most often credentials).
std::string Hint(ErrorCode code, long status, std::string_view store_code, const S3Client& client) {
  if (store_code == "NoSuchBucket" || store_code == "InvalidBucketName") {
    return fmt::format("; check destination.bucket ('{}')", client.endpoint().bucket);
  }
  if (store_code == "AuthorizationHeaderMalformed" || store_code == "PermanentRedirect") {
    return fmt::format("; the bucket is in another region than '{}': set destination.region",
                       client.endpoint().region);
  }
  if (code == ErrorCode::kAuth || (store_code.empty() && (status == 400 || status == 403))) {
    return fmt::format("; check the credentials (from {}) and their permissions on the bucket",
                       client.CredentialSource());
  }
  return "";
}

}  // namespace

Result<S3Endpoint> ResolveEndpoint(const std::string& bucket, const std::string& region,
                                   const std::string& endpoint) {
  if (bucket.empty()) return Error(ErrorCode::kConfig, "destination.bucket is required for s3");
  S3Endpoint e;
  e.bucket = bucket;
  e.region = region;
  if (endpoint.empty()) {
    if (region.empty()) {
      return Error(ErrorCode::kConfig,
                   "no region for bucket '{}': set destination.region, AWS_REGION or a profile's "
                   "region",
                   bucket);
    }
    e.scheme = "https";
    if (bucket.find('.') == std::string::npos) {
      e.host = fmt::format("{}.s3.{}.amazonaws.com", bucket, region);
    } else {
      e.host = fmt::format("s3.{}.amazonaws.com", region);
      e.base_path = "/" + bucket;
    }
    return e;
  }
  const size_t sep = endpoint.find("://");
  const std::string scheme = sep == std::string::npos ? "" : endpoint.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return Error(ErrorCode::kConfig,
                 "destination.endpoint '{}' must start with http:// or https://", endpoint);
  }
  std::string_view rest = std::string_view(endpoint).substr(sep + 3);
  const size_t slash = rest.find('/');
  e.scheme = scheme;
  e.host = std::string(rest.substr(0, slash));
  if (e.host.empty() || e.host.find_first_of("@?# ") != std::string::npos) {
    return Error(ErrorCode::kConfig,
                 "destination.endpoint '{}' needs a plain host[:port] (no user, query or spaces)",
                 endpoint);
  }
  std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!path.empty() && path.back() == '/') path.pop_back();
  e.base_path = path + "/" + net::UriEncode(bucket, /*encode_slash=*/true);
  // S3-compatible stores accept any region in the signature; AWS's default is us-east-1.
  if (e.region.empty()) e.region = "us-east-1";
  return e;
}

std::string S3Client::Url(std::string_view key) const {
  return fmt::format("s3://{}/{}", endpoint_.bucket, key);
}

Result<net::HttpResponse> S3Client::Send(const S3Request& request) {
  return net::SendRetrying(retry_, request.cleanup,
                           fmt::format("{} {}", request.method, Url(request.key)),
                           [&]() -> Result<net::HttpResponse> {
                             Result<net::HttpResponse> response = SendOnce(request);
                             if (!response.has_value()) return response;
                             RIVET_RETURN_IF_ERROR(ResponseError(request, *response));
                             return response;
                           });
}

Result<net::HttpResponse> S3Client::SendOnce(const S3Request& request) {
  RIVET_ASSIGN_OR_RETURN(net::AwsCredentials credentials, credentials_->Current());
  net::SigV4Request sign;
  sign.method = request.method;
  sign.host = endpoint_.host;
  sign.path = endpoint_.base_path + "/" + net::UriEncode(request.key, /*encode_slash=*/false);
  sign.query = request.query;
  sign.headers = request.headers;
  // Over TLS the body is protected in transit and checked by Content-MD5: no need to hash every
  // part twice. Over plain HTTP the signature covers the body.
  sign.payload_hash = endpoint_.scheme == "https" && !request.body.empty()
                          ? std::string(net::kUnsignedPayload)
                          : net::Sha256Hex(request.body);
  const net::SignedRequest signed_request = net::SignV4(
      sign,
      net::SigV4Credentials{credentials.access_key_id, credentials.secret_access_key,
                            credentials.session_token},
      net::SigV4Scope{endpoint_.region, "s3"}, net::AmzDate(std::chrono::system_clock::now()));

  net::HttpRequest http;
  http.method = request.method;
  http.url = fmt::format("{}://{}{}", endpoint_.scheme, endpoint_.host, sign.path);
  if (!signed_request.canonical_query.empty()) http.url += "?" + signed_request.canonical_query;
  http.headers = signed_request.headers;
  http.headers.emplace_back("Host", endpoint_.host);
  http.body = request.body;

  return pool_.Send(http, request.cleanup);
}

Status S3Client::ResponseError(const S3Request& request, const net::HttpResponse& response) const {
  const long status = response.status;
  const bool expected =
      std::find(request.accept.begin(), request.accept.end(), status) != request.accept.end();
  if (expected) return Status::Ok();
  std::string store_code = net::S3ErrorCode(response.body);
  if (status >= 200 && status < 300 && (!request.error_may_hide_in_200 || store_code.empty())) {
    return Status::Ok();
  }
  if (store_code.empty() && request.method == "HEAD" && status == 404 && request.key.empty()) {
    store_code = "NoSuchBucket";  // a HEAD answer has no body to say so
  }
  ErrorCode code = net::ClassifyHttp(CURLE_OK, status, store_code);
  if (code == ErrorCode::kOk) code = ErrorCode::kNetwork;  // an error document inside a 200
  const std::string message = StoreMessage(response.body);
  return Error(code, "{} {}: HTTP {}{}{}{}", request.method, Url(request.key), status,
               store_code.empty() ? "" : " " + store_code, message.empty() ? "" : ": " + message,
               Hint(code, status, store_code, *this));
}

std::string ContentMd5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(n));
}

}  // namespace rivet::destination::s3
