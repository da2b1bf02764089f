// tlsgen::Heap: the allocator mbedTLS uses, over a caller-given region (the generated static heap).
//
// Layout. Every block starts with a header and hands back the memory right after it (the seed's
// layout). The header holds the block's size and alignment and the size of the block before it, so
// both neighbours are found in O(1) and free neighbours coalesce:
//   size word: the block's size (header included, a multiple of kAlignment)
//              | log2(kAlignment) << 1 | in-use bit (bit 0)   (the size's low bits are spare)
//   prev word: the size of the block just below (0 for the first block), xor key(offset)
// That is the whole 8-byte header on 32-bit targets; 64-bit hosts add a check word
// (size ^ stored prev ^ rotl(key(offset), 13)) and the alignment once more: 16 bytes.
// key(offset) mixes a per-heap secret with the header's offset (see "Forged headers" below). All blocks share one alignment,
// kAlignment = alignof(std::max_align_t): 8 on Cortex-M, 16 on x86-64.
//
//   region: [ hdr | payload ][ hdr | payload ] ... [ hdr | payload ]  wilderness ............ ]
//           ^base                                                     ^top (high-water mark)
//
// Free lists. A free block below `top` keeps its links {next, prev} in its first 8 payload bytes, on
// the list of its size class (bin_of(size), kBins = 16 of them: one per size below 8 * kAlignment --
// 16 to 56 bytes on Cortex-M, 32 to 112 on x86-64 --, then two per power of two, the last taking
// every size from 192 * kAlignment up). A link is the named block's offset from
// the region's aligned start + 1; a bin's first block has prev = 0, and its last block's next is the
// heap's end mark `end_`: a value no link can take (a multiple of kAlignment with bit 31 set), derived
// from the secret, so a zeroed or overwritten `next` is caught where the walk follows it, not taken for
// the end of the list. Each bin is LIFO (a freed or split-off block goes in front), and a bitmap says
// which bins are not empty. The Heap object holds the bins' first links, the bitmap and the end mark:
// (kBins + 2) * 4 = 72 bytes, 68 more than the single list's head they replace.
//
// Policy. Best fit among the free blocks below `top`: the smallest that holds the request, and among
// blocks of that size the one freed (or split off) last; the wilderness above `top` is used only when
// no free block fits (dlmalloc's "top chunk"). So where a block lands never depends on the region's
// size, and the highest `top` ever reached is exactly the arena this sequence of calls needs:
// stats().high_water is the number the heap model is checked against. The bins find that block
// without looking at the others: all blocks of one size share a bin and keep their relative order
// there, so the answer is the smallest fitting block of the request's own bin (the first of equal
// ones), or else the smallest block of the first non-empty bin above it (every block there fits).
// This is the placement of the single best-fit list the heap had before the bins, block for block
// (tests/runtime/heap_test.cpp replays the recorded handshakes against a model of that list).
//
// Time per call (hard bounds). Let F be the number of free blocks below `top` (stats().free_blocks)
// and L the live blocks. No two free blocks are ever adjacent and the block just below `top` is
// always live (a free block touching the wilderness is given back to it), so every free block has a
// live one right above it:
//     F <= L   and   F <= top / (2 * block_bytes(1)) <= capacity / (2 * block_bytes(1))
// (capacity / 32 on Cortex-M, capacity / 64 on x86-64). Then
//   calloc:  the request's bin and at most one bin above it (found in the bitmap) are walked, at most
//            F steps in all (each O(1), every link checked; the walk also stops after
//            stats().free_blocks steps whatever the lists hold), and a walk ends at the first block of
//            exactly the size it looks for: in a bin of one size that is its first block. O(1) to
//            take the block, plus zeroing the block's payload (at most capacity bytes).
//   free:    O(1): the block, its two neighbours, at most two unlinks and one link.
//   a fault: free's classification walks at most top / block_bytes(1) <= capacity / block_bytes(1)
//            headers (only on the fault path).
//   check(): O(top / block_bytes(1) + F + kBins).
// Workload: replaying the recorded handshakes (tests/data/alloc-traces, x86-64 layout), F never
// exceeds 12 and L 78 (TLS 1.2 ECDSA and TLS 1.3); a calloc there looks at 0.85 to 0.91 free blocks
// on average (the single list it replaces: 1.6 to 2.7).
//
// Corruption detection, always on, a constant cost per block or link touched (whole-heap walks
// only on the fault path and in check()):
//   - free() checks the pointer is a block start this heap handed out and still in use, that its
//     header is sane (alignment field, size, prev; the check word on 64-bit) and agrees with both
//     neighbours' headers.
//   - Every free-list link calloc or free follows or rewrites is checked first: inside the used
//     area, aligned, room for a header and links, at a sane free block's header, and the
//     neighbours' links point back (a bin's first block: prev = 0 and the bin names it; its last:
//     next = the end mark). So a use after free that overwrites or zeroes a free block's links is
//     caught (kCorruptHeader) instead of turning into a write outside the region.
//   - A freed block's header is marked free before it is merged into a neighbour or given back to
//     the wilderness; on a fault, free() walks the blocks to say what the pointer is: a free block's
//     start or such a stale header (inside a free block or in the wilderness) is a kDoubleFree, a
//     pointer at no block start a kBadFree, headers that disagree a kCorruptHeader.
//   - check() walks every block and every bin (each block in the bin of its size, the bitmap right).
// Forged headers: free() compares a block's `prev` with the block below it (and with the block above
// it), and `prev` is stored xor a key derived from a per-heap secret and the header's offset. Someone
// who can write into a live block and knows this layout, but not the secret, cannot make a header there
// that free() takes for a block (about 2^-32 per try); a real header copied to another offset does not
// decode either. The secret comes from set_secret() -- SslPlatform::setup() draws it from the platform's
// entropy pool -- and defaults at init() to a mix of the heap's and the region's addresses (not secret
// from someone who knows the memory map). Cost: one multiply and two xorshifts per header touched.
// A fault calls the fault handler and leaves the heap unchanged (region bytes and statistics; calloc
// then returns nullptr without counting a failure); the default handler traps (set_fault_handler()
// to record faults instead, as the tests do).
//
// No dynamic allocation, no exceptions, no global state: a Heap is an object (the glue owns one).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"

