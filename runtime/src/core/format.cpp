#include "tlsgen/format.hpp"

#include <cstdint>
#include <type_traits>

namespace tlsgen {

namespace {

// Accumulates output: writes what fits (leaving room for the NUL), counts everything.
class Sink {
 public:
  Sink(char* buffer, std::size_t size) : buffer_(buffer), limit_(size == 0 ? 0 : size - 1), size_(size) {}

  void put(char c) {
    if (length_ < limit_) buffer_[length_] = c;
    ++length_;
  }
  void repeat(char c, std::size_t n) {  // what does not fit is only counted (a huge width costs nothing)
    const std::size_t room = length_ < limit_ ? limit_ - length_ : 0;
    for (std::size_t i = 0; i < n && i < room; ++i) buffer_[length_ + i] = c;
    length_ += n;
  }
  void terminate() {
    if (size_ != 0) buffer_[length_ < limit_ ? length_ : limit_] = '\0';
  }
  std::size_t length() const { return length_; }

 private:
  char* buffer_;
  std::size_t limit_;
  std::size_t size_;
  std::size_t length_ = 0;
};

struct Spec {
  bool left = false;
  bool plus = false;
  bool space = false;
  bool alt = false;
  bool zero = false;
  std::size_t width = 0;
  int precision = -1;  // -1: none
};

enum class Length : std::uint8_t { kNone, kHH, kH, kL, kLL, kZ, kJ, kT };

// The argument of a conversion, read with the type its length modifier names (C11 7.21.6.1p7) and
// widened by that type's own signedness: u o x X read an unsigned type, so the value is never sign-
// extended (on a 32-bit target long, size_t and ptrdiff_t are 32 bits wide and intmax_t 64: %tx of -1
// is ffffffff there); d i read a signed type, so it always is.
template <typename T>
std::uintmax_t unsigned_arg(va_list& args) {
  static_assert(std::is_unsigned_v<T> && sizeof(T) <= sizeof(std::uintmax_t), "u o x X read an unsigned type");
  return va_arg(args, T);
}

template <typename T>
std::intmax_t signed_arg(va_list& args) {
  static_assert(std::is_signed_v<T> && sizeof(T) <= sizeof(std::intmax_t), "d i read a signed type");
  return va_arg(args, T);
}

std::uintmax_t read_unsigned(Length length, va_list& args) {
  switch (length) {
    case Length::kHH:  // passed as int (promoted), printed as unsigned char
      return static_cast<unsigned char>(unsigned_arg<unsigned int>(args));
    case Length::kH:
      return static_cast<unsigned short>(unsigned_arg<unsigned int>(args));
    case Length::kL:
      return unsigned_arg<unsigned long>(args);
    case Length::kLL:
      return unsigned_arg<unsigned long long>(args);
    case Length::kZ:
      return unsigned_arg<std::size_t>(args);
    case Length::kJ:
      return unsigned_arg<std::uintmax_t>(args);
    case Length::kT:  // the unsigned type corresponding to ptrdiff_t
      return unsigned_arg<std::make_unsigned_t<std::ptrdiff_t>>(args);
    case Length::kNone:
      break;
  }
  return unsigned_arg<unsigned int>(args);
}

std::intmax_t read_signed(Length length, va_list& args) {
  switch (length) {
    case Length::kHH:
      return static_cast<signed char>(signed_arg<int>(args));
    case Length::kH:
      return static_cast<short>(signed_arg<int>(args));
    case Length::kL:
      return signed_arg<long>(args);
    case Length::kLL:
      return signed_arg<long long>(args);
    case Length::kZ:  // the signed type corresponding to size_t
      return signed_arg<std::make_signed_t<std::size_t>>(args);
    case Length::kJ:
      return signed_arg<std::intmax_t>(args);
    case Length::kT:
      return signed_arg<std::ptrdiff_t>(args);
    case Length::kNone:
      break;
  }
  return signed_arg<int>(args);
}

// Emits `text` (n bytes) padded to the spec's width.
void pad_text(Sink& out, const Spec& spec, const char* text, std::size_t n) {
  const std::size_t fill = spec.width > n ? spec.width - n : 0;
  if (!spec.left) out.repeat(' ', fill);
  for (std::size_t i = 0; i < n; ++i) out.put(text[i]);
  if (spec.left) out.repeat(' ', fill);
}

// Divides `value` by `base` in place and returns the remainder, without 64-bit division:
// Cortex-M has no 64-bit divide instruction, and the library routine for it costs ~700 bytes.
unsigned next_digit(std::uintmax_t& value, unsigned base) {
  if (base == 16 || base == 8) {
    const unsigned shift = base == 16 ? 4 : 3;
    const auto digit = static_cast<unsigned>(value & (base - 1));
    value >>= shift;
    return digit;
  }
  if (value <= 0xFFFFFFFFu) {
    const auto v = static_cast<std::uint32_t>(value);
    value = v / base;
    return v % base;
  }
  // Long division by a small base, 16 bits at a time: every step fits in 32 bits.
  static_assert(sizeof(std::uintmax_t) == 8, "64-bit uintmax_t");
  std::uintmax_t quotient = 0;
  std::uint32_t rest = 0;
  for (int shift = 48; shift >= 0; shift -= 16) {
    const std::uint32_t part = (rest << 16) | static_cast<std::uint32_t>((value >> shift) & 0xFFFFu);
    quotient |= static_cast<std::uintmax_t>(part / base) << shift;
    rest = part % base;
  }
  value = quotient;
  return rest;
}

// Integer conversion: digits, precision (minimum digits), sign or 0x prefix, width, zero padding.
// `sign` is '-', '+', ' ' or 0 (none): the caller decides, because only d and i have one.
void integer(Sink& out, Spec spec, std::uintmax_t magnitude, char sign, unsigned base, bool upper, bool is_pointer) {
  char digits[24];  // 64-bit octal: 22 digits
  std::size_t n = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  if (!(magnitude == 0 && spec.precision == 0)) {
    do {
      digits[n++] = alphabet[next_digit(magnitude, base)];
    } while (magnitude != 0);
  }
  const bool value_is_zero = n == 0 || (n == 1 && digits[0] == '0');
  char prefix[2];
  std::size_t prefix_len = 0;
  if (sign != '\0') prefix[prefix_len++] = sign;
  if ((spec.alt || is_pointer) && base == 16 && !value_is_zero) {
    prefix[prefix_len++] = '0';
    prefix[prefix_len++] = upper ? 'X' : 'x';
  }
  std::size_t zeros = spec.precision > 0 && static_cast<std::size_t>(spec.precision) > n
                          ? static_cast<std::size_t>(spec.precision) - n
                          : 0;
  if (spec.alt && base == 8 && zeros == 0 && (n == 0 || digits[n - 1] != '0')) {
    zeros = 1;  // '#o': the first digit is a zero
  }
  const std::size_t body = prefix_len + zeros + n;
  std::size_t fill = spec.width > body ? spec.width - body : 0;
  if (spec.zero && !spec.left && spec.precision < 0) {
    zeros += fill;
    fill = 0;
  }
  if (!spec.left) out.repeat(' ', fill);
  for (std::size_t i = 0; i < prefix_len; ++i) out.put(prefix[i]);
  out.repeat('0', zeros);
  while (n > 0) out.put(digits[--n]);
  if (spec.left) out.repeat(' ', fill);
}

// Widths and precisions above this make the output length unrepresentable in the int result.
constexpr std::size_t kMaxField = INT32_MAX;

// A decimal width or precision; saturates at kMaxField + 1 (no size_t wrap on a 32-bit target).
std::size_t number(const char*& p) {
  std::size_t n = 0;
  while (*p >= '0' && *p <= '9') {
    const auto digit = static_cast<std::size_t>(*p++ - '0');
    n = n > (kMaxField - digit) / 10 ? kMaxField + 1 : n * 10 + digit;
  }
  return n;
}

}  // namespace

int vsnprintf(char* buffer, std::size_t size, const char* format, va_list args_in) {
  Sink out(buffer, size);
  va_list args;
  va_copy(args, args_in);
  int result = 0;
  const char* p = format;
  while (*p != '\0') {
    if (*p != '%') {
      out.put(*p++);
      continue;
    }
    ++p;
    Spec spec;
    for (;; ++p) {  // flags
      if (*p == '-') {
        spec.left = true;
      } else if (*p == '+') {
        spec.plus = true;
      } else if (*p == ' ') {
        spec.space = true;
      } else if (*p == '#') {
        spec.alt = true;
      } else if (*p == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    if (*p == '*') {  // width
      const int w = va_arg(args, int);
      if (w < 0) {
        spec.left = true;
        spec.width = static_cast<std::size_t>(-static_cast<long long>(w));
      } else {
        spec.width = static_cast<std::size_t>(w);
      }
      ++p;
    } else {
      spec.width = number(p);
    }
    bool too_big = spec.width > kMaxField;  // INT_MIN as '*' width included
    if (*p == '.') {  // precision
      ++p;
      if (*p == '*') {
        const int prec = va_arg(args, int);
        spec.precision = prec < 0 ? -1 : prec;
        ++p;
      } else {
        const std::size_t prec = number(p);
        too_big = too_big || prec > kMaxField;
        spec.precision = prec > kMaxField ? -1 : static_cast<int>(prec);
      }
    }
    if (too_big) {
      result = -1;  // the output length would not fit the int result (glibc: EOVERFLOW)
      break;
    }
    Length length = Length::kNone;
    if (*p == 'h') {
      length = Length::kH;
      if (*++p == 'h') {
        length = Length::kHH;
        ++p;
      }
    } else if (*p == 'l') {
      length = Length::kL;
      if (*++p == 'l') {
        length = Length::kLL;
        ++p;
      }
    } else if (*p == 'z') {
      length = Length::kZ;
      ++p;
    } else if (*p == 'j') {
      length = Length::kJ;
      ++p;
    } else if (*p == 't') {
      length = Length::kT;
      ++p;
    }
    const char conversion = *p;
    if (conversion == '\0') {
      result = -1;  // a lone '%' at the end
      break;
    }
    ++p;
    switch (conversion) {
      case 'd':
      case 'i': {
        const std::intmax_t v = read_signed(length, args);
        const std::uintmax_t magnitude =
            v < 0 ? static_cast<std::uintmax_t>(0) - static_cast<std::uintmax_t>(v) : static_cast<std::uintmax_t>(v);
        const char sign = v < 0 ? '-' : (spec.plus ? '+' : (spec.space ? ' ' : '\0'));
        integer(out, spec, magnitude, sign, 10, false, false);
        break;
      }
      case 'u':
        integer(out, spec, read_unsigned(length, args), '\0', 10, false, false);
        break;
      case 'o':
        integer(out, spec, read_unsigned(length, args), '\0', 8, false, false);
        break;
      case 'x':
      case 'X':
        integer(out, spec, read_unsigned(length, args), '\0', 16, conversion == 'X', false);
        break;
      case 'c': {
        if (length != Length::kNone) {
          result = -1;  // %lc: wide characters are not supported
          break;
        }
        const char c = static_cast<char>(va_arg(args, int));
        pad_text(out, spec, &c, 1);
        break;
      }
      case 's': {
        if (length != Length::kNone) {
          result = -1;  // %ls
          break;
        }
        const char* s = va_arg(args, const char*);
        if (s == nullptr) s = (spec.precision < 0 || spec.precision >= 6) ? "(null)" : "";
        std::size_t n = 0;
        while ((spec.precision < 0 || n < static_cast<std::size_t>(spec.precision)) && s[n] != '\0') ++n;
        pad_text(out, spec, s, n);
        break;
      }
      case 'p': {
        const void* ptr = va_arg(args, const void*);
        if (ptr == nullptr) {
          pad_text(out, spec, "(nil)", 5);
        } else {
          // glibc's %#lx; '+' and ' ' print no sign (C leaves them undefined for %p; newlib ignores them).
          spec.alt = false;
          integer(out, spec, reinterpret_cast<std::uintptr_t>(ptr), '\0', 16, false, true);
        }
        break;
      }
      case '%':
        out.put('%');
        break;
      default:
        result = -1;  // unsupported conversion: stop before reading its argument
        break;
    }
    if (result < 0) break;
  }
  va_end(args);
  out.terminate();
  if (result < 0) return -1;
  const std::size_t length_needed = out.length();
  return length_needed > static_cast<std::size_t>(INT32_MAX) ? -1 : static_cast<int>(length_needed);
}

int snprintf(char* buffer, std::size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = tlsgen::vsnprintf(buffer, size, format, args);
  va_end(args);
  return n;
}

}  // namespace tlsgen
