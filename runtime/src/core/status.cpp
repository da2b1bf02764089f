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

const char* name(Code code) {
  switch (code) {
    case Code::kOk:
      return "kOk";
    case Code::kWouldBlock:
      return "kWouldBlock";
    case Code::kClosed:
      return "kClosed";
    case Code::kTimeout:
      return "kTimeout";
    case Code::kInvalidArgument:
      return "kInvalidArgument";
    case Code::kResourceExhausted:
      return "kResourceExhausted";
    case Code::kFailedPrecondition:
      return "kFailedPrecondition";
    case Code::kUnavailable:
      return "kUnavailable";
    case Code::kIo:
      return "kIo";
    case Code::kTls:
      return "kTls";
    case Code::kDataLoss:
      return "kDataLoss";
  }
  return "?";
}

}  // namespace tlsgen
