// tlsgen's ECP hooks for `optimize: size` (runtime/src/ecp/ecp_formulas.cpp): mbedTLS's own formulas on its bignum
// module, without the copies. Built with tests/configs/ecp_formulas/mbedtls_config.h (a size profile's curve
// arithmetic, on the host so that the sanitizer build runs it too):
//   - every scalar multiplication through the hooks equals mbedTLS's own code on the same curve (a copy of the group
//     under another id, which the hooks do not serve), for pseudo-random scalars and points, and OpenSSL's results
//     (tests/data/<curve>/vectors.txt: X25519 with RFC 7748's iteration, P-256 multiplications, double
//     multiplications and ECDSA verifications);
//   - they allocate almost nothing where mbedTLS's formulas allocate for most products;
//   - the special cases of the mixed addition, as ecp_add_mixed() has them.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ecp_test_support.hpp"
#include "mbedtls/ecp.h"
#include "mbedtls/platform.h"

#if !defined(MBEDTLS_ECP_INTERNAL_ALT) || !defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) || \
    !defined(MBEDTLS_ECP_DOUBLE_JAC_ALT) || !defined(MBEDTLS_ECP_ADD_MIXED_ALT) || \
    defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT) || defined(MBEDTLS_ECP_NORMALIZE_JAC_ALT)
#error "this test is for the hooks of ecp_formulas.cpp alone (tests/configs/ecp_formulas/mbedtls_config.h)"
#endif

namespace {

using ecp_test::hex;
using ecp_test::Mpi;
using ecp_test::Point;
using ecp_test::test_rng;

// mbedTLS's calloc and free, counted.
std::size_t g_callocs = 0;
void* counting_calloc(std::size_t n, std::size_t size) {
  ++g_callocs;
  return std::calloc(n, size);
}

struct CountCallocs {
  CountCallocs() { EXPECT_EQ(mbedtls_platform_set_calloc_free(counting_calloc, std::free), 0); }
  ~CountCallocs() { mbedtls_platform_set_calloc_free(std::calloc, std::free); }
  CountCallocs(const CountCallocs&) = delete;
  CountCallocs& operator=(const CountCallocs&) = delete;
};

// secp256r1 or Curve25519 loaded by id (served by the hooks), or the same curve under an id the hooks do not serve:
// mbedTLS's own formulas (the arithmetic reads the loaded numbers and reduction, not the id).
struct Group {
  mbedtls_ecp_group g;
  Group(mbedtls_ecp_group_id id, bool hooks) {
    mbedtls_ecp_group_init(&g);
    EXPECT_EQ(mbedtls_ecp_group_load(&g, id), 0);
    if (!hooks) g.id = MBEDTLS_ECP_DP_SECP384R1;
    EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&g), hooks ? 1U : 0U);
  }
  ~Group() { mbedtls_ecp_group_free(&g); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
};

//! A point's affine coordinates ("x y" in hex; "x" on a Montgomery curve), or "zero", normalised here with the
//! bignum module (x = X / Z^2, y = Y / Z^3; X / Z on a Montgomery curve): the hooks' results are not normalised.
std::string xy(const mbedtls_ecp_group& grp, const mbedtls_ecp_point& p) {
  if (mbedtls_mpi_cmp_int(&p.MBEDTLS_PRIVATE(Z), 0) == 0) return "zero";
  const bool montgomery = mbedtls_ecp_get_type(&grp) == MBEDTLS_ECP_TYPE_MONTGOMERY;
  Mpi zi, zz, x, y;
  EXPECT_EQ(mbedtls_mpi_inv_mod(&zi.v, &p.MBEDTLS_PRIVATE(Z), &grp.P), 0);
  EXPECT_EQ(mbedtls_mpi_mul_mpi(&zz.v, &zi.v, montgomery ? &p.MBEDTLS_PRIVATE(X) : &zi.v), 0);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(&x.v, &zz.v, &grp.P), 0);
  if (montgomery) return hex(x.v);
  EXPECT_EQ(mbedtls_mpi_mul_mpi(&y.v, &x.v, &p.MBEDTLS_PRIVATE(X)), 0);  // X / Z^2
  EXPECT_EQ(mbedtls_mpi_mod_mpi(&y.v, &y.v, &grp.P), 0);
  const std::string ax = hex(y.v);
  EXPECT_EQ(mbedtls_mpi_mul_mpi(&zz.v, &x.v, &zi.v), 0);  // Z^-3
  EXPECT_EQ(mbedtls_mpi_mul_mpi(&y.v, &zz.v, &p.MBEDTLS_PRIVATE(Y)), 0);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(&y.v, &y.v, &grp.P), 0);
  return ax + " " + hex(y.v);
}

