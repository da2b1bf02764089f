// PosixUdpStack: the UdpStack interface (udp_stack.hpp) over BSD datagram sockets, for hosts.
//
// Like PosixTcpStack: a fixed table of kMaxSockets slots inside the object (no allocation), handles are
// slot indices, every descriptor is non-blocking underneath, and Mode::kBlocking waits with poll() for at
// most timeout_ms per call, then returns Code::kTimeout (the call may be retried). connect() is a connected
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

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"
#include "tlsgen/udp_stack.hpp"

namespace tlsgen {

class PosixUdpStack final : public UdpStack {
 public:
  static constexpr std::size_t kMaxSockets = 8;
  static constexpr int kDefaultTimeoutMs = 10000;

  explicit PosixUdpStack(int timeout_ms = kDefaultTimeoutMs) : timeout_ms_(valid_timeout_ms(timeout_ms)) {}
  ~PosixUdpStack();

  Result<Socket> open(Mode mode) override;
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult send(Socket socket, std::span<const std::byte> datagram) override;
  IoResult receive(Socket socket, std::span<std::byte> buffer) override;
  Status close(Socket socket) override;

  // Per-call wait limit of Mode::kBlocking operations, in milliseconds; values <= 0 become 1 ms (poll()
  // would take 0 as "do not wait" and a negative value as "wait forever").
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = valid_timeout_ms(timeout_ms); }
  int timeout_ms() const { return timeout_ms_; }
  static constexpr int valid_timeout_ms(int timeout_ms) { return timeout_ms > 0 ? timeout_ms : 1; }

  // Number of handles currently open (for leak checks in tests).
  std::size_t open_count() const;

  // The operating-system descriptor behind a handle (-1 before connect or for a bad handle).
  int native_handle(Socket socket) const;

 private:
  struct Slot {
    int fd = -1;
    bool used = false;
    Mode mode = Mode::kBlocking;
  };

  Slot* slot(Socket socket);
  const Slot* slot(Socket socket) const;

  std::array<Slot, kMaxSockets> slots_{};
  int timeout_ms_;
};

}  // namespace tlsgen
