// Arithmetic modulo the P-256 prime p = 2^256 - 2^224 + 2^192 + 2^96 - 1, for the Jacobian point operations of
// runtime/src/ecp/p256_jacobian.cpp.
//
// An element is eight 32-bit little-endian limbs holding its canonical value, in [0, p): every function takes and
// gives canonical values, which is what mbedTLS's ECP code keeps in its coordinates (it compares them with 0 and 1
// and negates them as p - y). Products are accumulated row by row with a 64-bit accumulator (UMULL/UMLAL on the
// Cortex-M3/M4/M7/M33), then reduced with the prime's special form (NIST's fast reduction, FIPS 186-4 D.2.3): the
// high half's words are added to and taken from the low half's at fixed places, with a signed accumulator.
//
// Every function runs the same instructions whatever the values (no branch and no memory index depends on them):
// the point operations handle secret scalars. Conditional corrections use masks. add, sub, mul and sqr are never
// inlined: at -O2 GCC would unroll a product into each of their ~60 call sites (the hooks' object 12 KB instead of
// 3 KB).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "limbs.hpp"

namespace tlsgen::fe_p256 {

using Fe = std::array<std::uint32_t, 8>;

//! p, little-endian limbs.
inline constexpr Fe kP = {0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU, 0x00000000U,
                          0x00000000U, 0x00000000U, 0x00000001U, 0xFFFFFFFFU};

//! r = a - p; returns the borrow out of bit 256 (1 where a < p).
inline std::uint32_t sub_p(Fe& r, const Fe& a) {
  std::int64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::int64_t>(a[i]) - static_cast<std::int64_t>(kP[i]);
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;  // 0 or -1 (arithmetic shift)
  }
  return static_cast<std::uint32_t>(-c);
}

