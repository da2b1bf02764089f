// Format strings mbedTLS 3.6 really formats (library/debug.c, x509*.c, oid.c, error.c, ssl_*.c),
// with plausible arguments: the formatter bench's workload.
#pragma once

#include <cstdarg>
#include <cstddef>

#include "tlsgen/format.hpp"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

// The formatter under test, and a do-nothing stand-in whose cost (call and loop) is subtracted.
inline int with_tlsgen(char* b, std::size_t n, const char* f, ...) {
  va_list a;
  va_start(a, f);
  const int r = tlsgen::vsnprintf(b, n, f, a);
  va_end(a);
  return r;
}
__attribute__((noinline)) inline int with_nothing(char* b, std::size_t, const char* f, ...) {
  b[0] = f[0];
  return 1;
}

template <typename Fn>
int run_corpus(Fn&& fmt, char* buf, std::size_t size) {
  int total = 0;
  total += fmt(buf, size, "%s(%04d): %s\n", "ssl_tls.c", 4242, "=> handshake");
  total += fmt(buf, size, "%s(%04d): dumping '%s' (%u bytes)\n", "ssl_msg.c", 2718, "input record from network", 517u);
  total += fmt(buf, size, "%04x: ", 0x30u);
  total += fmt(buf, size, " %02x", 0xa5u);
  total += fmt(buf, size, "  %s\n", "..3..............");
  total += fmt(buf, size, "value of '%s' (%u bits) is:\n", "ECDH: Q(X)", 256u);
  total += fmt(buf, size, "%c", 'A');
  total += fmt(buf, size, "ssl->f_send() returned %d (-0x%04x)", -30848, 30848u);
  total += fmt(buf, size, "SSL - %s", "The connection indicated an EOF");
  total += fmt(buf, size, "UNKNOWN ERROR CODE (%04X)", 0x7100u);
  total += fmt(buf, size, "%sissued  on        : %04d-%02d-%02d %02d:%02d:%02d", "", 2026, 11, 24, 21, 23, 22);
  total += fmt(buf, size, "%s%-18s: %d bits", "\n", "EC key size", 256);
  total += fmt(buf, size, "%lu", 1234567890ul);
  total += fmt(buf, size, "%" "zu", static_cast<std::size_t>(16384));
  total += fmt(buf, size, "%d.%d", 1, 2);
  total += fmt(buf, size, "%s=%s", "CN", "tlsgen.test");
  return total;
}
inline constexpr int kCorpusCalls = 16;
