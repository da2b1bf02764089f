// What the tests of tlsgen's ECP hooks share (curve25519_test.cpp, p256_test.cpp, ecp_formulas_test.cpp): libc's
// calloc/free for mbedTLS, an owning bignum and point, 32-byte values, a seeded generator, and the runs of OpenSSL's
// results (tests/data/<curve>/vectors.txt) through mbedTLS's ECP API. One test program includes it once.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/platform.h"

// mbedTLS's ECP hooks (library/ecp_internal_alt.h, not among its public headers), as tlsgen implements them.
extern "C" {
unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group* grp);
int mbedtls_internal_ecp_init(const mbedtls_ecp_group* grp);
int mbedtls_internal_ecp_add_mixed(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P,
                                   const mbedtls_ecp_point* Q);
int mbedtls_internal_ecp_double_jac(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P);
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, mbedtls_ecp_point* S,
                                        const mbedtls_ecp_point* P, const mbedtls_ecp_point* Q, const mbedtls_mpi* d);
}

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

struct Point {
  mbedtls_ecp_point v;
  Point() { mbedtls_ecp_point_init(&v); }
  ~Point() { mbedtls_ecp_point_free(&v); }
  Point(const Point&) = delete;
  Point& operator=(const Point&) = delete;
};

//! x = the 64 hex digits `h` (big-endian).
inline void read(mbedtls_mpi& x, const std::string& h) {
  const Bytes b = hex32(h);
  ASSERT_EQ(mbedtls_mpi_read_binary(&x, b.data(), b.size()), 0);
}

//! An affine point (Z = 1) from its coordinates in hex.
inline void read(Point& pt, const std::string& x, const std::string& y) {
  read(pt.v.MBEDTLS_PRIVATE(X), x);
  read(pt.v.MBEDTLS_PRIVATE(Y), y);
  ASSERT_EQ(mbedtls_mpi_lset(&pt.v.MBEDTLS_PRIVATE(Z), 1), 0);
}

//! x as 64 hex digits (big-endian, 32 bytes).
inline std::string hex(const mbedtls_mpi& x) {
  Bytes b{};
  EXPECT_EQ(mbedtls_mpi_write_binary(&x, b.data(), b.size()), 0);
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char v : b) {
    out += kHex[v >> 4];
    out += kHex[v & 15];
  }
  return out;
}

//! A normalised point's coordinates as the vectors write them ("x y"), or "zero" (what mbedtls_ecp_mul() and
//! mbedtls_ecp_muladd() return).
inline std::string affine(const mbedtls_ecp_point& R) {
  if (mbedtls_mpi_cmp_int(&R.MBEDTLS_PRIVATE(Z), 0) == 0) {
    return "zero";
  }
  return hex(R.MBEDTLS_PRIVATE(X)) + " " + hex(R.MBEDTLS_PRIVATE(Y));
}

//! X25519(k, u) as RFC 7748 defines it, through mbedTLS's ECP API on `grp` (Curve25519): the scalar clamped, u read
//! little-endian (mbedTLS clears its top bit), the result's x written little-endian.
inline Bytes x25519(const mbedtls_ecp_group& grp, const Bytes& k_in, const Bytes& u) {
  Bytes k = k_in;
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  Point p, r;
  Mpi m;
  Bytes out{};
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  std::size_t olen = 0;
  EXPECT_EQ(mbedtls_mpi_read_binary_le(&m.v, k.data(), k.size()), 0);
  EXPECT_EQ(mbedtls_ecp_point_read_binary(&grp, &p.v, u.data(), u.size()), 0);
  EXPECT_EQ(mbedtls_ecp_mul(const_cast<mbedtls_ecp_group*>(&grp), &r.v, &m.v, &p.v, test_rng, &seed), 0);
  EXPECT_EQ(mbedtls_ecp_point_write_binary(&grp, &r.v, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, out.data(), out.size()), 0);
  EXPECT_EQ(olen, 32U);
  return out;
}

