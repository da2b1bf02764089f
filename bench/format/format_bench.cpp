// Formatter bench (host): instructions per call of tlsgen::vsnprintf and the host libc's vsnprintf
// on the corpus of format strings mbedTLS uses. Run under `valgrind --tool=callgrind` by run.py:
//   format_bench none|tlsgen|libc ROUNDS
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "corpus.hpp"
#include "tlsgen/format.hpp"

namespace {
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int with_libc(char* b, std::size_t n, const char* f, ...) {
  va_list a;
  va_start(a, f);
  const int r = std::vsnprintf(b, n, f, a);
  va_end(a);
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const int rounds = std::atoi(argv[2]);
  char buf[256];
  long total = 0;
  for (int i = 0; i < rounds; ++i) {
    if (std::strcmp(argv[1], "tlsgen") == 0) total += run_corpus(with_tlsgen, buf, sizeof buf);
    else if (std::strcmp(argv[1], "libc") == 0) total += run_corpus(with_libc, buf, sizeof buf);
    else total += run_corpus(with_nothing, buf, sizeof buf);
  }
  std::printf("%ld\n", total);
  return 0;
}
