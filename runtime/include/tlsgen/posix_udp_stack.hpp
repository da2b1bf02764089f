// PosixUdpStack: the UdpStack interface (udp_stack.hpp) over BSD datagram sockets, for hosts.
//
// Like PosixTcpStack (the slot table, the non-blocking descriptors and the per-call timeout of
// Mode::kBlocking come from PosixSockets, posix_sockets.hpp). connect() is a connected
// UDP socket: the kernel then filters out datagrams from anyone but the peer, and reports the peer's ICMP
// "port unreachable" on a later call. Numeric addresses are used as they are; names go to getaddrinfo()
// (the first address of the family the resolver gives first; a host-only convenience that allocates from
// the C library). Results:
//   connect  kOk | kUnavailable (detail: errno, or the getaddrinfo EAI_* code) | kInvalidArgument (bad
//            handle, null host, port 0) | kFailedPrecondition (connected already) | kResourceExhausted (no
//            descriptor; detail errno)
//   send     datagram.size() | kWouldBlock | kTimeout | kInvalidArgument (detail EMSGSIZE: larger than a
//            datagram can be) | kUnavailable (detail ECONNREFUSED: the peer's port is closed) |
//            kFailedPrecondition (not connected) | kIo (detail errno)
//   receive  one datagram (>= 0 bytes) | kWouldBlock | kTimeout | kResourceExhausted (the datagram was
//            larger than the buffer and is dropped; detail its length) | kUnavailable (detail
//            ECONNREFUSED) | kFailedPrecondition (not connected) | kIo (detail errno)
// The destructor closes every socket still open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/posix_sockets.hpp"
#include "tlsgen/status.hpp"
#include "tlsgen/udp_stack.hpp"

namespace tlsgen {

class PosixUdpStack final : public UdpStack, public PosixSockets {
 public:
  explicit PosixUdpStack(int timeout_ms = kDefaultTimeoutMs) : PosixSockets(timeout_ms) {}

  Result<Socket> open(Mode mode) override { return open_slot(mode); }
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult send(Socket socket, std::span<const std::byte> datagram) override;
  IoResult receive(Socket socket, std::span<std::byte> buffer) override;
  IoResult receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) override;
  Status close(Socket socket) override { return close_slot(socket); }

 private:
  IoResult receive_waiting(Socket socket, std::span<std::byte> buffer, int wait_ms);  // -1: as the mode says
};

}  // namespace tlsgen
