// QEMU mps2-an385 running an ARMv6-M image (a cortex-m0plus profile whose heap and stack do not fit the
// microbit's 16 KB): ARMv6-M is a subset of the M3's ARMv7-M, so the image runs unchanged. The profile
// sweep uses it (tools/sweep/sweep.cmake); the peripherals are the mps2-an385's.
#pragma once

#include <cstddef>
#include <cstdint>

namespace board {

inline constexpr const char* kName = "mps2-an385 (ARMv6-M image)";
inline constexpr std::size_t kRamBytes = 256 * 1024;  // linker.ld RAM
inline constexpr std::uint32_t kTimerHz = 25'000'000u;
inline constexpr std::uint32_t kInstructionsPerTick = 40;  // under -icount shift=0
inline constexpr std::uintptr_t kCmsdkUartBase = 0x40004000u;
inline constexpr std::uintptr_t kCmsdkTimerBase = 0x40000000u;

}  // namespace board
