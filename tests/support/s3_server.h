// The S3 test server of scripts/servers/s3.sh, seen from a test: the signature-checking,
// fault-injecting proxy's control paths (/__rivet/...) and s3rver behind it, read unsigned so
// that what a test checks does not depend on the signing code under test.
#pragma once

#include <set>
#include <string>

#include "rivet/net/http_client.h"

namespace rivet::testing {

class S3Server {
 public:
  // `endpoint` is the proxy (RIVET_TEST_S3_ENDPOINT), `backend` s3rver (RIVET_TEST_S3_BACKEND).
  S3Server(std::string endpoint, std::string backend, std::string bucket)
      : endpoint_(std::move(endpoint)), backend_(std::move(backend)), bucket_(std::move(bucket)) {}

  // A request to one of the proxy's control paths, e.g. POST /__rivet/reset.
  net::HttpResponse Control(const std::string& method, const std::string& path,
                            const std::string& body) const;
  // Keys under `prefix`, listed by s3rver.
  std::set<std::string> Keys(const std::string& prefix) const;
  // The bytes of object `key` (the test fails when it is missing).
  std::string Object(const std::string& key) const;
  // Deletes object `key`.
  void Remove(const std::string& key) const;

 private:
  std::string endpoint_;
  std::string backend_;
  std::string bucket_;
};

}  // namespace rivet::testing
