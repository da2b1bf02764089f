// The recorded mbedTLS sessions (tests/data/alloc-traces) on the Cortex-M layout (8-byte header and
// alignment): tlsgen::Heap side by side with the single best-fit list it had before its bins
// (single_list_model.hpp), call by call: the same offset for every block, the same high water and
// number of free blocks after every call, check() at the end. The trace comes packed as 32-bit rows
// (bench::Op, bench/alloc/trace_op.hpp; run_heap_traces.py writes them), named by `trace=FILE` in QEMU's
// -append (bench::read_trace). Prints "HEAP TRACE calls=N mismatches=M first=K high_water=H check=1|0".
#include <cstdint>

#include "board.hpp"
#include "single_list_model.hpp"
#include "tlsgen/heap.hpp"
#include "trace_file.hpp"

namespace {

alignas(8) std::byte g_region[64 * 1024];   // the largest trace needs 60,080 bytes on this layout
bench::Op g_ops[20480];
std::uint16_t g_live[10240];                // per block id: its header offset (< 64 KB)
SingleListModel<std::uint16_t, 512> g_model;

}  // namespace

int main() {
  const std::span<const bench::Op> ops = bench::read_trace("heap_traces", g_ops);
  if (ops.empty()) return 2;
  tlsgen::Heap heap;
  if (!heap.init(g_region).ok()) return 2;
  g_model.reset(static_cast<std::uint32_t>(heap.stats().capacity));
  unsigned calls = 0;
  unsigned mismatches = 0;
  unsigned first = 0;
  for (const bench::Op op : ops) {
    const std::uint32_t id = op.id();
    ++calls;
    bool same = id < sizeof g_live / sizeof g_live[0];
    if (same && op.alloc()) {
      const std::size_t size = op.size();
      void* p = heap.calloc(1, size);
      const std::uint32_t expected = g_model.calloc(size);
      const std::uint32_t got =
          p == nullptr ? g_model.kNone
                       : static_cast<std::uint32_t>(static_cast<std::byte*>(p) - g_region) - tlsgen::Heap::kHeaderBytes;
      same = p != nullptr && got == expected;
      if (same) g_live[id] = static_cast<std::uint16_t>(got);
    } else if (same) {
      heap.free(g_region + g_live[id] + tlsgen::Heap::kHeaderBytes);
      g_model.free(g_live[id]);
    }
    same = same && heap.stats().high_water == g_model.high_water() && heap.stats().free_blocks == g_model.free_blocks();
    if (!same) {
      if (mismatches++ == 0) first = calls;
      break;  // the two no longer hold the same blocks
    }
  }
  board::host_printf("HEAP TRACE calls=%u mismatches=%u first=%u high_water=%u check=%d\n", calls, mismatches, first,
                     static_cast<unsigned>(heap.stats().high_water), heap.check().ok() ? 1 : 0);
  return mismatches == 0 ? 0 : 1;
}
