// Status values of the tlsgen runtime. Errors are values, never exceptions.
//
// A Status carries a portable code plus `detail`: the mbedTLS error code (negative) for
// Code::kTls, errno for POSIX I/O errors, or a backend-specific number documented by the
// backend that produced it. IoResult is a Status plus a byte count (Pigweed's StatusWithSize).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tlsgen {

enum class Code : std::uint8_t {
  kOk = 0,
  kWouldBlock,          // non-blocking operation cannot make progress now; retry later
  kClosed,              // the peer closed the connection (clean EOF / close_notify)
  kTimeout,             // a blocking operation exceeded its deadline
  kInvalidArgument,     // caller error: bad handle, bad span, bad address
  kResourceExhausted,   // out of heap, sockets or buffer space
  kFailedPrecondition,  // called in the wrong state (e.g. read before connect)
  kUnavailable,         // could not reach the peer (refused, DNS, modem has no link)
  kIo,                  // transport error (detail: errno or backend code)
  kTls,                 // mbedTLS reported an error (detail: the mbedTLS code, negative)
  kDataLoss,            // corruption detected (heap header, malformed modem frame)
};

const char* to_string(Code code);  // human text: "resource exhausted"
const char* name(Code code);       // the enumerator: "kResourceExhausted" (for parseable logs)

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  constexpr explicit Status(Code code, std::int32_t detail = 0) : code_(code), detail_(detail) {}

  static constexpr Status Ok() { return Status(); }
  static constexpr Status Tls(int mbedtls_error) { return Status(Code::kTls, mbedtls_error); }

  constexpr bool ok() const { return code_ == Code::kOk; }
  constexpr Code code() const { return code_; }
  constexpr std::int32_t detail() const { return detail_; }

  friend constexpr bool operator==(Status a, Status b) {
    return a.code_ == b.code_ && a.detail_ == b.detail_;
  }

 private:
  Code code_ = Code::kOk;
  std::int32_t detail_ = 0;
};

// Result of a read or write: how many bytes moved, and why it stopped.
// size may be non-zero together with a non-ok status only for kClosed after a partial read.
struct [[nodiscard]] IoResult {
  Status status;
  std::size_t size = 0;

  constexpr bool ok() const { return status.ok(); }
};

// A value or the Status explaining its absence. T must be trivially copyable (handles, ids).
template <typename T>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  constexpr Result(Status status) : status_(status) {}  // NOLINT(google-explicit-constructor)

  constexpr bool ok() const { return status_.ok(); }
  constexpr Status status() const { return status_; }
  constexpr T value() const { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace tlsgen
