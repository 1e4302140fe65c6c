#include "support/gcs_server.h"

#include <gtest/gtest.h>

#include "rivet/net/sigv4.h"
#include "support/export_checks.h"

namespace rivet::testing {

net::HttpResponse GcsServer::Control(const std::string& method, const std::string& path,
                                     const std::string& body) const {
  return SendPlain(method, endpoint_ + path, body);
}

void GcsServer::Reset() const { EXPECT_EQ(Control("POST", "/__rivet/reset").status, 200); }

void GcsServer::Faults(const std::string& json) const {
  EXPECT_EQ(Control("POST", "/__rivet/faults", json).status, 200) << json;
}

void GcsServer::TokenTtl(int seconds) const {
  EXPECT_EQ(Control("POST", "/__rivet/token-ttl", std::to_string(seconds)).status, 200);
}

std::string GcsServer::ObjectQuery(const std::string& bucket, const std::string& name) const {
  return "?bucket=" + net::UriEncode(bucket, true) + "&name=" + net::UriEncode(name, true);
}

nlohmann::json GcsServer::Json(const std::string& path) const {
  const net::HttpResponse r = Control("GET", path);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

std::set<std::string> GcsServer::Names(const std::string& bucket, const std::string& prefix) const {
  const nlohmann::json list = Json("/__rivet/list?bucket=" + net::UriEncode(bucket, true) +
                                   "&prefix=" + net::UriEncode(prefix, true));
  std::set<std::string> names;
  if (list.is_array()) {
    for (const auto& name : list) names.insert(name.get<std::string>());
  }
  return names;
}

std::string GcsServer::Object(const std::string& bucket, const std::string& name) const {
  const net::HttpResponse r = Control("GET", "/__rivet/object" + ObjectQuery(bucket, name));
  EXPECT_EQ(r.status, 200) << bucket << "/" << name;
  return r.body;
}

void GcsServer::Remove(const std::string& bucket, const std::string& name) const {
  EXPECT_EQ(Control("DELETE", "/__rivet/object" + ObjectQuery(bucket, name)).status, 204)
      << bucket << "/" << name;
}

nlohmann::json GcsServer::Requests() const { return Json("/__rivet/requests"); }

nlohmann::json GcsServer::OpenSessions() const {
  const nlohmann::json sessions = Json("/__rivet/sessions");
  return sessions.is_object() ? sessions.value("open", nlohmann::json::array()) : nlohmann::json();
}

}  // namespace rivet::testing
