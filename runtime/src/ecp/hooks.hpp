// Which of mbedTLS's ECP hooks (MBEDTLS_ECP_INTERNAL_ALT, library/ecp_internal_alt.h) a generated configuration
// turns on, as the sets tlsgen implements (tlsgen.resolve.ecc: x25519_ladder, p256_jacobian):
//   TLSGEN_ECP_X25519: the Montgomery ladder step and its final division, for Curve25519 (curve25519_ladder.cpp);
//   TLSGEN_ECP_P256: Jacobian doubling, mixed addition and normalisation, for secp256r1 (p256_jacobian.cpp).
// A configuration with part of a set is refused here rather than failing at link time.
#pragma once

#include "mbedtls/build_info.h"

#if defined(MBEDTLS_ECP_INTERNAL_ALT)

#if defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) && defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT)
#define TLSGEN_ECP_X25519 1
#elif defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) || defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT) || \
    defined(MBEDTLS_ECP_RANDOMIZE_MXZ_ALT)
#error "tlsgen's X25519 hooks are MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT and MBEDTLS_ECP_NORMALIZE_MXZ_ALT together"
#endif

#if defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) && defined(MBEDTLS_ECP_ADD_MIXED_ALT) && defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT)
#define TLSGEN_ECP_P256 1
#elif defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) || defined(MBEDTLS_ECP_ADD_MIXED_ALT) || \
    defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT) || defined(MBEDTLS_ECP_NORMALIZE_JAC_MANY_ALT) || \
    defined(MBEDTLS_ECP_RANDOMIZE_JAC_ALT)
#error "tlsgen's P-256 hooks are MBEDTLS_ECP_DOUBLE_JAC_ALT, MBEDTLS_ECP_ADD_MIXED_ALT and MBEDTLS_ECP_NORMALIZE_JAC_ALT together"
#endif

#if !defined(TLSGEN_ECP_X25519) && !defined(TLSGEN_ECP_P256)
#error "MBEDTLS_ECP_INTERNAL_ALT without one of tlsgen's hook sets (runtime/src/ecp/hooks.hpp)"
#endif

#endif
