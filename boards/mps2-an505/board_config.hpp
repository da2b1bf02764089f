// QEMU mps2-an505 (Cortex-M33, ARMv8-M Mainline, IoT Kit): the firmware stays in the Secure state it
// boots in (no TrustZone partitioning) and so uses the Secure aliases (address bit 28 set): UART0 at
// 0x50200000 (Non-secure 0x40200000), the IoT Kit's CMSDK TIMER0 at 0x50000000; MAINCLK 20 MHz.
#pragma once

#include <cstddef>
#include <cstdint>

namespace board {

inline constexpr const char* kName = "mps2-an505";
inline constexpr std::size_t kRamBytes = 256 * 1024;  // linker.ld RAM
inline constexpr std::uint32_t kTimerHz = 20'000'000u;
inline constexpr std::uint32_t kInstructionsPerTick = 50;  // under -icount shift=0
inline constexpr std::uintptr_t kCmsdkUartBase = 0x50200000u;
inline constexpr std::uintptr_t kCmsdkTimerBase = 0x50000000u;

}  // namespace board
