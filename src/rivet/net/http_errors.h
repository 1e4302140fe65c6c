// How an HTTP exchange with an object store ended, as one of Rivet's error classes
// (reference §4): the transport (CURLcode), then the HTTP status and the store's own error code
// (S3's <Code>, GCS's reason) decide whether a request is retried, fails at once, or points at
// the configuration. Pure: no handle, no I/O.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "rivet/common/error.h"

namespace rivet::net {

// `status` is the HTTP status (0 when no response arrived); `store_code` is the error code in
// the response body ("SlowDown", "NoSuchBucket"), empty when there is none. kOk for CURLE_OK
// with a 2xx status.
ErrorCode ClassifyHttp(CURLcode curl, long status, std::string_view store_code);

// The <Code> of an S3 error document ("<Error><Code>NoSuchBucket</Code>..."), or "" when the
// body holds none. Reads at most the first 64 KiB; the code must be short and printable.
std::string S3ErrorCode(std::string_view body);

}  // namespace rivet::net
