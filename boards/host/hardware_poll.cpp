// platform.entropy: [hardware] on a host: mbedtls_hardware_poll() from the kernel's generator.
#include <sys/random.h>

#include <cerrno>
#include <cstddef>

extern "C" int mbedtls_hardware_poll(void* /*data*/, unsigned char* output, std::size_t len, std::size_t* olen) {
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::getrandom(output + got, len - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      *olen = got;
      return -1;  // MBEDTLS_ERR_ENTROPY_SOURCE_FAILED is the caller's to report
    }
    got += static_cast<std::size_t>(n);
  }
  *olen = got;
  return 0;
}
