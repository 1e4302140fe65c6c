#include "rivet/destination/gcs/upload.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "rivet/common/crc32c.h"
#include "rivet/net/sigv4.h"

namespace rivet::destination::gcs {

namespace {

using nlohmann::json;

constexpr long kResumeIncomplete = 308;
constexpr long kPreconditionFailed = 412;
constexpr long kNotFound = 404;
constexpr long kGone = 410;
constexpr long kClientClosed = 499;  // what GCS answers to a cancelled session

Status AlreadyExists(const GcsClient& client, const std::string& name) {
  return Error(ErrorCode::kIo,
               "{} already exists and Rivet never overwrites a file; another run wrote it "
               "between the name check and the upload: run again for the next free name",
               client.Url(name));
}

// The object GCS answers with must hold exactly the bytes sent.
Status CheckResource(const GcsClient& client, const std::string& name, std::string_view body,
                     uint64_t size, uint32_t crc) {
  RIVET_ASSIGN_OR_RETURN(ObjectResource resource, ParseObjectResource(body, client.Url(name)));
  if (resource.size != size || resource.crc32c != Crc32cBase64(crc)) {
    return Error(ErrorCode::kCorrupt,
                 "{} was stored with {} bytes and crc32c {}, but {} bytes with crc32c {} were "
                 "sent",
                 client.Url(name), resource.size, resource.crc32c, size, Crc32cBase64(crc));
  }
  return Status::Ok();
}

// The bytes a session holds, from a 308's "Range: bytes=0-N" (none: nothing yet).
Result<uint64_t> PersistedBytes(const net::HttpResponse& response, std::string_view url) {
  auto range = response.headers.find("range");
  if (range == response.headers.end()) return uint64_t{0};
  std::string_view v = range->second;
  uint64_t last = 0;
  constexpr std::string_view kStart = "bytes=0-";
  if (v.substr(0, kStart.size()) == kStart) {
    v.remove_prefix(kStart.size());
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), last);
    if (ec == std::errc() && end == v.data() + v.size()) return last + 1;
  }
  return Error(ErrorCode::kNetwork, "{}: the upload session answered Range '{}'", url,
               range->second.substr(0, 64));
}

// Removes an object Rivet made and must not leave (a pending copy, a corrupt upload).
void DeleteObject(GcsClient& client, const std::string& name) {
  GcsRequest remove;
  remove.method = "DELETE";
  remove.target = client.ObjectPath(name);
  remove.object = name;
  remove.accept = {kNotFound};
  remove.cleanup = true;
  Status s = client.Send(remove).status();
  if (!s.ok()) spdlog::warn("cannot remove {}: {}", client.Url(name), s.message());
}

// objects.rewrite of `from` to the new object `to` (ifGenerationMatch=0), continued with its
// rewriteToken until GCS says done (large objects take several calls).
Status CopyNewObject(GcsClient& client, const std::string& from, const std::string& to) {
  std::string token;
  for (int call = 0; call < 1000; ++call) {
    GcsRequest post;
    post.method = "POST";
    post.target = client.ObjectPath(from) + "/rewriteTo/b/" +
                  net::UriEncode(client.endpoint().bucket, true) + "/o/" + net::UriEncode(to, true);
    post.query = {{"ifGenerationMatch", "0"}};
    if (!token.empty()) post.query.emplace_back("rewriteToken", token);
    post.object = to;
    post.accept = {kPreconditionFailed};
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(post));
    if (response.status == kPreconditionFailed) return AlreadyExists(client, to);
    json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.value("done", false) && doc.contains("resource")) {
      return Status::Ok();
    }
    if (!doc.is_object() || !doc.contains("rewriteToken") || !doc["rewriteToken"].is_string()) {
      return Error(ErrorCode::kNetwork,
                   "copy of {} to {}: the answer is neither done nor has a "
                   "rewriteToken",
                   client.Url(from), client.Url(to));
    }
    token = doc["rewriteToken"].get<std::string>();
  }
  return Error(ErrorCode::kNetwork, "copy of {} to {} was not done after 1000 calls",
               client.Url(from), client.Url(to));
}

std::string RandomBoundary() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(i * 37 + 11);
  }
  std::string out = "rivet-";
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

