// UTC calendar conversion: the days-to-civil algorithm of H. Hinnant ("chrono-compatible low-level date
// algorithms"), era-based so that it needs no loop and no table.
#include "tlsgen/calendar.hpp"

namespace tlsgen {
namespace {

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

UtcTime utc_from_unix(std::int64_t seconds) {
  const std::int64_t days = floor_div(seconds, 86400);
  const auto rem = static_cast<int>(seconds - days * 86400);
  // Days since 1970-01-01 to year/month/day, with years starting on March 1st.
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;                                  // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);         // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                              // [0, 11]
  UtcTime t{};
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  t.hour = rem / 3600;
  t.minute = rem % 3600 / 60;
  t.second = rem % 60;
  t.weekday = static_cast<int>(floor_div(days + 4, 7) * -7 + days + 4);  // 1970-01-01 was a Thursday
  static constexpr int kBefore[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  t.day_of_year = kBefore[t.month - 1] + t.day - 1 + ((t.month > 2 && leap(t.year)) ? 1 : 0);
  return t;
}

}  // namespace tlsgen
