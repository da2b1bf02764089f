// PosixTcpStack: the TcpStack interface over BSD sockets, for hosts (Linux, macOS).
//
// A fixed table of kMaxSockets slots lives inside the object: no allocation. Handles are slot
// indices; a handle is free for reuse only after close(). Every descriptor is non-blocking
// underneath; Mode::kBlocking waits with poll() for at most timeout_ms per call and then returns
// Code::kTimeout (the operation may be retried).
//
// Numeric addresses (dotted IPv4, IPv6 literals) are parsed with inet_pton() and used as they are:
// no resolver, no allocation. Names are a host-only convenience: they go to getaddrinfo(), which
// allocates from the C library's malloc (IPv4 and IPv6; a blocking connect tries each address in
// turn, a non-blocking connect uses the first one). Results:
//   connect  kOk | kWouldBlock (non-blocking, in progress: call connect again) | kTimeout |
//            kUnavailable (detail: errno such as ECONNREFUSED, or the getaddrinfo EAI_* code) |
//            kInvalidArgument (bad handle, null host, port 0) | kFailedPrecondition (already connected)
//   write    bytes accepted (may be fewer than offered) | kWouldBlock | kTimeout |
//            kClosed (detail EPIPE or ECONNRESET: the peer is gone) | kIo (detail errno)
//   read     >= 1 byte | kWouldBlock | kTimeout | kClosed (detail 0: orderly EOF, ECONNRESET: reset) |
//            kIo (detail errno)
// The destructor closes every socket still open. SIGPIPE is never raised (MSG_NOSIGNAL / SO_NOSIGPIPE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/posix_sockets.hpp"
#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"

struct sockaddr;  // <sys/socket.h>, needed only by the implementation

namespace tlsgen {

class PosixTcpStack final : public TcpStack, public PosixSockets {
 public:
  // timeout_ms: the per-call wait limit of Mode::kBlocking operations, see set_timeout_ms().
  explicit PosixTcpStack(int timeout_ms = kDefaultTimeoutMs) : PosixSockets(timeout_ms) {}

  Result<Socket> open(Mode mode) override { return open_slot(mode); }
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult write(Socket socket, std::span<const std::byte> data) override;
  IoResult read(Socket socket, std::span<std::byte> buffer) override;
  Status close(Socket socket) override { return close_slot(socket); }

 private:
  Status finish_connect(Slot& s, int wait_ms);
  Status connect_address(Slot& s, const ::sockaddr* address, std::uint32_t address_len);
};

}  // namespace tlsgen
