// The mbedTLS configuration of tests/configs/ecp_formulas_test.cpp: the elliptic-curve arithmetic of a Cortex-M
// profile under `optimize: size` on the legacy ECP (tlsgen.resolve.ecc: the ladder step, doubling and mixed addition
// on runtime/src/ecp/ecp_formulas.cpp; window 2, no fixed-point tables), built for the host so that the sanitizer
// build runs it too. secp384r1 is here as a group the hooks do not serve (mbedTLS's own formulas).
#ifndef TLSGEN_TEST_ECP_FORMULAS_CONFIG_H
#define TLSGEN_TEST_ECP_FORMULAS_CONFIG_H

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

#define MBEDTLS_ECP_INTERNAL_ALT
#define MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT
#define MBEDTLS_ECP_DOUBLE_JAC_ALT
#define MBEDTLS_ECP_ADD_MIXED_ALT

#endif
