// PosixTcpStack against real loopback sockets (listeners made here with plain BSD calls).
#include "tlsgen/posix_tcp_stack.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

// getaddrinfo() calls of this process. The executable's definition takes precedence over the C
// library's (and over a sanitizer's interceptor), so PosixTcpStack's calls come here; it forwards to
// the next definition, the C library's.
std::atomic<int> g_getaddrinfo_calls{0};
extern "C" int getaddrinfo(const char* name, const char* service, const addrinfo* hints, addrinfo** result) {
  g_getaddrinfo_calls.fetch_add(1);
  using Fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static const Fn next = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  return next == nullptr ? EAI_SYSTEM : next(name, service, hints, result);
}

namespace {

using tlsgen::Code;
using tlsgen::Mode;
using tlsgen::PosixTcpStack;
using tlsgen::Socket;

std::span<const std::byte> bytes(const char* s) { return {reinterpret_cast<const std::byte*>(s), std::strlen(s)}; }

// A listening socket on 127.0.0.1 with an ephemeral port.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    for (int fd : accepted_) ::close(fd);
    if (fd_ >= 0) ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int accept() {
    const int fd = ::accept(fd_, nullptr, nullptr);
    if (fd >= 0) accepted_.push_back(fd);
    return fd;
  }
  // Closes an accepted connection with RST instead of FIN (SO_LINGER with a zero timeout).
  void reset(int fd) {
    linger hard{1, 0};
    EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
    ::close(fd);
    std::erase(accepted_, fd);
  }
  // Closes the listening socket: its port then refuses connections.
  void stop() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> accepted_;
};

// A listening socket on ::1 (-1 from fd() when the host has no IPv6 loopback).
class Listener6 {
 public:
  Listener6() {
    fd_ = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(a.sin6_port);
  }
  ~Listener6() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Connects a fresh handle in `mode` to the listener and accepts the server side.
struct Connected {
  Socket client = tlsgen::kInvalidSocket;
  int server_fd = -1;
};
Connected connect_pair(PosixTcpStack& stack, Listener& listener, Mode mode) {
  Connected c;
  const auto opened = stack.open(mode);
  EXPECT_TRUE(opened.ok());
  c.client = opened.value();
  tlsgen::Status st = stack.connect(c.client, "127.0.0.1", listener.port());
  for (int i = 0; i < 1000 && st.code() == Code::kWouldBlock; ++i) {
    ::usleep(1000);
    st = stack.connect(c.client, "127.0.0.1", listener.port());
  }
  EXPECT_TRUE(st.ok()) << static_cast<int>(st.code()) << " " << st.detail();
  c.server_fd = listener.accept();
  EXPECT_GE(c.server_fd, 0);
  return c;
}

TEST(PosixTcpStack, Open_HandsOutDistinctHandles_ThenResourceExhausted) {
  PosixTcpStack stack;
  std::vector<Socket> handles;
  for (std::size_t i = 0; i < PosixTcpStack::kMaxSockets; ++i) {
    const auto r = stack.open(Mode::kBlocking);
    ASSERT_TRUE(r.ok());
    for (Socket h : handles) EXPECT_NE(h, r.value());
    handles.push_back(r.value());
  }
  const auto full = stack.open(Mode::kBlocking);
  EXPECT_EQ(full.status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(stack.close(handles[3]).ok());
  const auto again = stack.open(Mode::kNonBlocking);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), handles[3]);  // a closed handle is free again
  EXPECT_EQ(stack.open_count(), PosixTcpStack::kMaxSockets);
}

TEST(PosixTcpStack, Close_UnknownOrClosedHandle_InvalidArgument) {
  PosixTcpStack stack;
  EXPECT_EQ(stack.close(0).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.close(-1).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.close(static_cast<Socket>(PosixTcpStack::kMaxSockets)).code(), Code::kInvalidArgument);
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(stack.close(r.value()).ok());  // closing an unconnected handle is fine
  EXPECT_EQ(stack.close(r.value()).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.open_count(), 0U);
}

TEST(PosixTcpStack, Connect_BadArguments_InvalidArgument) {
  PosixTcpStack stack;
  EXPECT_EQ(stack.connect(0, "127.0.0.1", 80).code(), Code::kInvalidArgument);  // not open
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(stack.connect(r.value(), nullptr, 80).code(), Code::kInvalidArgument);
  EXPECT_EQ(stack.connect(r.value(), "127.0.0.1", 0).code(), Code::kInvalidArgument);
}

