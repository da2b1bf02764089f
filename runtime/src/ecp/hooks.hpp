// Which of mbedTLS's ECP hooks (MBEDTLS_ECP_INTERNAL_ALT, library/ecp_internal_alt.h) a generated configuration
// turns on, as the sets tlsgen implements (tlsgen.resolve.ecc: x25519_ladder, p256_jacobian):
//   TLSGEN_ECP_X25519: the Montgomery ladder step and its final division, for Curve25519 (curve25519_ladder.cpp);
//   TLSGEN_ECP_P256: Jacobian doubling, mixed addition and normalisation, for secp256r1 (p256_jacobian.cpp);
//   TLSGEN_ECP_X25519_MPI: the ladder step alone, on mbedTLS's bignum module without its copies (ecp_formulas.cpp);
//   TLSGEN_ECP_P256_MPI: doubling and mixed addition alone, the same way (ecp_formulas.cpp).
// The first two run under `optimize: speed` and on the host, the last two under `optimize: size` on a bare-metal core.
// A configuration with part of a set is refused here rather than failing at link time.
#pragma once

#include "mbedtls/build_info.h"

#if defined(MBEDTLS_ECP_INTERNAL_ALT)

#if defined(MBEDTLS_ECP_RANDOMIZE_MXZ_ALT) || (defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT) && !defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT))
#error "tlsgen's X25519 hooks are MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT, with or without MBEDTLS_ECP_NORMALIZE_MXZ_ALT"
#elif defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) && defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT)
#define TLSGEN_ECP_X25519 1
#elif defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT)
#define TLSGEN_ECP_X25519_MPI 1
#endif

#if defined(MBEDTLS_ECP_NORMALIZE_JAC_MANY_ALT) || defined(MBEDTLS_ECP_RANDOMIZE_JAC_ALT) || \
    (defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) != defined(MBEDTLS_ECP_ADD_MIXED_ALT)) || \
    (defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT) && !defined(MBEDTLS_ECP_DOUBLE_JAC_ALT))
#error "tlsgen's P-256 hooks are MBEDTLS_ECP_DOUBLE_JAC_ALT and MBEDTLS_ECP_ADD_MIXED_ALT, with or without MBEDTLS_ECP_NORMALIZE_JAC_ALT"
#elif defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) && defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT)
#define TLSGEN_ECP_P256 1
#elif defined(MBEDTLS_ECP_DOUBLE_JAC_ALT)
#define TLSGEN_ECP_P256_MPI 1
#endif

#if !defined(TLSGEN_ECP_X25519) && !defined(TLSGEN_ECP_P256) && !defined(TLSGEN_ECP_X25519_MPI) && \
    !defined(TLSGEN_ECP_P256_MPI)
#error "MBEDTLS_ECP_INTERNAL_ALT without one of tlsgen's hook sets (runtime/src/ecp/hooks.hpp)"
#endif

#endif
