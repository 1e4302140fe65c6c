#include "rivet/destination/s3/s3_destination.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <vector>

#include "rivet/destination/s3/s3_client.h"
#include "rivet/destination/s3/upload.h"
#include "rivet/net/aws_credentials.h"

namespace rivet::destination {

namespace {

namespace fs = std::filesystem;
using s3::S3Client;
using s3::S3Request;

constexpr const char* kStagingPrefix = ".rivet-s3-";

// A delivered object read by ranged GETs: the Parquet footer check reads three small ranges,
// the CSV record count reads the object in 8 MiB ranges.
class ObjectSource final : public ByteSource {
 public:
  ObjectSource(std::shared_ptr<S3Client> client, std::string key, uint64_t size)
      : client_(std::move(client)), key_(std::move(key)), size_(size) {}
  uint64_t size() const override { return size_; }
  std::string Describe() const override { return client_->Url(key_); }
  Status ReadAt(uint64_t offset, size_t length, uint8_t* out) override {
    if (offset > size_ || length > size_ - offset) {
      return Error(ErrorCode::kCorrupt, "{} ended at {} bytes while reading {} bytes at {}",
                   Describe(), size_, length, offset);
    }
    if (length == 0) return Status::Ok();
    S3Request get;
    get.key = key_;
    get.headers = {{"Range", fmt::format("bytes={}-{}", offset, offset + length - 1)}};
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(get));
    if (response.body.size() != length) {
      return Error(ErrorCode::kCorrupt, "GET {} bytes {}-{}: {} bytes came back", Describe(),
                   offset, offset + length - 1, response.body.size());
    }
    std::copy(response.body.begin(), response.body.end(), out);
    return Status::Ok();
  }

 private:
  std::shared_ptr<S3Client> client_;
  std::string key_;
  uint64_t size_;
};

class S3Destination final : public Destination {
 public:
  S3Destination(std::shared_ptr<S3Client> client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}

  std::string Describe() const override {
    return fmt::format("S3({})", client_->endpoint().bucket);
  }

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& file_name,
                                               const ObjectOptions& options) override {
    if (!options.readable_before_commit) {
      return std::unique_ptr<ObjectWriter>(
          std::make_unique<s3::Upload>(client_, prefix_, file_name, options.name_may_change));
    }
    // Read back before anything is delivered: staged in the temporary folder, uploaded from
    // there at Commit under its final name.
    static std::atomic<uint64_t> counter{0};
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec) return Error(ErrorCode::kIo, "no temporary directory: {}", ec.message());
    std::string staging =
        (dir / fmt::format("{}{}-{}-{}", kStagingPrefix, getpid(), counter++, file_name)).string();
    return MakeStagedObject(std::move(staging),
                            [this](const std::string& staged, const std::string& name) {
                              return UploadFile(staged, name);
                            });
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

  // Unfinished multipart uploads of killed runs are invisible and cannot be listed everywhere
  // (README: a lifecycle rule aborts them); staged copies of --validate runs are local.
  int SweepAbandoned(const std::string& file_base_prefix) override {
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    return ec ? 0 : SweepAbandonedStaging(dir.string(), kStagingPrefix, file_base_prefix);
  }

  bool ReadsBackDelivered() const override { return true; }

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
    return std::unique_ptr<ByteSource>(std::make_unique<ObjectSource>(client_, key, size));
  }

 private:
  Status UploadFile(const std::string& path, const std::string& file_name) {
    RIVET_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> file, FileSource::Open(path));
    s3::Upload upload(client_, prefix_, file_name, /*name_may_change=*/false);
    std::vector<uint8_t> buf(size_t{1} << 20);
    for (uint64_t offset = 0; offset < file->size();) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), file->size() - offset));
      RIVET_RETURN_IF_ERROR(file->ReadAt(offset, n, buf.data()));
      RIVET_RETURN_IF_ERROR(upload.Append(buf.data(), n));
      offset += n;
    }
    return upload.Commit(file_name);
  }

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
