// What PosixTcpStack and PosixUdpStack share: descriptor setup, a poll() wait and numeric addresses.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstdint>

#include "tlsgen/status.hpp"

namespace tlsgen::posix {

// send() flags: never SIGPIPE where the platform can say so per call (elsewhere SO_NOSIGPIPE, make_socket()).
#if defined(MSG_NOSIGNAL)
inline constexpr int kSendFlags = MSG_NOSIGNAL;
#else
inline constexpr int kSendFlags = 0;
#endif

// A socket of `family` and `type` (SOCK_STREAM, SOCK_DGRAM), O_NONBLOCK and FD_CLOEXEC, SIGPIPE off where
// the platform has SO_NOSIGPIPE; -1 with errno on failure.
int make_socket(int family, int type);

// Waits for `events` on fd for up to wait_ms (0: just look). kOk when ready (or POLLERR/POLLHUP: the next
// call reports the error), kWouldBlock when wait_ms is 0 and nothing is ready, kTimeout when the deadline
// passed, kIo (detail errno) on poll failure.
Status wait_for(int fd, short events, int wait_ms);

bool would_block(int err);

// A name and port through getaddrinfo() (a host-only convenience: the C library allocates the list, which
// the caller frees with freeaddrinfo()): kOk, or kUnavailable with the EAI_* code.
Status resolve(const char* host, std::uint16_t port, int type, addrinfo** list);

// A numeric IPv4 or IPv6 address and the port as a socket address; false for anything else (a name).
bool numeric_address(const char* host, std::uint16_t port, sockaddr_storage& out, socklen_t& out_len);

}  // namespace tlsgen::posix