TEST(PosixTcpStack, ReadWrite_BeforeConnect_FailedPrecondition) {
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(stack.read(r.value(), buf).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(stack.write(r.value(), bytes("x")).status.code(), Code::kFailedPrecondition);
}

TEST(PosixTcpStack, Connect_ClosedPort_UnavailableWithErrno) {
  Listener listener;
  const std::uint16_t port = listener.port();
  listener.stop();
  for (Mode mode : {Mode::kBlocking, Mode::kNonBlocking}) {
    PosixTcpStack stack;
    const auto r = stack.open(mode);
    ASSERT_TRUE(r.ok());
    tlsgen::Status st = stack.connect(r.value(), "127.0.0.1", port);
    for (int i = 0; i < 1000 && st.code() == Code::kWouldBlock; ++i) {
      ::usleep(1000);
      st = stack.connect(r.value(), "127.0.0.1", port);
    }
    EXPECT_EQ(st.code(), Code::kUnavailable);
    EXPECT_EQ(st.detail(), ECONNREFUSED);
    EXPECT_TRUE(stack.close(r.value()).ok());
  }
}

TEST(PosixTcpStack, Connect_UnresolvableName_Unavailable) {
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  // .invalid never resolves (RFC 6761).
  EXPECT_EQ(stack.connect(r.value(), "tlsgen.invalid", 443).code(), Code::kUnavailable);
}

TEST(PosixTcpStack, Connect_Localhost_ResolvesAndConnects) {
  Listener listener;
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  // "localhost" may resolve to ::1 first: a blocking connect tries each address in turn.
  EXPECT_TRUE(stack.connect(r.value(), "localhost", listener.port()).ok());
  EXPECT_GE(stack.native_handle(r.value()), 0);
  EXPECT_EQ(stack.connect(r.value(), "localhost", listener.port()).code(), Code::kFailedPrecondition);
}

TEST(PosixTcpStack, Connect_NumericIPv4_NoResolverCall) {
  Listener listener;
  for (Mode mode : {Mode::kBlocking, Mode::kNonBlocking}) {
    PosixTcpStack stack;
    const int before = g_getaddrinfo_calls.load();
    const Connected c = connect_pair(stack, listener, mode);  // "127.0.0.1"
    EXPECT_EQ(g_getaddrinfo_calls.load() - before, 0) << "a numeric address must not go through getaddrinfo()";
    EXPECT_GE(stack.native_handle(c.client), 0);
  }
}

TEST(PosixTcpStack, Connect_NumericIPv6_NoResolverCall) {
  Listener6 listener;
  if (listener.fd() < 0) {
    GTEST_SKIP() << "no IPv6 loopback on this host";
  }
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  const int before = g_getaddrinfo_calls.load();
  EXPECT_TRUE(stack.connect(r.value(), "::1", listener.port()).ok());
  EXPECT_EQ(g_getaddrinfo_calls.load() - before, 0);
}

TEST(PosixTcpStack, Connect_Name_GoesThroughResolver) {
  Listener listener;
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  const int before = g_getaddrinfo_calls.load();
  EXPECT_TRUE(stack.connect(r.value(), "localhost", listener.port()).ok());
  EXPECT_EQ(g_getaddrinfo_calls.load() - before, 1);
}

TEST(PosixTcpStack, Connect_AlmostNumeric_TreatedAsName) {
  PosixTcpStack stack;
  const auto r = stack.open(Mode::kBlocking);
  ASSERT_TRUE(r.ok());
  const int before = g_getaddrinfo_calls.load();
  // Not an address inet_pton() accepts: a name for the resolver, which does not find it.
  EXPECT_EQ(stack.connect(r.value(), "127.0.0.1.invalid", 443).code(), Code::kUnavailable);
  EXPECT_EQ(g_getaddrinfo_calls.load() - before, 1);
}

TEST(PosixTcpStack, Timeout_NonPositiveInConstructor_ClampedLikeSetter) {
  EXPECT_EQ(PosixTcpStack(0).timeout_ms(), 1);
  EXPECT_EQ(PosixTcpStack(-5).timeout_ms(), 1);
  EXPECT_EQ(PosixTcpStack(250).timeout_ms(), 250);
  PosixTcpStack stack;
  stack.set_timeout_ms(0);
  EXPECT_EQ(stack.timeout_ms(), 1);
  stack.set_timeout_ms(-1);
  EXPECT_EQ(stack.timeout_ms(), 1);
}

TEST(PosixTcpStack, Timeout_ZeroInConstructor_BlockingReadTimesOutNotWouldBlock) {
  Listener listener;
  PosixTcpStack stack(0);
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(stack.read(c.client, buf).status.code(), Code::kTimeout);  // blocking mode never says kWouldBlock
}

TEST(PosixTcpStack, Blocking_EchoBothWays) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  const tlsgen::IoResult w = stack.write(c.client, bytes("hello"));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size, 5U);
  char got[8] = {};
  ASSERT_EQ(::recv(c.server_fd, got, sizeof got, 0), 5);
  EXPECT_STREQ(got, "hello");
  ASSERT_EQ(::send(c.server_fd, "world!", 6, 0), 6);
  std::array<std::byte, 16> buf{};
  const tlsgen::IoResult rd = stack.read(c.client, buf);
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(rd.size, 6U);
  EXPECT_EQ(std::memcmp(buf.data(), "world!", 6), 0);
}

