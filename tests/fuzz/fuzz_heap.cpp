// libFuzzer target: tlsgen::Heap against a simple model. Random calloc/free sequences, with count*size
// drawn from the whole size_t range too (overflow must give null), interior-pointer frees and frees
// of already freed pointers. After every step: no two live blocks overlap, every live block still
// holds its data, new memory is zeroed, aligned and inside the region, a fault is reported exactly
// when the model expects one and changes nothing, the statistics agree with the model and check()
// walks a consistent heap.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tlsgen/heap.hpp"

namespace {

using tlsgen::Heap;
using tlsgen::HeapFault;

struct Live {
  unsigned char* p;
  std::size_t n;
  unsigned char tag;
};

struct Faults {
  std::size_t count = 0;
  HeapFault last = HeapFault::kBadFree;
  static void record(HeapFault fault, const void*, void* context) {
    auto* self = static_cast<Faults*>(context);
    ++self->count;
    self->last = fault;
  }
};

void require(bool ok) {
  if (!ok) std::abort();
}

// Payload bytes the model expects for a request of n bytes (the heap may keep up to
// block_bytes(1) - kAlignment more when a best-fit block is too small to split).
std::size_t payload(std::size_t n) {
  const std::size_t at_least = n < Heap::kMinPayload ? Heap::kMinPayload : n;
  return (at_least + Heap::kAlignment - 1) / Heap::kAlignment * Heap::kAlignment;
}

bool same(const tlsgen::HeapStats& a, const tlsgen::HeapStats& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;  // all size_t fields, no padding
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  alignas(64) static std::byte region[32 * 1024];
  Heap heap;
  Faults faults;
  const std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, 15);
  const std::size_t length = in.ConsumeIntegralInRange<std::size_t>(64, sizeof region - offset);
  require(heap.init(std::span(region + offset, length)).ok());
  heap.set_fault_handler(&Faults::record, &faults);
  const std::size_t capacity = heap.stats().capacity;
  require(capacity <= length && length - capacity < 2 * Heap::kAlignment && capacity % Heap::kAlignment == 0);
  const auto* const lo = reinterpret_cast<const unsigned char*>(region + offset);
  const auto* const hi = lo + length;

  std::vector<Live> live;
  std::vector<void*> freed;  // recently freed pointers (at most 8)
  std::size_t allocations = 0, frees = 0, failed = 0;
  while (in.remaining_bytes() > 0) {
    const int op = in.ConsumeIntegralInRange(0, 15);
    if (live.empty() || op < 9) {
      std::size_t count = 0, each = 0;
      switch (in.ConsumeIntegralInRange(0, 3)) {
        case 0:
          count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
          each = in.ConsumeIntegralInRange<std::size_t>(0, 100);
          break;
        case 1:
          count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
          each = in.ConsumeIntegralInRange<std::size_t>(0, 4000);
          break;
        case 2:  // anywhere in size_t: mostly overflowing or far too large
          count = in.ConsumeIntegral<std::size_t>();
          each = in.ConsumeIntegral<std::size_t>();
          break;
        default: {  // powers of two around the overflow boundary, +-1
          const auto near_power = [&in] {
            const std::size_t power = std::size_t{1} << in.ConsumeIntegralInRange(0, 63);
            return power + in.ConsumeIntegralInRange<std::size_t>(0, 2) - 1;
          };
          count = near_power();
          each = near_power();
          break;
        }
      }
      std::size_t n = 0;
      const bool overflow = __builtin_mul_overflow(count, each, &n);
      auto* p = static_cast<unsigned char*>(heap.calloc(count, each));
      if (!overflow && n == 0) {
        require(p == nullptr);  // not a failure
      } else if (overflow || n >= Heap::kMaxRegion || Heap::block_bytes(n) > capacity) {
        require(p == nullptr);
        ++failed;
      } else if (p == nullptr) {
        require(!live.empty());  // an empty heap has all of its capacity in one piece
        ++failed;
      } else {
        ++allocations;
        require(reinterpret_cast<std::uintptr_t>(p) % Heap::kAlignment == 0);
        require(p >= lo + Heap::kHeaderBytes && p + n <= hi);
        for (std::size_t i = 0; i < n; ++i) require(p[i] == 0);
        for (const Live& l : live) require(p + n <= l.p || l.p + l.n <= p);
        const auto tag = in.ConsumeIntegral<unsigned char>();
        std::memset(p, tag, n);
        live.push_back({p, n, tag});
      }
      require(faults.count == 0);
    } else if (op < 14) {
      const std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, live.size() - 1);
      heap.free(live[i].p);
      require(faults.count == 0);
      ++frees;
      if (freed.size() == 8) freed.erase(freed.begin());
      freed.push_back(live[i].p);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      // A pointer that is not a live block's start: inside a live block (bad free), or one freed
      // before and not handed out again (double free, or bad free once its memory was reused).
      void* bad = nullptr;
      HeapFault expected = HeapFault::kBadFree;
      if (op == 14) {
        const Live& l = live[in.ConsumeIntegralInRange<std::size_t>(0, live.size() - 1)];
        const std::size_t slots = payload(l.n) / Heap::kAlignment;
        if (slots < 2) continue;
        bad = l.p + in.ConsumeIntegralInRange<std::size_t>(1, slots - 1) * Heap::kAlignment;
      } else {
        if (freed.empty()) continue;
        bad = freed[in.ConsumeIntegralInRange<std::size_t>(0, freed.size() - 1)];
        bool reused = false;
        for (const Live& l : live) reused = reused || l.p == bad;
        if (reused) continue;
        expected = HeapFault::kDoubleFree;
      }
      const tlsgen::HeapStats before = heap.stats();
      heap.free(bad);
      require(faults.count == 1 && same(before, heap.stats()));
      require(faults.last == expected || (expected == HeapFault::kDoubleFree && faults.last == HeapFault::kBadFree));
      faults.count = 0;
    }

    // The model's view of the heap, after every step.
    std::size_t model_payload = 0;
    for (const Live& l : live) {
      for (std::size_t k = 0; k < l.n; ++k) require(l.p[k] == l.tag);
      model_payload += payload(l.n);
    }
    const tlsgen::HeapStats s = heap.stats();
    require(s.live_blocks == live.size() && s.allocations == allocations && s.frees == frees && s.failed == failed);
    require(s.in_use >= model_payload &&
            s.in_use <= model_payload + live.size() * (Heap::block_bytes(1) - Heap::kAlignment));
    require(s.arena_in_use == s.in_use + live.size() * Heap::kHeaderBytes);
    require(s.peak_in_use >= s.in_use && s.peak_arena_in_use >= s.arena_in_use && s.high_water <= capacity);
    require(s.free_blocks <= live.size() && s.free_blocks <= capacity / (2 * Heap::block_bytes(1)));
    require(heap.check().ok());
  }
  for (const Live& l : live) heap.free(l.p);
  const tlsgen::HeapStats end = heap.stats();
  require(faults.count == 0 && end.in_use == 0 && end.live_blocks == 0 && end.free_blocks == 0 && heap.check().ok());
  return 0;
}
