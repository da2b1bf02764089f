// Board layer for QEMU's mps2-an386 (Cortex-M4): CMSDK UART0, CMSDK TIMER0, semihosting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace board {

void init();

// CMSDK UART0 at 0x40004000 (BAUDDIV 16, TX and RX enabled). Non-blocking byte I/O.
std::size_t uart_write(std::span<const std::byte> data);
std::size_t uart_read(std::span<std::byte> buffer);

// CMSDK TIMER0 at 0x40000000 as a free-running 25 MHz down-counter. Under
// `-icount shift=0,sleep=off` one tick is exactly 40 guest instructions.
std::uint32_t timer_ticks();  // monotonically increasing (wraps after 2^32 ticks)
inline constexpr std::uint32_t kInstructionsPerTick = 40;
std::uint32_t millis();       // from TIMER0: 25,000 ticks per ms
std::uint64_t millis64();     // the same, not wrapping (read it at least every 171 s)

// ARM semihosting (QEMU -semihosting-config enable=on,target=native).
void host_write(const char* text);
void host_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void host_exit(int status);
// The string passed with QEMU's -append (SYS_GET_CMDLINE); empty if none.
const char* host_cmdline();
// The value of `key=value` in the command line, copied into `out` (NUL-terminated); nullptr if absent.
const char* cmdline_arg(const char* key, char* out, std::size_t size);
// Whole-file read/write on the host, relative to QEMU's working directory. Return bytes or -1.
long host_read_file(const char* path, std::span<std::byte> out);
long host_write_file(const char* path, std::span<const std::byte> data);
// Up to out.size() bytes of a host file (e.g. a device such as /dev/urandom); bytes read or -1.
long host_read_some(const char* path, std::span<std::byte> out);
// A host file opened for writing ("wb"), written to in pieces and closed: a handle, or -1.
int host_open_write(const char* path);
bool host_write_handle(int handle, std::span<const std::byte> data);
void host_close(int handle);
// The host's calendar time (SYS_TIME): seconds since 1970-01-01 UTC.
long long host_time();

}  // namespace board
