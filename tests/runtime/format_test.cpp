#include "tlsgen/format.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace {

// The tests call the walker with formats the compiler cannot check on purpose (unsupported ones).
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-security"
#if defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-invalid-specifier"
#else
#pragma GCC diagnostic ignored "-Wformat-overflow"  // widths above INT_MAX, on purpose
#endif

template <typename... Args>
std::pair<std::string, int> fmt(const char* format, Args... args) {
  char buf[256];
  std::memset(buf, 'Z', sizeof buf);
  const int n = tlsgen::snprintf(buf, sizeof buf, format, args...);
  return {std::string(buf), n};
}

struct Case {
  const char* expected;
  std::pair<std::string, int> got;
};

#define EXPECT_FMT(expected, ...)                                      \
  do {                                                                 \
    const auto got = fmt(__VA_ARGS__);                                 \
    EXPECT_EQ(got.first, expected) << "format: " << #__VA_ARGS__;      \
    EXPECT_EQ(got.second, static_cast<int>(std::strlen(expected)));    \
  } while (0)

TEST(Format, SignedConversions_MatchTable) {
  EXPECT_FMT("42", "%d", 42);
  EXPECT_FMT("-42", "%i", -42);
  EXPECT_FMT("-2147483648", "%d", INT_MIN);
  EXPECT_FMT("2147483647", "%d", INT_MAX);
  EXPECT_FMT("-9223372036854775808", "%lld", LLONG_MIN);
  EXPECT_FMT("-9223372036854775808", "%ld", LONG_MIN);
  EXPECT_FMT("-128", "%hhd", -128);
  EXPECT_FMT("-1", "%hhd", 255);   // converted to signed char
  EXPECT_FMT("-32768", "%hd", 32768);
  EXPECT_FMT("-5", "%zd", static_cast<std::ptrdiff_t>(-5));
  EXPECT_FMT("-7", "%jd", static_cast<intmax_t>(-7));
  EXPECT_FMT("-9", "%td", static_cast<std::ptrdiff_t>(-9));
}

TEST(Format, UnsignedConversions_MatchTable) {
  EXPECT_FMT("4294967295", "%u", UINT_MAX);
  EXPECT_FMT("18446744073709551615", "%llu", ULLONG_MAX);
  EXPECT_FMT("18446744073709551615", "%zu", SIZE_MAX);
  EXPECT_FMT("255", "%hhu", 511);
  EXPECT_FMT("ff", "%x", 255);
  EXPECT_FMT("FF", "%X", 255);
  EXPECT_FMT("deadbeef", "%lx", 0xdeadbeefUL);
  EXPECT_FMT("777", "%o", 0777);
  EXPECT_FMT("0", "%x", 0);
  EXPECT_FMT("ffffffffffffffff", "%jx", UINTMAX_MAX);
}

TEST(Format, Flags_MatchTable) {
  EXPECT_FMT("+5", "%+d", 5);
  EXPECT_FMT(" 5", "% d", 5);
  EXPECT_FMT("+5", "%+ d", 5);  // '+' wins over ' '
  EXPECT_FMT("-5", "% d", -5);
  EXPECT_FMT("0x1f", "%#x", 31);
  EXPECT_FMT("0X1F", "%#X", 31);
  EXPECT_FMT("0", "%#x", 0);  // no prefix for zero
  EXPECT_FMT("017", "%#o", 15);
  EXPECT_FMT("0", "%#o", 0);
  EXPECT_FMT("0", "%#.0o", 0);
  EXPECT_FMT("00042", "%05d", 42);
  EXPECT_FMT("-0042", "%05d", -42);
  EXPECT_FMT("42   |", "%-5d|", 42);
  EXPECT_FMT("42   |", "%-05d|", 42);  // '-' beats '0'
  EXPECT_FMT("0x001f", "%#06x", 31);
  EXPECT_FMT("+0042", "%+05d", 42);
}

