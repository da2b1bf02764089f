// Generated printf formats for the differential checks of tlsgen::vsnprintf against the host libc,
// shared by tests/runtime/format_diff_test.cpp (a seeded PRNG) and tests/fuzz/fuzz_format.cpp (the
// fuzzer's input).
//
// A format has 1..4 conversions with literal text and "%%" around them. Each conversion takes its
// arguments in this order: an int for a '*' width, an int for a '*' precision, then its value; the
// value has exactly the C type its conversion reads (int, unsigned, long, long long, size_t and its
// signed type, intmax_t, ptrdiff_t and their counterparts, char* for %s, void* for %p, int for %c).
// A variadic call needs its argument types at compile time, so the argument lists come from a fixed
// table of signatures (kSignatures): every single conversion shape, every pair of value types, then
// pseudo-random lists of up to 4 conversions. The generator picks a signature and builds a format
// that reads exactly its types, with every flag on every conversion ('+' and ' ' excepted on %p: C
// leaves them undefined there, glibc prints a sign and newlib does not), numeric or '*' widths and
// precisions (a negative '*' width means '-', a negative '*' precision means none), every length
// modifier, and values biased to the edges of each type.
#pragma once

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tlsgen/format.hpp"

namespace format_gen {

// The C types an argument can be passed as. Some are the same type on a given host (size_t is
// unsigned long on LP64 glibc); each is named so a format reads exactly the type it was passed.
enum class CType : std::uint8_t {
  kInt, kUnsigned, kLong, kULong, kLLong, kULLong, kSize, kSSize,
  kIntMax, kUIntMax, kPtrDiff, kUPtrDiff, kString, kPointer, kCount
};
constexpr std::size_t kTypes = static_cast<std::size_t>(CType::kCount);

constexpr std::size_t kMaxConversions = 4;
constexpr std::size_t kMaxSlots = kMaxConversions * 3;  // '*' width, '*' precision, value

struct Group {  // one conversion: how many '*' ints precede its value, and the value's type
  std::uint8_t stars;
  CType type;
};

struct Signature {
  std::uint8_t groups = 0;
  std::array<Group, kMaxConversions> group{};
  std::uint8_t slots = 0;
  std::array<CType, kMaxSlots> slot{};  // the flattened argument list

  constexpr void add(std::uint8_t stars, CType type) {
    group[groups++] = {stars, type};
    for (std::uint8_t i = 0; i < stars; ++i) slot[slots++] = CType::kInt;
    slot[slots++] = type;
  }
};

constexpr std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15u;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
  return x ^ (x >> 31);
}

// Signatures 0..41: one conversion of each type with 0, 1 or 2 stars; 42..237: each ordered pair of
// value types; then 1..4 conversions with pseudo-random stars and types.
constexpr std::size_t kSingles = 3 * kTypes;
constexpr std::size_t kPairs = kTypes * kTypes;
constexpr std::size_t kSignatures = 512;

constexpr Signature make_signature(std::size_t index) {
  Signature s;
  if (index < kSingles) {
    s.add(static_cast<std::uint8_t>(index / kTypes), static_cast<CType>(index % kTypes));
  } else if (index < kSingles + kPairs) {
    const std::size_t pair = index - kSingles;
    s.add(0, static_cast<CType>(pair / kTypes));
    s.add(0, static_cast<CType>(pair % kTypes));
  } else {
    std::uint64_t r = splitmix(index);
    const std::size_t groups = 1 + r % kMaxConversions;
    for (std::size_t g = 0; g < groups; ++g) {
      r = splitmix(r);
      constexpr std::uint8_t kStars[] = {0, 0, 1, 2};
      s.add(kStars[(r >> 8) % 4], static_cast<CType>((r >> 16) % kTypes));
    }
  }
  return s;
}

inline constexpr std::array<Signature, kSignatures> kSignatureTable = [] {
  std::array<Signature, kSignatures> t{};
  for (std::size_t i = 0; i < kSignatures; ++i) t[i] = make_signature(i);
  return t;
}();

