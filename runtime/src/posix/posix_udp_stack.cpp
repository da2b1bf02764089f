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

#include "socket_util.hpp"

namespace tlsgen {
namespace {

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

Status PosixUdpStack::connect(Socket socket, const char* host, std::uint16_t port) {
  Slot* s = slot(socket);
  if (s == nullptr || host == nullptr || port == 0) {
    return Status(Code::kInvalidArgument);
  }
  if (s->state == State::kConnected) {
    return Status(Code::kFailedPrecondition);  // one peer per handle (udp_stack.hpp)
  }
  sockaddr_storage numeric{};
  socklen_t numeric_len = 0;
  if (posix::numeric_address(host, port, numeric, numeric_len)) {
    const Status result = connect_to(s->fd, reinterpret_cast<const sockaddr*>(&numeric), numeric_len);
    s->state = result.ok() ? State::kConnected : s->state;
    return result;
  }
  // A name: getaddrinfo() (host-only convenience; the C library allocates the address list). UDP has no
  // handshake to tell a live address from a dead one, so the first address is the peer.
  addrinfo* list = nullptr;
  const Status resolved = posix::resolve(host, port, SOCK_DGRAM, &list);
  if (!resolved.ok()) {
    return resolved;
  }
  const Status result = connect_to(s->fd, list->ai_addr, list->ai_addrlen);
  ::freeaddrinfo(list);
  s->state = result.ok() ? State::kConnected : s->state;
  return result;
}

IoResult PosixUdpStack::send(Socket socket, std::span<const std::byte> datagram) {
  Slot* s = nullptr;
  const Status usable = io_slot(socket, datagram.data(), datagram.size(), true, s);
  if (!usable.ok()) {
    return {usable, 0};
  }
  for (;;) {
    const ssize_t n = ::send(s->fd, datagram.data(), datagram.size(), posix::kSendFlags);
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
  return receive_waiting(socket, buffer, -1);
}

IoResult PosixUdpStack::receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) {
  return receive_waiting(socket, buffer, static_cast<int>(wait_ms > INT32_MAX ? INT32_MAX : wait_ms));
}

IoResult PosixUdpStack::receive_waiting(Socket socket, std::span<std::byte> buffer, int wait_ms) {
  Slot* s = nullptr;
  const Status usable = io_slot(socket, buffer.data(), buffer.size(), true, s);
  if (!usable.ok()) {
    return {usable, 0};
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
      if (wait_ms < 0 && s->mode == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      if (wait_ms == 0) {
        return {Status(Code::kTimeout), 0};
      }
      const Status ready = posix::wait_for(s->fd, POLLIN, wait_ms < 0 ? timeout_ms_ : wait_ms);
      if (!ready.ok()) {
        return {ready, 0};
      }
      wait_ms = wait_ms < 0 ? wait_ms : 0;  // one bounded wait: a datagram that then fails is not waited for again
      continue;
    }
    return {io_error(err), 0};
  }
}

}  // namespace tlsgen
