// tlsgen::vsnprintf on the 32-bit target (Cortex-M4 under QEMU mps2-an386), where int, long, size_t,
// ptrdiff_t and pointers are 32 bits and long long / intmax_t 64: the host's tests cannot see
// width bugs of these types (e.g. a sign-extended %tx). Each case is a format, its argument and the
// output C99 defines for these types (written out by hand, never produced by the code under test),
// plus the truncation contract at small buffer sizes. Prints one line per case, then
// "FORMAT SELFTEST PASS <n> checks"; exits non-zero (semihosting) if any case failed.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "board.hpp"
#include "tlsgen/format.hpp"

namespace {

static_assert(sizeof(long) == 4 && sizeof(std::size_t) == 4 && sizeof(std::ptrdiff_t) == 4 && sizeof(void*) == 4,
              "this firmware checks the 32-bit ILP32 types");
static_assert(sizeof(long long) == 8 && sizeof(std::intmax_t) == 8, "64-bit long long and intmax_t");

unsigned g_checks = 0;
unsigned g_failures = 0;

// Formats with tlsgen::snprintf at several buffer sizes and checks the C99 contract against `want`:
// the return value is always the full length; the buffer holds the longest prefix that fits, then NUL;
// size 0 leaves the buffer untouched.
template <typename... Args>
void expect(const char* want, const char* format, Args... args) {
  const int full = static_cast<int>(std::strlen(want));
  bool ok = true;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{64}}) {
    char buffer[64];
    std::memset(buffer, '#', sizeof buffer);
    const int n = tlsgen::snprintf(buffer, size, format, args...);
    if (n != full) ok = false;
    if (size == 0) {
      if (buffer[0] != '#') ok = false;
      continue;
    }
    const std::size_t kept = static_cast<std::size_t>(full) < size - 1 ? static_cast<std::size_t>(full) : size - 1;
    if (std::memcmp(buffer, want, kept) != 0 || buffer[kept] != '\0') ok = false;
    if (size < sizeof buffer && buffer[size] != '#') ok = false;  // nothing written past the buffer
  }
  ++g_checks;
  if (!ok) ++g_failures;
  board::host_printf("%s format: \"%s\" -> \"%s\"\n", ok ? "ok  " : "FAIL", format, want);
}

}  // namespace

int main() {
  // Length modifiers at the limits of the 32-bit types (and the 64-bit ones).
  expect("-1 ffffffff 4294967295 37777777777", "%td %tx %tu %to", std::ptrdiff_t{-1}, std::ptrdiff_t{-1},
         std::ptrdiff_t{-1}, std::ptrdiff_t{-1});
  expect("4294967295 ffffffff", "%zu %zx", SIZE_MAX, SIZE_MAX);
  expect("-2147483648 2147483647", "%ld %ld", LONG_MIN, LONG_MAX);
  expect("4294967295 FFFFFFFF", "%lu %lX", ULONG_MAX, ULONG_MAX);
  expect("-9223372036854775808 ffffffffffffffff", "%lld %llx", LLONG_MIN, ULLONG_MAX);
  expect("-9223372036854775808 18446744073709551615", "%jd %ju", INTMAX_MIN, UINTMAX_MAX);
  expect("44 -1 4464 ffff", "%hhd %hd %hu %hx", 300, 65535, 70000, -1);
  expect("255 ff", "%hhu %hhx", -1, -1);
  expect("-2147483648 2147483647 4294967295", "%d %i %u", INT_MIN, INT_MAX, UINT_MAX);
  // Flags, widths and precisions the way mbedTLS's debug, X.509 and OID code uses them.
  expect("5 +5  5", "%+u %+d % d", 5u, 5, 5);
  expect("0a 0A 00ff 000000ff", "%02x %02X %04x %08x", 10u, 10u, 255u, 255u);
  expect("0x0f   -7|-7  |00042", "%#04x %4d|%-4d|%.5d", 15u, -7, -7, 42);
  expect("[  abc][ab][abc  ]", "[%5s][%.2s][%-5s]", "abc", "abcdef", "abc");
  expect("[   ab]", "[%*.*s]", 5, 2, "abcdef");
  expect("[ab   ]", "[%*s]", -5, "ab");  // a negative * width means '-'
  expect("[abcdef]", "[%.*s]", -1, "abcdef");  // a negative * precision means none
  expect("x%y", "x%%y");
  expect("c=A", "c=%c", 'A');
  expect("0x1234 0x20000000", "%p %p", reinterpret_cast<void*>(0x1234), reinterpret_cast<void*>(0x20000000));
  expect(" entry(0403,3)", " entry(%04x,%zu)", 0x403u, std::size_t{3});  // ssl_tls.c's debug line
  // An unsupported conversion (floating point) stops the output there and reads neither its argument
  // nor any later one: -1, and the text before it.
  {
    char buffer[32];
    const int n = tlsgen::snprintf(buffer, sizeof buffer, "a=%d b=%f c=%s", 7, 1.5, "never");
    ++g_checks;
    const bool ok = n == -1 && std::strcmp(buffer, "a=7 b=") == 0;
    if (!ok) ++g_failures;
    board::host_printf("%s format: unsupported %%f -> %d \"%s\"\n", ok ? "ok  " : "FAIL", n, buffer);
  }
  board::host_printf("%s %u checks, %u failed\n", g_failures == 0 ? "FORMAT SELFTEST PASS" : "FORMAT SELFTEST FAIL",
                     g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
