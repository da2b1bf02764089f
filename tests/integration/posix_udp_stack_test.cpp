// PosixUdpStack against real loopback datagram sockets (peers made here with plain BSD calls).
#include "tlsgen/posix_udp_stack.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace {

using tlsgen::Code;
using tlsgen::Mode;
using tlsgen::PosixUdpStack;
using tlsgen::Socket;

// A UDP socket bound to 127.0.0.1 on an ephemeral port; it answers whoever wrote to it last.
class Peer {
 public:
  Peer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Peer() {
    if (fd_ >= 0) ::close(fd_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  std::uint16_t port() const { return port_; }

  // One datagram, waiting up to 2 s; empty optional-like: returns false on timeout.
  bool receive(std::vector<std::byte>& out) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return false;
    std::array<std::byte, 70000> buffer{};
    socklen_t len = sizeof from_;
    const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from_), &len);
    if (n < 0) return false;
    out.assign(buffer.begin(), buffer.begin() + n);
    return true;
  }
  void reply(std::span<const std::byte> data) {
    ASSERT_EQ(::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&from_), sizeof from_),
              static_cast<ssize_t>(data.size()));
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  sockaddr_in from_{};
};

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131u + seed) & 0xFFu);
  return v;
}

TEST(PosixUdpStack, HandlesAreBoundedAndReleased) {
  PosixUdpStack stack;
  std::vector<Socket> handles;
  for (std::size_t i = 0; i < PosixUdpStack::kMaxSockets; ++i) {
    const auto r = stack.open(Mode::kBlocking);
    ASSERT_TRUE(r.ok());
    handles.push_back(r.value());
  }
  EXPECT_EQ(stack.open(Mode::kBlocking).status().code(), Code::kResourceExhausted);
  EXPECT_EQ(stack.open_count(), PosixUdpStack::kMaxSockets);
  for (Socket s : handles) EXPECT_TRUE(stack.close(s).ok());
  EXPECT_EQ(stack.open_count(), 0u);
  EXPECT_EQ(stack.close(handles[0]).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.close(tlsgen::kInvalidSocket).code(), Code::kInvalidArgument);
}

TEST(PosixUdpStack, RefusesBadArgumentsAndUseBeforeConnect) {
  PosixUdpStack stack;
  const Socket s = stack.open(Mode::kBlocking).value();
  std::array<std::byte, 16> buffer{};
  EXPECT_EQ(stack.send(s, buffer).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(stack.receive(s, buffer).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(stack.connect(s, nullptr, 5684).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.connect(s, "127.0.0.1", 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.connect(7, "127.0.0.1", 5684).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.send(7, buffer).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.connect(s, "no-such-host.invalid", 5684).code(), Code::kUnavailable);
  EXPECT_TRUE(stack.close(s).ok());
}

TEST(PosixUdpStack, KeepsDatagramBoundariesBothWays) {
  Peer peer;
  PosixUdpStack stack;
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", peer.port()).ok());
  const std::array<std::size_t, 4> sizes{1, 100, 1200, 0};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto d = pattern(sizes[i], static_cast<unsigned>(i));
    const auto r = stack.send(s, d);
    ASSERT_TRUE(r.ok()) << tlsgen::name(r.status.code());
    EXPECT_EQ(r.size, d.size());
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::vector<std::byte> got;
    ASSERT_TRUE(peer.receive(got));
    EXPECT_EQ(got, pattern(sizes[i], static_cast<unsigned>(i)));  // one datagram each, in order on loopback
  }
  const auto a = pattern(300, 7);
  const auto b = pattern(5, 9);
  peer.reply(a);
  peer.reply(b);
  std::array<std::byte, 2048> buffer{};
  auto r = stack.receive(s, buffer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<long>(r.size)), a);
  r = stack.receive(s, buffer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<long>(r.size)), b);
  EXPECT_TRUE(stack.close(s).ok());
}

TEST(PosixUdpStack, DropsAndReportsADatagramLargerThanTheBuffer) {
  Peer peer;
  PosixUdpStack stack;
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", peer.port()).ok());
  ASSERT_TRUE(stack.send(s, pattern(1, 0)).ok());
  std::vector<std::byte> hello;
  ASSERT_TRUE(peer.receive(hello));
  const auto big = pattern(600, 3);
  const auto next = pattern(40, 4);
  peer.reply(big);
  peer.reply(next);
  std::array<std::byte, 512> buffer{};
  auto r = stack.receive(s, buffer);
  EXPECT_EQ(r.status.code(), Code::kResourceExhausted);
  EXPECT_EQ(r.size, 0u);
#if defined(__linux__)
  EXPECT_EQ(r.status.detail(), 600);
#endif
  r = stack.receive(s, buffer);  // the next datagram, whole
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<long>(r.size)), next);
  EXPECT_TRUE(stack.close(s).ok());
}

