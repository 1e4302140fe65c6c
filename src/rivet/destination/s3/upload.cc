#include "rivet/destination/s3/upload.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "rivet/destination/s3/multipart.h"
#include "rivet/net/sigv4.h"
#include "rivet/net/xml.h"

namespace rivet::destination::s3 {

namespace {

constexpr long kPreconditionFailed = 412;
constexpr long kNotImplemented = 501;

Status AlreadyExists(const S3Client& client, const std::string& key) {
  return Error(ErrorCode::kIo,
               "{} already exists and Rivet never overwrites a file; another run wrote it "
               "between the name check and the upload: run again for the next free name",
               client.Url(key));
}

// Stores that do not know If-None-Match say so once; the HEAD check is used from then on.
std::atomic<bool> g_conditional_writes_unsupported{false};

// HEAD: true when `key` exists.
Result<bool> ObjectExists(S3Client& client, const std::string& key) {
  S3Request head;
  head.method = "HEAD";
  head.key = key;
  head.accept = {404};
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(head));
  return response.status != 404;
}

// Sends a request that creates `key`, conditional on it not existing: If-None-Match: * where
// the store supports it, a HEAD before it where the store answers 501.
Status CreateOnce(S3Client& client, S3Request request) {
  if (!g_conditional_writes_unsupported) {
    S3Request conditional = request;
    conditional.headers.emplace_back("If-None-Match", "*");
    conditional.accept = {kPreconditionFailed, kNotImplemented};
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(conditional));
    if (response.status == kPreconditionFailed) return AlreadyExists(client, request.key);
    if (response.status != kNotImplemented) return Status::Ok();
    g_conditional_writes_unsupported = true;
    spdlog::info("{} does not support conditional writes (If-None-Match); checking with HEAD",
                 client.endpoint().host);
  }
  RIVET_ASSIGN_OR_RETURN(bool exists, ObjectExists(client, request.key));
  if (exists) return AlreadyExists(client, request.key);
  return client.Send(request).status();
}

}  // namespace

Status PutNewObject(S3Client& client, const std::string& key, std::string_view body) {
  S3Request put;
  put.method = "PUT";
  put.key = key;
  put.body = body;
  put.headers = {{"Content-MD5", ContentMd5(body)}};
  return CreateOnce(client, std::move(put));
}

Upload::Upload(std::shared_ptr<S3Client> client, std::string prefix, std::string planned_name,
               bool name_may_change)
    : client_(std::move(client)), prefix_(std::move(prefix)) {
  upload_key_ = prefix_ + planned_name;
  if (name_may_change) upload_key_ += kPendingSuffix;
}

Upload::~Upload() { Abort(); }

Status Upload::Failure() {
  std::lock_guard lock(mu_);
  return failure_;
}

Status Upload::Append(const uint8_t* data, size_t size) {
  if (finished_ || done_) {
    return Error(ErrorCode::kInternal, "write to a finished object {}", client_->Url(upload_key_));
  }
  while (size > 0) {
    std::optional<uint64_t> capacity = PartSize(next_part_);
    if (!capacity) {
      return Error(ErrorCode::kIo,
                   "{} would need more than {} parts (about {} GiB): set max_file_size to split "
                   "the export into several files",
                   client_->Url(upload_key_), kMaxParts, CapacityOfParts(kMaxParts) >> 30);
    }
    if (buffer_.capacity() < *capacity) buffer_.reserve(*capacity);
    const size_t take = static_cast<size_t>(std::min<uint64_t>(size, *capacity - buffer_.size()));
    buffer_.append(reinterpret_cast<const char*>(data), take);
    data += take;
    size -= take;
    written_ += take;
    if (buffer_.size() == *capacity) RIVET_RETURN_IF_ERROR(Ship());
  }
  return Status::Ok();
}

Status Upload::Start() {
  S3Request create;
  create.method = "POST";
  create.key = upload_key_;
  create.query = {{"uploads", ""}};
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(create));
  std::optional<std::string> id = net::XmlText(response.body, "UploadId");
  if (!id || id->empty()) {
    return Error(ErrorCode::kNetwork, "POST {}?uploads: the answer has no UploadId",
                 client_->Url(upload_key_));
  }
  upload_id_ = *id;
  for (int i = 0; i < kPartsInFlight; ++i) uploaders_.emplace_back([this] { Work(); });
  return Status::Ok();
}

Status Upload::Ship() {
  if (upload_id_.empty()) RIVET_RETURN_IF_ERROR(Start());
  Part part{next_part_++, std::move(buffer_)};
  buffer_ = std::string();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return !failure_.ok() || static_cast<int>(queue_.size()) + busy_ < kPartsInFlight;
  });
  if (!failure_.ok()) return failure_;
  queue_.push_back(std::move(part));
  cv_.notify_all();
  return Status::Ok();
}

