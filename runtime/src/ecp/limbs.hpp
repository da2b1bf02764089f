// What the field arithmetic of the ECP hooks (fe25519.hpp, fe_p256.hpp) shares on eight 32-bit limbs
// (little-endian): the masked selection, the all-zero test, and the 256 x 256 -> 512-bit products, which each
// field then reduces its own way. Row by row with a
// 64-bit accumulator, which cannot overflow: (2^32 - 1)^2 + 2 (2^32 - 1) = 2^64 - 1. No branch or index depends on
// the values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tlsgen::ecp {

using Wide = std::array<std::uint32_t, 16>;
using Limbs8 = std::array<std::uint32_t, 8>;

//! r = `mask` ? a : b, for a mask of all ones or zero (no branch on it).
inline void select(Limbs8& r, std::uint32_t mask, const Limbs8& a, const Limbs8& b) {
  for (std::size_t i = 0; i < 8; ++i) {
    r[i] = (a[i] & mask) | (b[i] & ~mask);
  }
}

//! Whether every limb is 0, in the same time for every value.
inline bool all_zero(const Limbs8& a) {
  std::uint32_t any = 0;
  for (std::uint32_t v : a) {
    any |= v;
  }
  return any == 0;
}

//! t = a * b.
inline void product(Wide& t, const Limbs8& a, const Limbs8& b) {
  t = Wide{};
  for (std::size_t i = 0; i < 8; ++i) {
    std::uint64_t c = 0;
    for (std::size_t j = 0; j < 8; ++j) {
      c += static_cast<std::uint64_t>(a[i]) * b[j] + t[i + j];
      t[i + j] = static_cast<std::uint32_t>(c);
      c >>= 32;
    }
    t[i + 8] = static_cast<std::uint32_t>(c);
  }
}

//! t = a^2: the cross products once, doubled, then the squares (36 products instead of 64).
inline void square(Wide& t, const Limbs8& a) {
  t = Wide{};
  for (std::size_t i = 0; i < 7; ++i) {
    std::uint64_t c = 0;
    for (std::size_t j = i + 1; j < 8; ++j) {
      c += static_cast<std::uint64_t>(a[i]) * a[j] + t[i + j];
      t[i + j] = static_cast<std::uint32_t>(c);
      c >>= 32;
    }
    t[i + 8] = static_cast<std::uint32_t>(c);
  }
  std::uint32_t top = 0;  // double the cross products: shift t left by one bit
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint32_t v = t[i];
    t[i] = (v << 1) | top;
    top = v >> 31;
  }
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint64_t sq = static_cast<std::uint64_t>(a[i]) * a[i];
    c += static_cast<std::uint64_t>(t[2 * i]) + static_cast<std::uint32_t>(sq);
    t[2 * i] = static_cast<std::uint32_t>(c);
    c >>= 32;
    c += static_cast<std::uint64_t>(t[2 * i + 1]) + (sq >> 32);
    t[2 * i + 1] = static_cast<std::uint32_t>(c);
    c >>= 32;
  }
}

}  // namespace tlsgen::ecp
