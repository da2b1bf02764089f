// tlsgen's secp256r1 hooks (runtime/src/ecp/p256_jacobian.cpp), inside a profile's mbedTLS: the host-tls13 profile
// has secp256r1 in tls.groups, so its generated config turns on mbedTLS's Jacobian hooks and every scalar
// multiplication on P-256 runs through them (checked below, not assumed).
//   - the field arithmetic (runtime/src/ecp/fe_p256.hpp) against mbedTLS's bignum module, on edge values and
//     pseudo-random ones;
//   - the hooks' special cases, called directly (zero points, a point not normalised, coordinates not below p);
//   - scalar multiplications, double multiplications (with the P = Q and P = -Q cases of the last addition) and
//     ECDSA verifications against OpenSSL's results (tests/data/p256/vectors.txt, written by make_vectors.py).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ecp_test_support.hpp"
#include "fe_p256.hpp"
#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"

#if !defined(MBEDTLS_ECP_INTERNAL_ALT) || !defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) || \
    !defined(MBEDTLS_ECP_ADD_MIXED_ALT) || !defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT)
#error "the host-tls13 profile should put secp256r1 on tlsgen's hooks (tlsgen.resolve.ecc.p256_jacobian)"
#endif

extern "C" int mbedtls_internal_ecp_normalize_jac(const mbedtls_ecp_group* grp, mbedtls_ecp_point* pt);