Status PutNewObject(GcsClient& client, const std::string& name, std::string_view body) {
  const uint32_t crc = Crc32c(0, body);
  // multipart/related: the metadata (name, checksum), then the bytes. The boundary is random:
  // it must not occur in the bytes.
  const std::string boundary = RandomBoundary();
  const std::string metadata = json{{"name", name}, {"crc32c", Crc32cBase64(crc)}}.dump();
  std::string payload = fmt::format(
      "--{0}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{1}\r\n--{0}\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      boundary, metadata);
  payload.append(body);
  payload += fmt::format("\r\n--{}--\r\n", boundary);
  GcsRequest post;
  post.method = "POST";
  post.target = client.UploadPath();
  post.query = {{"uploadType", "multipart"}, {"ifGenerationMatch", "0"}};
  post.headers = {{"Content-Type", "multipart/related; boundary=" + boundary}};
  post.body = payload;
  post.object = name;
  post.accept = {kPreconditionFailed};
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client.Send(post));
  if (response.status == kPreconditionFailed) return AlreadyExists(client, name);
  return CheckResource(client, name, response.body, body.size(), crc);
}

Upload::Upload(std::shared_ptr<GcsClient> client, std::string prefix, std::string planned_name,
               bool name_may_change)
    : client_(std::move(client)), prefix_(std::move(prefix)) {
  upload_name_ = prefix_ + planned_name;
  if (name_may_change) upload_name_ += kPendingSuffix;
}

Upload::~Upload() { Abort(); }

Status Upload::Append(const uint8_t* data, size_t size) {
  if (finished_ || done_) {
    return Error(ErrorCode::kInternal, "write to a finished object {}", client_->Url(upload_name_));
  }
  crc_ = Crc32c(crc_, data, size);
  while (size > 0) {
    if (buffer_.capacity() < kChunkBytes) buffer_.reserve(kChunkBytes);
    const size_t take = std::min(size, kChunkBytes - buffer_.size());
    buffer_.append(reinterpret_cast<const char*>(data), take);
    data += take;
    size -= take;
    written_ += take;
    if (buffer_.size() == kChunkBytes) RIVET_RETURN_IF_ERROR(Ship());
  }
  return Status::Ok();
}

Status Upload::StartSession() {
  const std::string metadata = json{{"name", upload_name_}}.dump();
  GcsRequest post;
  post.method = "POST";
  post.target = client_->UploadPath();
  post.query = {{"uploadType", "resumable"}, {"ifGenerationMatch", "0"}};
  post.headers = {{"Content-Type", "application/json; charset=UTF-8"},
                  {"X-Upload-Content-Type", "application/octet-stream"}};
  post.body = metadata;
  post.object = upload_name_;
  post.accept = {kPreconditionFailed};
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->Send(post));
  if (response.status == kPreconditionFailed) return AlreadyExists(*client_, upload_name_);
  auto location = response.headers.find("location");
  if (location == response.headers.end() || location->second.find("://") == std::string::npos) {
    return Error(ErrorCode::kNetwork, "POST {} (resumable upload): the answer has no Location",
                 client_->Url(upload_name_));
  }
  session_url_ = location->second;
  return Status::Ok();
}

Status Upload::WaitForSender() {
  if (!in_flight_.valid()) return Status::Ok();
  return in_flight_.get();
}

Status Upload::Ship() {
  RIVET_RETURN_IF_ERROR(WaitForSender());  // the sender may open a new session
  if (session_url_.empty()) RIVET_RETURN_IF_ERROR(StartSession());
  const uint64_t offset = sent_;
  sent_ += buffer_.size();
  in_flight_ = std::async(std::launch::async, [this, offset, chunk = std::move(buffer_)] {
    return SendChunk(offset, chunk, std::nullopt).status();
  });
  buffer_ = std::string();
  return Status::Ok();
}

