// Differential test: tlsgen::vsnprintf against the host libc over many generated formats.
#include <gtest/gtest.h>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "tlsgen/format.hpp"

namespace {

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

struct Outcome {
  std::string text;
  int ret;
  bool operator==(const Outcome& o) const { return text == o.text && ret == o.ret; }
};

Outcome ours(std::size_t size, const char* format, ...) {
  char buf[512];
  std::memset(buf, 'Z', sizeof buf);
  va_list args;
  va_start(args, format);
  const int ret = tlsgen::vsnprintf(buf, size, format, args);
  va_end(args);
  return {size == 0 ? std::string() : std::string(buf), ret};
}

Outcome libc(std::size_t size, const char* format, ...) {
  char buf[512];
  std::memset(buf, 'Z', sizeof buf);
  va_list args;
  va_start(args, format);
  const int ret = std::vsnprintf(buf, size, format, args);
  va_end(args);
  return {size == 0 ? std::string() : std::string(buf), ret};
}

std::string random_spec(std::mt19937_64& rng, char conversion, bool allow_alt, bool allow_sign) {
  std::string f = "%";
  const char flags[] = "-+ #0";
  for (int i = 0; i < 5; ++i) {
    if (rng() % 4 == 0) {
      const char c = flags[i];
      if (c == '#' && !allow_alt) continue;
      if ((c == '+' || c == ' ') && !allow_sign) continue;
      f += c;
    }
  }
  switch (rng() % 3) {
    case 0:
      break;
    case 1:
      f += std::to_string(rng() % 25);
      break;
    default:
      f += "*";
      break;
  }
  switch (rng() % 3) {
    case 0:
      break;
    case 1:
      f += "." + std::to_string(rng() % 22);
      break;
    default:
      f += ".*";
      break;
  }
  (void)conversion;
  return f;
}

TEST(FormatDiff, GeneratedIntegerFormats_MatchLibc) {
  std::mt19937_64 rng(20261124);
  const char* lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
  const char conversions[] = "diuoxX";
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const char conv = conversions[rng() % 6];
    const char* len = lengths[rng() % 8];
    const bool is_signed = conv == 'd' || conv == 'i';
    std::string f = "<" + random_spec(rng, conv, !is_signed, is_signed) + len + conv + ">";
    const int width = static_cast<int>(rng() % 41) - 20;
    const int precision = static_cast<int>(rng() % 41) - 20;
    const std::size_t size = rng() % 4 == 0 ? rng() % 12 : 512;
    // Values from every range, edges included; passed with the promoted type of the modifier.
    const std::uint64_t raw = rng() % 5 == 0 ? (rng() % 2 ? 0 : UINT64_MAX) : rng() >> (rng() % 64);
    const char* fc = f.c_str();
    Outcome a, b;
    const bool star_w = f.find('*') != std::string::npos && f.find('*') < f.find('.') ;
    const bool star_p = f.find(".*") != std::string::npos;
#define BOTH(value)                                                                                   \
  do {                                                                                                \
    if (star_w && star_p) {                                                                           \
      a = ours(size, fc, width, precision, value);                                                    \
      b = libc(size, fc, width, precision, value);                                                    \
    } else if (star_w) {                                                                              \
      a = ours(size, fc, width, value);                                                               \
      b = libc(size, fc, width, value);                                                               \
    } else if (star_p) {                                                                              \
      a = ours(size, fc, precision, value);                                                           \
      b = libc(size, fc, precision, value);                                                           \
    } else {                                                                                          \
      a = ours(size, fc, value);                                                                      \
      b = libc(size, fc, value);                                                                      \
    }                                                                                                 \
  } while (0)
    const std::string l = len;
    if (l == "l") {
      BOTH(static_cast<unsigned long>(raw));
    } else if (l == "ll") {
      BOTH(static_cast<unsigned long long>(raw));
    } else if (l == "z") {
      BOTH(static_cast<std::size_t>(raw));
    } else if (l == "j") {
      BOTH(static_cast<std::uintmax_t>(raw));
    } else if (l == "t") {
      BOTH(static_cast<std::ptrdiff_t>(raw));
    } else {
      BOTH(static_cast<unsigned int>(raw));
    }
    ASSERT_EQ(a.text, b.text) << "format " << f << " value " << raw << " size " << size;
    ASSERT_EQ(a.ret, b.ret) << "format " << f << " value " << raw << " size " << size;
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
}

TEST(FormatDiff, GeneratedStringCharPointerFormats_MatchLibc) {
  std::mt19937_64 rng(7);
  const char* strings[] = {"", "a", "hello", "mbedTLS debug line", "0123456789abcdefghij"};
  for (int i = 0; i < 6000; ++i) {
    const int kind = static_cast<int>(rng() % 3);
    const char conv = "scp"[kind];
    std::string spec = "%";
    if (rng() % 3 == 0) spec += "-";
    if (rng() % 2) spec += std::to_string(rng() % 30);
    if (conv == 's' && rng() % 2) spec += "." + std::to_string(rng() % 12);
    const std::string f = "[" + spec + conv + "]";
    const std::size_t size = rng() % 4 == 0 ? rng() % 10 : 512;
    Outcome a, b;
    if (conv == 's') {
      const char* s = strings[rng() % 5];
      a = ours(size, f.c_str(), s);
      b = libc(size, f.c_str(), s);
    } else if (conv == 'c') {
      const int c = 32 + static_cast<int>(rng() % 95);
      a = ours(size, f.c_str(), c);
      b = libc(size, f.c_str(), c);
    } else {
      void* p = rng() % 5 == 0 ? nullptr : reinterpret_cast<void*>(static_cast<std::uintptr_t>(rng()));
      a = ours(size, f.c_str(), p);
      b = libc(size, f.c_str(), p);
    }
    ASSERT_EQ(a.text, b.text) << f;
    ASSERT_EQ(a.ret, b.ret) << f;
  }
}

}  // namespace
