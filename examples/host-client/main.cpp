// tlsgen host client: HTTPS GET with certificate verification, built from a shipped host profile.
//
//   tlsgen_host_client --host 127.0.0.1 --port 4433 --ca ca.pem --server-name tlsgen.test [--path /]
//
// Everything mbedTLS allocates comes from the profile's static heap (tlsgen_glue.cpp), the
// handshake offers exactly the profile's suites, groups and versions, and the server certificate
// must chain to --ca and carry --server-name (or the host, when no name is given). The reply goes
// to stdout; a summary (suite, protocol, heap peak against the generated heap) goes to stderr.
// The reply is complete only when the server ended it with close_notify: a connection that just
// ends (TCP FIN or reset, no close_notify) may have been cut short, and the program says so and
// exits with status 1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "mbedtls/build_info.h"
#if defined(MBEDTLS_ERROR_C)
#include "mbedtls/error.h"
#endif
#include "tlsgen/glue.hpp"
#include "tlsgen/posix_tcp_stack.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen_profile.hpp"

namespace {

struct Args {
  const char* host = "127.0.0.1";
  std::uint16_t port = 4433;
  const char* ca_file = nullptr;
  const char* server_name = nullptr;
  const char* path = "/";
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* key = argv[i];
    const char* value = argv[i + 1];
    if (std::strcmp(key, "--host") == 0) {
      a.host = value;
    } else if (std::strcmp(key, "--port") == 0) {
      a.port = static_cast<std::uint16_t>(std::atoi(value));
    } else if (std::strcmp(key, "--ca") == 0) {
      a.ca_file = value;
    } else if (std::strcmp(key, "--server-name") == 0) {
      a.server_name = value;
    } else if (std::strcmp(key, "--path") == 0) {
      a.path = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && a.port != 0;
}

// Reads a PEM file into `buffer` with its terminating NUL (what mbedTLS's PEM parser wants).
bool read_pem(const char* path, std::span<char> buffer) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    return false;
  }
  const std::size_t n = std::fread(buffer.data(), 1, buffer.size() - 1, f);
  const bool complete = std::feof(f) != 0;
  std::fclose(f);
  buffer[n] = '\0';
  return complete && n > 0;
}

int fail(const char* what, tlsgen::Status st) {
  char text[128] = "";
#if defined(MBEDTLS_ERROR_C)
  if (st.detail() < 0 && (st.code() == tlsgen::Code::kTls || st.code() == tlsgen::Code::kResourceExhausted)) {
    mbedtls_strerror(st.detail(), text, sizeof text);
  }
#endif
  std::fprintf(stderr, "%s failed: %s (detail %d) %s\n", what, tlsgen::to_string(st.code()),
               static_cast<int>(st.detail()), text);
  return 1;
}

// One HTTPS GET over any TcpStack: the same code would run over a plain stack.
int get(tlsgen::TcpStack& net, const Args& a, tlsgen::SslTcpStack& tls) {
  const tlsgen::Result<tlsgen::Socket> opened = net.open(tlsgen::Mode::kBlocking);
  if (!opened.ok()) {
    return fail("open", opened.status());
  }
  const tlsgen::Socket s = opened.value();
  tlsgen::Status st = net.connect(s, a.host, a.port);
  if (!st.ok()) {
    if (st.code() == tlsgen::Code::kTls) {
      std::fprintf(stderr, "certificate verify flags 0x%08x\n", static_cast<unsigned>(tls.verify_result(s)));
    }
    (void)net.close(s);
    return fail("connect", st);
  }
  std::fprintf(stderr, "connected: %s, %s\n", tls.protocol(s), tls.ciphersuite(s));

  char request[256];
  const int len = std::snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", a.path,
                                a.server_name != nullptr ? a.server_name : a.host);
  if (len < 0 || static_cast<std::size_t>(len) >= sizeof request) {
    (void)net.close(s);
    return fail("request", tlsgen::Status(tlsgen::Code::kInvalidArgument));
  }
  const auto bytes = std::as_bytes(std::span<const char>(request, static_cast<std::size_t>(len)));
  for (std::size_t sent = 0; sent < bytes.size();) {  // write() may take fewer bytes than offered
    const tlsgen::IoResult w = net.write(s, bytes.subspan(sent));
    if (!w.ok()) {
      (void)net.close(s);
      return fail("write", w.status);
    }
    sent += w.size;
  }

  std::byte buffer[512];
  std::size_t received = 0;
  for (;;) {
    const tlsgen::IoResult r = net.read(s, buffer);
    std::fwrite(buffer, 1, r.size, stdout);
    received += r.size;
    if (r.status == tlsgen::kTlsCleanClose) {
      break;  // the server's close_notify: the end of the HTTP/1.0 reply
    }
    if (r.status == tlsgen::kTlsTruncatedClose) {
      std::fflush(stdout);
      std::fprintf(stderr,
                   "error: reply truncated after %zu bytes: the server closed the connection without "
                   "close_notify, the reply may be incomplete\n",
                   received);
      (void)net.close(s);
      return 1;
    }
    if (!r.ok()) {
      (void)net.close(s);
      return fail("read", r.status);
    }
  }
  std::fflush(stdout);
  std::fprintf(stderr, "reply complete: %zu bytes, ended by the server's close_notify\n", received);
  return net.close(s).ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a) || a.ca_file == nullptr) {
    std::fprintf(stderr, "usage: %s --ca CA.pem [--host H] [--port P] [--server-name NAME] [--path /]\n", argv[0]);
    return 2;
  }
  static char ca_pem[8192];
  if (!read_pem(a.ca_file, ca_pem)) {
    std::fprintf(stderr, "cannot read %s (at most %zu bytes)\n", a.ca_file, sizeof ca_pem - 1);
    return 2;
  }

  tlsgen::PosixTcpStack tcp;
  int rc = 1;
  {
    tlsgen::SslPlatform platform;
    tlsgen::Status st = platform.setup();  // the profile's static heap
    if (!st.ok()) return fail("setup", st);
    st = platform.seed_rng();
    if (!st.ok()) return fail("seed_rng", st);

    tlsgen::SslConfig config;  // the profile is the preset: suites, groups, versions, verify mode
    st = platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config);
    if (st.ok()) st = config.ca_chain(ca_pem);
    if (st.ok() && a.server_name != nullptr) st = config.server_name(a.server_name);
    if (!st.ok()) return fail("config", st);

    {
      tlsgen::SslSession sessions[1];
      tlsgen::SslTcpStack tls(config, tcp, sessions);
      rc = get(tls, a, tls);
    }
    config.deinit();
    st = platform.deinit();
    if (!st.ok()) return fail("deinit", st);
  }
  const tlsgen::HeapStats heap = tlsgen::glue::heap().stats();
  std::fprintf(stderr, "profile %s: heap peak %zu of %zu bytes, %zu in use after teardown\n", tlsgen::profile::kName,
               heap.high_water, tlsgen::profile::kHeapBytes, heap.in_use);
  return heap.in_use == 0 ? rc : 1;
}
