// The TcpStack interface: what every network backend offers, and what SslTcpStack offers back.
//
// The shape follows the seed's embedded-nal TcpStack (open, connect, write, read, close), in C++:
// handles are small integers owned by the stack, data moves through spans, and results are
// values. A socket opened in Mode::kNonBlocking returns Code::kWouldBlock from connect, read and
// write instead of waiting; in Mode::kBlocking they wait up to the stack's own timeout and then
// return Code::kTimeout.
//
// Contract for every implementation:
//   - open() hands out a handle or kResourceExhausted; handles are never reused while open.
//   - connect() to "host" (dotted IPv4 or a name the backend can resolve) and port.
//   - write() may accept fewer bytes than offered (partial write): the caller loops.
//   - read() returns at least one byte, or kWouldBlock (non-blocking), or kClosed at EOF, or an error.
//   - close() releases the handle in every state; closing an unknown handle is kInvalidArgument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"

namespace tlsgen {

using Socket = int;
inline constexpr Socket kInvalidSocket = -1;

enum class Mode : std::uint8_t { kBlocking, kNonBlocking };

class TcpStack {
 public:
  TcpStack() = default;
  TcpStack(const TcpStack&) = delete;
  TcpStack& operator=(const TcpStack&) = delete;

  virtual Result<Socket> open(Mode mode) = 0;
  virtual Status connect(Socket socket, const char* host, std::uint16_t port) = 0;
  virtual IoResult write(Socket socket, std::span<const std::byte> data) = 0;
  virtual IoResult read(Socket socket, std::span<std::byte> buffer) = 0;
  virtual Status close(Socket socket) = 0;

 protected:
  ~TcpStack() = default;  // not owned through the interface
};

}  // namespace tlsgen
