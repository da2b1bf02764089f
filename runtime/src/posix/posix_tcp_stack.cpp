// PosixTcpStack: BSD sockets behind the TcpStack interface. See posix_tcp_stack.hpp for the
// result contract. Every descriptor is O_NONBLOCK; blocking mode is poll() with a deadline.
#include "tlsgen/posix_tcp_stack.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "socket_util.hpp"

namespace tlsgen {
namespace {

int make_socket(int family) {
  const int fd = posix::make_socket(family, SOCK_STREAM);
  if (fd >= 0) {
    const int one = 1;
    // Small TLS records go out at once (handshake flights, HTTP requests).
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

Status connect_error(int err) {
  switch (err) {
    case ETIMEDOUT:
      return Status(Code::kTimeout, err);
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
    case ECONNRESET:
      return Status(Code::kUnavailable, err);
    default:
      return Status(Code::kIo, err);
  }
}

using posix::numeric_address;
using posix::wait_for;
using posix::would_block;

}  // namespace

Status PosixTcpStack::finish_connect(Slot& s, int wait_ms) {
  const Status ready = wait_for(s.fd, POLLOUT, wait_ms);
  if (!ready.ok()) {
    return ready;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
    err = errno;
  }
  if (err != 0) {
    return connect_error(err);
  }
  s.state = State::kConnected;
  return Status::Ok();
}

Status PosixTcpStack::connect(Socket socket, const char* host, std::uint16_t port) {
  Slot* s = slot(socket);
  if (s == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  if (s->state == State::kConnected) {
    return Status(Code::kFailedPrecondition);
  }
  if (s->state == State::kConnecting) {  // a non-blocking connect in progress
    const Status st = finish_connect(*s, s->mode == Mode::kBlocking ? timeout_ms_ : 0);
    if (!st.ok() && st.code() != Code::kWouldBlock && st.code() != Code::kTimeout) {
      ::close(s->fd);
      s->fd = -1;
      s->state = State::kOpen;
    }
    return st;
  }
  if (host == nullptr || port == 0) {
    return Status(Code::kInvalidArgument);
  }

  // Numeric addresses need no resolver (and no allocation): one address, used as it is.
  sockaddr_storage numeric{};
  socklen_t numeric_len = 0;
  if (numeric_address(host, port, numeric, numeric_len)) {
    return connect_address(*s, reinterpret_cast<const sockaddr*>(&numeric), numeric_len);
  }

  // A name: getaddrinfo() (host-only convenience; the C library allocates the address list).
  addrinfo* list = nullptr;
  const Status resolved = posix::resolve(host, port, SOCK_STREAM, &list);
  if (!resolved.ok()) {
    return resolved;
  }
  Status result(Code::kUnavailable);
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    result = connect_address(*s, ai->ai_addr, static_cast<std::uint32_t>(ai->ai_addrlen));
    if (result.ok() || result.code() == Code::kWouldBlock) {
      break;  // connected, or a non-blocking connect in progress on this address
    }
  }
  ::freeaddrinfo(list);
  return result;
}

// One connection attempt. Ok: connected; kWouldBlock: non-blocking, in progress (state kConnecting);
// anything else: this address failed and the slot is back to kOpen without a descriptor.
Status PosixTcpStack::connect_address(Slot& s, const sockaddr* address, std::uint32_t address_len) {
  const int fd = make_socket(address->sa_family);
  if (fd < 0) {
    return Status(Code::kResourceExhausted, errno);
  }
  s.fd = fd;
  int rc;
  do {
    rc = ::connect(fd, address, static_cast<socklen_t>(address_len));
  } while (rc < 0 && errno == EINTR);
  Status result;
  if (rc == 0) {
    s.state = State::kConnected;
    return Status::Ok();
  }
  if (errno != EINPROGRESS) {
    result = connect_error(errno);
  } else if (s.mode == Mode::kNonBlocking) {
    s.state = State::kConnecting;
    return Status(Code::kWouldBlock);
  } else {
    s.state = State::kConnecting;
    result = finish_connect(s, timeout_ms_);
    if (result.ok()) {
      return result;
    }
  }
  ::close(fd);
  s.fd = -1;
  s.state = State::kOpen;
  return result;
}

IoResult PosixTcpStack::write(Socket socket, std::span<const std::byte> data) {
  Slot* s = nullptr;
  const Status usable = io_slot(socket, data.data(), data.size(), true, s);
  if (!usable.ok()) {
    return {usable, 0};
  }
  if (data.empty()) {
    return {Status::Ok(), 0};
  }
  for (;;) {
    const ssize_t n = ::send(s->fd, data.data(), data.size(), posix::kSendFlags);
    if (n >= 0) {
      return {Status::Ok(), static_cast<std::size_t>(n)};
    }
    const int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (would_block(err)) {
      if (s->mode == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      const Status ready = wait_for(s->fd, POLLOUT, timeout_ms_);
      if (!ready.ok()) {
        return {ready, 0};
      }
      continue;
    }
    if (err == EPIPE || err == ECONNRESET) {
      return {Status(Code::kClosed, err), 0};
    }
    return {Status(Code::kIo, err), 0};
  }
}

IoResult PosixTcpStack::read(Socket socket, std::span<std::byte> buffer) {
  Slot* s = nullptr;
  const Status usable = io_slot(socket, buffer.data(), buffer.size(), false, s);
  if (!usable.ok()) {
    return {usable, 0};
  }
  for (;;) {
    const ssize_t n = ::recv(s->fd, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      return {Status::Ok(), static_cast<std::size_t>(n)};
    }
    if (n == 0) {
      return {Status(Code::kClosed), 0};
    }
    const int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (would_block(err)) {
      if (s->mode == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      const Status ready = wait_for(s->fd, POLLIN, timeout_ms_);
      if (!ready.ok()) {
        return {ready, 0};
      }
      continue;
    }
    if (err == ECONNRESET) {
      return {Status(Code::kClosed, err), 0};
    }
    return {Status(Code::kIo, err), 0};
  }
}

}  // namespace tlsgen
