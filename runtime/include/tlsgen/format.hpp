// tlsgen::vsnprintf / snprintf: a printf-format-directed va_list walker for mbedTLS's hooks.
//
// Contract (C99, as mbedTLS's include/mbedtls/platform.h states it):
//   - writes at most `size` bytes, always NUL-terminated when size > 0; size == 0 leaves the
//     buffer untouched (it may then be null);
//   - returns the number of characters the complete output needs (without the NUL), so a return
//     >= size means the output was truncated;
//   - returns -1 for a format it does not support (see below), or a width or precision above
//     INT_MAX (glibc: EOVERFLOW), with the buffer NUL-terminated after the text produced before
//     that conversion.
//
// Supported: conversions d i u o x X c s p %; flags - + space # 0 ('+' and ' ' give a sign to d and
// i only, as C99 says: %+u of 5 is "5"); width and precision, as numbers or `*` (a negative `*`
// width means '-', a negative `*` precision means none); length modifiers hh h l ll z j t, each
// reading its own type at the target's width (on Cortex-M long, size_t and ptrdiff_t are 32 bits,
// intmax_t 64: %tx of -1 is ffffffff there). That is every conversion mbedTLS 3.6's library/ uses
// (docs/runtime/format.md).
// Not supported, by design (mbedTLS never formats them): floating point (f F e E g G a A), n, the
// L modifier, positional arguments (%1$d), wide characters (%lc, %ls). At an unsupported
// conversion the walker stops: it never reads that or any later argument, so a wrong format cannot
// make it misread the stack.
// Like glibc: %s of a null pointer prints "(null)" (nothing when the precision is below 6);
// %p prints 0x followed by lowercase hex digits (glibc's %#lx: '-', '0', width and precision act as
// there), "(nil)" for a null pointer; '+' and ' ' give %p no sign (C leaves them undefined there;
// glibc prints one, newlib does not).
//
// No allocation, no libc printf, no floating point.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <span>

#if defined(__GNUC__)
#define TLSGEN_PRINTF_FORMAT(format_index, first_arg) __attribute__((format(printf, format_index, first_arg)))
#else
#define TLSGEN_PRINTF_FORMAT(format_index, first_arg)
#endif

namespace tlsgen {

int vsnprintf(char* buffer, std::size_t size, const char* format, va_list args) TLSGEN_PRINTF_FORMAT(3, 0);

int snprintf(char* buffer, std::size_t size, const char* format, ...) TLSGEN_PRINTF_FORMAT(3, 4);

inline int vsnprintf(std::span<char> buffer, const char* format, va_list args) TLSGEN_PRINTF_FORMAT(2, 0);
inline int vsnprintf(std::span<char> buffer, const char* format, va_list args) {
  return vsnprintf(buffer.data(), buffer.size(), format, args);
}

}  // namespace tlsgen
