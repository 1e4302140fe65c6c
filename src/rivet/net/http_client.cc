#include "rivet/net/http_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "rivet/common/interrupt.h"
#include "rivet/common/text.h"
#include "rivet/net/http_errors.h"

namespace rivet::net {

namespace {

struct SlistFreer {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Transfer {
  std::string_view body;
  size_t sent = 0;
  HttpResponse* response = nullptr;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->response->body.append(data, size * count);
  return size * count;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = std::min(size * count, t->body.size() - t->sent);
  std::copy_n(t->body.data() + t->sent, n, buffer);
  t->sent += n;
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after 100 Continue or a redirect)
  } else if (colon != std::string_view::npos) {
    const std::string name = AsciiLower(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    t->response->headers[name] = std::string(value);
  }
  return size * count;
}

// Aborts the transfer once SIGINT/SIGTERM arrived (libcurl calls this about once a second, and
// more often while data moves).
int OnProgress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return Interrupted() ? 1 : 0;
}

const char* CaBundle() {
  for (const char* name : {"AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return nullptr;
}

// The URL without its query: enough to say which request failed, never a signed query string.
std::string_view WithoutQuery(std::string_view url) { return url.substr(0, url.find('?')); }

}  // namespace

Result<HttpClient> HttpClient::Create(const HttpOptions& options) {
  static std::once_flag global;
  std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, EasyCloser> curl(curl_easy_init());
  if (!curl) return Error(ErrorCode::kInternal, "cannot create an HTTP handle");
  return HttpClient(std::move(curl), options);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* c = curl_.get();
  // Options from the previous request are forgotten; the connection cache is kept.
  curl_easy_reset(c);
  HttpResponse response;
  Transfer transfer{request.body, 0, &response};

  std::unique_ptr<curl_slist, SlistFreer> headers;
  for (const auto& [name, value] : request.headers) {
    curl_slist* appended =
        curl_slist_append(headers.get(), fmt::format("{}: {}", name, value).c_str());
    if (appended == nullptr) return Error(ErrorCode::kInternal, "out of memory for HTTP headers");
    headers.release();
    headers.reset(appended);
  }
  // libcurl would add "Expect: 100-continue" to large bodies: one more round trip per part.
  curl_slist* no_expect = curl_slist_append(headers.get(), "Expect:");
  if (no_expect == nullptr) return Error(ErrorCode::kInternal, "out of memory for HTTP headers");
  headers.release();
  headers.reset(no_expect);

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
  if (options_.total_timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
  }
  if (options_.bypass_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (const char* ca = CaBundle()) curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  if (options_.interruptible) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  }

  if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    return Error(ClassifyHttp(code, 0, ""), "{} {}: {}", request.method, WithoutQuery(request.url),
                 curl_easy_strerror(code));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

HttpOptions CredentialHttpOptions(long connect_timeout_s, long low_speed_time_s,
                                  long total_timeout_ms, bool local) {
  HttpOptions options;
  options.connect_timeout_s = connect_timeout_s;
  options.low_speed_time_s = low_speed_time_s;
  options.total_timeout_ms = total_timeout_ms;
  options.bypass_proxy = local;
  return options;
}

Result<HttpResponse> SendRetried(HttpClient& http, const HttpRequest& request,
                                 const HttpRetry& retry, HttpResponseClassifier classify) {
  std::chrono::milliseconds wait = retry.backoff;
  for (int attempt = 1;; ++attempt) {
    Result<HttpResponse> response = http.Send(request);
    const ErrorCode code = response.has_value() ? classify(*response) : response.error().code();
    if (code == ErrorCode::kOk || !IsRetryable(code) || attempt >= retry.attempts) return response;
    if (!SleepUnlessInterrupted(wait)) return response;
    wait *= 2;
  }
}

}  // namespace rivet::net