TEST(PosixUdpStack, NonBlockingWouldBlockAndBlockingTimesOut) {
  Peer peer;
  PosixUdpStack stack(50);
  const Socket nb = stack.open(Mode::kNonBlocking).value();
  const Socket b = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(nb, "127.0.0.1", peer.port()).ok());
  ASSERT_TRUE(stack.connect(b, "127.0.0.1", peer.port()).ok());
  std::array<std::byte, 64> buffer{};
  EXPECT_EQ(stack.receive(nb, buffer).status.code(), Code::kWouldBlock);
  EXPECT_EQ(stack.receive(b, buffer).status.code(), Code::kTimeout);
  EXPECT_TRUE(stack.close(nb).ok());
  EXPECT_TRUE(stack.close(b).ok());
}

TEST(PosixUdpStack, OnlyThePeersDatagramsArrive) {
  Peer peer;
  PosixUdpStack stack(100);
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", peer.port()).ok());
  ASSERT_TRUE(stack.send(s, pattern(3, 1)).ok());
  std::vector<std::byte> got;
  ASSERT_TRUE(peer.receive(got));
  // The stranger learns the stack's address from the peer's view and writes to it: the kernel filters it.
  sockaddr_in self{};
  socklen_t len = sizeof self;
  ASSERT_EQ(::getsockname(stack.native_handle(s), reinterpret_cast<sockaddr*>(&self), &len), 0);
  const auto junk = pattern(20, 5);
  const int other = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(other, 0);
  const ssize_t sent = ::sendto(other, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&self), sizeof self);
  ::close(other);
  ASSERT_EQ(sent, static_cast<ssize_t>(junk.size()));
  std::array<std::byte, 64> buffer{};
  EXPECT_EQ(stack.receive(s, buffer).status.code(), Code::kTimeout);
  const auto real = pattern(9, 6);
  peer.reply(real);
  const auto r = stack.receive(s, buffer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.size, real.size());
  EXPECT_TRUE(stack.close(s).ok());
}

TEST(PosixUdpStack, ClosedPortShowsAsUnavailable) {
  std::uint16_t port = 0;
  {
    Peer gone;  // bound, then closed: nobody listens on the port any more
    port = gone.port();
  }
  PosixUdpStack stack(500);
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", port).ok());
  ASSERT_TRUE(stack.send(s, pattern(8, 1)).ok());
  std::array<std::byte, 64> buffer{};
  const auto r = stack.receive(s, buffer);  // the ICMP port unreachable, on the connected socket
  EXPECT_EQ(r.status.code(), Code::kUnavailable);
  EXPECT_EQ(r.status.detail(), ECONNREFUSED);
  EXPECT_TRUE(stack.close(s).ok());
}

TEST(PosixUdpStack, OnePeerPerHandle) {
  Peer first;
  Peer second;
  PosixUdpStack stack;
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", first.port()).ok());
  EXPECT_EQ(stack.connect(s, "127.0.0.1", second.port()).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(stack.send(s, pattern(4, 1)).ok());
  std::vector<std::byte> got;
  ASSERT_TRUE(first.receive(got));  // still the first peer's
  EXPECT_EQ(got, pattern(4, 1));
  EXPECT_TRUE(stack.close(s).ok());
  const Socket t = stack.open(Mode::kBlocking).value();  // a new handle for the new peer
  ASSERT_TRUE(stack.connect(t, "127.0.0.1", second.port()).ok());
  ASSERT_TRUE(stack.send(t, pattern(4, 2)).ok());
  ASSERT_TRUE(second.receive(got));
  EXPECT_EQ(got, pattern(4, 2));
  EXPECT_TRUE(stack.close(t).ok());
  EXPECT_EQ(stack.open_count(), 0u);
}

TEST(PosixUdpStack, OversizedSendIsRefusedWhole) {
  Peer peer;
  PosixUdpStack stack;
  const Socket s = stack.open(Mode::kBlocking).value();
  ASSERT_TRUE(stack.connect(s, "127.0.0.1", peer.port()).ok());
  const std::vector<std::byte> huge(70000);  // above UDP's 65,507-byte payload limit over IPv4
  const auto r = stack.send(s, huge);
  EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status.detail(), EMSGSIZE);
  EXPECT_EQ(r.size, 0u);
  EXPECT_TRUE(stack.close(s).ok());
}

}  // namespace
