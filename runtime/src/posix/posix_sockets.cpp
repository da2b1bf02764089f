// PosixSockets: the slot table PosixTcpStack and PosixUdpStack share. See posix_sockets.hpp.
#include "tlsgen/posix_sockets.hpp"

#include <unistd.h>

#include <cerrno>

namespace tlsgen {

PosixSockets::~PosixSockets() {
  for (Slot& s : slots_) {
    if (s.fd >= 0) {
      ::close(s.fd);
    }
    s = Slot{};
  }
}

PosixSockets::Slot* PosixSockets::slot(Socket socket) {
  if (socket < 0 || static_cast<std::size_t>(socket) >= kMaxSockets) {
    return nullptr;
  }
  Slot& s = slots_[static_cast<std::size_t>(socket)];
  return s.state == State::kFree ? nullptr : &s;
}

const PosixSockets::Slot* PosixSockets::slot(Socket socket) const {
  if (socket < 0 || static_cast<std::size_t>(socket) >= kMaxSockets) {
    return nullptr;
  }
  const Slot& s = slots_[static_cast<std::size_t>(socket)];
  return s.state == State::kFree ? nullptr : &s;
}

std::size_t PosixSockets::open_count() const {
  std::size_t n = 0;
  for (const Slot& s : slots_) {
    n += s.state == State::kFree ? 0U : 1U;
  }
  return n;
}

int PosixSockets::native_handle(Socket socket) const {
  const Slot* s = slot(socket);
  return s == nullptr ? -1 : s->fd;
}

Result<Socket> PosixSockets::open_slot(Mode mode) {
  for (std::size_t i = 0; i < kMaxSockets; ++i) {
    if (slots_[i].state == State::kFree) {
      slots_[i] = Slot{-1, State::kOpen, mode};
      return static_cast<Socket>(i);
    }
  }
  return Status(Code::kResourceExhausted);
}

Status PosixSockets::io_slot(Socket socket, const void* data, std::size_t size, bool empty_ok, Slot*& out) {
  out = slot(socket);
  if (out == nullptr || (data == nullptr && size != 0) || (!empty_ok && (size == 0 || data == nullptr))) {
    return Status(Code::kInvalidArgument);
  }
  return out->state == State::kConnected ? Status::Ok() : Status(Code::kFailedPrecondition);
}

Status PosixSockets::close_slot(Socket socket) {
  Slot* s = slot(socket);
  if (s == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  Status result;
  if (s->fd >= 0 && ::close(s->fd) < 0 && errno != EINTR) {
    result = Status(Code::kIo, errno);
  }
  *s = Slot{};
  return result;
}

}  // namespace tlsgen
