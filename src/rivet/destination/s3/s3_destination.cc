#include "rivet/destination/s3/s3_destination.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <chrono>

#include "rivet/destination/s3/s3_client.h"
#include "rivet/destination/s3/upload.h"
#include "rivet/net/aws_credentials.h"

namespace rivet::destination {

namespace {

using s3::S3Client;
using s3::S3Request;

constexpr const char* kStagingPrefix = ".rivet-s3-";

class S3Destination final : public ObjectStoreDestination {
 public:
  S3Destination(std::shared_ptr<S3Client> client, std::string prefix)
      : ObjectStoreDestination(kStagingPrefix),
        client_(std::move(client)),
        prefix_(std::move(prefix)) {}

  std::string Describe() const override {
    return fmt::format("S3({})", client_->endpoint().bucket);
  }

  std::unique_ptr<ObjectWriter> NewUpload(const std::string& file_name,
                                          bool name_may_change) override {
    return std::make_unique<s3::Upload>(client_, prefix_, file_name, name_may_change);
  }

  Result<bool> Exists(const std::string& file_name) override {
    S3Request head;
    head.method = "HEAD";
    head.key = prefix_ + file_name;
    head.accept = {404};
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(head));
    return response.status != 404;
  }

  std::string Location(const std::string& file_name) const override {
    return client_->Url(prefix_ + file_name);
  }

  // The bucket answers, and a marker object can be written and deleted. A one-key listing
  // rather than HEAD bucket (the same s3:ListBucket permission): its error answers carry the
  // store's code (SignatureDoesNotMatch, AccessDenied, NoSuchBucket), a HEAD's have no body.
  Status Probe() override {
    S3Request list;
    list.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", prefix_}};
    RIVET_RETURN_IF_ERROR(client_->Send(list).status());
    const std::string marker =
        fmt::format("{}.rivet-probe-{}-{}", prefix_, getpid(),
                    std::chrono::system_clock::now().time_since_epoch().count());
    RIVET_RETURN_IF_ERROR(s3::PutNewObject(*client_, marker, "rivet doctor probe\n"));
    S3Request remove;
    remove.method = "DELETE";
    remove.key = marker;
    remove.cleanup = true;
    return client_->Send(remove).status();
  }

  Result<std::unique_ptr<ByteSource>> OpenDelivered(const std::string& file_name) override {
    const std::string key = prefix_ + file_name;
    S3Request head;
    head.method = "HEAD";
    head.key = key;
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(head));
    const std::string& length = response.headers["content-length"];
    uint64_t size = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
    if (ec != std::errc() || end != length.data() + length.size()) {
      return Error(ErrorCode::kNetwork, "HEAD {}: no Content-Length in the answer",
                   client_->Url(key));
    }
    return MakeRangedSource(
        client_->Url(key), size,
        [client = client_, key](uint64_t offset, size_t n) -> Result<std::string> {
          S3Request get;
          get.key = key;
          get.headers = {{"Range", fmt::format("bytes={}-{}", offset, offset + n - 1)}};
          RIVET_ASSIGN_OR_RETURN(net::HttpResponse range, client->Send(get));
          return std::move(range.body);
        });
  }

 private:
  std::shared_ptr<S3Client> client_;
  std::string prefix_;
};

std::optional<std::string> Revealed(const std::optional<config::Secret>& secret) {
  if (!secret) return std::nullopt;
  return secret->reveal();
}

}  // namespace

Result<std::unique_ptr<Destination>> MakeS3Destination(const config::DestinationConfig& config) {
  const net::AwsEnvironment env = net::SystemAwsEnvironment();
  RIVET_ASSIGN_OR_RETURN(std::optional<std::string> region, net::AwsRegion(config.region, env));
  RIVET_ASSIGN_OR_RETURN(s3::S3Endpoint endpoint,
                         s3::ResolveEndpoint(config.bucket, region.value_or(""), config.endpoint));
  RIVET_ASSIGN_OR_RETURN(std::shared_ptr<net::AwsCredentialProvider> credentials,
                         net::MakeAwsCredentialProvider(Revealed(config.access_key),
                                                        Revealed(config.secret_key), env));
  return std::unique_ptr<Destination>(std::make_unique<S3Destination>(
      std::make_shared<S3Client>(std::move(endpoint), std::move(credentials)), config.prefix));
}

}  // namespace rivet::destination
