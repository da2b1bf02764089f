// The board layer every QEMU Cortex-M board of tlsgen offers (boards/<machine>/): a UART for the modem,
// a free-running timer, ARM semihosting for the host's console, files and exit, and the stack's
// high-water mark. What differs per board (addresses, clocks, the UART's kind) is in that board's
// board_config.hpp and its peripheral driver (cmsdk.cpp: mps2-an385/an386/an500/an505; nrf51.cpp: microbit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "board_config.hpp"  // kName, kTimerHz, the board's peripheral addresses

namespace board {

void init();

// The UART the modem is wired to (QEMU -serial): non-blocking byte I/O, as many bytes as the UART takes
// or holds right now.
std::size_t uart_write(std::span<const std::byte> data);
std::size_t uart_read(std::span<std::byte> buffer);

// A free-running 32-bit timer at kTimerHz, counting up (wraps after 2^32 ticks). Under QEMU's
// `-icount shift=0,sleep=off` one guest instruction takes 1 ns of virtual time, so a tick is exactly
// 1e9 / kTimerHz instructions: instructions() converts.
std::uint32_t timer_ticks();
inline constexpr std::uint64_t instructions(std::uint64_t ticks) { return ticks * 1'000'000'000u / kTimerHz; }
std::uint32_t millis();    // from the timer
std::uint64_t millis64();  // the same, not wrapping (read it at least once per timer wrap)

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

// The main stack: its size (the linker script's __stack_size) and the most of it used since reset (the
// reset handler fills it with a pattern; this finds the deepest word that changed).
std::size_t stack_size();
std::size_t stack_peak();

}  // namespace board
