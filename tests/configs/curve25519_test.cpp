// tlsgen's X25519 ladder step (runtime/src/ecp/curve25519_ladder.cpp), inside a profile's mbedTLS: the
// host-tls13 profile has x25519 in tls.groups, so its generated config turns on mbedTLS's ECP hooks and
// mbedtls_ecp_mul() on Curve25519 runs through them (checked below, not assumed).
//   - the field arithmetic (runtime/src/ecp/fe25519.hpp) against mbedTLS's bignum module, on edge values and
//     pseudo-random ones;
//   - whole X25519 computations against OpenSSL's results (tests/data/x25519/vectors.txt, written by
//     make_vectors.py there), including RFC 7748's 1,000-fold iteration.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ecp_test_support.hpp"
#include "fe25519.hpp"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"

#if !defined(MBEDTLS_ECP_INTERNAL_ALT) || !defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT) || \
    !defined(MBEDTLS_ECP_NORMALIZE_MXZ_ALT)
#error "the host-tls13 profile should put X25519 on tlsgen's ladder (tlsgen.resolve.ecc.x25519_ladder)"
#endif

namespace {

using tlsgen::fe25519::Fe;
using ecp_test::Bytes;
using ecp_test::hex32;
using ecp_test::Mpi;
using ecp_test::next;
using ecp_test::reference_mod;
using ecp_test::set;
using ecp_test::test_rng;
using ecp_test::to_le;

Bytes frozen(const Fe& f) {
  Fe c;
  tlsgen::fe25519::freeze(c, f);
  return to_le(c);
}

//! Edge values first (0, 1, p - 1, p, p + 1, 2p - 1, 2p, 2^255 - 1, 2^256 - 38, 2^256 - 1, all limbs
//! 0xffffffff but one), then pseudo-random ones, some with long runs of ones.
std::vector<Fe> field_values() {
  std::vector<Fe> v;
  Fe p{0xffffffedU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU, 0x7fffffffU};
  auto plus = [](Fe a, std::uint32_t x) {  // a + x without reduction (a + x < 2^256 here)
    std::uint64_t c = x;
    for (auto& w : a) {
      c += w;
      w = static_cast<std::uint32_t>(c);
      c >>= 32;
    }
    return a;
  };
  Fe twop = p;  // 2p = 2^256 - 38
  twop[0] = 0xffffffdaU;
  twop[7] = 0xffffffffU;
  Fe ones;
  ones.fill(0xffffffffU);
  v.push_back(Fe{});
  v.push_back(plus(Fe{}, 1));
  v.push_back(plus(p, 0xffffffffU));
  Fe pm1 = p;
  pm1[0] -= 1;
  v.push_back(pm1);
  v.push_back(p);
  v.push_back(plus(p, 1));
  Fe twopm1 = twop;
  twopm1[0] -= 1;
  v.push_back(twopm1);
  v.push_back(twop);
  Fe top = ones;
  top[7] = 0x7fffffffU;
  v.push_back(top);
  v.push_back(plus(twop, 18));
  v.push_back(ones);
  for (std::size_t i = 0; i < 8; ++i) {
    Fe a = ones;
    a[i] = 0;
    v.push_back(a);
  }
  std::uint64_t s = 0x2545f4914f6cdd1dULL;
  for (int n = 0; n < 400; ++n) {
    Fe a;
    for (auto& w : a) {
      w = static_cast<std::uint32_t>(next(s));
      if (n % 4 == 0 && (next(s) & 1) != 0) {
        w = 0xffffffffU;
      }
    }
    v.push_back(a);
  }
  return v;
}

TEST(Curve25519Field, EveryOperationMatchesTheBignumModule) {
  Mpi p, a, b, r;
  ASSERT_EQ(mbedtls_mpi_lset(&p.v, 1), 0);
  ASSERT_EQ(mbedtls_mpi_shift_l(&p.v, 255), 0);
  ASSERT_EQ(mbedtls_mpi_sub_int(&p.v, &p.v, 19), 0);
  const std::vector<Fe> values = field_values();
  std::size_t checked = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Fe& x = values[i];
    const Fe& y = values[(i * 7 + 3) % values.size()];
    set(a, x);
    set(b, y);
    Fe out;

    const Bytes x_mod = reference_mod(a.v, p.v);  // x's canonical value, by the bignum module
    EXPECT_EQ(frozen(x), x_mod) << "freeze, value " << i;

    tlsgen::fe25519::add(out, x, y);
    ASSERT_EQ(mbedtls_mpi_add_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "add, value " << i;

    tlsgen::fe25519::sub(out, x, y);
    ASSERT_EQ(mbedtls_mpi_sub_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "sub, value " << i;

    tlsgen::fe25519::mul(out, x, y);
    ASSERT_EQ(mbedtls_mpi_mul_mpi(&r.v, &a.v, &b.v), 0);
    EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "mul, value " << i;

    tlsgen::fe25519::sqr(out, x);
    ASSERT_EQ(mbedtls_mpi_mul_mpi(&r.v, &a.v, &a.v), 0);
    EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "sqr, value " << i;

    tlsgen::fe25519::mul_small(out, x, 121666);
    ASSERT_EQ(mbedtls_mpi_mul_int(&r.v, &a.v, 121666), 0);
    EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "mul_small, value " << i;

    if (i % 8 == 0) {  // 254 squarings each: a sample
      tlsgen::fe25519::invert(out, x);
      if (x_mod == Bytes{}) {
        EXPECT_TRUE(tlsgen::fe25519::is_zero(out)) << "invert(0), value " << i;
      } else {
        ASSERT_EQ(mbedtls_mpi_inv_mod(&r.v, &a.v, &p.v), 0);
        EXPECT_EQ(frozen(out), reference_mod(r.v, p.v)) << "invert, value " << i;
      }
    }
    EXPECT_EQ(tlsgen::fe25519::is_zero(x), x_mod == Bytes{}) << "is_zero, value " << i;
    ++checked;
  }
  EXPECT_EQ(checked, values.size());
}

TEST(Curve25519Ladder, MatchesOpenSslAndRfc7748Iterations) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);
  ASSERT_EQ(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519), 0);
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&grp), 1U);  // mbedtls_ecp_mul() below runs tlsgen's step
  ecp_test::check_x25519_vectors(grp, TLSGEN_ECP_VECTORS);
  mbedtls_ecp_group_free(&grp);
}

TEST(Curve25519Ladder, OtherCurvesKeepMbedtlsCode) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);  // capable answers by id (secp256r1 has its own hooks: p256_test.cpp)
  grp.id = MBEDTLS_ECP_DP_CURVE448;
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&grp), 0U);
  grp.id = MBEDTLS_ECP_DP_SECP384R1;
  EXPECT_EQ(mbedtls_internal_ecp_grp_capable(&grp), 0U);
  mbedtls_ecp_group_free(&grp);
}

}  // namespace
