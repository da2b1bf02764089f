// The X25519 ladder step and the final division of mbedTLS's legacy ECP module, on 32-bit limbs instead of
// its generic bignum code, through mbedTLS's own hooks for that (MBEDTLS_ECP_INTERNAL_ALT with
// MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT and MBEDTLS_ECP_NORMALIZE_MXZ_ALT: library/ecp.c, ecp_double_add_mxz() and
// ecp_normalize_mxz(); prototypes in library/ecp_internal_alt.h).
//
// mbedTLS keeps everything else of the scalar multiplication (library/ecp.c, ecp_mul_mxz()): the checks of
// the scalar and the peer's point, the randomised projective coordinates of the start point, the bit loop and
// its constant-time swaps. Each step here reads the four coordinates and the base x, computes the same
// double-and-add formula (mladd-1987-m, 5M + 4S + one multiplication by (A + 2) / 4), and writes the
// canonical results back: the bignum code then sees the same values it would have computed. Where the group
// is not Curve25519 mbedTLS runs its own code (mbedtls_internal_ecp_grp_capable(), ecp_internal_alt.cpp).
//
// Measured on Cortex-M4 (QEMU mps2-an386, -icount, TLS 1.3 X25519 handshakes): see generator/tlsgen/resolve/ecc.py.
//
// Compiled into the profile's mbedTLS library (cmake/Tlsgen.cmake), which references these functions; the
// file is empty for a configuration without the hooks.
#include "hooks.hpp"

#if defined(TLSGEN_ECP_X25519)

#include <cstdint>

#include "fe25519.hpp"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mpi_limbs.hpp"

extern "C" {
#include "ecp_internal_alt.h"
}

namespace {

using tlsgen::ecp::load;
using tlsgen::fe25519::Fe;
using tlsgen::fe25519::kA24;

//! Writes a's canonical value into x.
int store(mbedtls_mpi& x, const Fe& a) {
  Fe f;
  tlsgen::fe25519::freeze(f, a);
  return tlsgen::ecp::store(x, f);
}

}  // namespace

extern "C" {

// R = 2P, S = P + Q, with d = X(P - Q); R may be P and S may be Q (ecp_mul_mxz() passes them so): every
// input is read before any output is written.
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, mbedtls_ecp_point* S,
                                        const mbedtls_ecp_point* P, const mbedtls_ecp_point* Q,
                                        const mbedtls_mpi* d) {
  (void)grp;
  using namespace tlsgen::fe25519;
  Fe x2, z2, x3, z3, x1, t0, t1;
  if (!load(x2, P->MBEDTLS_PRIVATE(X)) || !load(z2, P->MBEDTLS_PRIVATE(Z)) || !load(x3, Q->MBEDTLS_PRIVATE(X)) ||
      !load(z3, Q->MBEDTLS_PRIVATE(Z)) || !load(x1, *d)) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  add(t0, x2, z2);  // Pp = PX + PZ
  sub(x2, x2, z2);  // Pm = PX - PZ
  add(t1, x3, z3);  // Qp = QX + QZ
  sub(x3, x3, z3);  // Qm = QX - QZ
  mul(x3, x3, t0);  // Qm * Pp
  mul(t1, t1, x2);  // Qp * Pm
  sqr(t0, t0);      // Pp^2
  sqr(x2, x2);      // Pm^2
  mul(z2, t0, x2);  // R.X = Pp^2 * Pm^2
  sub(t0, t0, x2);  // E = Pp^2 - Pm^2
  mul_small(z3, t0, kA24);
  add(z3, x2, z3);  // Pm^2 + a24 * E
  mul(z3, t0, z3);  // R.Z = E * (Pm^2 + a24 * E)
  add(x2, x3, t1);
  sqr(x2, x2);      // S.X = (Qm * Pp + Qp * Pm)^2
  sub(t1, x3, t1);
  sqr(t1, t1);
  mul(t1, x1, t1);  // S.Z = d * (Qm * Pp - Qp * Pm)^2
  int ret = store(R->MBEDTLS_PRIVATE(X), z2);
  if (ret == 0) {
    ret = store(R->MBEDTLS_PRIVATE(Z), z3);
  }
  if (ret == 0) {
    ret = store(S->MBEDTLS_PRIVATE(X), x2);
  }
  if (ret == 0) {
    ret = store(S->MBEDTLS_PRIVATE(Z), t1);
  }
  return ret;
}

// X = X / Z, Z = 1. Z = 0 (the point at infinity) fails as mbedTLS's own division does there
// (mbedtls_mpi_inv_mod(): MBEDTLS_ERR_MPI_NOT_ACCEPTABLE).
int mbedtls_internal_ecp_normalize_mxz(const mbedtls_ecp_group* grp, mbedtls_ecp_point* P) {
  (void)grp;
  using namespace tlsgen::fe25519;
  Fe x, z;
  if (!load(x, P->MBEDTLS_PRIVATE(X)) || !load(z, P->MBEDTLS_PRIVATE(Z))) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  if (is_zero(z)) {
    return MBEDTLS_ERR_MPI_NOT_ACCEPTABLE;
  }
  invert(z, z);
  mul(x, x, z);
  const int ret = store(P->MBEDTLS_PRIVATE(X), x);
  return ret != 0 ? ret : mbedtls_mpi_lset(&P->MBEDTLS_PRIVATE(Z), 1);
}

}  // extern "C"

#endif