inline constexpr const char* kTexts[] = {"", "a", "mbedTLS", "0123456789abcdef0123456789", "tab\there",
                                         "\xc3\xa9t\xc3\xa9", nullptr};
constexpr std::size_t kTextCount = sizeof kTexts / sizeof kTexts[0];

struct Conversion {  // what the generator chose, for reports and for the generator's own coverage test
  std::string spec;        // e.g. "%-+*.*lld"
  bool width_star = false;
  int width_star_value = 0;
  bool precision_star = false;
  int precision_star_value = 0;
};

struct Case {
  std::string format;
  std::size_t signature = 0;
  std::array<std::uint64_t, kMaxSlots> value{};  // integer and pointer slots (as bits)
  std::array<const char*, kMaxSlots> text{};     // string slots
  std::vector<Conversion> conversions;
  bool percent_literal = false;  // "%%" somewhere in the literal text
};

// Source: std::uint32_t below(std::uint32_t n) (in [0, n), n > 0) and std::uint64_t bits().
template <class Source>
bool coin(Source& src) {
  return src.below(2) == 1;
}

template <class Source>
void literal(Source& src, Case& c) {
  if (coin(src)) return;
  static constexpr char kAlphabet[] = "abcXYZ019 :=-_.,()[]<>|\t\n";
  const std::uint32_t tokens = 1 + src.below(6);
  for (std::uint32_t i = 0; i < tokens; ++i) {
    const std::uint32_t pick = src.below(16);
    if (pick == 0) {
      c.format += "%%";
      c.percent_literal = true;
    } else if (pick == 1) {
      c.format += "\xc3\xa9";  // UTF-8 bytes pass through
    } else {
      c.format += kAlphabet[src.below(sizeof kAlphabet - 1)];
    }
  }
}

// Values biased to the edges: 0, all ones, one bit, the top bit, small, then any width.
template <class Source>
std::uint64_t value_bits(Source& src) {
  switch (src.below(8)) {
    case 0: return 0;
    case 1: return ~std::uint64_t{0};
    case 2: return std::uint64_t{1} << src.below(64);
    case 3: return (std::uint64_t{1} << src.below(64)) - 1;  // 0x7f.., 0xff.. of every width
    case 4: return src.below(300);
    default: return src.bits() >> src.below(64);
  }
}

template <class Source>
void conversion(Source& src, const Group& group, Case& c, std::size_t& slot) {
  char conv = 'd';
  const char* length = "";
  static constexpr char kSigned[] = "di";
  static constexpr char kUnsigned[] = "uoxX";
  static constexpr const char* kShort[] = {"", "", "hh", "h"};  // int-sized: none, hh, h
  const char sgn = kSigned[src.below(2)];
  const char uns = kUnsigned[src.below(4)];
  switch (group.type) {
    case CType::kInt:
      conv = group.stars < 2 && src.below(3) == 0 ? 'c' : sgn;  // %c takes no precision
      if (conv != 'c') length = kShort[src.below(4)];
      break;
    case CType::kUnsigned:
      conv = uns;
      length = kShort[src.below(4)];
      break;
    case CType::kLong: conv = sgn; length = "l"; break;
    case CType::kULong: conv = uns; length = "l"; break;
    case CType::kLLong: conv = sgn; length = "ll"; break;
    case CType::kULLong: conv = uns; length = "ll"; break;
    case CType::kSize: conv = uns; length = "z"; break;
    case CType::kSSize: conv = sgn; length = "z"; break;
    case CType::kIntMax: conv = sgn; length = "j"; break;
    case CType::kUIntMax: conv = uns; length = "j"; break;
    case CType::kPtrDiff: conv = sgn; length = "t"; break;
    case CType::kUPtrDiff: conv = uns; length = "t"; break;
    case CType::kString: conv = 's'; break;
    case CType::kPointer: conv = 'p'; break;
    case CType::kCount: break;
  }
  Conversion out;
  std::string spec = "%";
  const std::string allowed = conv == 'p' ? "-#0" : "-+ #0";
  for (const char flag : allowed) {
    if (src.below(3) != 0) continue;
    spec.insert(1 + src.below(static_cast<std::uint32_t>(spec.size())), 1, flag);  // any order
  }
  if (spec.size() > 1 && src.below(16) == 0) spec += spec[1];  // a repeated flag
  bool width_star = group.stars == 2;
  bool precision_star = group.stars == 2;
  if (group.stars == 1) ((conv == 'c' || coin(src)) ? width_star : precision_star) = true;
  if (width_star) {
    spec += '*';
    out.width_star = true;
    out.width_star_value = static_cast<int>(src.below(61)) - 30;
    c.value[slot++] = static_cast<std::uint64_t>(static_cast<std::int64_t>(out.width_star_value));
  } else if (coin(src)) {
    spec += std::to_string(1 + src.below(30));
  }
  if (precision_star) {
    spec += ".*";
    out.precision_star = true;
    out.precision_star_value = static_cast<int>(src.below(41)) - 10;
    c.value[slot++] = static_cast<std::uint64_t>(static_cast<std::int64_t>(out.precision_star_value));
  } else if (conv != 'c' && coin(src)) {
    spec += '.';
    if (src.below(4) != 0) spec += std::to_string(src.below(31));  // "." alone: precision 0
  }
  spec += length;
  spec += conv;
  if (group.type == CType::kString) {
    c.text[slot] = kTexts[src.below(kTextCount)];
  } else {
    c.value[slot] = value_bits(src);
  }
  ++slot;
  c.format += spec;
  out.spec = spec;
  c.conversions.push_back(std::move(out));
}

