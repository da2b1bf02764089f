// Moving 256-bit field elements (eight 32-bit limbs, little-endian) in and out of mbedTLS's bignums, for the
// ECP hooks in runtime/src/ecp (curve25519_ladder.cpp, p256_jacobian.cpp). Direct limb copies: going through
// bytes (mbedtls_mpi_write_binary_le / read_binary_le) would also resize, i.e. free and allocate, a bignum whose
// limb count differs, and the point of the hooks is to stop allocating.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "mbedtls/bignum.h"

namespace tlsgen::ecp {

using Limbs = std::array<std::uint32_t, 8>;

constexpr std::size_t kWordsPerLimb = sizeof(mbedtls_mpi_uint) / sizeof(std::uint32_t);
constexpr std::size_t kMpiLimbs = 8 / kWordsPerLimb;
static_assert(kWordsPerLimb == 1 || kWordsPerLimb == 2, "mbedTLS limbs are 32 or 64 bits");

//! x's value, when it is a non-negative number below 2^256 (false otherwise: a negative sign or more bits).
inline bool load(Limbs& f, const mbedtls_mpi& x) {
  const std::size_t n = x.MBEDTLS_PRIVATE(n);
  const mbedtls_mpi_uint* p = x.MBEDTLS_PRIVATE(p);
  if (x.MBEDTLS_PRIVATE(s) < 0 || (n > 0 && p == nullptr)) {
    return false;
  }
  mbedtls_mpi_uint beyond = 0;
  for (std::size_t i = kMpiLimbs; i < n; ++i) {
    beyond |= p[i];
  }
  for (std::size_t k = 0; k < 8; ++k) {
    const std::size_t limb = k / kWordsPerLimb;
    const std::uint64_t v = limb < n ? static_cast<std::uint64_t>(p[limb]) : 0U;
    f[k] = static_cast<std::uint32_t>(v >> (32U * (k % kWordsPerLimb)));
  }
  return beyond == 0;
}

//! Writes f into x (grown to 256 bits if it is smaller: the first write allocates, later ones reuse it; limbs
//! above are zeroed, the sign made positive). 0 or mbedTLS's allocation error.
inline int store(mbedtls_mpi& x, const Limbs& f) {
  const int ret = mbedtls_mpi_grow(&x, kMpiLimbs);
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

}  // namespace tlsgen::ecp
