// Arithmetic modulo p = 2^255 - 19 for the X25519 ladder step (runtime/src/ecp/curve25519_ladder.cpp).
//
// An element is eight 32-bit little-endian limbs holding any value below 2^256 that is congruent to it
// ("loosely reduced": 2^256 = 2p + 38, so a value may exceed p by up to p + 37); freeze() gives the canonical
// value in [0, p). 32-bit limbs because the Cortex-M3/M4/M7/M33 multiply 32 x 32 -> 64 bits in one instruction
// (UMULL/UMLAL); the products are limbs.hpp's, row by row.
//
// Every function runs the same instructions whatever the values (no branch and no memory index depends on
// them): the ladder handles secret scalars. Carries are folded with 2^256 = 38 (mod p) unconditionally. add, sub,
// mul and sqr are never inlined (as in fe_p256.hpp: at -O2 the unrolled products would repeat at every call).
#pragma once

#include <array>
#include <cstdint>

#include "limbs.hpp"

namespace tlsgen::fe25519 {

using Fe = std::array<std::uint32_t, 8>;

//! (A + 2) / 4 for Curve25519 (A = 486662): what mbedTLS keeps in the group's A (library/ecp_curves.c,
//! curve25519_a24), which the ladder step multiplies by; mbedtls_internal_ecp_init() checks it is.
inline constexpr std::uint32_t kA24 = 121666;

//! out = a + x over the eight limbs; returns the carry out of bit 256 (0 or 1).
inline std::uint32_t add_word(Fe& out, const Fe& a, std::uint32_t x) {
  std::uint64_t c = x;
  for (std::size_t i = 0; i < 8; ++i) {
    c += a[i];
    out[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  return static_cast<std::uint32_t>(c);
}

//! r = a + x (x < 2^32 - 38), folding the carry out of bit 256 back in as 38: the result is below 2^256.
//! After a wrap the value is below x, so the second fold lands in limb 0 without a further carry.
inline void add_small(Fe& r, const Fe& a, std::uint32_t x) {
  r[0] += add_word(r, a, x) * 38U;
}

//! r = a + b (mod p), loosely reduced.
[[gnu::noinline]] inline void add(Fe& r, const Fe& a, const Fe& b) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::uint64_t>(a[i]) + b[i];
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  add_small(r, r, static_cast<std::uint32_t>(c) * 38U);
}

//! r = a - b (mod p), loosely reduced. A borrow out of bit 256 means the limbs hold a - b + 2^256, which is
//! a - b + 38 (mod p): 38 is taken off, and once more if that borrows too (then limb 0 is at least
//! 2^32 - 38 and the second subtraction cannot borrow).
[[gnu::noinline]] inline void sub(Fe& r, const Fe& a, const Fe& b) {
  std::int64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::int64_t>(a[i]) - static_cast<std::int64_t>(b[i]);
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;  // 0 or -1 (arithmetic shift)
  }
  c = -38 * (-c);
  for (std::size_t i = 0; i < 8; ++i) {
    c += r[i];
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  r[0] -= static_cast<std::uint32_t>(-c) * 38U;
}

//! r = t_low + 38 t_high for a 512-bit t (2^256 = 38 mod p).
inline void reduce(Fe& r, const ecp::Wide& t) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::uint64_t>(t[i + 8]) * 38U + t[i];
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  add_small(r, r, static_cast<std::uint32_t>(c) * 38U);  // c < 39
}

//! r = a * b (mod p), loosely reduced; r may alias a or b.
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

//! r = a * k (mod p) for a small constant k (below 2^25, so that 38 times the carry fits in 32 bits).
inline void mul_small(Fe& r, const Fe& a, std::uint32_t k) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    c += static_cast<std::uint64_t>(a[i]) * k;
    r[i] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
  add_small(r, r, static_cast<std::uint32_t>(c) * 38U);
}

//! r = a^(2^n) (mod p).
inline void sqr_n(Fe& r, const Fe& a, int n) {
  sqr(r, a);
  for (int i = 1; i < n; ++i) {
    sqr(r, r);
  }
}

//! r = 1 / z = z^(p - 2) (mod p), by the usual chain of 254 squarings and 11 multiplications (the exponent is
//! public; 0 gives 0).
inline void invert(Fe& r, const Fe& z) {
  Fe t0, t1, t2, t3;
  sqr(t0, z);             // z^2
  sqr_n(t1, t0, 2);       // z^8
  mul(t1, z, t1);         // z^9
  mul(t0, t0, t1);        // z^11
  sqr(t2, t0);            // z^22
  mul(t1, t1, t2);        // z^(2^5 - 1)
  sqr_n(t2, t1, 5);
  mul(t1, t2, t1);        // z^(2^10 - 1)
  sqr_n(t2, t1, 10);
  mul(t2, t2, t1);        // z^(2^20 - 1)
  sqr_n(t3, t2, 20);
  mul(t2, t3, t2);        // z^(2^40 - 1)
  sqr_n(t2, t2, 10);
  mul(t1, t2, t1);        // z^(2^50 - 1)
  sqr_n(t2, t1, 50);
  mul(t2, t2, t1);        // z^(2^100 - 1)
  sqr_n(t3, t2, 100);
  mul(t2, t3, t2);        // z^(2^200 - 1)
  sqr_n(t2, t2, 50);
  mul(t1, t2, t1);        // z^(2^250 - 1)
  sqr_n(t1, t1, 5);       // z^(2^255 - 2^5)
  mul(r, t1, t0);         // z^(2^255 - 21) = z^(p - 2)
}

//! The canonical value of a, in [0, p). Bit 255 is folded in as 19 twice (the value is then below 2^255),
//! then p is subtracted where a + 19 reaches 2^255, chosen by a mask.
inline void freeze(Fe& r, const Fe& a) {
  r = a;
  for (int round = 0; round < 2; ++round) {
    const std::uint32_t top = r[7] >> 31;
    r[7] &= 0x7fffffffU;
    add_word(r, r, top * 19U);
  }
  Fe t;
  add_word(t, r, 19);
  const std::uint32_t use_t = 0U - (t[7] >> 31);  // all ones where r >= p
  t[7] &= 0x7fffffffU;
  ecp::select(r, use_t, t, r);
}

//! Whether a is 0 (mod p); runs in the same time for every value.
inline bool is_zero(const Fe& a) {
  Fe f;
  freeze(f, a);
  return ecp::all_zero(f);
}

}  // namespace tlsgen::fe25519
