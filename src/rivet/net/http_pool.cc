#include "rivet/net/http_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "rivet/common/interrupt.h"

namespace rivet::net {

Result<HttpResponse> HttpPool::Send(const HttpRequest& request, bool cleanup) {
  if (cleanup) {
    HttpOptions options;
    options.interruptible = false;
    options.low_speed_time_s = 20;
    RIVET_ASSIGN_OR_RETURN(HttpClient client, HttpClient::Create(options));
    return client.Send(request);
  }
  std::optional<HttpClient> client;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      client.emplace(std::move(idle_.back()));
      idle_.pop_back();
    }
  }
  if (!client) {
    RIVET_ASSIGN_OR_RETURN(HttpClient fresh, HttpClient::Create());
    client.emplace(std::move(fresh));
  }
  Result<HttpResponse> response = client->Send(request);
  if (response.has_value()) {  // a failed transfer's connection is not worth keeping
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(*client));
  }
  return response;
}

Result<HttpResponse> SendRetrying(const RequestRetry& retry, bool cleanup, const std::string& what,
                                  const RequestAttempt& attempt) {
  int64_t delay_ms = retry.first_delay_ms;
  for (int tries = 1;; ++tries) {
    Result<HttpResponse> response = attempt();
    if (response.has_value()) return response;
    const Status& failure = response.status();
    const bool last = tries >= retry.max_attempts;
    if (!IsRetryable(failure.code()) || last || (Interrupted() && !cleanup)) {
      if (last && IsRetryable(failure.code())) {
        return failure.WithContext(fmt::format("after {} tries", tries));
      }
      return failure;
    }
    const int64_t wait = delay_ms + (failure.code() == ErrorCode::kCapacity ? 1000 : 0);
    spdlog::debug("{}: {}; try {} of {} in {} ms", what, failure.message(), tries + 1,
                  retry.max_attempts, wait);
    if (cleanup) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    } else if (!SleepUnlessInterrupted(std::chrono::milliseconds(wait))) {
      return InterruptedError();
    }
    delay_ms = std::min(delay_ms * 2, retry.max_delay_ms);
  }
}

}  // namespace rivet::net
