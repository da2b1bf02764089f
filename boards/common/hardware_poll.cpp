// platform.entropy: [hardware] on QEMU mps2-an386: the board has no TRNG, so the emulator's host stands in
// for one: mbedtls_hardware_poll() reads the host's /dev/urandom over semihosting. Its own object file,
// so that a profile whose glue defines the hook itself (test_static entropy) does not link this one.
#include <cstddef>
#include <span>

#include "board.hpp"

extern "C" int mbedtls_hardware_poll(void* /*data*/, unsigned char* output, std::size_t len, std::size_t* olen) {
  const long n = board::host_read_some("/dev/urandom", std::span(reinterpret_cast<std::byte*>(output), len));
  if (n < 0) {
    *olen = 0;
    return -1;
  }
  *olen = static_cast<std::size_t>(n);
  return 0;
}
