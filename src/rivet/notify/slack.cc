#include "rivet/notify/slack.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rivet/common/bytes.h"
#include "rivet/common/interrupt.h"
#include "rivet/net/http_client.h"

namespace rivet::notify {

namespace {

// Slack's attachment colours: red for a failure, amber for a run that needs a look, green.
std::string ColorFor(const RunFacts& f) {
  if (f.status == "failed") return "#d00000";
  if (f.status == "degraded" || f.schema_changed) return "#e8a317";
  return "#2eb67d";
}

// Why a run is degraded, in words (reference §6): retries, or a snapshot that fell back.
std::string DegradedReason(const RunFacts& f) {
  std::vector<std::string> reasons;
  if (f.retries > 0) {
    reasons.push_back(fmt::format("{} {}", f.retries, f.retries == 1 ? "retry" : "retries"));
  }
  if (f.consistency == "per-chunk") reasons.push_back("chunks read per-chunk, not one snapshot");
  return fmt::format("{}", fmt::join(reasons, "; "));
}

// Slack's mrkdwn gives meaning to &, < and > only; everything else is shown as is.
std::string EscapeMrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Slack refuses a section text over 3000 characters; a long error is cut.
constexpr size_t kMaxErrorChars = 2000;

bool Retryable(long status) { return status == 429 || status >= 500; }

// Replaces every occurrence of `needle` in `text`.
void ReplaceAll(std::string& text, const std::string& needle, std::string_view with) {
  if (needle.empty()) return;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + with.size())) {
    text.replace(pos, needle.size(), with);
  }
}

// The transport error without the URL (the HTTP client names the URL without its query; a
// webhook's secret is its path, so both forms go).
std::string WithoutUrl(std::string message, const std::string& url) {
  ReplaceAll(message, url, "<webhook>");
  ReplaceAll(message, url.substr(0, url.find('?')), "<webhook>");
  return message;
}

// Loopback and link-local webhooks (a local relay, tests) are not reachable through a proxy.
bool IsLocal(const std::string& url) {
  size_t start = url.find("://");
  if (start == std::string::npos) return false;
  std::string_view host(url);
  host.remove_prefix(start + 3);
  return host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
}

}  // namespace

std::vector<std::string> MatchingTriggers(const std::vector<std::string>& on,
                                          const RunFacts& facts) {
  std::vector<std::string> out;
  for (const std::string& trigger : on) {
    bool match = (trigger == "failure" && facts.status == "failed") ||
                 (trigger == "schema_change" && facts.schema_changed) ||
                 (trigger == "degraded" && facts.status == "degraded");
    if (match && std::find(out.begin(), out.end(), trigger) == out.end()) out.push_back(trigger);
  }
  return out;
}

std::string SlackMessageJson(const RunFacts& f, const std::vector<std::string>& triggers) {
  using nlohmann::json;
  const std::string name = EscapeMrkdwn(f.export_name);
  std::string headline = fmt::format("Rivet export *{}*: {}", name, f.status);
  if (f.schema_changed) headline += " (schema changed)";
  const std::string fallback =
      fmt::format("Rivet export {}: {}{} [{}]", f.export_name, f.status,
                  f.schema_changed ? " (schema changed)" : "", fmt::join(triggers, ", "));

  json fields = json::array();
  auto field = [&fields](std::string_view label, const std::string& value) {
    fields.push_back({{"type", "mrkdwn"}, {"text", fmt::format("*{}*\n{}", label, value)}});
  };
  field("Export", name);
  field("Run ID", EscapeMrkdwn(f.run_id));
  field("Status", f.status);
  field("Rows", std::to_string(f.rows));
  field("Duration", FormatDuration(f.duration_ms));
  field("Schema", f.schema_changed ? "CHANGED" : "unchanged");

  json blocks = json::array();
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", headline}}}});
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (f.status == "degraded") {
    blocks.push_back(
        {{"type", "section"},
         {"text",
          {{"type", "mrkdwn"}, {"text", fmt::format("*Degraded*: {}", DegradedReason(f))}}}});
  }
  if (!f.error.empty()) {
    std::string error =
        f.error.size() > kMaxErrorChars ? f.error.substr(0, kMaxErrorChars) + "..." : f.error;
    blocks.push_back(
        {{"type", "section"},
         {"text",
          {{"type", "mrkdwn"}, {"text", fmt::format("*Error*\n```{}```", EscapeMrkdwn(error))}}}});
  }
  blocks.push_back(
      {{"type", "context"},
       {"elements",
        json::array({{{"type", "mrkdwn"},
                      {"text", fmt::format("triggers: {}", fmt::join(triggers, ", "))}}})}});

  json message = {
      {"text", fallback},
      {"attachments", json::array({{{"color", ColorFor(f)}, {"blocks", blocks}}})},
  };
  // Replacement characters instead of an exception for invalid UTF-8 in an error message.
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status PostSlackMessage(const std::string& webhook_url, const std::string& json,
                        const SendOptions& options) {
  net::HttpOptions http_options;
  http_options.connect_timeout_s = std::max<long>(1, options.total_timeout_ms / 1000);
  http_options.low_speed_time_s = http_options.connect_timeout_s;
  http_options.total_timeout_ms = options.total_timeout_ms;
  http_options.bypass_proxy = IsLocal(webhook_url);
  // The failure of a run stopped by SIGINT/SIGTERM is still reported: the timeout bounds the
  // POST, and the retry is skipped after a signal.
  http_options.interruptible = false;
  RIVET_ASSIGN_OR_RETURN(net::HttpClient http, net::HttpClient::Create(http_options));
  net::HttpRequest request;
  request.method = "POST";
  request.url = webhook_url;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  request.body = json;

  Status last = Status::Ok();
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    if (attempt > 1 && !SleepUnlessInterrupted(options.backoff)) break;
    Result<net::HttpResponse> response = http.Send(request);
    if (!response.has_value()) {
      last = Error(response.error().code(), "{}: no response ({})",
                   ErrorCodeName(response.error().code()),
                   WithoutUrl(response.error().message(), webhook_url));
      continue;
    }
    if (response->status >= 200 && response->status < 300) return Status::Ok();
    last = Error(ErrorCode::kNetwork, "HTTP {}", response->status);
    if (!Retryable(response->status)) break;
  }
  return last;
}

}  // namespace rivet::notify
