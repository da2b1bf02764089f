// mbedTLS's own point formulas on its own bignum module, without the copies: the X25519 ladder step and P-256's
// doubling and mixed addition for `optimize: size` on a bare-metal core (tlsgen.resolve.ecc; hooks.hpp:
// TLSGEN_ECP_X25519_MPI, TLSGEN_ECP_P256_MPI).
//
// mbedtls_mpi_mul_mpi(X, A, B) copies A (and B) to a fresh heap number whenever X is A or B (library/bignum.c, TA
// and TB), and mbedTLS's formulas multiply and square in place (library/ecp.c): ecp_double_add_mxz() makes 12 such
// copies per X25519 ladder step, ecp_double_jac() 1 and ecp_add_mixed() 5 per comb step. A TLS 1.3 handshake on the
// legacy ECP (m4-tls13: an X25519 key share, two P-256 signatures verified) spends most of its ~22,700 allocator calls
// on them. These hooks (MBEDTLS_ECP_INTERNAL_ALT with MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT, or with
// MBEDTLS_ECP_DOUBLE_JAC_ALT and MBEDTLS_ECP_ADD_MIXED_ALT) compute the same formulas with the same bignum calls and
// the group's own reduction, so every value is the one mbedTLS computes; but each product goes to a number that is
// none of its operands, and the working numbers live on the stack at the size a product needs: a step allocates
// nothing. The formulas are tables of four-byte operations run by one small interpreter (run()), which keeps the
// hooks' code small: mbedTLS's own formulas stay compiled in beside them (ecp.c falls back to them for other groups).
//
// Side channels: the same as mbedTLS's own formulas (the same bignum calls and the same reductions; nothing here
// branches on a value except the special cases ecp_add_mixed() has too). The working numbers are wiped before a hook
// returns, as mbedtls_mpi_free() wipes mbedTLS's copies.
//
// Compiled into the profile's mbedTLS library (cmake/Tlsgen.cmake); empty for a configuration without these hooks.
#include "hooks.hpp"

#if defined(TLSGEN_ECP_X25519_MPI) || defined(TLSGEN_ECP_P256_MPI)

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/platform_util.h"

extern "C" {
#include "ecp_internal_alt.h"
}

namespace {

// The operations of a formula. Each result is reduced as mbedTLS's MPI_ECP_* macros reduce it (library/ecp.c:
// MOD_MUL after a product, MOD_ADD after a sum, a doubling or a tripling, MOD_SUB after a difference).
enum Op : std::uint8_t {
  kMul,     // d = a * b mod p  (d is neither a nor b: no copy in mbedtls_mpi_mul_mpi)
  kAdd,     // d = a + b mod p
  kSub,     // d = a - b mod p
  kDouble,  // d = 2a mod p     (mbedTLS's MPI_ECP_SHIFT_L by 1)
  kTriple,  // d = 3a mod p     (MPI_ECP_MUL_INT by 3)
};

struct Step {
  Op op;
  std::uint8_t d, a, b;  // registers: 0 .. kTemps - 1 the working numbers, then the hook's inputs
};

constexpr std::uint8_t kTemps = 6;
constexpr std::uint8_t kMaxInputs = 6;

// Limbs of a working number: a product of two values below a 256-bit p plus one, which the NIST reduction grows
// its operand to (ecp_curves.c, INIT: 2 x 256 bits / biL + 1). Curve25519's reduction wants at most 2 x 256 bits
// (ecp_mod_p255(): MBEDTLS_ERR_ECP_BAD_INPUT_DATA above), so its numbers use one limb less.
constexpr std::size_t kWordBits = 8 * sizeof(mbedtls_mpi_uint);
constexpr std::size_t kProductLimbs = 2 * 256 / kWordBits;
constexpr std::size_t kLimbs = kProductLimbs + 1;

// A formula is sane when every result goes to a working number, no product's result is one of its operands, and
// every working number is written before it is read. Checked at compile time for each table below.
template <std::size_t N>
constexpr bool sane(const Step (&steps)[N], std::uint8_t inputs, unsigned already_written = 0) {
  bool written[kTemps] = {};
  for (std::uint8_t i = 0; i < kTemps; ++i) written[i] = ((already_written >> i) & 1u) != 0;
  for (const Step& s : steps) {
    const bool binary = s.op == kMul || s.op == kAdd || s.op == kSub;
    if (s.d >= kTemps || s.a >= kTemps + inputs || (binary && s.b >= kTemps + inputs)) return false;
    if ((s.op == kMul || s.op == kTriple) && (s.d == s.a || (binary && s.d == s.b))) return false;
    if ((s.a < kTemps && !written[s.a]) || (binary && s.b < kTemps && !written[s.b])) return false;
    written[s.d] = true;
  }
  return true;
}

// The registers of one hook call: the working numbers (on the stack, at kLimbs) and the inputs (read only).
struct Registers {
  mbedtls_mpi temp[kTemps];
  mbedtls_mpi_uint limbs[kTemps][kLimbs];
  const mbedtls_mpi* input[kMaxInputs];