Result<net::HttpResponse> Upload::SendChunk(uint64_t offset, std::string_view bytes,
                                            std::optional<uint64_t> total) {
  const uint64_t end = offset + bytes.size();
  const std::string url = client_->Url(upload_name_);
  const std::string of_total = total ? std::to_string(*total) : "*";
  bool lost = false;    // the session is gone and cannot be opened again
  bool resume = false;  // a try failed: ask the session what it holds first
  // One request to the session: bytes [from, end), or none (a status query).
  auto put = [&](uint64_t from, bool status_query) -> Result<net::HttpResponse> {
    GcsRequest request;
    request.method = "PUT";
    request.target = session_url_;
    request.object = upload_name_;
    request.authorize = false;
    request.accept = {kResumeIncomplete, kNotFound, kGone, kPreconditionFailed};
    request.headers = {
        {"Content-Range", status_query || from == end
                              ? "bytes */" + of_total
                              : fmt::format("bytes {}-{}/{}", from, end - 1, of_total)}};
    if (total) request.headers.emplace_back("X-Goog-Hash", "crc32c=" + Crc32cBase64(crc_));
    if (!status_query) request.body = bytes.substr(from - offset);
    RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, client_->SendOnce(request));
    if (response.status == kNotFound || response.status == kGone) {
      if (offset != 0) {
        lost = true;
        return Error(ErrorCode::kIo, "the upload session was lost");
      }
      // Every byte is still here: a new session, from the start.
      spdlog::info("{}: the upload session was lost; opening a new one", url);
      RIVET_RETURN_IF_ERROR(StartSession());
      response.status = kResumeIncomplete;
      response.headers.clear();
    }
    return response;
  };
  auto attempt = [&]() -> Result<net::HttpResponse> {
    uint64_t from = offset;
    bool status_query = std::exchange(resume, true);
    // GCS may keep less than it was sent: the rest goes again, as long as each request moves
    // the session on.
    for (;;) {
      if (from == end && !total && !status_query)
        return net::HttpResponse{kResumeIncomplete, {}, {}};
      RIVET_ASSIGN_OR_RETURN(net::HttpResponse response, put(from, status_query));
      if (response.status != kResumeIncomplete) {
        if (total) return response;  // the object is complete (or refused: 412)
        return Error(ErrorCode::kNetwork, "PUT {}: the session answered {} before the last chunk",
                     url, response.status);
      }
      RIVET_ASSIGN_OR_RETURN(uint64_t persisted, PersistedBytes(response, url));
      if (persisted < offset || persisted > end) {
        lost = persisted < offset;
        return Error(lost ? ErrorCode::kIo : ErrorCode::kNetwork,
                     "the upload session holds {} bytes, this chunk is bytes {}-{}", persisted,
                     offset, end);
      }
      if (!status_query && persisted <= from && from < end) {
        return Error(ErrorCode::kNetwork, "PUT {} bytes {}-{}: the session kept none of them", url,
                     from, end - 1);
      }
      from = persisted;
      status_query = false;
    }
  };
  Result<net::HttpResponse> response = net::SendRetrying(
      client_->retry(), false, fmt::format("PUT {} bytes {}-{}", url, offset, end), attempt);
  if (response.has_value() || !lost) return response;
  return Error(ErrorCode::kNetwork,
               "{}: the resumable upload session was lost after {} bytes ({}); the file is "
               "written again from its start",
               url, offset, response.status().message());
}

Status Upload::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  return WaitForSender();
}

Status Upload::SendLastChunk() {
  const uint64_t offset = sent_;
  sent_ += buffer_.size();
  RIVET_ASSIGN_OR_RETURN(net::HttpResponse answer, SendChunk(offset, buffer_, written_));
  buffer_ = std::string();
  if (answer.status == kPreconditionFailed) return AlreadyExists(*client_, upload_name_);
  session_url_.clear();  // complete: nothing left to cancel
  Status checked = CheckResource(*client_, upload_name_, answer.body, written_, crc_);
  if (!checked.ok()) DeleteObject(*client_, upload_name_);
  return checked;
}

Status Upload::Commit(const std::string& file_name) {
  if (done_) {
    return Error(ErrorCode::kInternal, "object {} was already delivered or dropped",
                 client_->Url(upload_name_));
  }
  Status s = Finish();
  if (s.ok()) s = parked_.Restore(buffer_);
  const std::string name = prefix_ + file_name;
  if (s.ok() && session_url_.empty()) {
    s = PutNewObject(*client_, name, buffer_);
  } else if (s.ok()) {
    s = SendLastChunk();
    if (s.ok() && name != upload_name_) {
      // The name changed after the session began: copy the pending object under its final
      // name (server-side), then remove it.
      s = CopyNewObject(*client_, upload_name_, name);
      DeleteObject(*client_, upload_name_);
    }
  }
  Abort();  // whatever is left: an open session, the buffer
  return s;
}

void Upload::Abort() {
  if (done_) return;
  done_ = true;
  (void)WaitForSender();
  buffer_ = std::string();
  CancelSession();
}

void Upload::CancelSession() {
  if (session_url_.empty()) return;
  GcsRequest cancel;
  cancel.method = "DELETE";
  cancel.target = session_url_;
  cancel.object = upload_name_;
  cancel.accept = {kClientClosed, kNotFound, kGone};
  cancel.cleanup = true;
  cancel.authorize = false;
  Status s = client_->Send(cancel).status();
  if (!s.ok()) {
    spdlog::warn("cannot cancel the upload session of {}: {}; GCS drops it within a week",
                 client_->Url(upload_name_), s.message());
  }
  session_url_.clear();
}

}  // namespace rivet::destination::gcs
