// What the requests of one object-store destination share: kept-alive connections (parts and
// chunks of several uploads go out in parallel, each on a connection of the pool) and the one
// retry policy of store requests (transient failures tried again with growing pauses).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "rivet/common/result.h"
#include "rivet/net/http_client.h"

namespace rivet::net {

class HttpPool {
 public:
  // Sends on an idle connection, or a new one; a connection whose transfer failed is dropped.
  // A `cleanup` request (aborting an upload) goes on a fresh connection that SIGINT/SIGTERM do
  // not stop, bounded by its low-speed limit.
  Result<HttpResponse> Send(const HttpRequest& request, bool cleanup = false);

 private:
  std::mutex mu_;
  std::vector<HttpClient> idle_;
};

struct RequestRetry {
  int max_attempts = 5;
  int64_t first_delay_ms = 500;  // doubles after each failure, up to max_delay_ms
  int64_t max_delay_ms = 8000;
};

// One try of a request, its failure already classified (a response that stands for an error
// comes back as that error).
using RequestAttempt = std::function<Result<HttpResponse>()>;

// Calls `attempt` until it succeeds, fails in a class that is not retryable, or was tried
// retry.max_attempts times ("after N tries" is added then). Pauses double between tries, a
// second more after throttling. SIGINT/SIGTERM end the waiting, except for `cleanup` requests.
// `what` ("PUT gs://bucket/name") names the request in debug logs.
Result<HttpResponse> SendRetrying(const RequestRetry& retry, bool cleanup, const std::string& what,
                                  const RequestAttempt& attempt);

}  // namespace rivet::net