namespace tlsgen {

enum class HeapFault : std::uint8_t {
  kBadFree,            // pointer not handed out by this heap (outside, misaligned, not a block start)
  kDoubleFree,         // block already free (still a free block, merged into one, or in the wilderness)
  kCorruptHeader,      // a header or free-list link inconsistent with its neighbours (overwritten)
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

  // The free lists' size classes (see "Free lists" above).
  static constexpr unsigned kBins = 16;

  // Arena bytes one allocation of `request` bytes occupies (header + payload rounded up).
  // The generator's heap model (generator/tlsgen/heap.py, block_bytes) mirrors this formula.
  static constexpr std::size_t block_bytes(std::size_t request) {
    const std::size_t payload = request < kMinPayload ? kMinPayload : request;
    return kHeaderBytes + (payload + kAlignment - 1) / kAlignment * kAlignment;
  }

  // The bin of a free block of `block` bytes (header included, a multiple of kAlignment, at least
  // block_bytes(1)): in units of kAlignment, one bin per size below 8 units, then [8, 12), [12, 16),
  // [16, 24), [24, 32), ... and the last bin from its start up.
  static constexpr unsigned bin_of(std::size_t block) {
    const auto units = static_cast<std::uint32_t>(block / kAlignment);
    if (units < 8) return units - kMinUnits;
    const auto octave = static_cast<unsigned>(std::bit_width(units)) - 1;  // 3 and up
    const unsigned bin = kExactBins + 2 * (octave - 3) + ((units >> (octave - 1)) & 1u);
    return bin < kBins ? bin : kBins - 1;
  }