template <class Source>
Case generate(Source& src) {
  Case c;
  c.signature = src.below(kSignatures);
  const Signature& sig = kSignatureTable[c.signature];
  std::size_t slot = 0;
  literal(src, c);
  for (std::size_t g = 0; g < sig.groups; ++g) {
    conversion(src, sig.group[g], c, slot);
    literal(src, c);
  }
  return c;
}

// ---- calling both formatters with the case's arguments, each with its C type ----

template <CType T>
auto as_arg(std::uint64_t v, const char* text) {
  if constexpr (T == CType::kInt) return static_cast<int>(v);  // modular (C++20)
  else if constexpr (T == CType::kUnsigned) return static_cast<unsigned>(v);
  else if constexpr (T == CType::kLong) return static_cast<long>(v);
  else if constexpr (T == CType::kULong) return static_cast<unsigned long>(v);
  else if constexpr (T == CType::kLLong) return static_cast<long long>(v);
  else if constexpr (T == CType::kULLong) return static_cast<unsigned long long>(v);
  else if constexpr (T == CType::kSize) return static_cast<std::size_t>(v);
  else if constexpr (T == CType::kSSize) return static_cast<std::make_signed_t<std::size_t>>(v);
  else if constexpr (T == CType::kIntMax) return static_cast<std::intmax_t>(v);
  else if constexpr (T == CType::kUIntMax) return static_cast<std::uintmax_t>(v);
  else if constexpr (T == CType::kPtrDiff) return static_cast<std::ptrdiff_t>(v);
  else if constexpr (T == CType::kUPtrDiff) return static_cast<std::make_unsigned_t<std::ptrdiff_t>>(v);
  else if constexpr (T == CType::kString) return text;
  else return reinterpret_cast<void*>(static_cast<std::uintptr_t>(v));
}

template <std::size_t S, typename F, std::size_t... I>
int call_slots(F& f, const Case& c, std::index_sequence<I...>) {
  constexpr const Signature& sig = kSignatureTable[S];
  return f(as_arg<sig.slot[I]>(c.value[I], c.text[I])...);
}

template <std::size_t S, typename F>
int call_signature(F& f, const Case& c) {
  return call_slots<S>(f, c, std::make_index_sequence<kSignatureTable[S].slots>{});
}

template <typename F, std::size_t... S>
constexpr auto dispatch_table(std::index_sequence<S...>) {
  return std::array<int (*)(F&, const Case&), sizeof...(S)>{&call_signature<S, F>...};
}

