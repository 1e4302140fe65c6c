#include "rivet/destination/gcs/gcs_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "rivet/common/secrets.h"
#include "rivet/net/http_errors.h"
#include "rivet/net/sigv4.h"

namespace rivet::destination::gcs {

namespace {

using nlohmann::json;

// The JSON error of the API: {"error": {"code", "message", "errors": [{"reason", ...}]}}.
struct ApiError {
  std::string reason;
  std::string message;
};

ApiError ParseApiError(std::string_view body) {
  ApiError e;
  json doc = json::parse(body.substr(0, 64 * 1024), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) return e;
  const json& error = doc["error"];
  if (error.contains("message") && error["message"].is_string()) {
    e.message = error["message"].get<std::string>();
  }
  if (error.contains("errors") && error["errors"].is_array() && !error["errors"].empty()) {
    const json& first = error["errors"][0];
    if (first.is_object() && first.contains("reason") && first["reason"].is_string()) {
      e.reason = first["reason"].get<std::string>();
    }
  }
  // Quoted in errors: short, and with anything shaped like a credential masked.
  if (e.message.size() > 300) e.message = e.message.substr(0, 300) + "...";
  e.message = HideCredentialShapes(e.message);
  if (e.reason.size() > 64) e.reason.clear();
  return e;
}

std::string Query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    out += out.empty() ? "?" : "&";
    out += net::UriEncode(name, true) + "=" + net::UriEncode(value, true);
  }
  return out;
}

}  // namespace

Result<GcsEndpoint> ResolveGcsEndpoint(const std::string& bucket, const std::string& endpoint,
                                       const net::AwsEnvironment& env) {
  if (bucket.empty()) return Error(ErrorCode::kConfig, "destination.bucket is required for gcs");
  std::string base = endpoint;
  std::string where = "destination.endpoint";
  if (base.empty()) {
    std::optional<std::string> emulator = env.get_env("STORAGE_EMULATOR_HOST");
    if (emulator && !emulator->empty()) {
      base = emulator->find("://") == std::string::npos ? "http://" + *emulator : *emulator;
      where = "STORAGE_EMULATOR_HOST";
    } else {
      base = kGoogleStorageEndpoint;
    }
  }
  const size_t sep = base.find("://");
  const std::string scheme = sep == std::string::npos ? "" : base.substr(0, sep);
  const std::string_view rest =
      sep == std::string::npos ? "" : std::string_view(base).substr(sep + 3);
  const std::string_view host = rest.substr(0, rest.find('/'));
  if ((scheme != "http" && scheme != "https") || host.empty() ||
      host.find_first_of("@?# ") != std::string_view::npos) {
    return Error(ErrorCode::kConfig,
                 "{} '{}' must be http(s)://host[:port][/path] (no user, query or spaces)", where,
                 base);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return GcsEndpoint{bucket, base};
}

std::string GcsClient::Url(std::string_view name) const {
  return fmt::format("gs://{}/{}", endpoint_.bucket, name);
}

std::string GcsClient::BucketPath() const {
  return "/storage/v1/b/" + net::UriEncode(endpoint_.bucket, true);
}
std::string GcsClient::ObjectsPath() const { return BucketPath() + "/o"; }
std::string GcsClient::ObjectPath(std::string_view name) const {
  return ObjectsPath() + "/" + net::UriEncode(name, /*encode_slash=*/true);
}
std::string GcsClient::UploadPath() const { return "/upload" + ObjectsPath(); }

Result<net::HttpResponse> GcsClient::Send(const GcsRequest& request) {
  return net::SendRetrying(retry_, request.cleanup,
                           fmt::format("{} {}", request.method, Url(request.object)),
                           [&] { return SendOnce(request); });
}

Result<net::HttpResponse> GcsClient::SendOnce(const GcsRequest& request) {
  net::HttpRequest http;
  http.method = request.method;
  const bool absolute = request.target.find("://") != std::string::npos;
  http.url = absolute ? request.target : endpoint_.base_url + request.target + Query(request.query);
  http.headers = request.headers;
  if (request.authorize) {
    RIVET_ASSIGN_OR_RETURN(std::string token, tokens_->Token());
    if (!token.empty()) http.headers.emplace_back("Authorization", "Bearer " + token);
  }
  http.body = request.body;
  Result<net::HttpResponse> response = pool_.Send(http, request.cleanup);
  if (!response.has_value()) {
    return response.status().WithContext(fmt::format("{} {}", request.method, Url(request.object)));
  }
  RIVET_RETURN_IF_ERROR(ResponseError(request, *response));
  return response;
}

Status GcsClient::ResponseError(const GcsRequest& request,
                                const net::HttpResponse& response) const {
  const long status = response.status;
  if ((status >= 200 && status < 300) ||
      std::find(request.accept.begin(), request.accept.end(), status) != request.accept.end()) {
    return Status::Ok();
  }
  const ApiError api = ParseApiError(response.body);
  ErrorCode code = net::ClassifyHttp(CURLE_OK, status, "");
  std::string hint;
  if (code == ErrorCode::kAuth) {
    hint = fmt::format(
        "; check that {} may create, read and delete objects in bucket '{}' (for example "
        "roles/storage.objectAdmin), or the credentials configured",
        Identity(), endpoint_.bucket);
  } else if (status == 404 &&
             (request.object.empty() || api.message.find("bucket") != std::string::npos)) {
    hint =
        fmt::format("; check destination.bucket ('{}') and destination.endpoint", endpoint_.bucket);
  } else if (status == 404) {
    code = ErrorCode::kIo;  // an object that went away is not the configuration's fault
  }
  return Error(code, "{} {}: HTTP {}{}{}{}", request.method, Url(request.object), status,
               api.reason.empty() ? "" : " " + api.reason,
               api.message.empty() ? "" : ": " + api.message, hint);
}

Result<ObjectResource> ParseObjectResource(std::string_view body, std::string_view url) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  ObjectResource r;
  // The API writes int64 fields as JSON strings.
  if (doc.is_object() && doc.contains("size") && doc["size"].is_string() &&
      doc.contains("crc32c") && doc["crc32c"].is_string()) {
    const std::string size = doc["size"].get<std::string>();
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), r.size);
    if (ec == std::errc() && end == size.data() + size.size()) {
      r.crc32c = doc["crc32c"].get<std::string>();
      return r;
    }
  }
  return Error(ErrorCode::kNetwork,
               "{}: the upload's answer is not an object resource with size "
               "and crc32c",
               url);
}

}  // namespace rivet::destination::gcs