  // The limbs need no initial value: every operation writes all of its result's limbs (a product clears them
  // first), and sane() has each working number written before it is read.
  Registers(const mbedtls_ecp_group* grp, std::initializer_list<const mbedtls_mpi*> inputs) : temp{}, input{} {
    const auto n = static_cast<unsigned short>(
        mbedtls_ecp_get_type(grp) == MBEDTLS_ECP_TYPE_MONTGOMERY ? kProductLimbs : kLimbs);
    for (std::uint8_t i = 0; i < kTemps; ++i) {
      temp[i].MBEDTLS_PRIVATE(s) = 1;
      temp[i].MBEDTLS_PRIVATE(n) = n;
      temp[i].MBEDTLS_PRIVATE(p) = limbs[i];
    }
    std::size_t i = 0;
    for (const mbedtls_mpi* x : inputs) input[i++] = x;
  }
  // Wiped. A working number mbedTLS grew onto the heap would be given back too, but none is: inputs_in_range()
  // keeps every product within kLimbs.
  ~Registers() {
    for (std::uint8_t i = 0; i < kTemps; ++i) {
      if (temp[i].MBEDTLS_PRIVATE(p) != limbs[i]) mbedtls_mpi_free(&temp[i]);
    }
    mbedtls_platform_zeroize(limbs, sizeof limbs);
  }
  Registers(const Registers&) = delete;
  Registers& operator=(const Registers&) = delete;

  const mbedtls_mpi* read(std::uint8_t r) const { return r < kTemps ? &temp[r] : input[r - kTemps]; }

  // Every input is a non-negative number below 2^256, so that no product outgrows a working number (mbedTLS would
  // grow it onto the heap, freeing the stack's limbs first). mbedTLS only passes reduced coordinates, and the X25519
  // base below 2^255 (ecp_check_pubkey()); anything else is refused as mbedTLS's reduction refuses what it cannot
  // reduce.
  [[gnu::noinline]] bool inputs_in_range() const {
    for (const mbedtls_mpi* x : input) {
      if (x != nullptr && (x->MBEDTLS_PRIVATE(s) != 1 || mbedtls_mpi_bitlen(x) > 256)) return false;
    }
    return true;
  }
};

// x < p after a product (library/ecp.c, ecp_modp(): the group's fast reduction, then at most a few corrections).
int reduce_product(const mbedtls_ecp_group* grp, mbedtls_mpi* x) {
  const auto modp = grp->MBEDTLS_PRIVATE(modp);
  int ret = modp != nullptr ? modp(x) : mbedtls_mpi_mod_mpi(x, x, &grp->P);
  while (ret == 0 && x->MBEDTLS_PRIVATE(s) < 0 && mbedtls_mpi_cmp_int(x, 0) != 0) {
    ret = mbedtls_mpi_add_mpi(x, x, &grp->P);
  }
  while (ret == 0 && mbedtls_mpi_cmp_mpi(x, &grp->P) >= 0) {
    ret = mbedtls_mpi_sub_abs(x, x, &grp->P);
  }
  return ret;
}

// Runs a formula (one copy of this loop for every table: the tables are what the hooks are made of).
[[gnu::noinline]] int run(const mbedtls_ecp_group* grp, Registers& r, const Step* steps, std::size_t count) {
  for (const Step* step = steps; step != steps + count; ++step) {
    const Step& s = *step;
    mbedtls_mpi* d = &r.temp[s.d];
    const mbedtls_mpi* a = r.read(s.a);
    int ret = 0;
    switch (s.op) {
      case kMul:
        ret = mbedtls_mpi_mul_mpi(d, a, r.read(s.b));
        if (ret == 0) ret = reduce_product(grp, d);
        break;
      case kSub:
        ret = mbedtls_mpi_sub_mpi(d, a, r.read(s.b));
        while (ret == 0 && d->MBEDTLS_PRIVATE(s) < 0 && mbedtls_mpi_cmp_int(d, 0) != 0) {  // MOD_SUB
          ret = mbedtls_mpi_add_mpi(d, d, &grp->P);
        }
        break;
      case kAdd:
      case kDouble:
      case kTriple:
        if (s.op == kAdd) {
          ret = mbedtls_mpi_add_mpi(d, a, r.read(s.b));
        } else if (s.op == kTriple) {
          ret = mbedtls_mpi_mul_int(d, a, 3);
        } else {
          ret = d == a ? 0 : mbedtls_mpi_copy(d, a);
          if (ret == 0) ret = mbedtls_mpi_shift_l(d, 1);
        }
        while (ret == 0 && mbedtls_mpi_cmp_mpi(d, &grp->P) >= 0) {  // MOD_ADD
          ret = mbedtls_mpi_sub_abs(d, d, &grp->P);
        }
        break;
    }
    if (ret != 0) return ret;
  }
  return 0;
}

template <std::size_t N>
int run(const mbedtls_ecp_group* grp, Registers& r, const Step (&steps)[N]) {
  return run(grp, r, steps, N);
}

// Writes working number `from` into `to` (a coordinate of the result).
int store(mbedtls_mpi& to, const Registers& r, std::uint8_t from) { return mbedtls_mpi_copy(&to, &r.temp[from]); }

enum : std::uint8_t { T0, T1, T2, T3, T4, T5, I0, I1, I2, I3, I4, I5 };

}  // namespace

