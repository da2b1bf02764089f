// What the tests of tlsgen's ECP hooks share (curve25519_test.cpp, p256_test.cpp): libc's calloc/free for mbedTLS,
// an owning bignum, 32-byte values and a seeded generator. One test program includes it once.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mbedtls/bignum.h"
#include "mbedtls/platform.h"

namespace ecp_test {

using Bytes = std::array<unsigned char, 32>;
using Limbs = std::array<std::uint32_t, 8>;

//! mbedTLS's calloc/free: a tlsgen profile has no default (its glue registers tlsgen::Heap); libc's here.
class LibcHeap : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(mbedtls_platform_set_calloc_free(std::calloc, std::free), 0); }
};
inline const ::testing::Environment* const kLibcHeap = ::testing::AddGlobalTestEnvironment(new LibcHeap);

struct Mpi {
  mbedtls_mpi v;
  Mpi() { mbedtls_mpi_init(&v); }
  ~Mpi() { mbedtls_mpi_free(&v); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
};

//! Eight 32-bit limbs as 32 little-endian bytes.
inline Bytes to_le(const Limbs& f) {
  Bytes b{};
  for (std::size_t i = 0; i < 32; ++i) {
    b[i] = static_cast<unsigned char>(f[i / 4] >> (8 * (i % 4)));
  }
  return b;
}

//! m = f.
inline void set(Mpi& m, const Limbs& f) {
  const Bytes b = to_le(f);
  ASSERT_EQ(mbedtls_mpi_read_binary_le(&m.v, b.data(), b.size()), 0);
}

//! x mod p by mbedTLS's bignum module, little-endian.
inline Bytes reference_mod(const mbedtls_mpi& x, const mbedtls_mpi& p) {
  Mpi r;
  EXPECT_EQ(mbedtls_mpi_mod_mpi(&r.v, &x, &p), 0);
  Bytes out{};
  EXPECT_EQ(mbedtls_mpi_write_binary_le(&r.v, out.data(), out.size()), 0);
  return out;
}

//! xorshift64: the tests' pseudo-random values (seeded, the same every run).
inline std::uint64_t next(std::uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

//! 64 hex digits as 32 bytes, in the order written.
inline Bytes hex32(const std::string& h) {
  Bytes b{};
  EXPECT_EQ(h.size(), 64U) << h;
  for (std::size_t i = 0; i < 32 && 2 * i + 1 < h.size(); ++i) {
    b[i] = static_cast<unsigned char>(std::stoul(h.substr(2 * i, 2), nullptr, 16));
  }
  return b;
}

//! mbedTLS's f_rng from the seeded generator (state: a std::uint64_t).
inline int test_rng(void* state, unsigned char* out, std::size_t len) {
  auto* s = static_cast<std::uint64_t*>(state);
  for (std::size_t i = 0; i < len; ++i) {
    out[i] = static_cast<unsigned char>(next(*s));
  }
  return 0;
}

}  // namespace ecp_test
