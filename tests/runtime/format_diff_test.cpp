// Differential tests: tlsgen::vsnprintf against the host libc (glibc), same text and same return
// value. Formats from tests/runtime/format_generator.hpp (1..4 mixed conversions of mixed argument
// types with literal text and %%) at many buffer sizes, plus every flag with every conversion.
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "format_generator.hpp"
#include "tlsgen/format.hpp"

namespace {

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

constexpr int kGeneratedFormats = 25000;
constexpr std::uint64_t kSeed = 20261124;

struct Rng {  // format_gen's Source over a seeded PRNG
  std::mt19937_64 engine{kSeed};
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(engine() % n); }
  std::uint64_t bits() { return engine(); }
};

TEST(FormatDiff, GeneratedMixedFormats_MatchLibcAtEveryBufferSize) {
  Rng rng;
  std::vector<std::string> mismatches;
  int formats = 0;
  int comparisons = 0;
  for (int i = 0; i < kGeneratedFormats; ++i) {
    const format_gen::Case c = format_gen::generate(rng);
    const int full = format_gen::run(false, c, format_gen::kBuffer).ret;
    ASSERT_GE(full, 0) << format_gen::describe(c);
    ASSERT_LT(static_cast<std::size_t>(full), format_gen::kBuffer - 1) << format_gen::describe(c);
    const auto length = static_cast<std::size_t>(full);
    for (const std::size_t size : format_gen::sizes_for(length, rng.below(static_cast<std::uint32_t>(length) + 3))) {
      const std::string why = format_gen::compare(c, size);
      if (!why.empty() && mismatches.size() < 20) mismatches.push_back(why);
      ++comparisons;
    }
    ++formats;
  }
  EXPECT_EQ(formats, kGeneratedFormats);
  EXPECT_EQ(comparisons, kGeneratedFormats * 8);
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " or more mismatches, first:\n"
                                  << [&] {
                                       std::string all;
                                       for (const auto& m : mismatches) all += m + "\n";
                                       return all;
                                     }();
}

// The generator itself: the formats above really use every flag with every conversion, every length
// modifier, '*' widths and precisions (negative ones too), 1..4 conversions, %% and null arguments.
TEST(FormatDiff, GeneratedMixedFormats_CoverEveryFlagModifierAndStar) {
  Rng rng;
  std::map<std::string, int> seen;
  for (int i = 0; i < kGeneratedFormats; ++i) {
    const format_gen::Case c = format_gen::generate(rng);
    const auto& sig = format_gen::kSignatureTable[c.signature];
    ++seen["conversions=" + std::to_string(c.conversions.size())];
    if (c.percent_literal) ++seen["%%"];
    if (!c.format.empty() && c.format[0] != '%') ++seen["text first"];
    for (std::size_t s = 0; s < sig.slots; ++s) {
      if (sig.slot[s] == format_gen::CType::kString && c.text[s] == nullptr) ++seen["null string"];
      if (sig.slot[s] == format_gen::CType::kPointer && c.value[s] == 0) ++seen["null pointer"];
    }
    for (const auto& conv : c.conversions) {
      const std::string& spec = conv.spec;
      const char letter = spec.back();
      std::size_t p = 1;
      for (; p < spec.size() && std::strchr("-+ #0", spec[p]) != nullptr; ++p) {
        ++seen[std::string(1, letter) + " flag " + spec[p]];
      }
      std::string length;
      for (std::size_t q = spec.size() - 1; q > 0 && std::strchr("hljzt", spec[q - 1]) != nullptr; --q) {
        length.insert(length.begin(), spec[q - 1]);
      }
      ++seen[std::string(1, letter) + " length '" + length + "'"];
      if (conv.width_star) ++seen[conv.width_star_value < 0 ? "negative * width" : "* width"];
      if (conv.precision_star) ++seen[conv.precision_star_value < 0 ? "negative * precision" : "* precision"];
      if (spec.find('.') != std::string::npos && !conv.precision_star) ++seen["numeric precision"];
    }
  }
  std::vector<std::string> wanted = {"conversions=1", "conversions=2", "conversions=3", "conversions=4", "%%",
                                     "text first", "null string", "null pointer", "* width", "negative * width",
                                     "* precision", "negative * precision", "numeric precision"};
  for (const char letter : std::string("diuoxXcsp")) {
    for (const char flag : std::string("-+ #0")) {
      if (letter == 'p' && (flag == '+' || flag == ' ')) continue;  // undefined for %p (generator comment)
      wanted.push_back(std::string(1, letter) + " flag " + flag);
    }
  }
  for (const char letter : std::string("diuoxX")) {
    for (const char* length : {"", "hh", "h", "l", "ll", "z", "j", "t"}) {
      wanted.push_back(std::string(1, letter) + " length '" + length + "'");
    }
  }
  for (const char letter : std::string("csp")) wanted.push_back(std::string(1, letter) + " length ''");
  for (const auto& w : wanted) EXPECT_GT(seen[w], 0) << w;
  EXPECT_EQ(seen["p flag +"] + seen["p flag  "], 0);
}

// ---- every flag combination with every conversion, one conversion at a time ----

template <typename... A>
std::string differs(const std::string& format, A... args) {
  std::string why;
  for (const std::size_t size : {std::size_t{0}, std::size_t{3}, std::size_t{256}}) {
    char ours[256];
    char libc[256];
    std::memset(ours, 'Z', sizeof ours);
    std::memset(libc, 'Z', sizeof libc);
    const int a = tlsgen::snprintf(ours, size, format.c_str(), args...);
    const int b = std::snprintf(libc, size, format.c_str(), args...);
    if (a != b || std::memcmp(ours, libc, sizeof ours) != 0) {
      why += "\"" + format + "\" size " + std::to_string(size) + ": ours " + std::to_string(a) + " \"" +
             std::string(ours, size == 0 ? 0 : std::strlen(ours)) + "\" libc " + std::to_string(b) + " \"" +
             std::string(libc, size == 0 ? 0 : std::strlen(libc)) + "\"\n";
    }
  }
  return why;
}