//! OpenSSL's 48 X25519 results and RFC 7748's 1,000-fold iteration (tests/data/x25519/vectors.txt) on `grp`.
inline void check_x25519_vectors(const mbedtls_ecp_group& grp, const char* path) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  std::size_t vectors = 0;
  bool iterated = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string a, b, c;
    fields >> a >> b >> c;
    if (a == "iterated-1000") {
      Bytes k = hex32("0900000000000000000000000000000000000000000000000000000000000000");
      Bytes u = k;
      for (int i = 0; i < 1000; ++i) {
        const Bytes next_k = x25519(grp, k, u);
        u = k;
        k = next_k;
      }
      EXPECT_EQ(k, hex32(b));
      iterated = true;
      continue;
    }
    EXPECT_EQ(x25519(grp, hex32(a), hex32(b)), hex32(c)) << line;
    ++vectors;
  }
  EXPECT_EQ(vectors, 48U);
  EXPECT_TRUE(iterated);
}

//! OpenSSL's P-256 results (tests/data/p256/vectors.txt) on `grp` (secp256r1): 24 fixed-base and 24 variable-base
//! multiplications, 16 double multiplications (one of them zero) and 16 ECDSA verifications (4 refused).
inline void check_p256_vectors(mbedtls_ecp_group& grp, const char* path) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  std::string line;
  std::size_t base = 0, mul = 0, muladd = 0, zero = 0, ecdsa = 0, rejected = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    Point r;
    if (kind == "base") {
      std::string k, x, y;
      fields >> k >> x >> y;
      Mpi m;
      read(m.v, k);
      ASSERT_EQ(mbedtls_ecp_mul(&grp, &r.v, &m.v, &grp.G, test_rng, &seed), 0) << line;
      EXPECT_EQ(affine(r.v), x + " " + y) << line;
      ++base;
    } else if (kind == "mul") {
      std::string k, qx, qy, x, y;
      fields >> k >> qx >> qy >> x >> y;
      Mpi m;
      Point q;
      read(m.v, k);
      read(q, qx, qy);
      ASSERT_EQ(mbedtls_ecp_check_pubkey(&grp, &q.v), 0) << line;
      ASSERT_EQ(mbedtls_ecp_mul(&grp, &r.v, &m.v, &q.v, test_rng, &seed), 0) << line;
      EXPECT_EQ(affine(r.v), x + " " + y) << line;
      ++mul;
    } else if (kind == "muladd") {
      std::string a, b, qx, qy, x, y;
      fields >> a >> b >> qx >> qy >> x;
      if (x != "zero") {
        fields >> y;
        x += " " + y;
      } else {
        ++zero;
      }
      Mpi m, n;
      Point q;
      read(m.v, a);
      read(n.v, b);
      read(q, qx, qy);
      ASSERT_EQ(mbedtls_ecp_muladd(&grp, &r.v, &m.v, &grp.G, &n.v, &q.v), 0) << line;
      EXPECT_EQ(affine(r.v), x) << line;
      ++muladd;
    } else if (kind == "ecdsa") {
      std::string qx, qy, hash, rs, ss;
      int ok = -1;
      fields >> qx >> qy >> hash >> rs >> ss >> ok;
      Point q;
      Mpi sr, sv;
      read(q, qx, qy);
      read(sr.v, rs);
      read(sv.v, ss);
      const Bytes digest = hex32(hash);
      const int ret = mbedtls_ecdsa_verify(&grp, digest.data(), digest.size(), &q.v, &sr.v, &sv.v);
      EXPECT_EQ(ret, ok == 1 ? 0 : MBEDTLS_ERR_ECP_VERIFY_FAILED) << line;
      rejected += ok == 1 ? 0 : 1;
      ++ecdsa;
    } else {
      ADD_FAILURE() << "unknown line: " << line;
    }
  }
  EXPECT_EQ(base, 24U);
  EXPECT_EQ(mul, 24U);
  EXPECT_EQ(muladd, 16U);
  EXPECT_EQ(zero, 1U);
  EXPECT_EQ(ecdsa, 16U);
  EXPECT_EQ(rejected, 4U);
}

}  // namespace ecp_test