//! r = a + b (mod p); r may alias a or b. The sum is below 2p: p is taken off where it carried out of bit 256
//! or where the subtraction does not borrow.
[[gnu::noinline]] inline void add(Fe& r, const Fe& a, const Fe& b) {
  Fe s;
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::uint64_t>(a[i]) + b[i];
    s[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  Fe t;
  const std::uint32_t borrow = sub_p(t, s);
  const std::uint32_t use_t = 0U - (static_cast<std::uint32_t>(c) | (borrow ^ 1U));
  ecp::select(r, use_t, t, s);
}

//! r = a - b (mod p); r may alias a or b. Where a - b borrows, p is added back (masked).
[[gnu::noinline]] inline void sub(Fe& r, const Fe& a, const Fe& b) {
  Fe d;
  std::int64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::int64_t>(a[i]) - static_cast<std::int64_t>(b[i]);
    d[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  const auto mask = static_cast<std::uint32_t>(c);  // all ones where it borrowed
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    carry += static_cast<std::uint64_t>(d[i]) + (kP[i] & mask);
    r[i] = static_cast<std::uint32_t>(carry);
    carry >>= 32;
  }
}

//! Adds k * 2^256 to r (a value below 2^256 that the caller holds as r + k * 2^256) by way of
//! 2^256 = 2^224 - 2^192 - 2^96 + 1 (mod p); returns the new carry out of bit 256 (signed).
inline std::int64_t fold(Fe& r, std::int64_t k) {
  std::int64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += r[i];
    if (i == 0 || i == 7) {
      c += k;
    } else if (i == 3 || i == 6) {
      c -= k;
    }
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  return c;
}

//! r = t mod p for a 512-bit t (sixteen limbs). NIST's fast reduction (FIPS 186-4 D.2.3):
//! t = T + 2 S1 + 2 S2 + S3 + S4 - D1 - D2 - D3 - D4 (mod p), summed here word by word with a signed 64-bit
//! accumulator. The carry k out of bit 256 is then a few units either way (|k| < 8) and folded back as
//! k (2^224 - 2^192 - 2^96 + 1): the value is then within 2^227 of [0, 2^256), so the second fold's carry is -1, 0
//! or 1, and after it (the value then within 2^228 of where it wrapped) none is left. One conditional subtraction of
//! p ends it (2^256 < 2p).
inline void reduce(Fe& r, const ecp::Wide& t) {
  auto w = [&t](std::size_t i) { return static_cast<std::int64_t>(t[i]); };
  std::int64_t c = 0;
  // One word at a time (no array of the eight sums: these frames sit under the deepest ECP calls).
  auto put = [&r, &c](std::size_t i, std::int64_t word) {
    c += word;
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  };
  put(0, w(0) + w(8) + w(9) - w(11) - w(12) - w(13) - w(14));
  put(1, w(1) + w(9) + w(10) - w(12) - w(13) - w(14) - w(15));
  put(2, w(2) + w(10) + w(11) - w(13) - w(14) - w(15));
  put(3, w(3) + 2 * w(11) + 2 * w(12) + w(13) - w(15) - w(8) - w(9));
  put(4, w(4) + 2 * w(12) + 2 * w(13) + w(14) - w(9) - w(10));
  put(5, w(5) + 2 * w(13) + 2 * w(14) + w(15) - w(10) - w(11));
  put(6, w(6) + 3 * w(14) + 2 * w(15) + w(13) - w(8) - w(9));
  put(7, w(7) + 3 * w(15) + w(8) - w(10) - w(11) - w(12) - w(13));
  c = fold(r, c);
  fold(r, c);
  Fe s;
  const std::uint32_t below_p = sub_p(s, r);
  ecp::select(r, below_p - 1U, s, r);  // r - p where r >= p
}

//! r = a * b (mod p); r may alias a or b.
[[gnu::noinline]] inline void mul(Fe& r, const Fe& a, const Fe& b) {
  ecp::Wide t;
  ecp::product(t, a, b);
  reduce(r, t);
}

//! r = a^2 (mod p) (ecp::square: 36 products instead of 64).
[[gnu::noinline]] inline void sqr(Fe& r, const Fe& a) {
  ecp::Wide t;
  ecp::square(t, a);
  reduce(r, t);
}

//! r = a^(2^n) (mod p), n >= 1.
inline void sqr_n(Fe& r, const Fe& a, int n) {
  sqr(r, a);
  for (int i = 1; i < n; ++i) {
    sqr(r, r);
  }
}

//! r = 1 / z = z^(p - 2) (mod p), 0 for 0. The exponent (public) is, from the top: 32 ones, 31 zeros and a one,
//! 96 zeros, 94 ones, a zero and a one; the chain builds z^(2^k - 1) for k = 2, 3, 6, 12, 15, 30, 32 and appends
//! the blocks: 255 squarings and 12 multiplications.
inline void invert(Fe& r, const Fe& z) {
  Fe x2, x3, t, u;  // four elements, reused (x3 then holds x30, u x6, x12, x15 and x32)
  sqr(t, z);
  mul(x2, t, z);        // z^(2^2 - 1)
  sqr(t, x2);
  mul(x3, t, z);        // z^(2^3 - 1)
  sqr_n(t, x3, 3);
  mul(u, t, x3);        // z^(2^6 - 1)
  sqr_n(t, u, 6);
  mul(u, t, u);         // z^(2^12 - 1)
  sqr_n(t, u, 3);
  mul(u, t, x3);        // z^(2^15 - 1)
  sqr_n(t, u, 15);
  mul(x3, t, u);        // z^(2^30 - 1)
  sqr_n(t, x3, 2);
  mul(u, t, x2);        // z^(2^32 - 1): bits 255..224
  sqr_n(t, u, 32);
  mul(t, t, z);         // then 31 zeros and a one: bits 223..192
  sqr_n(t, t, 128);
  mul(t, t, u);         // 96 zeros, then 32 ones: bits 191..64
  sqr_n(t, t, 32);
  mul(t, t, u);         // 32 ones: bits 63..32
  sqr_n(t, t, 30);
  mul(t, t, x3);        // 30 ones: bits 31..2
  sqr_n(t, t, 2);
  mul(r, t, z);         // bits 1, 0: zero, one
}

//! Whether a (canonical) is 0; the same time for every value.
inline bool is_zero(const Fe& a) { return ecp::all_zero(a); }

//! Whether a is a canonical element (below p).
inline bool canonical(const Fe& a) {
  Fe s;
  return sub_p(s, a) == 1U;
}

}  // namespace tlsgen::fe_p256
