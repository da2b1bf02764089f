// The packed trace row shared by the allocator bench (replay.hpp) and the Cortex-M placement test
// (tests/qemu/heap_traces.cpp); bench/alloc/run.py's packed() writes it. Header-only, no mbedTLS.
#pragma once

#include <cstdint>

namespace bench {

// One trace row packed in 32 bits (a Cortex-M4 holds 10,000-row traces in RAM this way):
// bit 31 allocation, bits 30..15 size (< 65,536), bits 14..0 block id (< 32,768).
struct Op {
  std::uint32_t bits;
  static constexpr std::uint32_t kMaxSize = 0xFFFF, kMaxId = 0x7FFF;
  static constexpr Op make(bool alloc, std::uint32_t size, std::uint32_t id) {
    return {(alloc ? 0x80000000u : 0u) | (size << 15) | id};
  }
  constexpr bool alloc() const { return (bits & 0x80000000u) != 0; }
  constexpr std::uint32_t size() const { return (bits >> 15) & kMaxSize; }
  constexpr std::uint32_t id() const { return bits & kMaxId; }
};

}  // namespace bench