void Upload::Work() {
  for (;;) {
    Part part;
    bool failed = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      part = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
      failed = !failure_.ok();  // another part failed: the upload is lost, send no more
    }
    Status s = failed ? Status::Ok() : UploadPart(part);
    std::lock_guard lock(mu_);
    --busy_;
    if (!s.ok() && failure_.ok()) failure_ = s;
    cv_.notify_all();
  }
}

Status Upload::UploadPart(const Part& part) {
  S3Request put;
  put.method = "PUT";
  put.key = upload_key_;
  put.query = {{"partNumber", std::to_string(part.number)}, {"uploadId", upload_id_}};
  put.headers = {{"Content-MD5", ContentMd5(part.bytes)}};
  put.body = part.bytes;
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(put));
  auto etag = response.headers.find("etag");
  if (etag == response.headers.end() || etag->second.empty()) {
    return Error(ErrorCode::kNetwork, "PUT {} part {}: the answer has no ETag",
                 client_->Url(upload_key_), part.number);
  }
  std::lock_guard lock(mu_);
  etags_[part.number] = etag->second;
  return Status::Ok();
}

void Upload::StopUploaders() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
    closing_ = true;
    cv_.notify_all();
  }
  for (std::thread& t : uploaders_) t.join();
  uploaders_.clear();
}

Status Upload::Finish() {
  if (finished_) return Failure();
  finished_ = true;
  if (upload_id_.empty()) return Status::Ok();  // one PUT at Commit
  Status s = Failure();
  if (s.ok() && !buffer_.empty()) s = Ship();  // the last part may be smaller
  StopUploaders();
  buffer_ = std::string();
  if (!s.ok()) return s;
  return Failure();
}

Status Upload::Complete(const std::string& key, bool conditional) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& [number, etag] : etags_) {
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number, etag);
  }
  xml += "</CompleteMultipartUpload>";
  S3Request complete;
  complete.method = "POST";
  complete.key = key;
  complete.query = {{"uploadId", upload_id_}};
  complete.headers = {{"Content-MD5", ContentMd5(xml)}};
  complete.body = xml;
  complete.error_may_hide_in_200 = true;
  if (!conditional) return client_->Send(complete).status();
  return CreateOnce(*client_, std::move(complete));
}

Status Upload::Commit(const std::string& file_name) {
  if (done_) {
    return Error(ErrorCode::kInternal, "object {} was already delivered or dropped",
                 client_->Url(upload_key_));
  }
  Status s = Finish();
  if (s.ok()) s = parked_.Restore(buffer_);
  const std::string key = prefix_ + file_name;
  if (s.ok() && upload_id_.empty()) {
    s = PutNewObject(*client_, key, buffer_);
  } else if (s.ok() && key == upload_key_) {
    s = Complete(key, /*conditional=*/true);
    if (s.ok()) upload_id_.clear();  // complete: nothing left to abort
  } else if (s.ok()) {
    // The name changed after the upload began: complete it under its pending key, copy it
    // under its final name (server-side), then remove the pending object.
    s = Complete(upload_key_, /*conditional=*/false);
    if (s.ok()) {
      upload_id_.clear();
      S3Request copy;
      copy.method = "PUT";
      copy.key = key;
      copy.headers = {{"x-amz-copy-source",
                       client_->endpoint().bucket + "/" + net::UriEncode(upload_key_, false)}};
      copy.error_may_hide_in_200 = true;
      s = CreateOnce(*client_, std::move(copy));
      S3Request remove;
      remove.method = "DELETE";
      remove.key = upload_key_;
      remove.cleanup = true;
      Status removed = client_->Send(remove).status();
      if (!removed.ok()) {
        spdlog::warn("cannot remove the pending object {}: {}", client_->Url(upload_key_),
                     removed.message());
      }
    }
  }
  Abort();  // whatever is left: an unfinished upload, the buffer
  return s;
}

void Upload::Abort() {
  if (done_) return;
  done_ = true;
  {
    std::lock_guard lock(mu_);
    queue_.clear();  // parts not yet sent never will be
    if (failure_.ok()) failure_ = Error(ErrorCode::kInterrupted, "the upload was aborted");
  }
  StopUploaders();
  buffer_ = std::string();
  if (upload_id_.empty()) return;
  S3Request abort;
  abort.method = "DELETE";
  abort.key = upload_key_;
  abort.query = {{"uploadId", upload_id_}};
  abort.accept = {404};  // already gone
  abort.cleanup = true;
  Status s = client_->Send(abort).status();
  if (!s.ok()) {
    spdlog::warn(
        "cannot abort the multipart upload of {}: {}; its parts stay billed until a bucket "
        "lifecycle rule (AbortIncompleteMultipartUpload) removes them",
        client_->Url(upload_key_), s.message());
  }
  upload_id_.clear();
}

}  // namespace rivet::destination::s3
