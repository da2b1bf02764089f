// tlsgen::Heap: the allocator mbedTLS uses, over a caller-given region (the generated static heap).
//
// Layout. Every block starts with a header and hands back the memory right after it (the seed's
// layout). The header holds the block's size (header included; the low bit says "in use") and the
// size of the block before it, so both neighbours are found in O(1) and free neighbours coalesce.
// On 64-bit hosts the header is 16 bytes and also holds a check word (size ^ prev ^ magic) and the
// block alignment; on 32-bit targets it is 8 bytes (size, prev). All blocks share one alignment,
// kAlignment = alignof(std::max_align_t): 8 on Cortex-M, 16 on x86-64, so no per-block alignment
// field is needed to free a block.
//
//   region: [ hdr | payload ][ hdr | payload ] ... [ hdr | payload ]  wilderness ............ ]
//           ^base                                                     ^top (high-water mark)
//
// Policy. Best fit among the free blocks below `top`; the wilderness above `top` is used only when
// no free block fits (dlmalloc's "top chunk"). So where a block lands never depends on the region's
// size, and the highest `top` ever reached is exactly the arena this sequence of calls needs:
// stats().high_water is the number the heap model is checked against.
//
// Time per call (the bound): calloc is O(F) to find the best fit, plus O(n) to zero n bytes, where
// F is the number of free blocks below `top`; since no two free blocks are ever adjacent, F is at
// most the number of live blocks + 1 (about 80 at the peak of a TLS 1.3 handshake). free is O(1).
//
// Corruption detection: free() checks that the pointer is one this heap handed out and is still in
// use (bad free, double free) and that the header agrees with its neighbours (overwritten header);
// check() walks every block. A fault calls the fault handler and leaves the heap unchanged; the
// default handler traps (set_fault_handler() to record faults instead, as the tests do). These
// O(1) checks are always on; check() is for debug builds and tests.
//
// No dynamic allocation, no exceptions, no global state: a Heap is an object (the glue owns one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"

namespace tlsgen {

enum class HeapFault : std::uint8_t {
  kBadFree,            // pointer not handed out by this heap (outside, misaligned, not a block start)
  kDoubleFree,         // block already free
  kCorruptHeader,      // header inconsistent with its neighbours (overwritten)
};

const char* to_string(HeapFault fault);

struct HeapStats {
  std::size_t capacity = 0;           // usable bytes of the region (after aligning its start)
  std::size_t in_use = 0;             // payload bytes of live blocks (requests rounded to kAlignment, plus
                                      // the remainder of a best-fit block too small to split off)
  std::size_t peak_in_use = 0;
  std::size_t arena_in_use = 0;       // bytes of live blocks, headers included
  std::size_t peak_arena_in_use = 0;  // a region smaller than this cannot have held the session
  std::size_t high_water = 0;         // highest offset ever used: the arena this run needed
  std::size_t live_blocks = 0;
  std::size_t peak_live_blocks = 0;
  std::size_t free_blocks = 0;        // free blocks below the wilderness (fragments)
  std::size_t failed = 0;             // calloc calls that returned null for lack of space
  std::size_t allocations = 0;
  std::size_t frees = 0;
};

class Heap {
 public:
  using FaultHandler = void (*)(HeapFault fault, const void* pointer, void* context);

  static constexpr std::size_t kAlignment = alignof(std::max_align_t);
  static constexpr std::size_t kHeaderBytes = sizeof(void*) >= 8 ? 16 : 8;
  static constexpr std::size_t kMinPayload = 8;  // room for the free-list links of a free block
  static constexpr std::size_t kMaxRegion = std::size_t{1} << 31;

  static_assert(kHeaderBytes % kAlignment == 0, "payloads must stay aligned");

  // Arena bytes one allocation of `request` bytes occupies (header + payload rounded up).
  // The generator's heap model (generator/tlsgen/heap.py, block_bytes) mirrors this formula.
  static constexpr std::size_t block_bytes(std::size_t request) {
    const std::size_t payload = request < kMinPayload ? kMinPayload : request;
    return kHeaderBytes + (payload + kAlignment - 1) / kAlignment * kAlignment;
  }

  constexpr Heap() = default;
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // Takes over `region` (any alignment; its start is aligned internally). kInvalidArgument for a
  // null region, one too small for a single block, or one of kMaxRegion bytes or more.
  // Re-initialising forgets every block and resets the statistics.
  Status init(std::span<std::byte> region);

  // calloc semantics: count*size zeroed bytes aligned to kAlignment, or nullptr when count*size
  // overflows, is 0, or does not fit (then stats().failed grows). Before init(): nullptr.
  void* calloc(std::size_t count, std::size_t size);

  // free(nullptr) is a no-op. Pointers not from this heap, or freed twice, go to the fault handler.
  void free(void* pointer);

  HeapStats stats() const;
  void reset_peak();   // peaks := current values (high_water too)
  void reset_stats();  // peaks, counters and failures := current / zero

  // Walks every block and the free list; kDataLoss at the first inconsistency.
  Status check() const;

  void set_fault_handler(FaultHandler handler, void* context);

  // Optional observer of every successful calloc (request = count*size) and free (request = 0),
  // for recording allocation traces (the heap-model calibration harness). Null to stop.
  using Observer = void (*)(void* context, const void* pointer, std::size_t request, std::size_t block);
  void set_observer(Observer observer, void* context);

  bool owns(const void* pointer) const;

 private:
  struct Header;
  struct Links;

  static Links* links_of(void* payload);
  Header* header_at(std::uint32_t offset) const;
  std::uint32_t offset_of(const Header* header) const;
  void fault(HeapFault fault, const void* pointer) const;
  void link_free(Header* block);
  void unlink_free(Header* block);
  void set_size(Header* block, std::uint32_t size, bool used);
  void account_alloc(std::uint32_t block_size);
  void account_free(std::uint32_t block_size);

  std::byte* base_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t top_ = 0;        // offset of the wilderness
  std::uint32_t last_size_ = 0;  // size of the block that ends at top_ (0 if none)
  std::uint32_t free_head_ = 0;  // offset + 1 of the first free block (0: empty list)
  FaultHandler fault_handler_ = nullptr;
  void* fault_context_ = nullptr;
  Observer observer_ = nullptr;
  void* observer_context_ = nullptr;
  HeapStats stats_{};
};

}  // namespace tlsgen