std::vector<std::string> flag_sets(const char* flags) {  // every subset, in the order given
  std::vector<std::string> sets;
  const std::size_t n = std::strlen(flags);
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if ((mask & (1u << i)) != 0) s += flags[i];
    }
    sets.push_back(s);
  }
  return sets;
}

template <typename T>
std::vector<T> edge_values() {
  using L = std::numeric_limits<T>;
  return {T{0}, T{1}, T{42}, static_cast<T>(-1), L::min(), L::max(), static_cast<T>(L::max() / 3)};
}

struct Tally {
  int checked = 0;
  std::string failures;
  void add(const std::string& why) {
    ++checked;
    if (!why.empty() && failures.size() < 4000) failures += why;
  }
};

template <typename T>
void every_flag(Tally& tally, const char* length, const char* conversions) {
  for (const char conv : std::string(conversions)) {
    for (const auto& flags : flag_sets("-+ #0")) {
      for (const char* width : {"", "8", "*"}) {
        for (const char* precision : {"", ".", ".0", ".5", ".*"}) {
          const std::string f = "[%" + flags + width + precision + length + conv + "]";
          const bool star_w = std::strcmp(width, "*") == 0;
          const bool star_p = std::strcmp(precision, ".*") == 0;
          for (const T v : edge_values<T>()) {
            if (star_w && star_p) {
              tally.add(differs(f, -8, 3, v));
            } else if (star_w) {
              tally.add(differs(f, -8, v));
            } else if (star_p) {
              tally.add(differs(f, -1, v));  // negative: no precision
            } else {
              tally.add(differs(f, v));
            }
          }
        }
      }
    }
  }
}

TEST(FormatDiff, EveryFlagWithEveryIntegerConversion_MatchesLibc) {
  Tally tally;
  every_flag<int>(tally, "", "di");
  every_flag<int>(tally, "hh", "di");
  every_flag<int>(tally, "h", "di");
  every_flag<long>(tally, "l", "di");
  every_flag<long long>(tally, "ll", "di");
  every_flag<std::make_signed_t<std::size_t>>(tally, "z", "di");
  every_flag<std::intmax_t>(tally, "j", "di");
  every_flag<std::ptrdiff_t>(tally, "t", "di");
  every_flag<unsigned>(tally, "", "uoxX");
  every_flag<unsigned>(tally, "hh", "uoxX");
  every_flag<unsigned>(tally, "h", "uoxX");
  every_flag<unsigned long>(tally, "l", "uoxX");
  every_flag<unsigned long long>(tally, "ll", "uoxX");
  every_flag<std::size_t>(tally, "z", "uoxX");
  every_flag<std::uintmax_t>(tally, "j", "uoxX");
  every_flag<std::make_unsigned_t<std::ptrdiff_t>>(tally, "t", "uoxX");
  EXPECT_EQ(tally.checked, 6 * 8 * 32 * 3 * 5 * 7);
  EXPECT_TRUE(tally.failures.empty()) << tally.failures;
}

TEST(FormatDiff, EveryFlagWithCharStringAndPointer_MatchesLibc) {
  Tally tally;
  for (const auto& flags : flag_sets("-+ #0")) {
    for (const char* width : {"", "4", "*"}) {
      const std::string c = "[%" + flags + width + "c]";
      for (const int ch : {int{'x'}, int{' '}, 0, 255, -1}) {
        tally.add(std::strcmp(width, "*") == 0 ? differs(c, -4, ch) : differs(c, ch));
      }
      for (const char* precision : {"", ".", ".2", ".7", ".*"}) {
        const std::string s = "[%" + flags + width + precision + "s]";
        const bool star_w = std::strcmp(width, "*") == 0;
        const bool star_p = std::strcmp(precision, ".*") == 0;
        for (const char* text : {"", "ab", "mbedTLS", static_cast<const char*>(nullptr)}) {
          if (star_w && star_p) {
            tally.add(differs(s, -4, -2, text));
          } else if (star_w) {
            tally.add(differs(s, 4, text));
          } else if (star_p) {
            tally.add(differs(s, 3, text));
          } else {
            tally.add(differs(s, text));
          }
        }
      }
    }
  }
  // %p: glibc prints a sign for '+' and ' ' (undefined in C; newlib prints none), so those two flags
  // are left out; '-', '#', '0', width and precision act as glibc's (%#lx, or "(nil)" as a string).
  for (const auto& flags : flag_sets("-#0")) {
    for (const char* width : {"", "3", "12", "*"}) {
      for (const char* precision : {"", ".", ".3", ".10"}) {
        const std::string p = "[%" + flags + width + precision + "p]";
        for (const std::uintptr_t v : {std::uintptr_t{0}, std::uintptr_t{1}, std::uintptr_t{0x1234},
                                       std::numeric_limits<std::uintptr_t>::max()}) {
          void* const ptr = reinterpret_cast<void*>(v);
          tally.add(std::strcmp(width, "*") == 0 ? differs(p, -12, ptr) : differs(p, ptr));
        }
      }
    }
  }
  EXPECT_EQ(tally.checked, 32 * 3 * (5 + 5 * 4) + 8 * 4 * 4 * 4);
  EXPECT_TRUE(tally.failures.empty()) << tally.failures;
}

}  // namespace
