// Formatter bench (Cortex-M4 in QEMU, -icount shift=0): instructions per call of tlsgen::vsnprintf
// and newlib-nano's vsnprintf on the same corpus, counted with TIMER0 (1 tick = 40 instructions).
#include <cstdarg>
#include <cstdio>

#include "board.hpp"
#include "corpus.hpp"
#include "tlsgen/format.hpp"

namespace {
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int with_newlib(char* b, std::size_t n, const char* f, ...) {
  va_list a;
  va_start(a, f);
  const int r = std::vsnprintf(b, n, f, a);
  va_end(a);
  return r;
}
template <typename Fn>
unsigned long measure(Fn fn) {
  char buf[256];
  const int rounds = 200;
  volatile int sink = 0;
  const std::uint32_t t0 = board::timer_ticks();
  for (int i = 0; i < rounds; ++i) sink = sink + run_corpus(fn, buf, sizeof buf);
  return static_cast<unsigned long>(board::timer_ticks() - t0) * board::kInstructionsPerTick / rounds;
}
}  // namespace

int main() {
  const unsigned long base = measure(with_nothing);
  const unsigned long ours = measure(with_tlsgen);
  const unsigned long newlib = measure(with_newlib);
  board::host_printf("TLSGEN_FORMAT calls=%d baseline=%lu tlsgen=%lu newlib_nano=%lu\n", kCorpusCalls, base, ours,
                     newlib);
  return 0;
}
