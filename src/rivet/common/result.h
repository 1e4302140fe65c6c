// Status and Result<T>: errors as values (Arrow / ADBC conventions).
//
// Result<T> keeps to a subset of std::expected's API (has_value, value, error, operator*,
// operator->, operator bool) so that a later switch to std::expected is mechanical.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "rivet/common/error.h"

namespace rivet {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>", same code.
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, fmt::format("{}: {}", context, message_));
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Builds an error Status with a fmt-style message.
template <typename... Args>
Status Error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const { return std::get<1>(v_); }
  // The status of this result: OK when it holds a value.
  Status status() const { return has_value() ? Status::Ok() : error(); }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline bool IsOk(const Status& s) { return s.ok(); }
template <typename T>
bool IsOk(const Result<T>& r) {
  return r.has_value();
}
inline Status ToStatus(Status&& s) { return std::move(s); }
inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace rivet

#define RIVET_CONCAT_INNER(a, b) a##b
#define RIVET_CONCAT(a, b) RIVET_CONCAT_INNER(a, b)

// The success path copies nothing (it runs once per value in the writers' loops).
#define RIVET_RETURN_IF_ERROR(expr)                                                             \
  do {                                                                                          \
    auto&& _rivet_status = (expr);                                                              \
    if (!::rivet::internal::IsOk(_rivet_status)) {                                              \
      return ::rivet::internal::ToStatus(std::forward<decltype(_rivet_status)>(_rivet_status)); \
    }                                                                                           \
  } while (false)

#define RIVET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.has_value()) return tmp.error();         \
  lhs = std::move(tmp).value()

#define RIVET_ASSIGN_OR_RETURN(lhs, expr) \
  RIVET_ASSIGN_OR_RETURN_IMPL(RIVET_CONCAT(_rivet_result_, __LINE__), lhs, expr)