//! A scalar below the group's order (or, on Curve25519, a clamped one) from the seeded generator.
void random_scalar(const mbedtls_ecp_group& grp, Mpi& k, std::uint64_t& seed) {
  if (mbedtls_ecp_get_type(&grp) == MBEDTLS_ECP_TYPE_MONTGOMERY) {
    ASSERT_EQ(mbedtls_ecp_gen_privkey(&grp, &k.v, test_rng, &seed), 0);
  } else {
    ASSERT_EQ(mbedtls_mpi_random(&k.v, 1, &grp.N, test_rng, &seed), 0);
  }
}

//! k * P on `grp`, with the number of allocations it made.
std::string mul(const mbedtls_ecp_group& grp, const Mpi& k, const mbedtls_ecp_point& p, std::size_t& callocs) {
  Point r;
  std::uint64_t seed = 7;  // the randomised coordinates: the result does not depend on them
  CountCallocs counting;
  g_callocs = 0;
  EXPECT_EQ(mbedtls_ecp_mul(const_cast<mbedtls_ecp_group*>(&grp), &r.v, &k.v, &p, test_rng, &seed), 0);
  callocs = g_callocs;
  return xy(grp, r.v);
}

// Every multiplication equals mbedTLS's own on the same curve, and allocates a small fraction of what it does.
// (On P-256 what is left is the comb's own: a temporary in every conditional negation, ecp_safe_invert_jac().)
void compare_with_mbedtls(mbedtls_ecp_group_id id, std::size_t rounds, std::size_t max_callocs, std::size_t factor) {
  Group hooked(id, true), own(id, false);
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(id);
  std::size_t hook_callocs = 0, own_callocs = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    Mpi k, k2;
    random_scalar(hooked.g, k, seed);
    random_scalar(hooked.g, k2, seed);
    Point p;  // a point of the group: k2 * G, computed by mbedTLS's own code
    std::uint64_t rng = 11;
    ASSERT_EQ(mbedtls_ecp_mul(&own.g, &p.v, &k2.v, &own.g.G, test_rng, &rng), 0);
    std::size_t a = 0, b = 0;
    EXPECT_EQ(mul(hooked.g, k, p.v, a), mul(own.g, k, p.v, b)) << "round " << i;
    EXPECT_EQ(mul(hooked.g, k, hooked.g.G, a), mul(own.g, k, own.g.G, b)) << "round " << i;
    hook_callocs += a;
    own_callocs += b;
    EXPECT_LE(a, max_callocs) << "round " << i;
  }
  // mbedTLS's formulas copy an operand for most in-place products; the hooks none.
  EXPECT_GT(own_callocs, factor * hook_callocs) << own_callocs << " against " << hook_callocs;
}

TEST(EcpFormulas, X25519EqualsMbedtlsOwnLadder) { compare_with_mbedtls(MBEDTLS_ECP_DP_CURVE25519, 12, 40, 100); }

TEST(EcpFormulas, P256EqualsMbedtlsOwnComb) { compare_with_mbedtls(MBEDTLS_ECP_DP_SECP256R1, 12, 240, 3); }

TEST(EcpFormulas, OtherGroupsKeepMbedtlsCode) {
  mbedtls_ecp_group p384;
  mbedtls_ecp_group_init(&p384);
  ASSERT_EQ(mbedtls_ecp_group_load(&p384, MBEDTLS_ECP_DP_SECP384R1), 0);
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&p384), 0U);
  mbedtls_ecp_group_free(&p384);
  // secp256r1's doubling is the A = -3 formula: a group under its id with another A is refused.
  Group p256(MBEDTLS_ECP_DP_SECP256R1, true);
  EXPECT_EQ(mbedtls_internal_ecp_init(&p256.g), 0);
  mbedtls_ecp_group other;
  mbedtls_ecp_group_init(&other);
  other.id = MBEDTLS_ECP_DP_SECP256R1;
  ASSERT_EQ(mbedtls_mpi_copy(&other.P, &p256.g.P), 0);
  ASSERT_EQ(mbedtls_mpi_lset(&other.A, 7), 0);
  EXPECT_EQ(mbedtls_internal_ecp_init(&other), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  mbedtls_ecp_group_free(&other);
}

TEST(EcpFormulas, X25519MatchesOpenSslAndRfc7748Iterations) {
  Group grp(MBEDTLS_ECP_DP_CURVE25519, true);
  ecp_test::check_x25519_vectors(grp.g, TLSGEN_X25519_VECTORS);
}

TEST(EcpFormulas, P256MatchesOpenSsl) {
  Group grp(MBEDTLS_ECP_DP_SECP256R1, true);
  ecp_test::check_p256_vectors(grp.g, TLSGEN_P256_VECTORS);
}

