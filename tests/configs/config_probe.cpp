// Checks that mbedTLS, compiled with a generated config, offers exactly what the profile asked for.
// Run on the host for every shipped profile (Cortex-M profiles included: same config, host compiler).
#include <cstdio>
#include <cstdlib>

#include "mbedtls/build_info.h"
#include "mbedtls/ecp.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "tlsgen_profile.hpp"

static_assert(MBEDTLS_SSL_IN_CONTENT_LEN == tlsgen::profile::kInContentLen, "IN_CONTENT_LEN differs from profile");
static_assert(MBEDTLS_SSL_OUT_CONTENT_LEN == tlsgen::profile::kOutContentLen, "OUT_CONTENT_LEN differs");
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) != 0
static_assert(tlsgen::profile::kTls13, "TLS 1.3 compiled in but not in the profile");
#else
static_assert(!tlsgen::profile::kTls13, "TLS 1.3 in the profile but not compiled in");
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_2)
static_assert(tlsgen::profile::kTls12, "TLS 1.2 compiled in but not in the profile");
#else
static_assert(!tlsgen::profile::kTls12, "TLS 1.2 in the profile but not compiled in");
#endif
#if defined(MBEDTLS_SSL_SRV_C)
#error "a client profile must not compile the TLS server"
#endif
#if defined(MBEDTLS_NET_C) || defined(MBEDTLS_TIMING_C) || defined(MBEDTLS_FS_IO)
#error "tlsgen never enables NET_C, TIMING_C or FS_IO"
#endif
// The p256-m driver (tlsgen.resolve.ecc): no legacy ECP beside it, and the two mbedTLS 3.6.6 gaps worked around.
#if defined(MBEDTLS_PSA_P256M_DRIVER_ENABLED)
#if defined(MBEDTLS_ECP_C) || defined(MBEDTLS_ECP_LIGHT) || defined(MBEDTLS_BIGNUM_C)
#error "on the p256-m driver mbedTLS must not build its legacy ECP or bignum modules as well"
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_2) && defined(MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED)
#if !defined(MBEDTLS_SSL_TLS1_2_SOME_ECC)
#error "TLS 1.2 ECDHE on p256-m needs MBEDTLS_SSL_TLS1_2_SOME_ECC (else no supported-groups extension)"
#endif
static_assert(MBEDTLS_PREMASTER_SIZE >= 32, "the ECDHE premaster buffer cannot hold a P-256 shared secret");
#endif
#endif

namespace {

int fail(const char* what, int value) {
  std::printf("config-probe FAIL %s: %d (0x%04X)\n", what, value, static_cast<unsigned>(value));
  return 1;
}

bool in_profile(int id) {
  for (const int* p = tlsgen::profile::kCipherSuites; *p != 0; ++p) {
    if (*p == id) return true;
  }
  return false;
}

}  // namespace

int main() {
  // Every suite mbedTLS lists must be one the profile named, and the other way round.
  int listed = 0;
  for (const int* p = mbedtls_ssl_list_ciphersuites(); *p != 0; ++p, ++listed) {
    if (!in_profile(*p)) return fail("mbedTLS offers a suite the profile did not ask for", *p);
  }
  int wanted = 0;
  for (const int* p = tlsgen::profile::kCipherSuites; *p != 0; ++p, ++wanted) {
    if (mbedtls_ssl_ciphersuite_from_id(*p) == nullptr) return fail("profile suite not compiled in", *p);
  }
  if (listed != wanted) return fail("suite count differs", listed - wanted);
  // Every group the profile names must be usable by the TLS layer.
  int groups = 0;
  for (const std::uint16_t* g = tlsgen::profile::kGroups; *g != 0; ++g, ++groups) {
#if defined(MBEDTLS_ECP_C)
    if (mbedtls_ecp_curve_info_from_tls_id(*g) == nullptr) return fail("profile group not compiled in", *g);
#elif defined(MBEDTLS_PSA_P256M_DRIVER_ENABLED) && defined(PSA_WANT_ECC_SECP_R1_256)
    // The p256-m driver (tlsgen.resolve.ecc) does secp256r1 (TLS group 23) and nothing else.
    if (*g != 23) return fail("profile group is not secp256r1, the p256-m driver's only curve", *g);
#else
    return fail("profile names a group but ECP is not compiled in", *g);
#endif
  }
  std::printf("config-probe ok %s: %d suites, %d groups, mbedTLS %s, heap %zu\n", tlsgen::profile::kName, listed,
              groups, MBEDTLS_VERSION_STRING, tlsgen::profile::kHeapBytes);
  return 0;
}
