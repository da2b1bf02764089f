// PosixUdpStack: BSD datagram sockets behind the UdpStack interface. See posix_udp_stack.hpp for the
// result contract. Every descriptor is O_NONBLOCK; blocking mode is poll() with a deadline.
#include "tlsgen/posix_udp_stack.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

#include "socket_util.hpp"

namespace tlsgen {
namespace {

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

#if defined(__linux__)
// Linux's recv() with MSG_TRUNC returns a datagram's real length even when the buffer was shorter.
constexpr int kReceiveFlags = MSG_TRUNC;
#else
constexpr int kReceiveFlags = 0;
#endif

Status io_error(int err) {
  switch (err) {
    case ECONNREFUSED:  // the peer's ICMP port unreachable, reported on a connected socket
    case EHOSTUNREACH:
    case ENETUNREACH:
      return Status(Code::kUnavailable, err);
    case EMSGSIZE:
      return Status(Code::kInvalidArgument, err);
    default:
      return Status(Code::kIo, err);
  }
}

// Creates a descriptor for `address`'s family and connects it; the slot gets it on success only.
Status connect_to(int& slot_fd, const sockaddr* address, socklen_t address_len) {
  const int fd = posix::make_socket(address->sa_family, SOCK_DGRAM);
  if (fd < 0) {
    return Status(Code::kResourceExhausted, errno);
  }
  int rc;
  do {
    rc = ::connect(fd, address, address_len);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    const int err = errno;
    ::close(fd);
    return Status(Code::kUnavailable, err);
  }
  slot_fd = fd;
  return Status::Ok();
}

}  // namespace

PosixUdpStack::~PosixUdpStack() {
  for (Slot& s : slots_) {
    if (s.fd >= 0) {
      ::close(s.fd);
    }
    s = Slot{};
  }
}

PosixUdpStack::Slot* PosixUdpStack::slot(Socket socket) {
  if (socket < 0 || static_cast<std::size_t>(socket) >= kMaxSockets) {
    return nullptr;
  }
  Slot& s = slots_[static_cast<std::size_t>(socket)];
  return s.used ? &s : nullptr;
}

const PosixUdpStack::Slot* PosixUdpStack::slot(Socket socket) const {
  if (socket < 0 || static_cast<std::size_t>(socket) >= kMaxSockets) {
    return nullptr;
  }
  const Slot& s = slots_[static_cast<std::size_t>(socket)];
  return s.used ? &s : nullptr;
}

std::size_t PosixUdpStack::open_count() const {
  std::size_t n = 0;
  for (const Slot& s : slots_) {
    n += s.used ? 1U : 0U;
  }
  return n;
}

int PosixUdpStack::native_handle(Socket socket) const {
  const Slot* s = slot(socket);
  return s == nullptr ? -1 : s->fd;
}

Result<Socket> PosixUdpStack::open(Mode mode) {
  for (std::size_t i = 0; i < kMaxSockets; ++i) {
    if (!slots_[i].used) {
      slots_[i] = Slot{-1, true, mode};
      return static_cast<Socket>(i);
    }
  }
  return Status(Code::kResourceExhausted);
}

Status PosixUdpStack::connect(Socket socket, const char* host, std::uint16_t port) {
  Slot* s = slot(socket);
  if (s == nullptr || host == nullptr || port == 0) {
    return Status(Code::kInvalidArgument);
  }
  if (s->fd >= 0) {
    return Status(Code::kFailedPrecondition);  // one peer per handle (udp_stack.hpp)
  }
  sockaddr_storage numeric{};
  socklen_t numeric_len = 0;
  if (posix::numeric_address(host, port, numeric, numeric_len)) {
    return connect_to(s->fd, reinterpret_cast<const sockaddr*>(&numeric), numeric_len);
  }
  // A name: getaddrinfo() (host-only convenience; the C library allocates the address list). UDP has no
  // handshake to tell a live address from a dead one, so the first address is the peer.
  char service[8];
  std::snprintf(service, sizeof service, "%u", static_cast<unsigned>(port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  addrinfo* list = nullptr;
  const int gai = ::getaddrinfo(host, service, &hints, &list);
  if (gai != 0) {
    return Status(Code::kUnavailable, gai);
  }
  const Status result = connect_to(s->fd, list->ai_addr, list->ai_addrlen);
  ::freeaddrinfo(list);
  return result;
}

IoResult PosixUdpStack::send(Socket socket, std::span<const std::byte> datagram) {
  Slot* s = slot(socket);
  if (s == nullptr || (datagram.data() == nullptr && !datagram.empty())) {
    return {Status(Code::kInvalidArgument), 0};
  }
  if (s->fd < 0) {
    return {Status(Code::kFailedPrecondition), 0};
  }
  for (;;) {
    const ssize_t n = ::send(s->fd, datagram.data(), datagram.size(), kSendFlags);
    if (n >= 0) {
      // A datagram socket sends all of it or fails: a short count would be a kernel breaking UDP.
      if (static_cast<std::size_t>(n) != datagram.size()) {
        return {Status(Code::kIo, EMSGSIZE), 0};
      }
      return {Status::Ok(), datagram.size()};
    }
    const int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (posix::would_block(err) || err == ENOBUFS) {
      if (s->mode == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      const Status ready = posix::wait_for(s->fd, POLLOUT, timeout_ms_);
      if (!ready.ok()) {
        return {ready, 0};
      }
      continue;
    }
    return {io_error(err), 0};
  }
}

IoResult PosixUdpStack::receive(Socket socket, std::span<std::byte> buffer) {
  Slot* s = slot(socket);
  if (s == nullptr || (buffer.data() == nullptr && !buffer.empty())) {
    return {Status(Code::kInvalidArgument), 0};
  }
  if (s->fd < 0) {
    return {Status(Code::kFailedPrecondition), 0};
  }
  for (;;) {
    iovec part{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(s->fd, &message, kReceiveFlags);
    if (n >= 0) {
      if ((message.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) > buffer.size()) {
        // Dropped, not cut: the datagram's length when the platform tells it (Linux), else -1.
        const auto length = static_cast<std::size_t>(n) > buffer.size() && n <= INT32_MAX
                                ? static_cast<std::int32_t>(n) : -1;
        return {Status(Code::kResourceExhausted, length), 0};
      }
      return {Status::Ok(), static_cast<std::size_t>(n)};
    }
    const int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (posix::would_block(err)) {
      if (s->mode == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      const Status ready = posix::wait_for(s->fd, POLLIN, timeout_ms_);
      if (!ready.ok()) {
        return {ready, 0};
      }
      continue;
    }
    return {io_error(err), 0};
  }
}

Status PosixUdpStack::close(Socket socket) {
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
