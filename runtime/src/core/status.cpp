#include "tlsgen/status.hpp"

namespace tlsgen {

const char* to_string(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kWouldBlock:
      return "would block";
    case Code::kClosed:
      return "closed";
    case Code::kTimeout:
      return "timeout";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kResourceExhausted:
      return "resource exhausted";
    case Code::kFailedPrecondition:
      return "failed precondition";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kIo:
      return "i/o error";
    case Code::kTls:
      return "tls error";
    case Code::kDataLoss:
      return "data loss";
  }
  return "unknown";
}

}  // namespace tlsgen
