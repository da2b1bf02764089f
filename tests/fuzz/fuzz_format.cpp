// libFuzzer target: tlsgen::vsnprintf against the host libc's, on formats built from the input.
// Every supported conversion, flag, width, precision (numbers and '*') and length modifier; same
// text and same return value, at every buffer size. A mismatch aborts (a finding).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tlsgen/format.hpp"

namespace {

enum class Kind { kInt, kUInt, kLong, kULong, kLLong, kULLong, kSize, kIntMax, kPtrDiff, kChar, kString, kPtr };

struct Arg {
  Kind kind;
  std::uint64_t value;
  const char* text;
};

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

int call(bool ours, char* buf, std::size_t size, const char* fmt, const std::vector<Arg>& a) {
  // Up to 4 conversions with up to 2 '*' arguments each: dispatch on the argument kinds.
  auto one = [&](auto... xs) {
    return ours ? tlsgen::snprintf(buf, size, fmt, xs...) : std::snprintf(buf, size, fmt, xs...);
  };
  auto cast = [](const Arg& x, auto&& next) {
    switch (x.kind) {
      case Kind::kInt: return next(static_cast<int>(x.value));
      case Kind::kUInt: return next(static_cast<unsigned>(x.value));
      case Kind::kLong: return next(static_cast<long>(x.value));
      case Kind::kULong: return next(static_cast<unsigned long>(x.value));
      case Kind::kLLong: return next(static_cast<long long>(x.value));
      case Kind::kULLong: return next(static_cast<unsigned long long>(x.value));
      case Kind::kSize: return next(static_cast<std::size_t>(x.value));
      case Kind::kIntMax: return next(static_cast<std::intmax_t>(x.value));
      case Kind::kPtrDiff: return next(static_cast<std::ptrdiff_t>(x.value));
      case Kind::kChar: return next(static_cast<int>(x.value % 95 + 32));
      case Kind::kString: return next(x.text);
      case Kind::kPtr: return next(reinterpret_cast<void*>(static_cast<std::uintptr_t>(x.value)));
    }
    std::abort();
  };
  switch (a.size()) {
    case 0: return one();
    case 1: return cast(a[0], [&](auto x0) { return one(x0); });
    case 2: return cast(a[0], [&](auto x0) { return cast(a[1], [&](auto x1) { return one(x0, x1); }); });
    case 3:
      return cast(a[0], [&](auto x0) {
        return cast(a[1], [&](auto x1) { return cast(a[2], [&](auto x2) { return one(x0, x1, x2); }); });
      });
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::string fmt;
  std::vector<Arg> args;
  static const char* const kStrings[] = {"", "x", "mbedTLS", "0123456789abcdef0123456789"};
  while (args.size() < 3 && in.remaining_bytes() > 0) {
    if (in.ConsumeBool()) {  // literal text, '%%' included
      const std::string lit = in.ConsumeRandomLengthString(8);
      for (char c : lit) {
        if (c == '%') fmt += "%%";
        else if (c != '\0') fmt += c;
      }
      continue;
    }
    const char conv = "diuoxXcsp"[in.ConsumeIntegralInRange(0, 8)];
    const bool numeric = std::strchr("diuoxX", conv) != nullptr;
    std::string spec = "%";
    if (in.ConsumeBool()) spec += '-';
    if (numeric && in.ConsumeBool()) spec += '0';
    if (numeric && std::strchr("di", conv) && in.ConsumeBool()) spec += in.ConsumeBool() ? '+' : ' ';
    if (numeric && std::strchr("oxX", conv) && in.ConsumeBool()) spec += '#';
    const int width_mode = in.ConsumeIntegralInRange(0, 2);
    if (width_mode == 1) spec += std::to_string(in.ConsumeIntegralInRange(0, 30));
    if (width_mode == 2 && args.size() < 2) {
      spec += '*';
      args.push_back({Kind::kInt, static_cast<std::uint64_t>(in.ConsumeIntegralInRange(-30, 30)), nullptr});
    }
    if ((numeric || conv == 's') && in.ConsumeBool()) {
      if (in.ConsumeBool() && args.size() < 2) {
        spec += ".*";
        args.push_back({Kind::kInt, static_cast<std::uint64_t>(in.ConsumeIntegralInRange(-5, 25)), nullptr});
      } else {
        spec += "." + std::to_string(in.ConsumeIntegralInRange(0, 25));
      }
    }
    Kind kind = Kind::kInt;
    if (numeric) {
      static const char* const kLen[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
      static const Kind kSigned[] = {Kind::kInt, Kind::kInt, Kind::kInt, Kind::kLong,
                                     Kind::kLLong, Kind::kSize, Kind::kIntMax, Kind::kPtrDiff};
      static const Kind kUnsigned[] = {Kind::kUInt, Kind::kUInt, Kind::kUInt, Kind::kULong,
                                       Kind::kULLong, Kind::kSize, Kind::kIntMax, Kind::kPtrDiff};
      const int l = in.ConsumeIntegralInRange(0, 7);
      spec += kLen[l];
      kind = std::strchr("di", conv) ? kSigned[l] : kUnsigned[l];
    } else if (conv == 'c') {
      kind = Kind::kChar;
    } else if (conv == 's') {
      kind = Kind::kString;
    } else {
      kind = Kind::kPtr;
    }
    spec += conv;
    if (args.size() >= 3) break;
    args.push_back({kind, in.ConsumeIntegral<std::uint64_t>(), kStrings[in.ConsumeIntegralInRange(0, 3)]});
    fmt += spec;
  }
  if (args.size() > 3) return 0;
  const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 300);
  char a[512], b[512];
  std::memset(a, 'Z', sizeof a);
  std::memset(b, 'Z', sizeof b);
  const int ra = call(true, a, n, fmt.c_str(), args);
  const int rb = call(false, b, n, fmt.c_str(), args);
  if (ra != rb || std::memcmp(a, b, sizeof a) != 0) {
    std::fprintf(stderr, "mismatch for format \"%s\" size %zu: ours %d \"%.*s\" libc %d \"%.*s\"\n", fmt.c_str(), n,
                 ra, static_cast<int>(n), a, rb, static_cast<int>(n), b);
    std::abort();
  }
  return 0;
}
