// PosixSockets: what PosixTcpStack and PosixUdpStack share (hosts only).
//
// A fixed table of kMaxSockets slots inside the object: no allocation. Handles are slot indices; a
// handle is free for reuse only after close(). Every descriptor is non-blocking underneath; Mode::kBlocking
// waits with poll() for at most timeout_ms per call and then returns Code::kTimeout (the operation may be
// retried). The destructor closes every descriptor still open.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"  // Socket, Mode

namespace tlsgen {

class PosixSockets {
 public:
  static constexpr std::size_t kMaxSockets = 8;
  static constexpr int kDefaultTimeoutMs = 10000;

  PosixSockets(const PosixSockets&) = delete;
  PosixSockets& operator=(const PosixSockets&) = delete;

  // Per-call wait limit of Mode::kBlocking operations, in milliseconds. Values <= 0 become 1 ms (here
  // and in the constructor): poll() would take 0 as "do not wait" (blocking calls then returning
  // kWouldBlock) and a negative value as "wait forever" (a blocking call that never times out).
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = valid_timeout_ms(timeout_ms); }
  int timeout_ms() const { return timeout_ms_; }
  static constexpr int valid_timeout_ms(int timeout_ms) { return timeout_ms > 0 ? timeout_ms : 1; }

  // Number of handles currently open (for leak checks in tests).
  std::size_t open_count() const;

  // The operating-system descriptor behind a handle (-1 before connect or for a bad handle).
  int native_handle(Socket socket) const;

 protected:
  explicit PosixSockets(int timeout_ms) : timeout_ms_(valid_timeout_ms(timeout_ms)) {}
  ~PosixSockets();

  enum class State : std::uint8_t { kFree, kOpen, kConnecting, kConnected };
  struct Slot {
    int fd = -1;
    State state = State::kFree;
    Mode mode = Mode::kBlocking;
  };

  Slot* slot(Socket socket);  // nullptr for a handle that is not open
  const Slot* slot(Socket socket) const;
  Result<Socket> open_slot(Mode mode);
  Status close_slot(Socket socket);  // closes its descriptor and frees the handle; kInvalidArgument if unknown
  // The connected slot a send or receive works on: kInvalidArgument for an unknown handle or a bad span
  // (data null with a non-zero size, or, when empty_ok is false, an empty one), kFailedPrecondition
  // before connect() completed.
  Status io_slot(Socket socket, const void* data, std::size_t size, bool empty_ok, Slot*& out);

  int timeout_ms_;

 private:
  std::array<Slot, kMaxSockets> slots_{};
};

}  // namespace tlsgen
