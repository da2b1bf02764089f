// 256 x 256 -> 512-bit products on eight 32-bit limbs (little-endian), shared by the field arithmetic of the ECP
// hooks (fe25519.hpp, fe_p256.hpp), each of which then reduces the sixteen limbs its own way. Row by row with a
// 64-bit accumulator, which cannot overflow: (2^32 - 1)^2 + 2 (2^32 - 1) = 2^64 - 1. No branch or index depends on
// the values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tlsgen::ecp {

using Wide = std::array<std::uint32_t, 16>;

//! t = a * b.
inline void product(Wide& t, const std::array<std::uint32_t, 8>& a, const std::array<std::uint32_t, 8>& b) {
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
inline void square(Wide& t, const std::array<std::uint32_t, 8>& a) {
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