// C99 7.21.6.1p6: '+' and ' ' belong to signed conversions; u o x X (any length) print no sign.
TEST(Format, SignFlagsOnUnsignedConversions_PrintNoSign) {
  EXPECT_FMT("5", "%+u", 5u);
  EXPECT_FMT("5", "% u", 5u);
  EXPECT_FMT("5", "%+ u", 5u);
  EXPECT_FMT("0", "%+u", 0u);
  EXPECT_FMT("4294967295", "%+u", UINT_MAX);
  EXPECT_FMT("    5", "%+5u", 5u);
  EXPECT_FMT("00005", "% 05u", 5u);
  EXPECT_FMT("5    |", "%-+5u|", 5u);
  EXPECT_FMT("007", "%+.3u", 7u);
  EXPECT_FMT("ff", "%+x", 255u);
  EXPECT_FMT("FF", "% X", 255u);
  EXPECT_FMT("0x1f", "%+#x", 31u);
  EXPECT_FMT("17", "% o", 15u);
  EXPECT_FMT("017", "%+#o", 15u);
  EXPECT_FMT("255", "%+hhu", 255u);
  EXPECT_FMT("65535", "% hu", 65535u);
  EXPECT_FMT("7", "%+lu", 7UL);
  EXPECT_FMT("7", "% llu", 7ULL);
  EXPECT_FMT("7", "%+zu", static_cast<std::size_t>(7));
  EXPECT_FMT("7", "% ju", static_cast<std::uintmax_t>(7));
  EXPECT_FMT("7", "%+tu", static_cast<std::ptrdiff_t>(7));
  EXPECT_FMT("+7 7 +7", "%+d %+u %+i", 7, 7u, 7);  // signed conversions around keep theirs
  EXPECT_FMT(" 7 7", "% d % u", 7, 7u);
}

// Every length modifier reads its own type and, for u o x X, converts it without sign extension:
// on a 32-bit target long, size_t and ptrdiff_t are 32 bits wide and intmax_t 64, so the all-ones
// value prints as many hex digits as the type has nibbles (the expected text is derived from the
// type widths, so the table holds on every target).
TEST(Format, AllOnesOfEachLengthModifier_PrintTheTypeWidth) {
  const auto ones = [](std::size_t bytes) { return std::string(2 * bytes, 'f'); };
  EXPECT_FMT(ones(sizeof(unsigned char)).c_str(), "%hhx", -1);
  EXPECT_FMT(ones(sizeof(unsigned short)).c_str(), "%hx", -1);
  EXPECT_FMT(ones(sizeof(unsigned)).c_str(), "%x", -1);
  EXPECT_FMT(ones(sizeof(unsigned long)).c_str(), "%lx", -1L);
  EXPECT_FMT(ones(sizeof(unsigned long long)).c_str(), "%llx", -1LL);
  EXPECT_FMT(ones(sizeof(std::size_t)).c_str(), "%zx", static_cast<std::size_t>(-1));
  EXPECT_FMT(ones(sizeof(std::uintmax_t)).c_str(), "%jx", static_cast<std::intmax_t>(-1));
  EXPECT_FMT(ones(sizeof(std::ptrdiff_t)).c_str(), "%tx", static_cast<std::ptrdiff_t>(-1));
  EXPECT_FMT(std::to_string(static_cast<std::make_unsigned_t<std::ptrdiff_t>>(-1)).c_str(), "%tu",
             static_cast<std::ptrdiff_t>(-1));
  EXPECT_FMT(std::to_string(static_cast<unsigned long>(-1)).c_str(), "%lu", -1L);
  EXPECT_FMT(std::to_string(SIZE_MAX).c_str(), "%zu", SIZE_MAX);
  EXPECT_FMT("-1 -1 -1 -1", "%ld %zd %jd %td", -1L, static_cast<std::make_signed_t<std::size_t>>(-1),
             static_cast<std::intmax_t>(-1), static_cast<std::ptrdiff_t>(-1));
  // A 32-bit-wide argument followed by a 64-bit one and back: each is read at its own width.
  EXPECT_FMT("ffffffff 18446744073709551615 -1 ffffffffffffffff x", "%x %llu %d %jx %c", -1, ULLONG_MAX, -1,
             UINTMAX_MAX, 'x');
}

