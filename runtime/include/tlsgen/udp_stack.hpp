// The UdpStack interface: the datagram counterpart of TcpStack (tcp_stack.hpp), for DTLS (issue 15).
//
// Same conventions as TcpStack: handles are small integers owned by the stack, data moves through spans,
// results are values, and a socket opened in Mode::kNonBlocking returns Code::kWouldBlock instead of
// waiting, while Mode::kBlocking waits up to the stack's own timeout and then returns Code::kTimeout.
// What differs is the unit: a datagram is sent whole or not at all, and received whole or not at all.
//
// Contract for every implementation:
//   - open() hands out a handle or kResourceExhausted; handles are never reused while open.
//   - connect() sets the default peer ("host": dotted IPv4 or a name the backend can resolve, and port):
//     send() goes to it, and receive() delivers only its datagrams. Once per handle: a second connect() is
//     kFailedPrecondition (close the handle and open another for a new peer). send() and receive() before
//     connect() are kFailedPrecondition.
//   - send() sends `datagram` as one datagram: the result's size is datagram.size() on success, 0 on any
//     error. A datagram larger than the stack can send is kInvalidArgument (never split, never cut).
//   - receive() delivers one datagram (size 0 for an empty one). A datagram larger than `buffer` is
//     dropped and reported: kResourceExhausted, detail its length (or -1 if unknown), size 0; the next
//     call gets the next datagram. Never a silently truncated datagram.
//   - receive_within() is receive() with its own bound on the wait, whatever the handle's mode: it waits at most
//     `wait_ms` for a datagram (0: takes one that is there, else kTimeout at once) and then returns kTimeout.
//     DTLS's retransmission timer (SslUdpStack) waits this way.
//   - A peer that answers with "port unreachable" shows as kUnavailable (detail: the backend's code).
//   - close() releases the handle in every state; closing an unknown handle is kInvalidArgument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"  // Socket, kInvalidSocket, Mode

namespace tlsgen {

class UdpStack {
 public:
  UdpStack() = default;
  UdpStack(const UdpStack&) = delete;
  UdpStack& operator=(const UdpStack&) = delete;

  virtual Result<Socket> open(Mode mode) = 0;
  virtual Status connect(Socket socket, const char* host, std::uint16_t port) = 0;
  virtual IoResult send(Socket socket, std::span<const std::byte> datagram) = 0;
  virtual IoResult receive(Socket socket, std::span<std::byte> buffer) = 0;
  virtual IoResult receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) = 0;
  virtual Status close(Socket socket) = 0;

 protected:
  ~UdpStack() = default;  // not owned through the interface
};

}  // namespace tlsgen
