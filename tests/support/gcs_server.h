// The GCS test server of scripts/servers/gcs.sh (tools/gcs-fake.mjs), seen from a test: its
// unsigned control paths (/__rivet/...), through which objects are listed and read without the
// credential and upload code under test, faults are injected and the log of requests and the
// open upload sessions are read.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "rivet/net/http_client.h"

namespace rivet::testing {

class GcsServer {
 public:
  explicit GcsServer(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  // A request to one of the control paths, e.g. POST /__rivet/reset.
  net::HttpResponse Control(const std::string& method, const std::string& path,
                            const std::string& body = "") const;
  // Rules, the log and the token lifetime back to their start (objects stay).
  void Reset() const;
  // Adds the fault rules of `json` (a JSON list, see the fake's header).
  void Faults(const std::string& json) const;
  // Tokens issued from now on live `seconds`.
  void TokenTtl(int seconds) const;

  // Object names under `prefix` in `bucket`.
  std::set<std::string> Names(const std::string& bucket, const std::string& prefix) const;
  // The bytes of an object (the test fails when it is missing).
  std::string Object(const std::string& bucket, const std::string& name) const;
  void Remove(const std::string& bucket, const std::string& name) const;

  // The requests since the last reset: [{method, path, query, status, auth, contentRange,
  // bytes, grant}].
  nlohmann::json Requests() const;
  // The resumable upload sessions still open: [{bucket, name, upload_id, persisted}].
  nlohmann::json OpenSessions() const;

 private:
  std::string ObjectQuery(const std::string& bucket, const std::string& name) const;
  nlohmann::json Json(const std::string& path) const;

  std::string endpoint_;
};

}  // namespace rivet::testing
