// secp256r1's point doubling, mixed addition and normalisation for mbedTLS's legacy ECP module, on 32-bit limbs
// (fe_p256.hpp) instead of its generic bignum code, through mbedTLS's hooks for that (MBEDTLS_ECP_INTERNAL_ALT with
// MBEDTLS_ECP_DOUBLE_JAC_ALT, MBEDTLS_ECP_ADD_MIXED_ALT and MBEDTLS_ECP_NORMALIZE_JAC_ALT: library/ecp.c,
// ecp_double_jac(), ecp_add_mixed() and ecp_normalize_jac(); prototypes in library/ecp_internal_alt.h).
//
// mbedTLS keeps everything else of a scalar multiplication (ecp_mul_comb(), mbedtls_ecp_muladd()): the comb and
// its precomputation, the randomised coordinates, the constant-time table lookups and negations, the checks of
// scalars and points, and the normalisation of many points at once (one inversion, Montgomery's trick). Each hook
// reads the points' canonical coordinates, computes mbedTLS's own formulas in the same order (so the results are
// the values its bignum code would have written: doubling dbl-1998-cmo-2 with A = -3, 4M + 4S; mixed addition
// GECC 3.22, 8M + 3S) and writes them back canonical. mbedTLS's special cases are kept as it has them: in the
// mixed addition, a zero P or Q gives the other point (mbedtls_ecp_copy), a Q not normalised is refused, P = Q is
// doubled and P = -Q gives zero (mbedtls_ecp_set_zero). Where the group is not secp256r1 mbedTLS runs its own code
// (mbedtls_internal_ecp_grp_capable(), ecp_internal_alt.cpp).
//
// The coordinates keep their bignums: a write grows one to 256 bits only if it is smaller (the first write into
// a fresh point), so a scalar multiplication's doublings and additions no longer allocate, where mbedTLS's own
// allocate a temporary for every product that aliases its operand.
//
// Compiled into the profile's mbedTLS library (cmake/Tlsgen.cmake), which references these functions; the
// file is empty for a configuration without the hooks.
#include "hooks.hpp"

#if defined(TLSGEN_ECP_P256)

#include "fe_p256.hpp"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mpi_limbs.hpp"

extern "C" {
#include "ecp_internal_alt.h"
}

namespace {

using tlsgen::fe_p256::Fe;

//! A point in Jacobian coordinates (x = X / Z^2, y = Y / Z^3), canonical field elements.
struct Jacobian {
  Fe x, y, z;
};

//! One coordinate of mbedTLS's: a non-negative value below p (what mbedTLS keeps there), or false.
bool load(Fe& f, const mbedtls_mpi& v) {
  return tlsgen::ecp::load(f, v) && tlsgen::fe_p256::canonical(f);
}

bool load(Jacobian& j, const mbedtls_ecp_point& p) {
  return load(j.x, p.MBEDTLS_PRIVATE(X)) && load(j.y, p.MBEDTLS_PRIVATE(Y)) && load(j.z, p.MBEDTLS_PRIVATE(Z));
}

int store(mbedtls_ecp_point& p, const Jacobian& j) {
  int ret = tlsgen::ecp::store(p.MBEDTLS_PRIVATE(X), j.x);
  if (ret == 0) {
    ret = tlsgen::ecp::store(p.MBEDTLS_PRIVATE(Y), j.y);
  }
  if (ret == 0) {
    ret = tlsgen::ecp::store(p.MBEDTLS_PRIVATE(Z), j.z);
  }
  return ret;
}

//! r = 2p (r may be p), as library/ecp.c's ecp_double_jac() for A = -3: M = 3 (X + Z^2)(X - Z^2),
//! S = 4 X Y^2, U = 8 Y^4, X' = M^2 - 2S, Y' = M (S - X') - U, Z' = 2 Y Z. A zero p (Z = 0) gives Z' = 0.
[[gnu::noinline]] void double_jac(Jacobian& r, const Jacobian& p) {
  using namespace tlsgen::fe_p256;
  Fe m, s, u, t;
  sqr(t, p.z);
  add(m, p.x, t);
  sub(t, p.x, t);
  mul(m, m, t);
  add(t, m, m);
  add(m, t, m);     // M
  sqr(u, p.y);
  add(u, u, u);     // 2 Y^2
  mul(s, p.x, u);
  add(s, s, s);     // S = 4 X Y^2
  sqr(u, u);
  add(u, u, u);     // U = 8 Y^4
  mul(r.z, p.y, p.z);
  add(r.z, r.z, r.z);  // Z' = 2 Y Z (p's Y and Z are not read again)
  sqr(t, m);
  sub(t, t, s);
  sub(t, t, s);     // X' = M^2 - 2S
  sub(s, s, t);
  mul(s, s, m);
  sub(r.y, s, u);   // Y' = M (S - X') - U
  r.x = t;
}

}  // namespace

