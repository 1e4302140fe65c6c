// Slack notifications (guide §19, reference §1 `notifications.slack`): after an export's run is
// recorded, one incoming-webhook POST when one of the configured triggers matches it.
//
// Steps, in order:
//   1. MatchingTriggers: which of `on` (failure | schema_change | degraded) the run meets;
//      nothing is sent when none does.
//   2. SlackMessageJson: the incoming-webhook body (a fallback `text` plus one attachment whose
//      colour follows the status, with Block Kit sections): export, run_id, status, rows,
//      duration, schema change, error. Pure, so its JSON is unit-tested.
//   3. PostSlackMessage: one POST with a short total timeout and one retry (no response, HTTP 429
//      or 5xx). A failure is returned for the caller to log as a warning; it never changes the
//      export's outcome.
// The webhook URL is a secret: it is never part of a message this module returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rivet/common/result.h"

namespace rivet::notify {

// What a notification says about one export run (from the run summary).
struct RunFacts {
  std::string export_name;
  std::string run_id;
  std::string status;  // "success" | "degraded" | "failed" | "skipped"
  uint64_t rows = 0;
  int64_t duration_ms = 0;
  int64_t retries = 0;
  std::string consistency;  // chunked: "snapshot" | "per-chunk"; empty otherwise
  bool schema_changed = false;
  std::string error;  // already redacted; empty unless failed
};

// The configured triggers (in their configured order) that `facts` meets: failure when the
// status is failed, schema_change when the schema changed, degraded when the status is degraded.
std::vector<std::string> MatchingTriggers(const std::vector<std::string>& on,
                                          const RunFacts& facts);

// The incoming-webhook JSON for one run; `triggers` are the matching ones (named in the text).
std::string SlackMessageJson(const RunFacts& facts, const std::vector<std::string>& triggers);

struct SendOptions {
  // Each try gives up after this long, connecting included: a notification must never hold
  // up the run.
  long total_timeout_ms = 5000;
  // Tries in all: the first and one retry.
  int attempts = 2;
  // Wait before the retry.
  std::chrono::milliseconds backoff{500};
};

// POSTs `json` to the webhook. The error (when no 2xx came after every try) reads like
// "HTTP 500" or "timeout: no response" and never contains the URL.
Status PostSlackMessage(const std::string& webhook_url, const std::string& json,
                        const SendOptions& options = {});

}  // namespace rivet::notify