extern "C" {

#if defined(TLSGEN_ECP_X25519_MPI)

// R = 2P, S = P + Q in x/z coordinates, d = X(P - Q); R may be P and S may be Q (ecp_mul_mxz() passes them so):
// every input is read before the results are written. library/ecp.c, ecp_double_add_mxz(): mladd-1987-m,
// 5M + 4S + one product by grp->A, which holds (A + 2) / 4 for a Montgomery curve.
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, mbedtls_ecp_point* S,
                                        const mbedtls_ecp_point* P, const mbedtls_ecp_point* Q,
                                        const mbedtls_mpi* d) {
  enum : std::uint8_t { PX = I0, PZ, QX, QZ, D, A24 };
  static constexpr Step kLadder[] = {
      {kAdd, T0, PX, PZ},  // Pp = PX + PZ
      {kSub, T1, PX, PZ},  // Pm = PX - PZ
      {kAdd, T2, QX, QZ},  // Qp = QX + QZ
      {kSub, T3, QX, QZ},  // Qm = QX - QZ
      {kMul, T4, T3, T0},  // Qm * Pp
      {kMul, T3, T2, T1},  // Qp * Pm
      {kMul, T2, T0, T0},  // Pp^2
      {kMul, T0, T1, T1},  // Pm^2
      {kMul, T1, T2, T0},  // R.X = Pp^2 * Pm^2
      {kSub, T2, T2, T0},  // E = Pp^2 - Pm^2
      {kMul, T5, A24, T2}, // a24 * E
      {kAdd, T5, T0, T5},  // Pm^2 + a24 * E
      {kMul, T0, T2, T5},  // R.Z = E * (Pm^2 + a24 * E)
      {kAdd, T2, T4, T3},  // Qm * Pp + Qp * Pm
      {kMul, T5, T2, T2},  // S.X = (Qm * Pp + Qp * Pm)^2
      {kSub, T2, T4, T3},  // Qm * Pp - Qp * Pm
      {kMul, T4, T2, T2},  // (Qm * Pp - Qp * Pm)^2
      {kMul, T2, D, T4},   // S.Z = d * (Qm * Pp - Qp * Pm)^2
  };
  static_assert(sane(kLadder, 6), "a ladder step that copies or reads an unwritten number");
  Registers r(grp, {&P->MBEDTLS_PRIVATE(X), &P->MBEDTLS_PRIVATE(Z), &Q->MBEDTLS_PRIVATE(X), &Q->MBEDTLS_PRIVATE(Z),
                    d, &grp->A});
  if (!r.inputs_in_range()) return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  int ret = run(grp, r, kLadder);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(X), r, T1);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(Z), r, T0);
  if (ret == 0) ret = store(S->MBEDTLS_PRIVATE(X), r, T5);
  if (ret == 0) ret = store(S->MBEDTLS_PRIVATE(Z), r, T2);
  return ret;
}

#endif  // TLSGEN_ECP_X25519_MPI

#if defined(TLSGEN_ECP_P256_MPI)

