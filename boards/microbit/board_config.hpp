// QEMU microbit (nRF51822, Cortex-M0: ARMv6-M, the ISA of cortex-m0plus profiles): UART0 at 0x40002000,
// TIMER0 at 0x40008000 counting at 16 MHz (prescaler 0).
#pragma once

#include <cstddef>
#include <cstdint>

namespace board {

inline constexpr const char* kName = "microbit";
inline constexpr std::size_t kRamBytes = 16 * 1024;  // linker.ld RAM: the whole nRF51822 (QEMU has exactly this)
inline constexpr std::uint32_t kTimerHz = 16'000'000u;
// A tick is 62.5 instructions under -icount shift=0: board::instructions() converts.
inline constexpr std::uintptr_t kNrfUartBase = 0x40002000u;
inline constexpr std::uintptr_t kNrfTimerBase = 0x40008000u;

}  // namespace board