TEST(PosixTcpStack, Read_EmptyBuffer_InvalidArgument) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  EXPECT_EQ(stack.read(c.client, std::span<std::byte>()).status.code(), Code::kInvalidArgument);
  EXPECT_TRUE(stack.write(c.client, std::span<const std::byte>()).ok());  // nothing to write is fine
}

TEST(PosixTcpStack, Read_NonBlockingWithoutData_WouldBlock) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kNonBlocking);
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(stack.read(c.client, buf).status.code(), Code::kWouldBlock);
}

TEST(PosixTcpStack, Read_BlockingWithoutData_TimesOutAndStaysUsable) {
  Listener listener;
  PosixTcpStack stack(20);
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(stack.read(c.client, buf).status.code(), Code::kTimeout);
  ASSERT_EQ(::send(c.server_fd, "late", 4, 0), 4);
  const tlsgen::IoResult rd = stack.read(c.client, buf);
  EXPECT_TRUE(rd.ok());
  EXPECT_EQ(rd.size, 4U);
}

TEST(PosixTcpStack, Read_PeerClosed_ClosedWithDetailZero) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  ASSERT_EQ(::send(c.server_fd, "bye", 3, 0), 3);
  ::shutdown(c.server_fd, SHUT_WR);
  std::array<std::byte, 16> buf{};
  const tlsgen::IoResult first = stack.read(c.client, buf);
  EXPECT_TRUE(first.ok());
  EXPECT_EQ(first.size, 3U);
  const tlsgen::IoResult eof = stack.read(c.client, buf);
  EXPECT_EQ(eof.status.code(), Code::kClosed);
  EXPECT_EQ(eof.status.detail(), 0);
}

TEST(PosixTcpStack, PeerReset_ReadAndWriteReportClosed) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kBlocking);
  listener.reset(c.server_fd);
  std::array<std::byte, 16> buf{};
  const tlsgen::IoResult rd = stack.read(c.client, buf);
  EXPECT_EQ(rd.status.code(), Code::kClosed);
  EXPECT_EQ(rd.status.detail(), ECONNRESET);
  // Whatever the first write hits (RST already seen or not), a second one reports the closed peer
  // and never raises SIGPIPE.
  (void)stack.write(c.client, bytes("x"));
  const tlsgen::IoResult w = stack.write(c.client, bytes("y"));
  EXPECT_EQ(w.status.code(), Code::kClosed);
}

TEST(PosixTcpStack, Write_NonBlockingPeerNotReading_PartialThenWouldBlock) {
  Listener listener;
  PosixTcpStack stack;
  const Connected c = connect_pair(stack, listener, Mode::kNonBlocking);
  std::vector<std::byte> chunk(256 * 1024, std::byte{0x5A});
  std::size_t total = 0;
  tlsgen::IoResult w;
  for (int i = 0; i < 1000; ++i) {
    w = stack.write(c.client, chunk);
    if (!w.ok()) break;
    EXPECT_LE(w.size, chunk.size());
    total += w.size;
  }
  EXPECT_EQ(w.status.code(), Code::kWouldBlock);  // the socket buffers are full
  EXPECT_GT(total, 0U);
  // Drain what the server got: exactly what write() said it accepted.
  std::size_t received = 0;
  std::vector<char> sink(64 * 1024);
  ::fcntl(c.server_fd, F_SETFL, O_NONBLOCK);
  for (int idle = 0; idle < 200 && received < total;) {
    const ssize_t n = ::recv(c.server_fd, sink.data(), sink.size(), 0);
    if (n > 0) {
      received += static_cast<std::size_t>(n);
    } else {
      ++idle;
      ::usleep(1000);
    }
  }
  EXPECT_EQ(received, total);
}

TEST(PosixTcpStack, Destructor_ClosesOpenDescriptors) {
  Listener listener;
  int fd = -1;
  {
    PosixTcpStack stack;
    const Connected c = connect_pair(stack, listener, Mode::kBlocking);
    fd = stack.native_handle(c.client);
    ASSERT_GE(fd, 0);
    EXPECT_NE(::fcntl(fd, F_GETFD), -1);
  }
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