TEST(Format, WidthAndPrecision_MatchTable) {
  EXPECT_FMT("   42", "%5d", 42);
  EXPECT_FMT("00042", "%.5d", 42);
  EXPECT_FMT("  00042", "%7.5d", 42);
  EXPECT_FMT("   42", "%05.2d", 42);  // precision disables '0'
  EXPECT_FMT("", "%.0d", 0);
  EXPECT_FMT("   ", "%3.0d", 0);
  EXPECT_FMT("   42", "%*d", 5, 42);
  EXPECT_FMT("42   |", "%*d|", -5, 42);  // negative * width: left-justify
  EXPECT_FMT("00042", "%.*d", 5, 42);
  EXPECT_FMT("42", "%.*d", -3, 42);  // negative * precision: none
  EXPECT_FMT("abc", "%.*s", 3, "abcdef");
  EXPECT_FMT("  abc", "%5.3s", "abcdef");
}

TEST(Format, CharsStringsAndPercent_MatchTable) {
  EXPECT_FMT("x", "%c", 'x');
  EXPECT_FMT("  x", "%3c", 'x');
  EXPECT_FMT("x  |", "%-3c|", 'x');
  EXPECT_FMT("hello", "%s", "hello");
  EXPECT_FMT("  hi", "%4s", "hi");
  EXPECT_FMT("hi  |", "%-4s|", "hi");
  EXPECT_FMT("(null)", "%s", static_cast<const char*>(nullptr));
  EXPECT_FMT("", "%.3s", static_cast<const char*>(nullptr));  // glibc prints nothing below 6
  EXPECT_FMT("100%", "%d%%", 100);
  EXPECT_FMT("a%b", "a%%b");
}

TEST(Format, Pointers_MatchGlibcStyle) {
  EXPECT_FMT("0x1234", "%p", reinterpret_cast<void*>(0x1234));
  EXPECT_FMT("(nil)", "%p", static_cast<void*>(nullptr));
  EXPECT_FMT("  0xab", "%6p", reinterpret_cast<void*>(0xab));
}

// Non-null %p is glibc's %#lx, null is the string "(nil)". '-', '0', '#', width and precision act as
// in glibc; '+' and ' ' are ignored (C leaves them undefined for %p: glibc prints a sign, newlib does
// not; a sign belongs to signed conversions).
TEST(Format, PointerFlags_MatchGlibcExceptSign) {
  void* const p = reinterpret_cast<void*>(0x1234);
  void* const null = nullptr;
  EXPECT_FMT("0x1234    |", "%-10p|", p);
  EXPECT_FMT("0x00001234", "%010p", p);
  EXPECT_FMT("0x00001234", "%.8p", p);
  EXPECT_FMT("0x1234", "%#p", p);
  EXPECT_FMT("    0x1234", "%*p", 10, p);
  EXPECT_FMT("0x1234    |", "%*p|", -10, p);
  EXPECT_FMT("0x1234", "%+p", p);
  EXPECT_FMT("0x1234", "% p", p);
  EXPECT_FMT("   (nil)", "%08p", null);
  EXPECT_FMT("(nil)", "%.2p", null);
  EXPECT_FMT("(nil)   |", "%-8p|", null);
}

TEST(Format, MbedtlsStyleFormats_MatchTable) {
  // Shapes taken from mbedTLS 3.6 library/ (debug.c, x509*.c, ssl_*.c, error.c).
  EXPECT_FMT("=> handshake", "=> %s", "handshake");
  EXPECT_FMT("ssl_tls.c:4242: |2| 0x3f ff", "%s:%04d: |%d| 0x%02x %02x", "ssl_tls.c", 4242, 2, 0x3f, 0xff);
  EXPECT_FMT("value of 'X' (256 bits) is:", "value of '%s' (%u bits) is:", "X", 256u);
  EXPECT_FMT("0000:  01 02", "%04x: %s%02x %02x", 0u, " ", 1u, 2u);
  EXPECT_FMT("SSL - Bad input parameters to function (-0x7100)", "SSL - %s (-0x%04X)",
             "Bad input parameters to function", 0x7100);
  EXPECT_FMT("expires on        : 2030-01-01 00:00:00", "%sexpires on        : %04d-%02d-%02d %02d:%02d:%02d", "",
             2030, 1, 1, 0, 0, 0);
  EXPECT_FMT("len = 17", "len = %" "zu", static_cast<std::size_t>(17));
  EXPECT_FMT("t=1700000000000", "t=%lld", static_cast<long long>(1700000000000));
}

