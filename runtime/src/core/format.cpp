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
  void repeat(char c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) put(c);
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

// Reads the unsigned or signed argument of a length modifier as a 64-bit value.
std::uintmax_t read_unsigned(Length length, va_list& args) {
  switch (length) {
    case Length::kHH:
      return static_cast<unsigned char>(va_arg(args, unsigned int));
    case Length::kH:
      return static_cast<unsigned short>(va_arg(args, unsigned int));
    case Length::kL:
      return va_arg(args, unsigned long);
    case Length::kLL:
      return va_arg(args, unsigned long long);
    case Length::kZ:
      return va_arg(args, std::size_t);
    case Length::kJ:
      return va_arg(args, std::uintmax_t);
    case Length::kT:
      return static_cast<std::uintmax_t>(va_arg(args, std::ptrdiff_t));
    case Length::kNone:
      break;
  }
  return va_arg(args, unsigned int);
}

std::intmax_t read_signed(Length length, va_list& args) {
  switch (length) {
    case Length::kHH:
      return static_cast<signed char>(va_arg(args, int));
    case Length::kH:
      return static_cast<short>(va_arg(args, int));
    case Length::kL:
      return va_arg(args, long);
    case Length::kLL:
      return va_arg(args, long long);
    case Length::kZ:  // the signed type of size_t's width
      return static_cast<std::intmax_t>(static_cast<std::make_signed_t<std::size_t>>(va_arg(args, std::size_t)));
    case Length::kJ:
      return va_arg(args, std::intmax_t);
    case Length::kT:
      return va_arg(args, std::ptrdiff_t);
    case Length::kNone:
      break;
  }
  return va_arg(args, int);
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
void integer(Sink& out, Spec spec, std::uintmax_t magnitude, bool negative, unsigned base, bool upper,
             bool is_pointer) {
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
  if (negative) {
    prefix[prefix_len++] = '-';
  } else if (spec.plus && base == 10) {
    prefix[prefix_len++] = '+';
  } else if (spec.space && base == 10) {
    prefix[prefix_len++] = ' ';
  }
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
      while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + static_cast<std::size_t>(*p++ - '0');
    }
    if (*p == '.') {  // precision
      ++p;
      if (*p == '*') {
        const int prec = va_arg(args, int);
        spec.precision = prec < 0 ? -1 : prec;
        ++p;
      } else {
        int prec = 0;
        while (*p >= '0' && *p <= '9') {
          if (prec < 100000000) prec = prec * 10 + (*p - '0');
          ++p;
        }
        spec.precision = prec;
      }
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
        integer(out, spec, magnitude, v < 0, 10, false, false);
        break;
      }
      case 'u':
        integer(out, spec, read_unsigned(length, args), false, 10, false, false);
        break;
      case 'o':
        integer(out, spec, read_unsigned(length, args), false, 8, false, false);
        break;
      case 'x':
      case 'X':
        integer(out, spec, read_unsigned(length, args), false, 16, conversion == 'X', false);
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
          spec.alt = false;
          spec.plus = false;
          spec.space = false;
          integer(out, spec, reinterpret_cast<std::uintptr_t>(ptr), false, 16, false, true);
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
