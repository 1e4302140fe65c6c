#include "rivet/pipeline/redact.h"

#include <algorithm>
#include <vector>

namespace rivet::pipeline {

namespace {

void AddSecret(std::vector<std::string>& out, const std::optional<config::Secret>& s) {
  if (s && !s->empty()) out.push_back(s->reveal());
}

// The password of "scheme://user:password@host/...", raw and percent-decoded.
void AddUrlPassword(std::vector<std::string>& out, const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return;
  size_t at = url.rfind('@');
  size_t colon = url.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return;
  std::string raw = url.substr(colon + 1, at - colon - 1);
  if (raw.empty()) return;
  out.push_back(raw);
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      decoded.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      decoded.push_back(raw[i]);
    }
  }
  if (decoded != raw) out.push_back(decoded);
}

void ReplaceAll(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos)) {
    text.replace(pos, needle.size(), "***");
    pos += 3;
  }
}

}  // namespace

std::string Redact(std::string message, const config::Config& config) {
  std::vector<std::string> secrets;
  AddSecret(secrets, config.source.url);
  if (config.source.url) {
    try {
      AddUrlPassword(secrets, config.source.url->reveal());
    } catch (...) {
      // A malformed percent escape: the raw password is already in the list.
    }
  }
  AddSecret(secrets, config.source.password);
  for (const config::ExportConfig& e : config.exports) {
    AddSecret(secrets, e.destination.access_key);
    AddSecret(secrets, e.destination.secret_key);
  }
  if (config.slack) AddSecret(secrets, config.slack->webhook_url);
  if (config.state) {
    AddSecret(secrets, std::optional<config::Secret>(config.state->url));
    try {
      AddUrlPassword(secrets, config.state->url.reveal());
    } catch (...) {
      // As for the source URL: the raw password is already in the list.
    }
  }
  // Longest first, so a URL is replaced whole before the password inside it.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& s : secrets) ReplaceAll(message, s);
  return message;
}

}  // namespace rivet::pipeline
