#include "support/s3_server.h"

#include <gtest/gtest.h>

#include <regex>

#include "support/export_checks.h"

namespace rivet::testing {

net::HttpResponse S3Server::Control(const std::string& method, const std::string& path,
                                    const std::string& body) const {
  return SendPlain(method, endpoint_ + path, body);
}

std::set<std::string> S3Server::Keys(const std::string& prefix) const {
  const auto r = SendPlain("GET", backend_ + "/" + bucket_ + "?prefix=" + prefix, "");
  std::set<std::string> keys;
  const std::regex key("<Key>([^<]+)</Key>");
  for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), key);
       it != std::sregex_iterator(); ++it) {
    keys.insert((*it)[1]);
  }
  return keys;
}

std::string S3Server::Object(const std::string& key) const {
  const auto r = SendPlain("GET", backend_ + "/" + bucket_ + "/" + key, "");
  EXPECT_EQ(r.status, 200) << key;
  return r.body;
}

void S3Server::Remove(const std::string& key) const {
  const auto r = SendPlain("DELETE", backend_ + "/" + bucket_ + "/" + key, "");
  EXPECT_EQ(r.status, 204) << key;
}

}  // namespace rivet::testing
