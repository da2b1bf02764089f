// QEMU mps2-an385 (Cortex-M3): CMSDK UART0 and TIMER0 as on the mps2-an386, APB clock 25 MHz.
#pragma once

#include <cstddef>
#include <cstdint>

namespace board {

inline constexpr const char* kName = "mps2-an385";
inline constexpr std::size_t kRamBytes = 256 * 1024;  // linker.ld RAM
inline constexpr std::uint32_t kTimerHz = 25'000'000u;
inline constexpr std::uint32_t kInstructionsPerTick = 40;  // under -icount shift=0
inline constexpr std::uintptr_t kCmsdkUartBase = 0x40004000u;
inline constexpr std::uintptr_t kCmsdkTimerBase = 0x40000000u;

}  // namespace board
