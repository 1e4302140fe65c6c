#include "rivet/destination/gcs/gcs_destination.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "rivet/destination/gcs/gcs_client.h"
#include "rivet/destination/gcs/upload.h"
#include "rivet/net/google_credentials.h"

namespace rivet::destination {

namespace {

using gcs::GcsClient;
using gcs::GcsRequest;

constexpr const char* kStagingPrefix = ".rivet-gcs-";
constexpr long kNotFound = 404;

class GcsDestination final : public ObjectStoreDestination {
 public:
  GcsDestination(std::shared_ptr<GcsClient> client, std::string prefix)
      : ObjectStoreDestination(kStagingPrefix),
        client_(std::move(client)),
        prefix_(std::move(prefix)) {}

  std::string Describe() const override {
    return fmt::format("GCS({})", client_->endpoint().bucket);
  }

  std::unique_ptr<ObjectWriter> NewUpload(const std::string& file_name,
                                          bool name_may_change) override {
    return std::make_unique<gcs::Upload>(client_, prefix_, file_name, name_may_change);
  }

  Result<bool> Exists(const std::string& file_name) override {
    RIVET_ASSIGN_OR_RETURN(std::optional<uint64_t> size, ObjectSize(prefix_ + file_name));
    return size.has_value();
  }

  std::string Location(const std::string& file_name) const override {
    return client_->Url(prefix_ + file_name);
  }

  // A token is obtained (at construction), the bucket's objects can be listed, and a marker
  // object can be written and deleted. A one-object listing rather than a bucket GET: it needs
  // storage.objects.list, which the object roles an export uses grant, not storage.buckets.get.
  Status Probe() override {
    GcsRequest list;
    list.target = client_->ObjectsPath();
    list.query = {{"maxResults", "1"}, {"prefix", prefix_}, {"fields", "kind"}};
    RIVET_RETURN_IF_ERROR(client_->Send(list).status());
    const std::string marker =
        fmt::format("{}.rivet-probe-{}-{}", prefix_, getpid(),
                    std::chrono::system_clock::now().time_since_epoch().count());
    RIVET_RETURN_IF_ERROR(gcs::PutNewObject(*client_, marker, "rivet doctor probe\n"));
    GcsRequest remove;
    remove.method = "DELETE";
    remove.target = client_->ObjectPath(marker);
    remove.object = marker;
    remove.cleanup = true;
    return client_->Send(remove).status();
  }

  Result<std::unique_ptr<ByteSource>> OpenDelivered(const std::string& file_name) override {
    const std::string name = prefix_ + file_name;
    RIVET_ASSIGN_OR_RETURN(std::optional<uint64_t> size, ObjectSize(name));
    if (!size) return Error(ErrorCode::kIo, "{} is not there to read back", client_->Url(name));
    return MakeRangedSource(
        client_->Url(name), *size,
        [client = client_, name](uint64_t offset, size_t length) -> Result<std::string> {
          GcsRequest get;
          get.target = client->ObjectPath(name);
          get.query = {{"alt", "media"}};
          get.headers = {{"Range", fmt::format("bytes={}-{}", offset, offset + length - 1)}};
          get.object = name;
          RIVET_ASSIGN_OR_RETURN(net::HttpResponse range, client->Send(get));
          return std::move(range.body);
        });
  }

 private:
  // The object's size from its metadata; nullopt when there is no such object.
  Result<std::optional<uint64_t>> ObjectSize(const std::string& name) {
    GcsRequest get;
    get.target = client_->ObjectPath(name);
    get.query = {{"fields", "size,crc32c"}};
    get.object = name;
    get.accept = {kNotFound};
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(get));
    if (response.status == kNotFound) {
      // A missing bucket is a 404 too: the configuration's fault, not a free name.
      if (response.body.find("bucket") != std::string::npos) {
        return Error(ErrorCode::kConfig,
                     "GET {}: HTTP 404: the bucket does not exist; check "
                     "destination.bucket ('{}') and destination.endpoint",
                     client_->Url(name), client_->endpoint().bucket);
      }
      return std::optional<uint64_t>();
    }
    RIVET_ASSIGN_OR_RETURN(gcs::ObjectResource resource,
                           gcs::ParseObjectResource(response.body, client_->Url(name)));
    return std::optional<uint64_t>(resource.size);
  }

  std::shared_ptr<GcsClient> client_;
  std::string prefix_;
};

}  // namespace

Result<std::unique_ptr<Destination>> MakeGcsDestination(const config::DestinationConfig& config) {
  const net::AwsEnvironment env = net::SystemAwsEnvironment();
  RIVET_ASSIGN_OR_RETURN(gcs::GcsEndpoint endpoint,
                         gcs::ResolveGcsEndpoint(config.bucket, config.endpoint, env));
  net::GoogleCredentialOptions options;
  options.credentials_file = config.credentials_file;
  options.allow_anonymous = config.allow_anonymous;
  // The first token is fetched here, before any request names the bucket: its failure does.
  Result<std::shared_ptr<net::GoogleTokenProvider>> tokens =
      net::MakeGoogleTokenProvider(options, env);
  if (!tokens.has_value()) {
    return tokens.error().WithContext(fmt::format("GCS bucket '{}'", endpoint.bucket));
  }
  return std::unique_ptr<Destination>(std::make_unique<GcsDestination>(
      std::make_shared<GcsClient>(std::move(endpoint), std::move(*tokens)), config.prefix));
}

}  // namespace rivet::destination