// f(args...) with the case's arguments, typed by its signature.
template <typename F>
int invoke(const Case& c, F& f) {
  static constexpr auto table = dispatch_table<F>(std::make_index_sequence<kSignatures>{});
  return table[c.signature](f, c);
}

constexpr std::size_t kBuffer = 1024;  // generated outputs stay far below (checked)
constexpr char kFill = 'Z';

struct Outcome {
  int ret = 0;
  std::array<char, kBuffer> bytes{};
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

// `null_buffer`: pass nullptr (allowed with size 0) instead of the buffer.
inline Outcome run(bool ours, const Case& c, std::size_t size, bool null_buffer = false) {
  Outcome o;
  o.bytes.fill(kFill);
  char* const buf = null_buffer ? nullptr : o.bytes.data();
  auto call = [&](auto... args) {
    return ours ? tlsgen::snprintf(buf, size, c.format.c_str(), args...)
                : std::snprintf(buf, size, c.format.c_str(), args...);
  };
  o.ret = invoke(c, call);
  return o;
}

#pragma GCC diagnostic pop

inline std::string escaped(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u >= 32 && u < 127 && ch != '"' && ch != '\\') {
      out += ch;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

inline std::string describe(const Case& c) {
  static constexpr const char* kNames[] = {"int", "unsigned", "long", "unsigned long", "long long",
                                           "unsigned long long", "size_t", "ssize_t", "intmax_t",
                                           "uintmax_t", "ptrdiff_t", "uptrdiff_t", "char*", "void*"};
  const Signature& sig = kSignatureTable[c.signature];
  std::string out = "format \"" + escaped(c.format) + "\" args (";
  for (std::size_t i = 0; i < sig.slots; ++i) {
    const auto t = static_cast<std::size_t>(sig.slot[i]);
    out += (i ? ", " : "") + std::string(kNames[t]) + " ";
    if (sig.slot[i] == CType::kString) {
      out += c.text[i] ? "\"" + escaped(c.text[i]) + "\"" : "null";
    } else {
      out += "0x";
      char hex[24];
      std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(c.value[i]));
      out += hex;
    }
  }
  return out + ")";
}

// Ours against libc at one buffer size: the same return value and the same bytes in the whole
// buffer (so nothing written past `size`, nothing at all for size 0), NUL-terminated when size > 0.
// Empty when they agree, else what differs.
inline std::string compare(const Case& c, std::size_t size) {
  const Outcome a = run(true, c, size);
  const Outcome b = run(false, c, size);
  std::string why;
  if (a.ret != b.ret) why += " return ours " + std::to_string(a.ret) + " libc " + std::to_string(b.ret) + ";";
  if (a.bytes != b.bytes) {
    const std::size_t shown = std::min(kBuffer, std::max<std::size_t>(size, 1));
    why += " text ours \"" + escaped(std::string(a.bytes.data(), shown)) + "\" libc \"" +
           escaped(std::string(b.bytes.data(), shown)) + "\";";
  }
  if (size == 0) {
    const Outcome null = run(true, c, 0, true);
    if (null.ret != b.ret) why += " return with a null buffer " + std::to_string(null.ret) + ";";
  }
  if (size > 0 && a.ret >= 0) {
    const std::size_t nul = std::min(static_cast<std::size_t>(a.ret), size - 1);
    if (a.bytes[nul] != '\0') why += " ours not NUL-terminated at " + std::to_string(nul) + ";";
  }
  for (std::size_t i = size; i < kBuffer; ++i) {
    if (a.bytes[i] != kFill) {
      why += " ours wrote byte " + std::to_string(i) + " past size;";
      break;
    }
  }
  if (why.empty()) return why;
  return describe(c) + " size " + std::to_string(size) + ":" + why;
}

// The sizes every case is checked at: 0, 1, 2, half the output, its length (truncated by one), one
// more (exact fit), the whole buffer, and `extra` (a chosen one).
inline std::array<std::size_t, 8> sizes_for(std::size_t full, std::size_t extra) {
  return {0, 1, 2, full / 2, full, full + 1, kBuffer, std::min(extra, kBuffer)};
}

}  // namespace format_gen
