// platform.time: ms_clock / calendar on QEMU mps2-an386: mbedtls_ms_time() from TIMER0 (under
// `-icount shift=0` it counts guest instructions, 40 per tick), tlsgen_board_time() from the host's
// clock over semihosting (SYS_TIME), standing in for a battery-backed RTC.
#include <cstdint>

#include "board.hpp"

extern "C" std::int64_t mbedtls_ms_time(void) { return static_cast<std::int64_t>(board::millis64()); }

extern "C" long long tlsgen_board_time(void) { return board::host_time(); }