extern "C" {

int mbedtls_internal_ecp_double_jac(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P) {
  (void)grp;
  Jacobian p;
  if (!load(p, *P)) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  double_jac(p, p);
  return store(*R, p);
}

// R = P + Q, Q normalised (Z = 1); R may be P or Q (every input is read before any output is written).
int mbedtls_internal_ecp_add_mixed(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P,
                                   const mbedtls_ecp_point* Q) {
  (void)grp;
  using namespace tlsgen::fe_p256;
  // mbedTLS's own special cases, in its order (library/ecp.c, ecp_add_mixed()).
  if (Q->MBEDTLS_PRIVATE(Z).MBEDTLS_PRIVATE(p) == nullptr) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  if (mbedtls_mpi_cmp_int(&P->MBEDTLS_PRIVATE(Z), 0) == 0) {
    return mbedtls_ecp_copy(R, Q);
  }
  if (mbedtls_mpi_cmp_int(&Q->MBEDTLS_PRIVATE(Z), 0) == 0) {
    return mbedtls_ecp_copy(R, P);
  }
  if (mbedtls_mpi_cmp_int(&Q->MBEDTLS_PRIVATE(Z), 1) != 0) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  // Seven field elements in all, reused as the formula goes (its frame is under the deepest ECP calls).
  Jacobian p;
  Fe x2, y2;
  if (!load(p, *P) || !load(x2, Q->MBEDTLS_PRIVATE(X)) || !load(y2, Q->MBEDTLS_PRIVATE(Y))) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  Fe h, r;
  sqr(h, p.z);
  mul(r, h, p.z);
  mul(h, h, x2);
  mul(r, r, y2);
  sub(h, h, p.x);  // H = X2 Z1^2 - X1
  sub(r, r, p.y);  // r = Y2 Z1^3 - Y1
  if (is_zero(h)) {
    // Q = P (double it) or Q = -P (zero). Not secret: in a comb step P is an even multiple of the base point
    // and Q an odd one (the comment at ecp_add_mixed()).
    if (is_zero(r)) {
      double_jac(p, p);
      return store(*R, p);
    }
    return mbedtls_ecp_set_zero(R);
  }
  mul(p.z, p.z, h);    // Z3 = Z1 H
  sqr(x2, h);          // H^2
  mul(y2, x2, h);      // H^3
  mul(x2, x2, p.x);    // X1 H^2
  add(h, x2, x2);
  sqr(p.x, r);
  sub(p.x, p.x, h);
  sub(p.x, p.x, y2);   // X3 = r^2 - 2 X1 H^2 - H^3
  sub(x2, x2, p.x);
  mul(x2, x2, r);
  mul(y2, y2, p.y);
  sub(p.y, x2, y2);    // Y3 = r (X1 H^2 - X3) - Y1 H^3
  return store(*R, p);
}

// X = X / Z^2, Y = Y / Z^3, Z = 1. mbedTLS calls it only for Z != 0 (ecp_normalize_jac() returns first for a zero).
int mbedtls_internal_ecp_normalize_jac(const mbedtls_ecp_group* grp, mbedtls_ecp_point* pt) {
  (void)grp;
  using namespace tlsgen::fe_p256;
  Jacobian j;
  if (!load(j, *pt) || is_zero(j.z)) {
    return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
  Fe zi, zi2;
  invert(zi, j.z);
  mul(j.y, j.y, zi);
  sqr(zi2, zi);
  mul(j.x, j.x, zi2);
  mul(j.y, j.y, zi2);
  int ret = tlsgen::ecp::store(pt->MBEDTLS_PRIVATE(X), j.x);
  if (ret == 0) {
    ret = tlsgen::ecp::store(pt->MBEDTLS_PRIVATE(Y), j.y);
  }
  return ret != 0 ? ret : mbedtls_mpi_lset(&pt->MBEDTLS_PRIVATE(Z), 1);
}

}  // extern "C"

#endif
