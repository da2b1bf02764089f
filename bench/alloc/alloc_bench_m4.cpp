// Allocator bench (Cortex-M4 in QEMU, -icount shift=0): the same trace replays as alloc_bench.cpp,
// on the target's own layout (tlsgen::Heap: 8-byte header, 8-byte alignment; memory_buffer_alloc and
// the first fit compiled for the M4). The trace comes from the host as packed 32-bit rows
// (bench/alloc/run.py writes them) named by `trace=FILE` in QEMU's -append. Prints, per allocator,
// the smallest arena and the instructions per call (TIMER0, 1 tick = 40 instructions, minus the same
// loop with no allocator).
#include <cstdint>

#include "board.hpp"
#include "replay.hpp"
#include "trace_file.hpp"

namespace {

alignas(8) std::byte g_region[72 * 1024];
bench::Op g_ops[20480];
void* g_live[10240];  // one slot per block id (the traces have fewer than 10,000 allocations)

}  // namespace

int main() {
  const std::span<const bench::Op> ops = bench::read_trace("alloc_bench_m4", g_ops);
  if (ops.empty()) return 2;
  bench::Replayer replayer(g_region, g_live);
  auto ticks = [&](bench::Kind k) {
    const std::uint32_t t0 = board::timer_ticks();
    const bool ok = replayer.run(k, ops, sizeof g_region);
    const std::uint32_t t = board::timer_ticks() - t0;
    return ok ? t : 0u;
  };
  const std::uint32_t none = ticks(bench::Kind::kNone);
  const struct { const char* name; bench::Kind kind; } kinds[] = {
      {"tlsgen", bench::Kind::kTlsgen}, {"mba", bench::Kind::kMba}, {"firstfit", bench::Kind::kFirstFit}};
  for (const auto& k : kinds) {
    const std::size_t arena = replayer.smallest_arena(k.kind, ops);
    const std::uint32_t t = ticks(k.kind);
    const unsigned long instructions =
        t > none ? static_cast<unsigned long>(t - none) * board::kInstructionsPerTick : 0ul;
    board::host_printf("TLSGEN_ALLOC allocator=%s calls=%u arena=%u instructions=%lu\n", k.name,
                       static_cast<unsigned>(ops.size()), static_cast<unsigned>(arena), instructions);
  }
  return 0;
}