namespace {

using tlsgen::fe_p256::Fe;
using ecp_test::Bytes;
using ecp_test::hex32;
using ecp_test::affine;
using ecp_test::Mpi;
using ecp_test::Point;
using ecp_test::next;
using ecp_test::reference_mod;
using ecp_test::set;
using ecp_test::test_rng;
using ecp_test::to_le;

struct Group {
  mbedtls_ecp_group g;
  Group() {
    mbedtls_ecp_group_init(&g);
    EXPECT_EQ(mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1), 0);
  }
  ~Group() { mbedtls_ecp_group_free(&g); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
};

Fe minus(Fe a, std::uint32_t x) {  // a - x without reduction (a >= x here)
  std::int64_t c = -static_cast<std::int64_t>(x);
  for (auto& w : a) {
    c += w;
    w = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  return a;
}

//! Canonical edge values (0, 1, 2, p - 1, p - 2, 2^224, 2^255, 2^256 - 2^224 - 1, limbs of all ones below p), then
//! pseudo-random values below p, some with long runs of ones.
std::vector<Fe> field_values() {
  const Fe p = tlsgen::fe_p256::kP;
  std::vector<Fe> v;
  v.push_back(Fe{});
  v.push_back(Fe{1});
  v.push_back(Fe{2});
  v.push_back(minus(p, 1));
  v.push_back(minus(p, 2));
  v.push_back(Fe{0, 0, 0, 0, 0, 0, 0, 1});
  v.push_back(Fe{0, 0, 0, 0, 0, 0, 0, 0x80000000U});
  v.push_back(Fe{0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU,
                 0xfffffffeU});
  v.push_back(Fe{0xffffffffU, 0xffffffffU, 0xffffffffU, 0, 0, 0, 0, 0});
  v.push_back(Fe{0, 0, 0, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0, 0});
  v.push_back(Fe{0, 0, 0, 0, 0, 0, 1, 0xffffffffU});
  std::uint64_t s = 0x2545f4914f6cdd1dULL;
  for (int n = 0; n < 400; ++n) {
    Fe a;
    for (auto& w : a) {
      w = static_cast<std::uint32_t>(next(s));
      if (n % 4 == 0 && (next(s) & 1) != 0) {
        w = 0xffffffffU;
      }
    }
    if (!tlsgen::fe_p256::canonical(a)) {
      a[7] &= 0x7fffffffU;
    }
    v.push_back(a);
  }
  return v;
}

TEST(P256Field, EveryOperationMatchesTheBignumModule) {
  Mpi p, a, b, r;
  set(p, tlsgen::fe_p256::kP);
  const std::vector<Fe> values = field_values();
  std::size_t checked = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Fe& x = values[i];
    const Fe& y = values[(i * 7 + 3) % values.size()];
    ASSERT_TRUE(tlsgen::fe_p256::canonical(x)) << i;
    set(a, x);
    set(b, y);
    Fe out;

    tlsgen::fe_p256::add(out, x, y);
    ASSERT_EQ(mbedtls_mpi_add_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(to_le(out), reference_mod(r.v, p.v)) << "add, value " << i;

    tlsgen::fe_p256::sub(out, x, y);
    ASSERT_EQ(mbedtls_mpi_sub_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(to_le(out), reference_mod(r.v, p.v)) << "sub, value " << i;

    tlsgen::fe_p256::mul(out, x, y);
    ASSERT_EQ(mbedtls_mpi_mul_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(to_le(out), reference_mod(r.v, p.v)) << "mul, value " << i;

    tlsgen::fe_p256::sqr(out, x);
    ASSERT_EQ(mbedtls_mpi_mul_mpi(&r.v, &a.v, &a.v), 0);
    EXPECT_EQ(to_le(out), reference_mod(r.v, p.v)) << "sqr, value " << i;

    if (i % 8 == 0) {  // 255 squarings each: a sample
      tlsgen::fe_p256::invert(out, x);
      if (tlsgen::fe_p256::is_zero(x)) {
        EXPECT_TRUE(tlsgen::fe_p256::is_zero(out)) << "invert(0), value " << i;
      } else {
        ASSERT_EQ(mbedtls_mpi_inv_mod(&r.v, &a.v, &p.v), 0);
        EXPECT_EQ(to_le(out), reference_mod(r.v, p.v)) << "invert, value " << i;
      }
    }
    EXPECT_EQ(tlsgen::fe_p256::is_zero(x), mbedtls_mpi_cmp_int(&a.v, 0) == 0) << "is_zero, value " << i;
    ++checked;
  }
  EXPECT_EQ(checked, values.size());
  // Not canonical: p itself and above.
  EXPECT_FALSE(tlsgen::fe_p256::canonical(tlsgen::fe_p256::kP));
  Fe ones;
  ones.fill(0xffffffffU);
  EXPECT_FALSE(tlsgen::fe_p256::canonical(ones));
}

TEST(P256Hooks, ServeSecp256r1Only) {
  Group grp;
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&grp.g), 1U);
  EXPECT_EQ(mbedtls_internal_ecp_init(&grp.g), 0);
  // A group that carries the id but another prime is refused before a multiplication uses the hooks.
  // (A loaded group's numbers are mbedTLS's constant tables: this one is built by hand.)
  mbedtls_ecp_group other;
  mbedtls_ecp_group_init(&other);
  other.id = MBEDTLS_ECP_DP_SECP256R1;
  ASSERT_EQ(mbedtls_mpi_copy(&other.P, &grp.g.P), 0);
  EXPECT_EQ(mbedtls_internal_ecp_init(&other), 0);
  ASSERT_EQ(mbedtls_mpi_sub_int(&other.P, &other.P, 2), 0);
  EXPECT_EQ(mbedtls_internal_ecp_init(&other), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  ASSERT_EQ(mbedtls_mpi_add_int(&other.P, &other.P, 2), 0);
  ASSERT_EQ(mbedtls_mpi_lset(&other.A, 7), 0);  // A = 7, not -3
  EXPECT_EQ(mbedtls_internal_ecp_init(&other), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  mbedtls_ecp_group_free(&other);
  // Other Weierstrass curves keep mbedTLS's code (capable answers by id).
  mbedtls_ecp_group_init(&other);
  other.id = MBEDTLS_ECP_DP_SECP384R1;
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&other), 0U);
  mbedtls_ecp_group_free(&other);
}

TEST(P256Hooks, SpecialCasesAsMbedtlsHasThem) {
  Group grp;
  Point g, twice, r, zero;
  ASSERT_EQ(mbedtls_ecp_copy(&g.v, &grp.g.G), 0);
  ASSERT_EQ(mbedtls_ecp_set_zero(&zero.v), 0);
  // 2G by the doubling hook, normalised by the normalisation hook, against 2G from the vectors' first lines.
  ASSERT_EQ(mbedtls_internal_ecp_double_jac(&grp.g, &twice.v, &g.v), 0);
  ASSERT_EQ(mbedtls_internal_ecp_normalize_jac(&grp.g, &twice.v), 0);
  EXPECT_EQ(affine(twice.v),
            "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978 "
            "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1");
  // P + P doubles; P + (-P) is zero; 0 + Q is Q; P + 0 is P.
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &g.v), 0);
  ASSERT_EQ(mbedtls_internal_ecp_normalize_jac(&grp.g, &r.v), 0);
  EXPECT_EQ(affine(r.v), affine(twice.v));
  Point neg;
  ASSERT_EQ(mbedtls_ecp_copy(&neg.v, &g.v), 0);
  ASSERT_EQ(mbedtls_mpi_sub_mpi(&neg.v.MBEDTLS_PRIVATE(Y), &grp.g.P, &g.v.MBEDTLS_PRIVATE(Y)), 0);
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &neg.v), 0);
  EXPECT_EQ(affine(r.v), "zero");
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &zero.v, &g.v), 0);
  EXPECT_EQ(affine(r.v), affine(g.v));
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &twice.v, &zero.v), 0);
  EXPECT_EQ(affine(r.v), affine(twice.v));
  // G + 2G in place (R = P), against 3G.
  ASSERT_EQ(mbedtls_ecp_copy(&r.v, &twice.v), 0);
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &r.v, &g.v), 0);
  ASSERT_EQ(mbedtls_internal_ecp_normalize_jac(&grp.g, &r.v), 0);
  Point three;
  Mpi k;
  ASSERT_EQ(mbedtls_mpi_lset(&k.v, 3), 0);
  std::uint64_t seed = 5;
  ASSERT_EQ(mbedtls_ecp_mul(&grp.g, &three.v, &k.v, &grp.g.G, test_rng, &seed), 0);
  EXPECT_EQ(affine(r.v), affine(three.v));
  // Refused: Q not normalised, Q's Z never set, a coordinate not below p.
  ASSERT_EQ(mbedtls_internal_ecp_double_jac(&grp.g, &r.v, &g.v), 0);  // Z = 2Y, not 1
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &twice.v, &g.v, &r.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  Point empty;
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &empty.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  Point big;
  ASSERT_EQ(mbedtls_ecp_copy(&big.v, &g.v), 0);
  ASSERT_EQ(mbedtls_mpi_add_mpi(&big.v.MBEDTLS_PRIVATE(X), &big.v.MBEDTLS_PRIVATE(X), &grp.g.P), 0);
  EXPECT_EQ(mbedtls_internal_ecp_double_jac(&grp.g, &r.v, &big.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &big.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
}

TEST(P256Hooks, MatchOpenSsl) {
  Group grp;
  ecp_test::check_p256_vectors(grp.g, TLSGEN_ECP_VECTORS);
}

}  // namespace
