// One cached credential (AWS temporary keys, a Google access token) fetched again before it
// expires, shared by the AWS chain (aws_credential_provider.h) and the Google one
// (google_credentials.h) so that both follow the same rule:
//   1. the first Get() fetches; a value without an expiration is never fetched again;
//   2. a value is fetched again once fewer than `refresh_before_expiry` remain before it
//      expires; with `half_life_for_short_lived`, a value whose whole lifetime (expiration minus
//      the time it was fetched) is shorter than twice that margin is fetched again once half of
//      its lifetime has passed instead (so a token of 60 s is reused for 30 s, not refetched at
//      every use);
//   3. a failed fetch keeps a cached value that still has more than `usable_after_failed_refresh`
//      left (half-life mode: the smaller of that and a tenth of its lifetime), with a warning that
//      carries no secret, and the next fetch waits `retry_after`; otherwise the failure is the
//      answer;
//   4. a value already expired when fetched is an auth error (a wrong clock);
//   5. one fetch at a time: callers wait on a mutex.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "rivet/common/clock.h"
#include "rivet/common/result.h"

namespace rivet::net {

// What time it is (tests give their own clock).
using CredentialClock = std::function<SystemTime()>;

struct RefreshPolicy {
  std::chrono::seconds refresh_before_expiry{300};
  std::chrono::seconds usable_after_failed_refresh{60};
  std::chrono::seconds retry_after{10};
  bool half_life_for_short_lived = false;
};

template <typename T>
class RefreshingCache {
 public:
  using Fetch = std::function<Result<T>()>;
  using ExpirationOf = std::function<std::optional<SystemTime>(const T&)>;

  // `what` and `source` name the value in messages ("AWS credentials", "web identity").
  RefreshingCache(std::string what, std::string source, Fetch fetch, ExpirationOf expiration_of,
                  CredentialClock now, RefreshPolicy policy)
      : what_(std::move(what)),
        source_(std::move(source)),
        fetch_(std::move(fetch)),
        expiration_of_(std::move(expiration_of)),
        now_(now ? std::move(now)
                 : CredentialClock([] { return std::chrono::system_clock::now(); })),
        policy_(policy) {}

  Result<T> Get() {
    std::lock_guard<std::mutex> lock(mutex_);
    const SystemTime now = now_();
    if (cached_ && (!expiration_ || *expiration_ - now > RefreshMargin())) return *cached_;
    if (StillUsable(now) && last_failure_ && now - *last_failure_ < policy_.retry_after) {
      return *cached_;
    }
    Result<T> fetched = fetch_();
    Status failure;
    if (!fetched.has_value()) {
      failure = fetched.error();
    } else if (std::optional<SystemTime> expires = expiration_of_(*fetched);
               expires && *expires <= now) {
      failure = Error(ErrorCode::kAuth,
                      "{}: the {} fetched had already expired at {} (is this machine's clock "
                      "right?)",
                      source_, what_, FormatIsoSeconds(*expires));
    } else {
      cached_ = std::move(*fetched);
      expiration_ = expires;
      fetched_at_ = now;
      last_failure_.reset();
      return *cached_;
    }
    if (StillUsable(now)) {
      last_failure_ = now;
      spdlog::warn("{}: fetching new {} failed; keeping the cached {}, valid until {}: {}", source_,
                   what_, what_, FormatIsoSeconds(*expiration_), failure.message());
      return *cached_;
    }
    return failure;
  }

  const std::string& source() const { return source_; }

 private:
  using Duration = SystemTime::duration;

  Duration Lifetime() const { return *expiration_ - fetched_at_; }

  // Rule 2: how long before the expiration the value is fetched again.
  Duration RefreshMargin() const {
    const Duration margin = policy_.refresh_before_expiry;
    if (!policy_.half_life_for_short_lived || Lifetime() >= 2 * margin) return margin;
    return Lifetime() / 2;
  }

  // Rule 3: whether the cached value may still be used after a failed fetch.
  bool StillUsable(SystemTime now) const {
    if (!cached_ || !expiration_) return false;
    Duration keep = policy_.usable_after_failed_refresh;
    if (policy_.half_life_for_short_lived) keep = std::min(keep, Lifetime() / 10);
    return *expiration_ - now > keep;
  }

  const std::string what_;
  const std::string source_;
  const Fetch fetch_;
  const ExpirationOf expiration_of_;
  const CredentialClock now_;
  const RefreshPolicy policy_;
  std::mutex mutex_;
  std::optional<T> cached_;
  std::optional<SystemTime> expiration_;  // of cached_
  SystemTime fetched_at_;                 // when cached_ was fetched
  std::optional<SystemTime> last_failure_;
};

}  // namespace rivet::net
