// The smallest tlsgen user: install the generated glue (static heap + mbedTLS hooks) and show that
// mbedTLS now allocates from it.
#include <cstdio>

#include "mbedtls/platform.h"
#include "tlsgen/glue.hpp"
#include "tlsgen_profile.hpp"

int main() {
  if (!tlsgen::glue::install().ok()) return 1;
  void* block = mbedtls_calloc(1, 100);  // through the registered hook
  const auto in_use = tlsgen::glue::heap().stats().in_use;
  mbedtls_free(block);
  std::printf("%s: heap %zu bytes, mbedtls_calloc(1, 100) -> %zu bytes in use, %zu after free\n",
              tlsgen::profile::kName, tlsgen::profile::kHeapBytes, static_cast<std::size_t>(in_use),
              static_cast<std::size_t>(tlsgen::glue::heap().stats().in_use));
  return block != nullptr && in_use >= 100 && tlsgen::glue::heap().stats().in_use == 0 ? 0 : 1;
}