TEST(Format, Truncation_NulTerminatesAndReturnsFullLength) {
  char buf[8];
  std::memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(tlsgen::snprintf(buf, 5, "%s", "abcdefgh"), 8);
  EXPECT_STREQ(buf, "abcd");
  EXPECT_EQ(buf[5], 'Z');  // nothing written past size
  EXPECT_EQ(tlsgen::snprintf(buf, 1, "%d", 12345), 5);
  EXPECT_STREQ(buf, "");
  std::memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(tlsgen::snprintf(buf, 6, "%05d", 42), 5);  // exact fit
  EXPECT_STREQ(buf, "00042");
}

// A width or precision above INT_MAX: -1 (like glibc's EOVERFLOW), the text before it kept; never
// a size_t wrap (on a 32-bit target 4294967297 would otherwise become a width of 1).
TEST(Format, FieldAboveIntMax_ReturnsMinusOne) {
  char buf[16];
  std::memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%2147483648dcd", 1), -1);
  EXPECT_STREQ(buf, "ab");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%.2147483648dcd", 1), -1);
  EXPECT_STREQ(buf, "ab");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%4294967297dcd", 1), -1);
  EXPECT_STREQ(buf, "ab");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%99999999999999999999999dcd", 1), -1);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%*dcd", INT_MIN, 1), -1);
  EXPECT_STREQ(buf, "ab");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "%2147483647d", 1), 2147483647);
  EXPECT_EQ(std::string(buf), std::string(15, ' '));
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%2147483647d", 1), -1);  // 2 + INT_MAX does not fit
}

// Padding that does not fit the buffer is counted, not written byte by byte: an INT_MAX width
// returns at once (a loop over it would take seconds).
TEST(Format, HugeWidthIntoSmallBuffer_ReturnsFullLength) {
  char buf[8];
  std::memset(buf, 'Z', sizeof buf);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "ab%2147483600d", 1), 2147483602);
  EXPECT_STREQ(buf, "ab     ");
  EXPECT_EQ(tlsgen::snprintf(buf, 0, "%-2147483647s", "x"), 2147483647);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "%.2147483647u", 0u), 2147483647);
  EXPECT_STREQ(buf, "0000000");
}

TEST(Format, SizeZero_LeavesBufferUntouched) {
  char buf[4] = {'a', 'b', 'c', 'd'};
  EXPECT_EQ(tlsgen::snprintf(buf, 0, "%s", "xyz"), 3);
  EXPECT_EQ(std::memcmp(buf, "abcd", 4), 0);
  EXPECT_EQ(tlsgen::snprintf(nullptr, 0, "%d", 1234), 4);
}

TEST(Format, UnsupportedConversion_StopsBeforeReadingItsArgument) {
  char buf[64];
  std::memset(buf, 'Z', sizeof buf);
  // %f is not supported: the output stops there, -1 is returned, the string argument after it is
  // never read (it would be misread as the double's slot otherwise).
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "a=%d b=%f c=%s", 7, 1.5, "never"), -1);
  EXPECT_STREQ(buf, "a=7 b=");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "x%n", static_cast<int*>(nullptr)), -1);
  EXPECT_STREQ(buf, "x");
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "%ls", L"w"), -1);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "%Lf", 1.0L), -1);
  EXPECT_EQ(tlsgen::snprintf(buf, sizeof buf, "50%"), -1);  // lone % at the end
  EXPECT_STREQ(buf, "50");
  EXPECT_EQ(tlsgen::snprintf(buf, 0, "%q", 1), -1);
}

}  // namespace

// The signatures must be assignable to mbedtls_platform_set_snprintf / _set_vsnprintf's parameters.
TEST(Format, Signatures_AssignableToMbedtlsHooks) {
  int (*snprintf_hook)(char*, std::size_t, const char*, ...) = &tlsgen::snprintf;
  int (*vsnprintf_hook)(char*, std::size_t, const char*, va_list) = &tlsgen::vsnprintf;
  char buf[8];
  EXPECT_EQ(snprintf_hook(buf, sizeof buf, "%d", 42), 2);
  EXPECT_STREQ(buf, "42");
  EXPECT_NE(vsnprintf_hook, nullptr);
}
