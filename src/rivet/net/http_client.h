// A small HTTP client over one reused libcurl easy handle (keep-alive across requests to the
// same host), for the object stores and, later, notifications.
//
// Every request has a connect timeout and a low-speed limit (a stalled transfer fails instead
// of hanging), verifies TLS, honours the usual proxy variables (libcurl reads http_proxy,
// https_proxy and no_proxy itself) and a custom CA bundle from AWS_CA_BUNDLE, CURL_CA_BUNDLE
// or SSL_CERT_FILE. A transfer stops within a fraction of a second of SIGINT/SIGTERM.
// Failures come back classified (http_errors.h); messages never carry header values, so a
// signature or token cannot leak through them.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rivet/common/result.h"

namespace rivet::net {

struct HttpOptions {
  long connect_timeout_s = 10;
  // A transfer slower than low_speed_bytes per second for low_speed_time_s seconds fails.
  long low_speed_bytes = 1;
  long low_speed_time_s = 60;
  // False for clean-up requests that must still go out after SIGINT/SIGTERM (aborting a
  // multipart upload so no parts are left to bill); timeouts still bound them.
  bool interruptible = true;
  // The whole request, connecting included, fails after this many milliseconds; 0: no limit
  // (the transfers of an object store are bounded by the low-speed limit instead). For the
  // small requests of credential endpoints, which must give up quickly where nothing answers.
  long total_timeout_ms = 0;
  // Connect directly even when http_proxy / https_proxy are set: for the link-local and
  // loopback endpoints of instance metadata and containers, which a proxy cannot reach.
  bool bypass_proxy = false;
};

struct HttpRequest {
  std::string method = "GET";  // GET | PUT | POST | HEAD | DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // sent as is (PUT, POST)
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

class HttpClient {
 public:
  static Result<HttpClient> Create(const HttpOptions& options = {});

  // The response whatever its status (the caller reads the store's error from it); an error
  // only when no complete response arrived (resets, timeouts, TLS, interruption).
  Result<HttpResponse> Send(const HttpRequest& request);

 private:
  struct EasyCloser {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  };
  HttpClient(std::unique_ptr<CURL, EasyCloser> curl, HttpOptions options)
      : curl_(std::move(curl)), options_(options) {}

  std::unique_ptr<CURL, EasyCloser> curl_;
  HttpOptions options_;
};

// The options of a small credential or token request: a connect timeout, a low-speed limit and
// a limit on the whole request (where nothing answers, the caller must learn it quickly);
// `local` endpoints (instance metadata, containers) are reached without the proxy.
HttpOptions CredentialHttpOptions(long connect_timeout_s, long low_speed_time_s,
                                  long total_timeout_ms, bool local);

// How many times a small request (a credential or token fetch) is sent at most, and the wait
// before the second try (doubled before each later one).
struct HttpRetry {
  int attempts = 3;
  std::chrono::milliseconds backoff{100};
};

// What a response means as an error class (kOk for success), for SendRetried.
using HttpResponseClassifier = ErrorCode (*)(const HttpResponse&);

// Sends `request` up to retry.attempts times while the failure (no response, or a response
// `classify` finds retryable: IsRetryable of its class) may pass, waiting between tries unless
// SIGINT/SIGTERM came; the last response or error otherwise.
Result<HttpResponse> SendRetried(HttpClient& http, const HttpRequest& request,
                                 const HttpRetry& retry, HttpResponseClassifier classify);

}  // namespace rivet::net