TEST(EcpFormulas, MixedAdditionSpecialCasesAsMbedtlsHasThem) {
  Group grp(MBEDTLS_ECP_DP_SECP256R1, true);
  Point g, twice, r, zero, neg, three;
  ASSERT_EQ(mbedtls_ecp_copy(&g.v, &grp.g.G), 0);
  ASSERT_EQ(mbedtls_ecp_set_zero(&zero.v), 0);
  Mpi k;
  std::uint64_t seed = 5;
  ASSERT_EQ(mbedtls_mpi_lset(&k.v, 3), 0);
  ASSERT_EQ(mbedtls_ecp_mul(&grp.g, &three.v, &k.v, &grp.g.G, test_rng, &seed), 0);
  // 2G by the doubling hook, against 2G from the vectors' second line.
  ASSERT_EQ(mbedtls_internal_ecp_double_jac(&grp.g, &twice.v, &g.v), 0);
  EXPECT_EQ(xy(grp.g, twice.v),
            "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978 "
            "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1");
  // P + P doubles; P + (-P) is zero; 0 + Q is Q; P + 0 is P; R = P in place.
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &g.v), 0);
  EXPECT_EQ(xy(grp.g, r.v), xy(grp.g, twice.v));
  ASSERT_EQ(mbedtls_ecp_copy(&neg.v, &g.v), 0);
  ASSERT_EQ(mbedtls_mpi_sub_mpi(&neg.v.MBEDTLS_PRIVATE(Y), &grp.g.P, &g.v.MBEDTLS_PRIVATE(Y)), 0);
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &neg.v), 0);
  EXPECT_EQ(xy(grp.g, r.v), "zero");
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &zero.v, &g.v), 0);
  EXPECT_EQ(xy(grp.g, r.v), xy(grp.g, g.v));
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &twice.v, &zero.v), 0);
  EXPECT_EQ(xy(grp.g, r.v), xy(grp.g, twice.v));
  ASSERT_EQ(mbedtls_ecp_copy(&r.v, &twice.v), 0);
  ASSERT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &r.v, &g.v), 0);
  EXPECT_EQ(xy(grp.g, r.v), xy(grp.g, three.v));
  // Refused as mbedTLS refuses them: Q not normalised (Z = 2Y here), Q's Z never set.
  ASSERT_EQ(mbedtls_internal_ecp_double_jac(&grp.g, &r.v, &g.v), 0);
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &twice.v, &g.v, &r.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  Point empty;
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&grp.g, &r.v, &g.v, &empty.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
}

// A coordinate of 2^256 or more, or a negative one, would outgrow the working numbers on the stack: refused before
// anything is computed (mbedTLS itself never passes one), with nothing allocated and the result untouched.
TEST(EcpFormulas, InputsBeyond256BitsAreRefused) {
  Group p256(MBEDTLS_ECP_DP_SECP256R1, true);
  Group x25519(MBEDTLS_ECP_DP_CURVE25519, true);
  Point g, r, big, negative, u;
  ASSERT_EQ(mbedtls_ecp_copy(&g.v, &p256.g.G), 0);
  ASSERT_EQ(mbedtls_ecp_copy(&big.v, &g.v), 0);
  ASSERT_EQ(mbedtls_mpi_set_bit(&big.v.MBEDTLS_PRIVATE(Y), 300, 1), 0);
  ASSERT_EQ(mbedtls_ecp_copy(&negative.v, &g.v), 0);
  ASSERT_EQ(mbedtls_mpi_sub_mpi(&negative.v.MBEDTLS_PRIVATE(X), &negative.v.MBEDTLS_PRIVATE(X), &p256.g.P), 0);
  ASSERT_EQ(mbedtls_ecp_copy(&r.v, &g.v), 0);
  ASSERT_EQ(mbedtls_ecp_copy(&u.v, &x25519.g.G), 0);
  Mpi d;
  ASSERT_EQ(mbedtls_mpi_lset(&d.v, 9), 0);
  ASSERT_EQ(mbedtls_mpi_set_bit(&d.v, 256, 1), 0);
  Point s;
  CountCallocs counting;
  g_callocs = 0;
  EXPECT_EQ(mbedtls_internal_ecp_double_jac(&p256.g, &r.v, &big.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(mbedtls_internal_ecp_double_jac(&p256.g, &r.v, &negative.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&p256.g, &r.v, &big.v, &g.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(mbedtls_internal_ecp_add_mixed(&p256.g, &r.v, &g.v, &negative.v), MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(mbedtls_internal_ecp_double_add_mxz(&x25519.g, &r.v, &s.v, &u.v, &u.v, &d.v),
            MBEDTLS_ERR_ECP_BAD_INPUT_DATA);
  EXPECT_EQ(g_callocs, 0U);
  EXPECT_EQ(xy(p256.g, r.v), xy(p256.g, g.v));
}

}  // namespace