  constexpr Heap() = default;
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // Takes over `region` (any alignment; its start is aligned internally). kInvalidArgument for a
  // null region, one too small for a single block, or one of kMaxRegion bytes or more.
  // Re-initialising forgets every block and resets the statistics (and the secret, to a default
  // derived from the region's and the heap's addresses: call set_secret() after init).
  Status init(std::span<std::byte> region);

  // The per-heap secret the block headers are keyed with (see "Forged headers" above): from the
  // platform's entropy (SslPlatform::setup() does it). Only while no block was ever placed since init()
  // (kFailedPrecondition otherwise, or before init()).
  Status set_secret(std::uint64_t secret);

  // calloc semantics: count*size zeroed bytes aligned to kAlignment, or nullptr when count*size
  // overflows, is 0, or does not fit (then stats().failed grows). Before init(): nullptr. A corrupted
  // free list is reported as kCorruptHeader and gives nullptr, the heap unchanged.
  void* calloc(std::size_t count, std::size_t size);

  // free(nullptr) is a no-op. Pointers not from this heap, freed twice, or whose block or free
  // neighbours are corrupted go to the fault handler, and the heap is left unchanged.
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

  // block_bytes(1) / kAlignment (2 on every target so far).
  static constexpr std::uint32_t kMinUnits = static_cast<std::uint32_t>(
      (kHeaderBytes + (kMinPayload + kAlignment - 1) / kAlignment * kAlignment) / kAlignment);
  static constexpr unsigned kExactBins = 8 - kMinUnits;  // one bin per size below 8 units
  static_assert(kMinUnits >= 1 && kMinUnits < 8 && kBins <= 32, "the bins' layout");

  static Links* links_of(Header* block);
  std::uint32_t key_at(std::uint32_t offset) const;
  std::uint32_t prev_of(const Header* block) const;
  bool header_sane(const Header* block) const;
  void set_size(Header* block, std::uint32_t size, bool in_use) const;
  void init_header(Header* block, std::uint32_t size, std::uint32_t prev, bool in_use) const;
  void set_prev(Header* block, std::uint32_t prev) const;
  Header* header_at(std::uint32_t offset) const;
  std::uint32_t offset_of(const Header* header) const;
  static bool prev_fits(std::uint32_t offset, std::uint32_t prev);
  bool header_ok(const Header* block, std::uint32_t offset, std::uint32_t prev) const;
  Header* free_block_at(std::uint32_t link) const;
  bool next_link_ok(Header* block) const;
  bool can_unlink(Header* block, unsigned bin) const;
  bool head_ok(unsigned bin) const;
  HeapFault classify(const void* pointer) const;
  void fault(HeapFault fault, const void* pointer) const;
  void link_free(Header* block, unsigned bin);
  void unlink_free(Header* block, unsigned bin);
  void set_end_mark();
  void account_alloc(std::uint32_t block_size);
  void release(Header* block, std::uint32_t size);
  Header* take_top(std::uint32_t need);
  Header* take_fit(std::uint32_t need, unsigned own);
  void free_merge(Header* block, std::uint32_t offset, std::uint32_t below, Header* next, Header* prev);

  std::byte* base_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t top_ = 0;        // offset of the wilderness
  std::uint32_t last_size_ = 0;  // size of the block that ends at top_ (0 if none)
  std::uint32_t secret_lo_ = 0;  // the header key (set_secret; a position-derived default from init)
  std::uint32_t secret_hi_ = 0;
  FaultHandler fault_handler_ = nullptr;
  void* fault_context_ = nullptr;
  Observer observer_ = nullptr;
  void* observer_context_ = nullptr;
  HeapStats stats_{};              // in_use and frees are derived by stats()
  std::size_t live_at_reset_ = 0;  // live blocks at the last reset_stats() (frees = allocations + this - live)
  std::uint32_t end_ = 0;          // the end mark: `next` of a bin's last block, a bin's head when empty
  std::uint32_t bin_map_ = 0;      // bit b set: bin b is not empty
  std::uint32_t bins_[kBins] = {};  // link of each bin's first block (end_ when empty)
};

}  // namespace tlsgen
