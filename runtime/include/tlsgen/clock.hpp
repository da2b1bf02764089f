// Clock: a monotonic millisecond clock, for deadlines that span several transport calls
// (SslTcpStack::set_deadlines). It may wrap: only differences of readings are used.
#pragma once

#include <cstdint>

namespace tlsgen {

class Clock {
 public:
  virtual std::uint32_t now_ms() = 0;

 protected:
  ~Clock() = default;  // not owned through the interface
};

}  // namespace tlsgen
