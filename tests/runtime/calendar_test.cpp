// tlsgen::utc_from_unix against the host C library's gmtime_r, over dates a certificate can carry.
#include "tlsgen/calendar.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <random>

namespace {

void expect_same(std::int64_t s) {
  const std::time_t t = static_cast<std::time_t>(s);
  std::tm ref{};
  ASSERT_NE(gmtime_r(&t, &ref), nullptr) << s;
  const tlsgen::UtcTime got = tlsgen::utc_from_unix(s);
  EXPECT_EQ(got.year, ref.tm_year + 1900) << s;
  EXPECT_EQ(got.month, ref.tm_mon + 1) << s;
  EXPECT_EQ(got.day, ref.tm_mday) << s;
  EXPECT_EQ(got.hour, ref.tm_hour) << s;
  EXPECT_EQ(got.minute, ref.tm_min) << s;
  EXPECT_EQ(got.second, ref.tm_sec) << s;
  EXPECT_EQ(got.weekday, ref.tm_wday) << s;
  EXPECT_EQ(got.day_of_year, ref.tm_yday) << s;
}

TEST(Calendar, KnownInstants_MatchTheCLibrary) {
  for (const std::int64_t s : {0LL, 1LL, -1LL, 86399LL, 86400LL, 951782400LL /* 2000-02-29 */,
                               951868800LL /* 2000-03-01 */, 1577836800LL /* 2020-01-01 */,
                               1609459199LL /* 2020-12-31 23:59:59 */, 2147483647LL, 2147483648LL,
                               4102444800LL /* 2100-01-01 */, 253402300799LL /* 9999-12-31 23:59:59 */,
                               -2208988800LL /* 1900-01-01 */}) {
    expect_same(s);
  }
}

TEST(Calendar, RandomInstants_1900To9999_MatchTheCLibrary) {
  std::mt19937_64 rng(20261202);
  std::uniform_int_distribution<std::int64_t> dist(-2208988800LL, 253402300799LL);
  for (int i = 0; i < 200000; ++i) {
    expect_same(dist(rng));
  }
}

}  // namespace
