// AWS Signature Version 4 for S3 requests, as a pure function: canonical request, string to
// sign, signing key and Authorization header (AWS "Create a signed AWS API request"). No I/O
// and no clock: the time is a parameter, so the published vectors are tests.
//
// S3's rules: the path is signed exactly as sent (never normalised, encoded once), and every
// request carries x-amz-content-sha256 (the payload's SHA-256, or UNSIGNED-PAYLOAD over TLS).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rivet::net {

// RFC 3986 as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept, every other byte %XX (uppercase hex);
// '/' kept when !encode_slash (paths).
std::string UriEncode(std::string_view s, bool encode_slash);
// Lowercase hex SHA-256.
std::string Sha256Hex(std::string_view data);
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Request {
  std::string method;
  std::string host;  // the Host header as sent, with ":port" when not the default
  std::string path;  // as sent on the wire, already encoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded; encoded and sorted here
  std::vector<std::pair<std::string, std::string>> headers;  // signed and sent; any case
  std::string payload_hash;                                  // Sha256Hex(body) or kUnsignedPayload
  // S3 requires x-amz-content-sha256; other services (and the generic test suite) do not.
  bool sign_content_sha256 = true;
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // signed as x-amz-security-token when not empty
};

struct SigV4Scope {
  std::string region;
  std::string service = "s3";
};

struct SignedRequest {
  std::string canonical_query;  // for the URL: "a=1&uploads="
  // To send: the caller's headers, x-amz-date, x-amz-content-sha256, x-amz-security-token
  // and Authorization (Host is the caller's).
  std::vector<std::pair<std::string, std::string>> headers;
  // For tests only; never logged.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// `amz_date` is "YYYYMMDDTHHMMSSZ" (UTC).
SignedRequest SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                     const SigV4Scope& scope, std::string_view amz_date);

// "YYYYMMDDTHHMMSSZ"
std::string AmzDate(std::chrono::system_clock::time_point t);

}  // namespace rivet::net