// R = 2P in Jacobian coordinates for A = -3 (mbedtls_internal_ecp_init() checks the group): library/ecp.c,
// ecp_double_jac(), dbl-1998-cmo-2, 4M + 4S. R may be P.
int mbedtls_internal_ecp_double_jac(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P) {
  enum : std::uint8_t { PX = I0, PY, PZ };
  static constexpr Step kDoubling[] = {
      {kMul, T1, PZ, PZ},     // Z^2
      {kAdd, T2, PX, T1},     // X + Z^2
      {kSub, T3, PX, T1},     // X - Z^2
      {kMul, T1, T2, T3},     // (X + Z^2)(X - Z^2)
      {kTriple, T0, T1, 0},   // M = 3 (X + Z^2)(X - Z^2)
      {kMul, T2, PY, PY},     // Y^2
      {kDouble, T2, T2, 0},   // 2 Y^2
      {kMul, T1, PX, T2},     // 2 X Y^2
      {kDouble, T1, T1, 0},   // S = 4 X Y^2
      {kMul, T3, T2, T2},     // 4 Y^4
      {kDouble, T3, T3, 0},   // U = 8 Y^4
      {kMul, T2, T0, T0},     // M^2
      {kSub, T2, T2, T1},     //
      {kSub, T2, T2, T1},     // R.X = T = M^2 - 2 S
      {kSub, T1, T1, T2},     // S - T
      {kMul, T4, T1, T0},     // M (S - T)
      {kSub, T1, T4, T3},     // R.Y = M (S - T) - U
      {kMul, T3, PY, PZ},     // Y Z
      {kDouble, T3, T3, 0},   // R.Z = 2 Y Z
  };
  static_assert(sane(kDoubling, 3), "a doubling that copies or reads an unwritten number");
  Registers r(grp, {&P->MBEDTLS_PRIVATE(X), &P->MBEDTLS_PRIVATE(Y), &P->MBEDTLS_PRIVATE(Z)});
  if (!r.inputs_in_range()) return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  int ret = run(grp, r, kDoubling);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(X), r, T2);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(Y), r, T1);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(Z), r, T3);
  return ret;
}

// R = P + Q, P Jacobian and Q affine (Z = 1): library/ecp.c, ecp_add_mixed() (GECC 3.22, 8M + 3S), with its special
// cases: P or Q zero, Q not normalised (refused), P = Q (a doubling) and P = -Q (zero). R may be P or Q.
int mbedtls_internal_ecp_add_mixed(const mbedtls_ecp_group* grp, mbedtls_ecp_point* R, const mbedtls_ecp_point* P,
                                   const mbedtls_ecp_point* Q) {
  enum : std::uint8_t { PX = I0, PY, PZ, QX, QY };
  static constexpr Step kDifferences[] = {
      {kMul, T0, PZ, PZ},  // Z1^2
      {kMul, T1, T0, PZ},  // Z1^3
      {kMul, T2, T0, QX},  // X2 Z1^2
      {kMul, T3, T1, QY},  // Y2 Z1^3
      {kSub, T0, T2, PX},  // H = X2 Z1^2 - X1
      {kSub, T1, T3, PY},  // r = Y2 Z1^3 - Y1
  };
  static constexpr Step kSum[] = {
      {kMul, T4, PZ, T0},  // R.Z = Z1 H
      {kMul, T2, T0, T0},  // H^2
      {kMul, T3, T2, T0},  // H^3
      {kMul, T5, T2, PX},  // X1 H^2
      {kDouble, T0, T5, 0},// 2 X1 H^2
      {kMul, T2, T1, T1},  // r^2
      {kSub, T2, T2, T0},  //
      {kSub, T2, T2, T3},  // R.X = r^2 - 2 X1 H^2 - H^3
      {kSub, T5, T5, T2},  // X1 H^2 - R.X
      {kMul, T0, T5, T1},  // r (X1 H^2 - R.X)
      {kMul, T5, T3, PY},  // Y1 H^3
      {kSub, T0, T0, T5},  // R.Y = r (X1 H^2 - R.X) - Y1 H^3
  };
  static_assert(sane(kDifferences, 5) && sane(kSum, 5, 1u << T0 | 1u << T1),
                "an addition that copies or reads an unwritten number");
  const mbedtls_mpi& qz = Q->MBEDTLS_PRIVATE(Z);
  if (qz.MBEDTLS_PRIVATE(p) == nullptr) return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  if (mbedtls_mpi_cmp_int(&P->MBEDTLS_PRIVATE(Z), 0) == 0) return mbedtls_ecp_copy(R, Q);
  if (mbedtls_mpi_cmp_int(&qz, 0) == 0) return mbedtls_ecp_copy(R, P);
  if (mbedtls_mpi_cmp_int(&qz, 1) != 0) return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  Registers r(grp, {&P->MBEDTLS_PRIVATE(X), &P->MBEDTLS_PRIVATE(Y), &P->MBEDTLS_PRIVATE(Z), &Q->MBEDTLS_PRIVATE(X),
                    &Q->MBEDTLS_PRIVATE(Y)});
  if (!r.inputs_in_range()) return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  int ret = run(grp, r, kDifferences);
  if (ret != 0) return ret;
  if (mbedtls_mpi_cmp_int(&r.temp[T0], 0) == 0) {  // the same x: P = Q or P = -Q
    return mbedtls_mpi_cmp_int(&r.temp[T1], 0) == 0 ? mbedtls_internal_ecp_double_jac(grp, R, P)
                                                     : mbedtls_ecp_set_zero(R);
  }
  ret = run(grp, r, kSum);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(X), r, T2);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(Y), r, T0);
  if (ret == 0) ret = store(R->MBEDTLS_PRIVATE(Z), r, T4);
  return ret;
}

#endif  // TLSGEN_ECP_P256_MPI

}  // extern "C"

#endif
