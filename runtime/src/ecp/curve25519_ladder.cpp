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
// is not Curve25519 mbedTLS runs its own code (mbedtls_internal_ecp_grp_capable()), or, with
// (no such hooks)
//
// Measured on Cortex-M4 (QEMU mps2-an386, -icount, TLS 1.3 X25519 handshakes): see generator/tlsgen/resolve/ecc.py.
//
// Compiled into the profile's mbedTLS library (cmake/Tlsgen.cmake), which references these functions; the
// file is empty for a configuration without the hooks.
#include "mbedtls/build_info.h"

#if defined(MBEDTLS_ECP_INTERNAL_ALT) && defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) && \
    defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT)

#include <cstddef>
#include <cstdint>

#include "fe25519.hpp"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"

extern "C" {
#include "ecp_internal_alt.h"
}

namespace {

using tlsgen::fe25519::Fe;

//! (A + 2) / 4 for Curve25519 (A = 486662): what mbedTLS keeps in the group's A (library/ecp_curves.c,
//! curve25519_a24); mbedtls_internal_ecp_init() checks that it is.
constexpr std::uint32_t kA24 = 121666;

constexpr std::size_t kWordsPerLimb = sizeof(mbedtls_mpi_uint) / sizeof(std::uint32_t);
constexpr std::size_t kLimbs = 8 / kWordsPerLimb;
static_assert(kWordsPerLimb == 1 || kWordsPerLimb == 2, "mbedTLS limbs are 32 or 64 bits");

//! A non-negative number below 2^256 as a field element (the coordinates mbedTLS passes are below p).
bool load(Fe& f, const mbedtls_mpi& x) {
  const std::size_t n = x.MBEDTLS_PRIVATE(n);
  const mbedtls_mpi_uint* p = x.MBEDTLS_PRIVATE(p);
  if (x.MBEDTLS_PRIVATE(s) < 0 || (n > 0 && p == nullptr)) {
    return false;
  }
  mbedtls_mpi_uint beyond = 0;
  for (std::size_t i = kLimbs; i < n; ++i) {
    beyond |= p[i];
  }
  for (std::size_t k = 0; k < 8; ++k) {
    const std::size_t limb = k / kWordsPerLimb;
    const std::uint64_t v = limb < n ? static_cast<std::uint64_t>(p[limb]) : 0U;
    f[k] = static_cast<std::uint32_t>(v >> (32U * (k % kWordsPerLimb)));
  }
  return beyond == 0;
}

//! Writes a's canonical value into x (grown to 256 bits: the first step of a multiplication allocates, the
//! others reuse).
int store(mbedtls_mpi& x, const Fe& a) {
  Fe f;
  tlsgen::fe25519::freeze(f, a);
  const int ret = mbedtls_mpi_grow(&x, kLimbs);
  if (ret != 0) {
    return ret;
  }
  mbedtls_mpi_uint* p = x.MBEDTLS_PRIVATE(p);
  const std::size_t n = x.MBEDTLS_PRIVATE(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = 0;
  }
  for (std::size_t k = 0; k < 8; ++k) {
    p[k / kWordsPerLimb] |= static_cast<mbedtls_mpi_uint>(static_cast<std::uint64_t>(f[k])
                                                          << (32U * (k % kWordsPerLimb)));
  }
  x.MBEDTLS_PRIVATE(s) = 1;
  return 0;
}

}  // namespace

extern "C" {

unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group* grp) {
  return grp != nullptr && grp->id == MBEDTLS_ECP_DP_CURVE25519 ? 1U : 0U;
}

int mbedtls_internal_ecp_init(const mbedtls_ecp_group* grp) {
  return mbedtls_mpi_cmp_int(&grp->A, kA24) == 0 ? 0 : MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
}

void mbedtls_internal_ecp_free(const mbedtls_ecp_group* grp) {
  (void)grp;
}

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
