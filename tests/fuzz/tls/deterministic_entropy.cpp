// Board hook of the TLS record-path fuzzer (profile fuzz-tls.yaml: entropy: [hardware]): a fixed
// byte sequence in place of a TRNG, restarted before each session, so the client's randomness -- the
// ClientHello random, the session id, the (EC)DHE key shares -- is the same in every run. Server bytes
// recorded from a real session then match this client byte for byte when they are replayed. Test code
// only: never link it into anything that needs secrets.
#include <cstddef>
#include <cstdint>

namespace {
std::uint64_t g_state = 0;
}  // namespace

extern "C" void tlsgen_fuzz_entropy_reset(void) { g_state = 0x9E3779B97F4A7C15ULL; }

extern "C" int mbedtls_hardware_poll(void* /*data*/, unsigned char* output, std::size_t len, std::size_t* olen) {
  for (std::size_t i = 0; i < len; ++i) {
    // splitmix64: well-spread bytes from a counter (mbedTLS's entropy health checks reject long runs).
    g_state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = g_state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    output[i] = static_cast<unsigned char>((z ^ (z >> 31)) >> 56);
  }
  *olen = len;
  return 0;
}
