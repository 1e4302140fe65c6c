#include "rivet/net/http_errors.h"

#include <algorithm>
#include <array>

namespace rivet::net {

namespace {

struct StoreCode {
  std::string_view code;
  ErrorCode error;
};

// Codes whose meaning does not depend on the status they came with.
constexpr std::array<StoreCode, 16> kStoreCodes = {{
    // Throttling: back off (the capacity class waits 15 s more).
    {"SlowDown", ErrorCode::kCapacity},
    {"Throttling", ErrorCode::kCapacity},
    {"RequestLimitExceeded", ErrorCode::kCapacity},
    {"ServiceUnavailable", ErrorCode::kCapacity},
    {"RequestTimeout", ErrorCode::kTimeout},
    {"InternalError", ErrorCode::kNetwork},
    // Credentials and permissions: retrying cannot help.
    {"SignatureDoesNotMatch", ErrorCode::kAuth},
    {"InvalidAccessKeyId", ErrorCode::kAuth},
    {"AccessDenied", ErrorCode::kAuth},
    {"ExpiredToken", ErrorCode::kAuth},
    {"InvalidToken", ErrorCode::kAuth},
    {"RequestTimeTooSkewed", ErrorCode::kAuth},
    // The configuration names something that is not there, or the wrong region.
    {"NoSuchBucket", ErrorCode::kConfig},
    {"InvalidBucketName", ErrorCode::kConfig},
    {"AuthorizationHeaderMalformed", ErrorCode::kConfig},
    {"PermanentRedirect", ErrorCode::kConfig},
}};

ErrorCode ClassifyCurl(CURLcode curl) {
  switch (curl) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return ErrorCode::kNetwork;  // resets, refusals, a lost stream: a fresh connection
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;  // connect timeout or low-speed limit
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return ErrorCode::kConfig;  // the endpoint or the CA bundle is wrong
    case CURLE_ABORTED_BY_CALLBACK:
      return ErrorCode::kInterrupted;  // the progress callback saw SIGINT/SIGTERM
    case CURLE_READ_ERROR:
    case CURLE_WRITE_ERROR:
      return ErrorCode::kIo;  // our own body callbacks failed
    default:
      return ErrorCode::kNetwork;
  }
}

}  // namespace

ErrorCode ClassifyHttp(CURLcode curl, long status, std::string_view store_code) {
  if (curl != CURLE_OK) return ClassifyCurl(curl);
  for (const StoreCode& known : kStoreCodes) {
    if (known.code == store_code) return known.error;
  }
  if (status >= 200 && status < 300) return ErrorCode::kOk;
  if (status == 429 || status == 503) return ErrorCode::kCapacity;
  if (status == 408) return ErrorCode::kTimeout;
  if (status >= 500) return ErrorCode::kNetwork;
  if (status == 401 || status == 403) return ErrorCode::kAuth;
  if (status == 301 || status == 307 || status == 400 || status == 404) {
    return ErrorCode::kConfig;  // wrong endpoint or region, a missing bucket
  }
  // 409, 412 and the rest: the request itself was refused; the caller knows what it asked.
  return ErrorCode::kIo;
}

std::string S3ErrorCode(std::string_view body) {
  body = body.substr(0, 64 * 1024);
  constexpr std::string_view kOpen = "<Code>";
  constexpr std::string_view kClose = "</Code>";
  const size_t start = body.find(kOpen);
  if (start == std::string_view::npos) return "";
  const size_t from = start + kOpen.size();
  const size_t end = body.find(kClose, from);
  if (end == std::string_view::npos || end - from > 64) return "";
  std::string_view code = body.substr(from, end - from);
  const bool printable = std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  return printable ? std::string(code) : "";
}

}  // namespace rivet::net
