// What PosixTcpStack and PosixUdpStack share. See socket_util.hpp.
#include "socket_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tlsgen::posix {

int make_socket(int family, int type) {
  const int fd = ::socket(family, type, 0);
  if (fd < 0) {
    return -1;
  }
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
#if defined(SO_NOSIGPIPE)
  const int one = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
}

Status wait_for(int fd, short events, int wait_ms) {
  pollfd p{};
  p.fd = fd;
  p.events = events;
  for (;;) {
    const int n = ::poll(&p, 1, wait_ms);
    if (n > 0) {
      return Status::Ok();
    }
    if (n == 0) {
      return Status(wait_ms == 0 ? Code::kWouldBlock : Code::kTimeout);
    }
    if (errno != EINTR) {
      return Status(Code::kIo, errno);
    }
  }
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

Status resolve(const char* host, std::uint16_t port, int type, addrinfo** list) {
  char service[8];
  std::snprintf(service, sizeof service, "%u", static_cast<unsigned>(port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  hints.ai_protocol = type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  const int gai = ::getaddrinfo(host, service, &hints, list);
  return gai == 0 ? Status::Ok() : Status(Code::kUnavailable, gai);
}

bool numeric_address(const char* host, std::uint16_t port, sockaddr_storage& out, socklen_t& out_len) {
  out = sockaddr_storage{};
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&out, &v4, sizeof v4);
    out_len = sizeof v4;
    return true;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&out, &v6, sizeof v6);
    out_len = sizeof v6;
    return true;
  }
  return false;
}

}  // namespace tlsgen::posix
