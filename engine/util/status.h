// Errors are values: every fallible engine call returns a Status or a Result<T>.
// No exceptions cross layers; the FUSE front turns a Status into a negative errno.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace qcow2 {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,  // the caller asked for something that cannot be (bad option, unknown snapshot)
  kNotFound,         // a file or named object does not exist
  kNotQcow2,         // the input is not a qcow2 image at all
  kCorruption,       // the image's bytes contradict the format
  kNotSupported,     // valid format, but a variant we do not handle
  kIOError,          // the operating system refused or failed
  kLimit,            // a value exceeds what we are willing to allocate or walk
  kCancelled,        // the caller asked the operation to stop
  kBusy,             // another process holds the image (QEMU's locks), or a repair is running
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status NotQcow2(std::string m) { return {Code::kNotQcow2, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Limit(std::string m) { return {Code::kLimit, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Holds either a value or a non-ok Status.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}    // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace qcow2

#define QCOW2_CONCAT_INNER(a, b) a##b
#define QCOW2_CONCAT(a, b) QCOW2_CONCAT_INNER(a, b)

#define QCOW2_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::qcow2::Status qcow2_st_ = (expr);    \
    if (!qcow2_st_.ok()) return qcow2_st_; \
  } while (0)

#define QCOW2_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define QCOW2_ASSIGN_OR_RETURN(lhs, expr) \
  QCOW2_ASSIGN_OR_RETURN_IMPL(QCOW2_CONCAT(qcow2_res_, __LINE__), lhs, expr)
