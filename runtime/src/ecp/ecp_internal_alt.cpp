// What mbedTLS asks of any set of ECP hooks (library/ecp_internal_alt.h): which groups they serve, and a check of
// the group before a scalar multiplication uses them. The hooks themselves: curve25519_ladder.cpp (Curve25519),
// p256_jacobian.cpp (secp256r1), ecp_formulas.cpp (either, on the bignum module); hooks.hpp says which a
// configuration turns on.
//
// Compiled into the profile's mbedTLS library (cmake/Tlsgen.cmake); empty without MBEDTLS_ECP_INTERNAL_ALT.
#include "hooks.hpp"

#if defined(MBEDTLS_ECP_INTERNAL_ALT)

#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"

#if defined(TLSGEN_ECP_X25519)
#include "fe25519.hpp"
#endif
#if defined(TLSGEN_ECP_P256)
#include "fe_p256.hpp"
#include "mpi_limbs.hpp"
#endif

extern "C" {
#include "ecp_internal_alt.h"
}

extern "C" {

unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group* grp) {
  if (grp == nullptr) {
    return 0U;
  }
#if defined(TLSGEN_ECP_X25519) || defined(TLSGEN_ECP_X25519_MPI)
  if (grp->id == MBEDTLS_ECP_DP_CURVE25519) {
    return 1U;
  }
#endif
#if defined(TLSGEN_ECP_P256) || defined(TLSGEN_ECP_P256_MPI)
  if (grp->id == MBEDTLS_ECP_DP_SECP256R1) {
    return 1U;
  }
#endif
  return 0U;
}

// Called by mbedTLS before a scalar multiplication on a group the hooks serve: the group must be the one they
// compute in (a group loaded by id always is; this catches a hand-built one carrying the id).
int mbedtls_internal_ecp_init(const mbedtls_ecp_group* grp) {
#if defined(TLSGEN_ECP_X25519)
  if (grp->id == MBEDTLS_ECP_DP_CURVE25519) {
    return mbedtls_mpi_cmp_int(&grp->A, tlsgen::fe25519::kA24) == 0 ? 0 : MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
#elif defined(TLSGEN_ECP_X25519_MPI)
  if (grp->id == MBEDTLS_ECP_DP_CURVE25519) {
    return 0;  // the formulas read the group's own numbers (grp->A: (A + 2) / 4), as mbedTLS's step does
  }
#endif
#if defined(TLSGEN_ECP_P256)
  if (grp->id == MBEDTLS_ECP_DP_SECP256R1) {
    // The doubling uses A = -3 (3 (X + Z^2)(X - Z^2)), as mbedTLS's own does for such a group.
    tlsgen::ecp::Limbs p{};
    const bool is_p = tlsgen::ecp::load(p, grp->P) && p == tlsgen::fe_p256::kP;
    return is_p && mbedtls_ecp_group_a_is_minus_3(grp) != 0 ? 0 : MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
#elif defined(TLSGEN_ECP_P256_MPI)
  if (grp->id == MBEDTLS_ECP_DP_SECP256R1) {
    // The doubling is the A = -3 formula; everything else is the group's own numbers and reduction.
    return mbedtls_ecp_group_a_is_minus_3(grp) != 0 ? 0 : MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
#endif
  return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
}

void mbedtls_internal_ecp_free(const mbedtls_ecp_group* grp) {
  (void)grp;
}

}  // extern "C"

#endif
