// UTC calendar conversion without the C library: seconds since 1970-01-01T00:00:00Z to a calendar date
// and time (proleptic Gregorian, no leap seconds), for certificate validity checks on bare metal.
//
// newlib's gmtime() keeps its result in a per-thread buffer it allocates with malloc() on first use; a
// device whose only heap is tlsgen's has no malloc, so newlib aborts. With platform.time: calendar on a
// bare-metal target the generated glue defines mbedTLS's mbedtls_platform_gmtime_r() hook with this.
#pragma once

#include <cstdint>

namespace tlsgen {

struct UtcTime {
  std::int64_t year;   // e.g. 2026
  int month;           // 1..12
  int day;             // 1..31
  int hour;            // 0..23
  int minute;          // 0..59
  int second;          // 0..59
  int weekday;         // 0 = Sunday
  int day_of_year;     // 0..365
};

// Exact for every int64 seconds value whose year fits: O(1), no tables beyond the month lengths.
UtcTime utc_from_unix(std::int64_t seconds);

}  // namespace tlsgen
