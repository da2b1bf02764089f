// libFuzzer target: tlsgen::vsnprintf against the host libc's, on formats built from the input by
// tests/runtime/format_generator.hpp (the generator of the differential test): 1..4 conversions of
// mixed argument types (int, long, long long, size_t, intmax_t, ptrdiff_t, char*, void*, char), every
// flag, numeric and '*' widths and precisions (negative ones too), every length modifier, literal
// text and %%. Same text in the whole buffer and same return value at buffer sizes 0, 1, 2, half,
// full, full + 1, the whole buffer and one chosen by the input. A mismatch aborts (a finding).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "format_generator.hpp"

namespace {

struct InputSource {  // format_gen's Source over the fuzzer's bytes (zeros once they run out)
  FuzzedDataProvider& in;
  std::uint32_t below(std::uint32_t n) { return in.ConsumeIntegralInRange<std::uint32_t>(0, n - 1); }
  std::uint64_t bits() { return in.ConsumeIntegral<std::uint64_t>(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  InputSource src{in};
  const format_gen::Case c = format_gen::generate(src);
  const int full = format_gen::run(false, c, format_gen::kBuffer).ret;
  if (full < 0 || static_cast<std::size_t>(full) >= format_gen::kBuffer - 1) {
    std::fprintf(stderr, "generator produced an output libc cannot format in %zu bytes: %s\n", format_gen::kBuffer,
                 format_gen::describe(c).c_str());
    std::abort();
  }
  const auto length = static_cast<std::size_t>(full);
  const std::size_t chosen = src.below(static_cast<std::uint32_t>(length) + 3);
  for (const std::size_t n : format_gen::sizes_for(length, chosen)) {
    const std::string why = format_gen::compare(c, n);
    if (!why.empty()) {
      std::fprintf(stderr, "mismatch: %s\n", why.c_str());
      std::abort();
    }
  }
  return 0;
}
