#include "support/s3_server.h"

#include <gtest/gtest.h>

#include <regex>

namespace rivet::testing {

net::HttpResponse S3Server::Send(const std::string& method, const std::string& url,
                                 const std::string& body) const {
  auto client = net::HttpClient::Create();
  EXPECT_TRUE(client.has_value());
  if (!client.has_value()) return {};
  auto r = client->Send({method, url, {}, body});
  EXPECT_TRUE(r.has_value()) << method << " " << url << ": " << r.error().message();
  return r.has_value() ? *r : net::HttpResponse{};
}

net::HttpResponse S3Server::Control(const std::string& method, const std::string& path,
                                    const std::string& body) const {
  return Send(method, endpoint_ + path, body);
}

std::set<std::string> S3Server::Keys(const std::string& prefix) const {
  const auto r = Send("GET", backend_ + "/" + bucket_ + "?prefix=" + prefix, "");
  std::set<std::string> keys;
  const std::regex key("<Key>([^<]+)</Key>");
  for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), key);
       it != std::sregex_iterator(); ++it) {
    keys.insert((*it)[1]);
  }
  return keys;
}

std::string S3Server::Object(const std::string& key) const {
  const auto r = Send("GET", backend_ + "/" + bucket_ + "/" + key, "");
  EXPECT_EQ(r.status, 200) << key;
  return r.body;
}

void S3Server::Remove(const std::string& key) const {
  const auto r = Send("DELETE", backend_ + "/" + bucket_ + "/" + key, "");
  EXPECT_EQ(r.status, 204) << key;
}

}  // namespace rivet::testing
