#include "tlsgen/heap.hpp"

#include <bit>
#include <cstdint>

namespace tlsgen {

namespace {

// The size field: the block's size (a multiple of kAlignment) | log2(kAlignment) << 1 | in-use bit.
constexpr std::uint32_t kUsed = 1u;
constexpr std::uint32_t kLowBits = static_cast<std::uint32_t>(Heap::kAlignment) - 1u;
constexpr std::uint32_t kAlignTag = static_cast<std::uint32_t>(std::countr_zero(Heap::kAlignment)) << 1;
static_assert(std::has_single_bit(Heap::kAlignment), "the alignment is a power of two");
static_assert((kAlignTag | kUsed) <= kLowBits, "the alignment tag fits the size field's spare low bits");

constexpr std::uint32_t size_of(std::uint32_t field) { return field & ~kLowBits; }
constexpr bool used(std::uint32_t field) { return (field & kUsed) != 0; }

[[noreturn]] void trap_on_fault(HeapFault, const void*, void*) { __builtin_trap(); }

constexpr std::uint32_t kEndBit = 0x80000000u;  // set in the end mark: no link has it (kMaxRegion)
static_assert(Heap::kMaxRegion <= kEndBit, "a link is at most kMaxRegion");

// The smallest block size of bin `bin` (Heap::bin_of's inverse).
constexpr std::uint32_t bin_floor(unsigned bin) {
  constexpr unsigned kExact = 8 - Heap::block_bytes(1) / Heap::kAlignment;
  const std::uint32_t units =
      bin < kExact ? bin + 8 - kExact : (2u + ((bin - kExact) & 1u)) << ((bin - kExact) / 2 + 2);
  return units * static_cast<std::uint32_t>(Heap::kAlignment);
}

constexpr bool bins_consistent() {
  for (unsigned bin = 0; bin < Heap::kBins; ++bin) {
    if (Heap::bin_of(bin_floor(bin)) != bin) return false;
    if (bin > 0 && Heap::bin_of(bin_floor(bin) - Heap::kAlignment) != bin - 1) return false;
    if (bin + 1 < Heap::kBins && Heap::bin_of(bin_floor(bin + 1) - Heap::kAlignment) != bin) return false;
  }
  return bin_floor(0) == Heap::block_bytes(1) && Heap::bin_of(Heap::block_bytes(1)) == 0 &&
         Heap::bin_of(Heap::kMaxRegion - Heap::kAlignment) == Heap::kBins - 1;
}
static_assert(bins_consistent(), "bin_floor(b) is the smallest size of bin b, and bins cover every size in order");

#if defined(__thumb2__)
// Zeroes `bytes` (a multiple of 8, at least 32) from `word` (8-byte aligned): one STMIA of eight zero registers per
// 32 bytes (3 instructions with the count and the branch, against the loop's 10: 4 STRD, the pointer, the compare,
// the branch), then 16 and 8 bytes as the count's bits 4 and 3 say. 17 instructions besides the 32-byte steps. r7
// (Thumb's frame pointer) is left alone.
[[gnu::naked, gnu::noinline]] void zero_blocks(void* /*word*/, std::uint32_t /*bytes*/) {
  asm volatile(
      "push {r4, r5, r6, r8, r9}\n\t"
      "movs r2, #0\n\t"
      "movs r3, #0\n\t"
      "movs r4, #0\n\t"
      "movs r5, #0\n\t"
      "movs r6, #0\n\t"
      "mov r8, r2\n\t"
      "mov r9, r2\n\t"
      "mov r12, r2\n\t"
      "subs r1, r1, #32\n"
      "1:\n\t"
      "stmia r0!, {r2-r6, r8, r9, r12}\n\t"
      "subs r1, r1, #32\n\t"
      "bhs 1b\n\t"
      "lsls r1, r1, #28\n\t"  // what is left below 32 bytes: bit 4 -> C, bit 3 -> N
      "it cs\n\t"
      "stmiacs r0!, {r2-r5}\n\t"
      "it mi\n\t"
      "strdmi r2, r3, [r0]\n\t"
      "pop {r4, r5, r6, r8, r9}\n\t"
      "bx lr");
}
#endif

// Zeroes a payload (a multiple of kAlignment, at least 8 bytes, 8-byte aligned). Not memset: newlib-nano's costs
// more on the large blocks (mbedTLS's record buffers), and a call costs more than the stores on the small ones
// (mbedTLS's bignum limbs) that most calls are. On Thumb-2, 32 bytes or more take zero_blocks() (bench/alloc and the
// DTLS PSK-CCM-8 handshake in place, docs/runtime/heap.md); elsewhere 8-byte stores, 32 bytes a step.
[[gnu::always_inline]] inline void zero(void* payload, std::uint32_t bytes) {
  auto* word = static_cast<std::uint64_t*>(payload);
#if defined(__thumb2__)
  if (bytes >= 32) {
    zero_blocks(word, bytes);
    return;
  }
#else
  std::uint64_t* const end = word + bytes / 8;
  while (end - word >= 4) {  // 32 bytes a step
    word[0] = 0;
    word[1] = 0;
    word[2] = 0;
    word[3] = 0;
    word += 4;
  }
#endif
  const std::uint32_t rest = bytes % 32;  // 0, 8, 16 or 24 bytes: no loop (GCC makes that loop a memset call)
  if (rest & 16) {
    word[0] = 0;
    word[1] = 0;
    word += 2;
  }
  if (rest & 8) word[0] = 0;
}

}  // namespace

struct Heap::Header {
  std::uint32_t size;  // bytes of the block, header included | alignment tag | bit 0: in use
  std::uint32_t prev;  // size of the block just below (0 for the first block) ^ key_at(offset)
#if UINTPTR_MAX > 0xFFFFFFFFu
  std::uint32_t check;  // size ^ prev (as stored) ^ rotl(key_at(offset), 13): catches an overwritten header
  std::uint32_t align;  // kAlignment (all blocks share it)
#endif
};

// Free-list links, kept in a free block's payload (offsets + 1; prev 0: the bin's first block; next
// end_: its last).
struct Heap::Links {
  std::uint32_t next;
  std::uint32_t prev;
};

const char* to_string(HeapFault fault) {
  switch (fault) {
    case HeapFault::kBadFree:
      return "bad free";
    case HeapFault::kDoubleFree:
      return "double free";
    case HeapFault::kCorruptHeader:
      return "corrupt header";
  }
  return "unknown heap fault";
}

// The small helpers below sit on every calloc and free. Built for speed they are forced inline, and
// so is everything the common cases of calloc and free call (TLSGEN_HEAP_HOT; the walk, the merges
// and the fault path stay out of line, TLSGEN_HEAP_COLD): about 40 instructions per call fewer on
// Cortex-M4. Built for size (-Os: __OPTIMIZE_SIZE__) the compiler decides, which keeps about 320
// bytes of flash. The accounting helpers (one or two callers) are inlined either way.
#if defined(__OPTIMIZE_SIZE__)
#define TLSGEN_HEAP_INLINE inline
#define TLSGEN_HEAP_HOT
#else
#define TLSGEN_HEAP_INLINE [[gnu::always_inline]] inline
#define TLSGEN_HEAP_HOT [[gnu::flatten]]
#endif
#define TLSGEN_HEAP_ONCE [[gnu::always_inline]] inline
#define TLSGEN_HEAP_TINY [[gnu::always_inline]] inline
#define TLSGEN_HEAP_COLD [[gnu::noinline]]
TLSGEN_HEAP_INLINE Heap::Header* Heap::header_at(std::uint32_t offset) const {
  return static_cast<Header*>(static_cast<void*>(base_ + offset));
}

TLSGEN_HEAP_INLINE std::uint32_t Heap::offset_of(const Header* header) const {
  return static_cast<std::uint32_t>(static_cast<const std::byte*>(static_cast<const void*>(header)) - base_);
}

TLSGEN_HEAP_INLINE Heap::Links* Heap::links_of(Header* block) {
  return static_cast<Links*>(static_cast<void*>(block + 1));
}

TLSGEN_HEAP_COLD void Heap::fault(HeapFault kind, const void* pointer) const {
  (fault_handler_ != nullptr ? fault_handler_ : trap_on_fault)(kind, pointer, fault_context_);
}

void Heap::set_fault_handler(FaultHandler handler, void* context) {
  fault_handler_ = handler;
  fault_context_ = context;
}

void Heap::set_observer(Observer observer, void* context) {
  observer_ = observer;
  observer_context_ = context;
}

// The per-heap key of the header at `offset`: the secret mixed with the position (a multiply and two
// xorshifts), so a header copied elsewhere, or written by someone who knows the layout but not the
// secret, does not decode to anything consistent. `prev` is stored xor this key (on every target: it is
// what the neighbour checks compare), and the 64-bit check word includes it.
TLSGEN_HEAP_TINY std::uint32_t Heap::key_at(std::uint32_t offset) const {
  std::uint32_t x = (offset ^ secret_lo_) * 0x9E3779B1u;
  x ^= x >> 15;
  return x ^ secret_hi_;
}

TLSGEN_HEAP_INLINE std::uint32_t Heap::prev_of(const Header* block) const { return block->prev ^ key_at(offset_of(block)); }

TLSGEN_HEAP_INLINE void Heap::set_size(Header* block, std::uint32_t size, bool in_use) const {
  block->size = size | kAlignTag | (in_use ? kUsed : 0u);
#if UINTPTR_MAX > 0xFFFFFFFFu
  block->check = block->size ^ block->prev ^ std::rotl(key_at(offset_of(block)), 13);
  block->align = static_cast<std::uint32_t>(kAlignment);
#endif
}

// A new header: `prev` (stored with the key) and the size word.
TLSGEN_HEAP_TINY void Heap::init_header(Header* block, std::uint32_t size, std::uint32_t prev, bool in_use) const {
  block->prev = prev ^ key_at(offset_of(block));
  set_size(block, size, in_use);
}

// Rewrites only `prev`. The check word is updated by difference, not recomputed, so a header that
// was already inconsistent stays detectably so (its neighbour need not be validated first).
TLSGEN_HEAP_INLINE void Heap::set_prev(Header* block, std::uint32_t prev) const {
  const std::uint32_t stored = prev ^ key_at(offset_of(block));
#if UINTPTR_MAX > 0xFFFFFFFFu
  block->check ^= block->prev ^ stored;
#endif
  block->prev = stored;
}

// A header that could be a block's: the alignment tag, a size of at least one block, and (64-bit)
// the check word. Says nothing about where the block is.
TLSGEN_HEAP_INLINE bool Heap::header_sane(const Header* block) const {
  return (block->size & kLowBits & ~kUsed) == kAlignTag && size_of(block->size) >= block_bytes(1)
#if UINTPTR_MAX > 0xFFFFFFFFu
         && block->check == (block->size ^ block->prev ^ std::rotl(key_at(offset_of(block)), 13)) &&
         block->align == kAlignment
#endif
      ;
}

// `prev`, the decoded `prev` of a block at `offset`, is 0 for the first block and otherwise an aligned
// size of a block that fits below it (prev <= offset makes it 0 at offset 0).
TLSGEN_HEAP_TINY bool Heap::prev_fits(std::uint32_t offset, std::uint32_t prev) {
  return prev % kAlignment == 0 && prev <= offset && (offset == 0 || prev >= block_bytes(1));
}

// The header of a block at `offset` (aligned, below top_), whose `prev` decodes to `prev`, agrees
// with the region: sane, ends at or below top_, and prev_fits().
TLSGEN_HEAP_INLINE bool Heap::header_ok(const Header* block, std::uint32_t offset, std::uint32_t prev) const {
  return header_sane(block) && size_of(block->size) <= top_ - offset && prev_fits(offset, prev);
}

// The end mark comes from the secret (the key of an offset no header has): a multiple of kAlignment
// with bit 31 set, so never a link (those are aligned offsets below kMaxRegion, + 1), nor 0. Every bin
// is empty when it changes (init, or set_secret before any block was placed).
void Heap::set_end_mark() {
  end_ = (key_at(~0u) & ~kLowBits) | kEndBit;
  for (std::uint32_t& head : bins_) head = end_;
  bin_map_ = 0;
}

Status Heap::set_secret(std::uint64_t secret) {
  if (base_ == nullptr || top_ != 0) return Status(Code::kFailedPrecondition);  // headers use the old key
  secret_lo_ = static_cast<std::uint32_t>(secret);
  secret_hi_ = static_cast<std::uint32_t>(secret >> 32);
  set_end_mark();
  return Status::Ok();
}

Status Heap::init(std::span<std::byte> region) {
  static_assert(sizeof(Header) == kHeaderBytes, "the header size is part of the heap model");
  static_assert(sizeof(Links) <= kMinPayload, "a free block must hold its links");
  if (region.data() == nullptr || region.size() >= kMaxRegion) {
    return Status(Code::kInvalidArgument);
  }
  const auto start = reinterpret_cast<std::uintptr_t>(region.data());
  const std::size_t skip = (kAlignment - start % kAlignment) % kAlignment;
  if (region.size() < skip + block_bytes(1)) {
    return Status(Code::kInvalidArgument);
  }
  const std::size_t usable = (region.size() - skip) / kAlignment * kAlignment;
  base_ = region.data() + skip;
  capacity_ = static_cast<std::uint32_t>(usable);
  // Until set_secret(): a key from where this heap and its region are (splitmix64). Not secret from
  // someone who knows the memory map; SslPlatform::setup() replaces it with platform entropy.
  std::uint64_t z = reinterpret_cast<std::uintptr_t>(base_) ^ (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) << 17) ^
                    0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  secret_lo_ = static_cast<std::uint32_t>(z);
  secret_hi_ = static_cast<std::uint32_t>(z >> 32);
  top_ = 0;
  last_size_ = 0;
  set_end_mark();
  stats_ = HeapStats{};
  live_at_reset_ = 0;
  stats_.capacity = usable;
  return Status::Ok();
}

// The free block a list link names, or null when the link cannot be one: 0, the end mark or outside
// [0, top_) (offset = link - 1 wraps for 0), misaligned, or at a size word that is not a free block's
// (alignment tag, in-use bit clear, at least one block, ending at or below top_: so there is room
// for the header and the links). Only the block's links are ever rewritten through a link; a block
// whose header is rewritten (absorbed in a merge) is checked with header_ok too.
TLSGEN_HEAP_INLINE Heap::Header* Heap::free_block_at(std::uint32_t link) const {
  static_assert(kHeaderBytes <= kAlignment, "an aligned offset below top_ has a whole header below capacity_");
  static_assert(block_bytes(1) >= kHeaderBytes + sizeof(Links), "a block holds its header and links");
  const std::uint32_t offset = link - 1;
  if (offset >= top_ || offset % kAlignment != 0) return nullptr;
  Header* block = header_at(offset);
  const std::uint32_t size = size_of(block->size);
  return (block->size & kLowBits) == kAlignTag && size >= block_bytes(1) && size <= top_ - offset ? block : nullptr;
}

// The `next` link of `block` (a validated free block) ends its bin (the end mark) or names a free
// block whose `prev` link points back at it.
TLSGEN_HEAP_INLINE bool Heap::next_link_ok(Header* block) const {
  const Links* links = links_of(block);
  if (links->next == end_) return true;
  Header* after = free_block_at(links->next);
  return after != nullptr && links_of(after)->prev == offset_of(block) + 1;
}

// `block` (a validated free block of bin `bin`) can be taken off its list: its links name free blocks
// whose own links point back at it (or it is the bin's first block, or its last).
bool Heap::can_unlink(Header* block, unsigned bin) const {
  const std::uint32_t self = offset_of(block) + 1;
  const Links* links = links_of(block);
  if (links->prev == 0) {
    if (bins_[bin] != self) return false;
  } else {
    Header* before = free_block_at(links->prev);
    if (before == nullptr || links_of(before)->next != self) return false;
  }
  return next_link_ok(block);
}

// Bin `bin` can take a new block in front of its first one.
bool Heap::head_ok(unsigned bin) const {
  const std::uint32_t first = bins_[bin];
  if (first == end_) return true;
  Header* head = free_block_at(first);
  return head != nullptr && links_of(head)->prev == 0;
}

// Unchecked list updates: callers validate with free_block_at / can_unlink / head_ok first.
void Heap::link_free(Header* block, unsigned bin) {
  Links* links = links_of(block);
  const std::uint32_t first = bins_[bin];
  const std::uint32_t self = offset_of(block) + 1;
  links->prev = 0;
  links->next = first;
  if (first != end_) {
    links_of(header_at(first - 1))->prev = self;
  }
  bins_[bin] = self;
  bin_map_ |= 1u << bin;
  ++stats_.free_blocks;
}

void Heap::unlink_free(Header* block, unsigned bin) {
  const Links* links = links_of(block);
  if (links->prev != 0) {
    links_of(header_at(links->prev - 1))->next = links->next;
  } else {
    bins_[bin] = links->next;
    if (links->next == end_) bin_map_ &= ~(1u << bin);
  }
  if (links->next != end_) {
    links_of(header_at(links->next - 1))->prev = links->prev;
  }
  --stats_.free_blocks;
}

// The counters calloc and free keep; stats() derives the rest (in_use: every live block's bytes less
// its header; frees: from the allocations and the live blocks, which count from reset_stats()).
TLSGEN_HEAP_ONCE void Heap::account_alloc(std::uint32_t block_size) {
  stats_.allocations++;
  const std::size_t live = ++stats_.live_blocks;
  if (live > stats_.peak_live_blocks) stats_.peak_live_blocks = live;
  const std::size_t arena = stats_.arena_in_use += block_size;
  if (arena > stats_.peak_arena_in_use) stats_.peak_arena_in_use = arena;
  const std::size_t in_use = arena - live * kHeaderBytes;
  if (in_use > stats_.peak_in_use) stats_.peak_in_use = in_use;
}

// What every free() does to the block it frees once its checks pass, before any list or merge: count it, tell the
// observer, and mark its header free (so that a later double free of it is recognised, merged or not).
TLSGEN_HEAP_ONCE void Heap::release(Header* block, std::uint32_t size) {
  stats_.live_blocks--;
  stats_.arena_in_use -= size;
  if (observer_ != nullptr) observer_(observer_context_, block + 1, 0, size);
  set_size(block, size, false);
}

// A new live block of `need` bytes from the wilderness (the caller checked it fits): take_fit() when no free block
// fits, and calloc() when the bitmap says none can.
TLSGEN_HEAP_TINY Heap::Header* Heap::take_top(std::uint32_t need) {
  Header* block = header_at(top_);
  init_header(block, need, last_size_, true);
  top_ += need;
  last_size_ = need;
  if (top_ > stats_.high_water) stats_.high_water = top_;
  return block;
}

// calloc's block of `need` bytes when the request's bin cannot simply give its first block: the best
// fit among the free blocks (see "Policy" in heap.hpp; `own` is the request's bin), taken off its bin
// and split if the rest makes a block, the rest going in front of its own bin; or, when no free block
// fits, a new block from the wilderness. Null when the wilderness is too small too (counted as a
// failure), or when a link or header met is inconsistent (reported as a fault, nothing changed).
//
// The walk: the smallest fitting block of the request's own bin, the first of equal ones (a block of
// exactly `need` ends the walk); if none fits there, the smallest block of the first non-empty bin
// above (a block of that bin's smallest size ends that walk). Every link is checked before it is
// followed (each block it names must be a sane free block pointing back; a bin ends only at the end
// mark, so a zeroed or overwritten `next` is caught), and the walks take at most stats_.free_blocks
// steps in all, so a corrupted list can neither send them outside the region nor keep them going
// round a cycle.
TLSGEN_HEAP_COLD Heap::Header* Heap::take_fit(std::uint32_t need, unsigned own) {
  unsigned bin = own;
  std::uint32_t stop = need;
  Header* best = nullptr;
  std::uint32_t best_size = 0;
  std::size_t steps = 0;
  bool exact = false;
  for (;;) {
    std::uint32_t back = 0;
    for (std::uint32_t at = bins_[bin]; at != end_;) {
      Header* candidate = free_block_at(at);
      if (candidate == nullptr || links_of(candidate)->prev != back || ++steps > stats_.free_blocks) {
        fault(HeapFault::kCorruptHeader, back == 0 ? nullptr : header_at(back - 1) + 1);
        return nullptr;
      }
      const std::uint32_t have = size_of(candidate->size);
      if (have >= need && (best == nullptr || have < best_size)) {
        best = candidate;
        best_size = have;
        exact = have == stop;
        if (exact) break;
      }
      back = at;
      at = links_of(candidate)->next;
    }
    if (best != nullptr || bin != own) break;
    const std::uint32_t above_own = bin_map_ >> own >> 1;  // the non-empty bins above the request's
    if (above_own == 0) break;
    bin = own + 1 + static_cast<unsigned>(std::countr_zero(above_own));
    stop = bin_floor(bin);
  }
  if (best == nullptr) {  // no free block fits: from the wilderness
    if (need > capacity_ - top_) {
      stats_.failed++;
      return nullptr;
    }
    return take_top(need);
  }

  // The walk checked best's `prev` link (it came from there) and, unless it stopped at best, its
  // `next` link too. The block above best (live: free blocks never touch) gets a new `prev` if best
  // is split, and the rest goes in front of its bin: that bin's first block is checked too (the walk
  // did it if the rest stays in best's bin).
  const std::uint32_t after = offset_of(best) + best_size;
  Header* above = after < top_ ? header_at(after) : nullptr;
  const std::uint32_t rest = best_size - need;
  const bool split = rest >= block_bytes(1);
  const unsigned rest_bin = split ? bin_of(rest) : bin;
  if ((exact && !next_link_ok(best)) || (above != nullptr && prev_of(above) != best_size) ||
      (rest_bin != bin && !head_ok(rest_bin))) {
    fault(HeapFault::kCorruptHeader, best + 1);
    return nullptr;
  }
  unlink_free(best, bin);
  if (split) {  // the rest stays free
    set_size(best, need, true);
    Header* remainder = header_at(offset_of(best) + need);
    init_header(remainder, rest, need, false);
    if (above != nullptr) {
      set_prev(above, rest);
    } else {
      last_size_ = rest;
    }
    link_free(remainder, rest_bin);
  } else {
    set_size(best, best_size, true);
  }
  return best;
}

TLSGEN_HEAP_HOT void* Heap::calloc(std::size_t count, std::size_t size) {
  if (base_ == nullptr) return nullptr;
  if (count == 0 || size == 0) return nullptr;
  if (count > (kMaxRegion - 1) / size) {  // count*size overflows or cannot fit any region
    stats_.failed++;
    return nullptr;
  }
  const std::size_t want = block_bytes(count * size);
  if (want > capacity_) {
    stats_.failed++;
    return nullptr;
  }
  const auto need = static_cast<std::uint32_t>(want);

  Header* block = nullptr;
  const std::uint32_t exact_bin = need / static_cast<std::uint32_t>(kAlignment) - kMinUnits;
  const std::uint32_t end = end_;
  const std::uint32_t first = exact_bin < kExactBins ? bins_[exact_bin] : end;
  if (first != end) {
    // The common case: the request's bin holds blocks of exactly `need` bytes and is not empty. Its
    // first block is the best fit (the walk's first step, which ends there); taken off the front with
    // the walk's checks, each made once: a free block's header of exactly `need` bytes (which puts
    // its links inside the used area), first of its bin, whose `next` link ends the bin or names a
    // free block of the same size that points back, and the live block above agrees.
    const std::uint32_t top = top_;
    const std::uint32_t offset = first - 1;
    if (offset >= top || offset % kAlignment != 0) {
      fault(HeapFault::kCorruptHeader, nullptr);
      return nullptr;
    }
    block = header_at(offset);
    const std::uint32_t after = offset + need;
    const std::uint32_t free_word = need | kAlignTag;
    if (block->size != free_word || after >= top || links_of(block)->prev != 0 ||
        (header_at(after)->prev ^ key_at(after)) != need) {
      fault(HeapFault::kCorruptHeader, block + 1);
      return nullptr;
    }
    const std::uint32_t next = links_of(block)->next;
    if (next != end) {
      const std::uint32_t next_offset = next - 1;
      Header* second = header_at(next_offset);  // the bin's next block: its size word is read once in range
      if (next_offset >= top || next_offset % kAlignment != 0 || second->size != free_word ||
          need > top - next_offset || links_of(second)->prev != first) {
        fault(HeapFault::kCorruptHeader, block + 1);
        return nullptr;
      }
      links_of(second)->prev = 0;
    } else {
      bin_map_ &= ~(1u << exact_bin);
    }
    bins_[exact_bin] = next;
    --stats_.free_blocks;
    set_size(block, need, true);
  } else {
    // The request's bin; not computed when no bin holds a block (any bin then says the same: nothing fits, and
    // take_fit() finds nothing whichever bin it starts from).
    const std::uint32_t map = bin_map_;
    const unsigned own = map == 0 ? 0u : exact_bin < kExactBins ? exact_bin : bin_of(need);
    if ((map >> own) == 0 && need <= capacity_ - top_) {
      // No free block of the request's bin or above (so none fits): straight from the wilderness, as take_fit()
      // would end (most calls of a PSK session, whose few blocks come and go at the top).
      block = take_top(need);
    } else {
      block = take_fit(need, own);
      if (block == nullptr) return nullptr;
    }
  }
  const std::uint32_t bytes = size_of(block->size);
  account_alloc(bytes);
  void* payload = block + 1;
  zero(payload, bytes - static_cast<std::uint32_t>(kHeaderBytes));
  if (observer_ != nullptr) observer_(observer_context_, payload, count * size, bytes);
  return payload;
}

bool Heap::owns(const void* pointer) const {
  const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(pointer) - reinterpret_cast<std::uintptr_t>(base_);
  return base_ != nullptr && at >= kHeaderBytes && at < top_;
}

// The fault path of free(): what `pointer` is, found by walking the blocks from the bottom.
//   - at the start of a free block, or at a header marked free (left by a block that was merged
//     into a free neighbour or given back to the wilderness, and not reused since): kDoubleFree;
//   - anywhere else (outside the region, misaligned, inside a live block, no such header): kBadFree;
//   - the walk meets a header that disagrees with its neighbours before it reaches `pointer`, or
//     `pointer` is a live block whose neighbours disagree with it: kCorruptHeader.
TLSGEN_HEAP_COLD HeapFault Heap::classify(const void* pointer) const {
  const std::uintptr_t rel = reinterpret_cast<std::uintptr_t>(pointer) - reinterpret_cast<std::uintptr_t>(base_);
  if (base_ == nullptr || rel < kHeaderBytes || rel >= capacity_ || rel % kAlignment != 0) {
    return HeapFault::kBadFree;
  }
  const auto offset = static_cast<std::uint32_t>(rel - kHeaderBytes);
  const Header* stale = header_at(offset);
  const bool marked_free = header_sane(stale) && !used(stale->size) && size_of(stale->size) <= capacity_ - offset;
  std::uint32_t at = 0;
  std::uint32_t prev_size = 0;
  while (at < top_) {
    const Header* block = header_at(at);
    if (prev_of(block) != prev_size || !header_ok(block, at, prev_size)) return HeapFault::kCorruptHeader;
    const std::uint32_t size = size_of(block->size);
    if (at == offset) return used(block->size) ? HeapFault::kCorruptHeader : HeapFault::kDoubleFree;
    if (offset < at + size) {
      return !used(block->size) && marked_free ? HeapFault::kDoubleFree : HeapFault::kBadFree;
    }
    prev_size = size;
    at += size;
  }
  return marked_free ? HeapFault::kDoubleFree : HeapFault::kBadFree;  // in the wilderness
}

TLSGEN_HEAP_HOT void Heap::free(void* pointer) {
  if (pointer == nullptr) return;
  const std::uint32_t top = top_;
  const std::uintptr_t rel = reinterpret_cast<std::uintptr_t>(pointer) - reinterpret_cast<std::uintptr_t>(base_);
  if (base_ == nullptr || rel < kHeaderBytes || rel >= top || rel % kAlignment != 0) {
    fault(classify(pointer), pointer);
    return;
  }
  Header* block = static_cast<Header*>(pointer) - 1;
  const auto offset = static_cast<std::uint32_t>(rel - kHeaderBytes);
  const std::uint32_t word = block->size;
  const std::uint32_t size = size_of(word);
  const std::uint32_t below = block->prev ^ key_at(offset);
  // header_ok(block, offset, below) and the in-use bit, in one condition: the alignment tag and in
  // use, a size of at least one block that ends at or below top_, and prev_fits().
  if ((word & kLowBits) != (kAlignTag | kUsed) || size < block_bytes(1) || size > top - offset ||
      !prev_fits(offset, below)
#if UINTPTR_MAX > 0xFFFFFFFFu
      || !header_sane(block)
#endif
  ) {
    fault(classify(pointer), pointer);
    return;
  }
  const std::uint32_t end = offset + size;
  Header* next = end < top ? header_at(end) : nullptr;
  Header* prev = offset != 0 ? header_at(offset - below) : nullptr;
  if ((next != nullptr && ((next->prev ^ key_at(end)) != size || (next->size & kLowBits & ~kUsed) != kAlignTag)) ||
      (prev != nullptr && (prev->size | kUsed) != (below | kAlignTag | kUsed))) {
    fault(HeapFault::kCorruptHeader, pointer);
    return;
  }
  if (next != nullptr && used(next->size) && (prev == nullptr || used(prev->size))) {
    // The common case: both neighbours live. The block stays as it is (the block above already has
    // its size as `prev`) and goes in front of its bin, whose first block is checked first: head_ok() and
    // link_free() written out (calling them here costs 8-9 instructions a call at -Os on the recorded handshakes,
    // for 64 bytes of code), the same checks and writes.
    const unsigned bin = bin_of(size);
    const std::uint32_t first = bins_[bin];
    const std::uint32_t end_mark = end_;
    Header* head = nullptr;
    if (first != end_mark) {
      head = free_block_at(first);
      if (head == nullptr || links_of(head)->prev != 0) {
        fault(HeapFault::kCorruptHeader, pointer);
        return;
      }
    }
    const std::uint32_t self = offset + 1;
    Links* links = links_of(block);
    links->prev = 0;
    links->next = first;
    if (head != nullptr) links_of(head)->prev = self;
    bins_[bin] = self;
    bin_map_ |= 1u << bin;
    ++stats_.free_blocks;
    release(block, size);
    return;
  }
  if (next == nullptr && (prev == nullptr || used(prev->size))) {
    // The top block, with no free block below it: back to the wilderness, as free_merge() would do it (marked
    // free first, so that a second free of it is recognised).
    release(block, size);
    top_ = offset;
    last_size_ = below;
    return;
  }
  if (next == nullptr) {
    // The top block above a free block that is alone in its bin (blocks coming off the top in the order they went
    // on, as mbedTLS's DTLS flights and digest contexts do): both go back to the wilderness. free_merge()'s checks
    // of that block for this case: what is left of header_ok() (free() checked its size word), and a bin that names
    // it alone (first block, prev link 0, next link the end mark). Anything else takes free_merge().
    const std::uint32_t start = offset - below;
    const std::uint32_t under = prev_of(prev);
    const unsigned bin = bin_of(below);
    const Links* links = links_of(prev);
    if (links->prev == 0 && links->next == end_ && bins_[bin] == start + 1 && prev_fits(start, under)
#if UINTPTR_MAX > 0xFFFFFFFFu
        && header_sane(prev)
#endif
    ) {
      release(block, size);
      bins_[bin] = end_;
      bin_map_ &= ~(1u << bin);
      --stats_.free_blocks;
      top_ = start;
      last_size_ = under;
      return;
    }
  }
  free_merge(block, offset, below, next, prev);
}

// free() of a block with a free neighbour or at the wilderness (the checks of its own header and its
// neighbours' are done). Everything the merge will follow or rewrite is checked before anything
// changes: a free neighbour (absorbed, so its size counts) must be a sane free block on its bin's
// list, the block above the merged one must agree with it, and the bin the merged block goes to must
// have a sane first block. A live neighbour only gets a new `prev` (see set_prev). free() has already
// checked both neighbours' size words' alignment tags, that the block above has `size` as its `prev`
// and that the block below is `below` bytes, so of header_ok() what is left for each free neighbour is
// checked here; each bin is computed once, and the merged block's only when it goes on a list.
TLSGEN_HEAP_COLD void Heap::free_merge(Header* block, std::uint32_t offset, std::uint32_t below, Header* next,
                                       Header* prev) {
  const std::uint32_t top = top_;
  const std::uint32_t size = size_of(block->size);
  std::uint32_t end = offset + size;  // of the merged block
  unsigned next_bin = kBins;          // kBins: `next` is not absorbed (live, or the wilderness)
  if (next != nullptr && !used(next->size)) {  // header_ok(next, end, size): free() checked its `prev` and tag
    const std::uint32_t next_size = size_of(next->size);
    next_bin = bin_of(next_size);
    if (!header_sane(next) || next_size > top - end || !can_unlink(next, next_bin)) {
      fault(HeapFault::kCorruptHeader, block + 1);
      return;
    }
    end += next_size;
  }
  Header* above = end < top ? header_at(end) : nullptr;  // `next` itself (checked by free()) unless absorbed
  if (next_bin != kBins && above != nullptr && prev_of(above) != size_of(next->size)) {
    fault(HeapFault::kCorruptHeader, block + 1);
    return;
  }
  std::uint32_t start = offset;
  std::uint32_t under = below;  // the size of the block below the merged one
  unsigned prev_bin = kBins;
  if (prev != nullptr && !used(prev->size)) {  // free() checked its size (`below`) and tag
    start -= below;
    under = prev_of(prev);
    prev_bin = bin_of(below);
    if (!header_sane(prev) || !prev_fits(start, under) || !can_unlink(prev, prev_bin)) {
      fault(HeapFault::kCorruptHeader, block + 1);
      return;
    }
  }
  const std::uint32_t merged = end - start;
  const unsigned bin = above != nullptr ? bin_of(merged) : 0u;
  if (above != nullptr && !head_ok(bin)) {
    fault(HeapFault::kCorruptHeader, block + 1);
    return;
  }

  release(block, size);  // marked free first: a later double free of it is recognised
  if (next_bin != kBins) unlink_free(next, next_bin);  // absorb the free block above
  if (prev_bin != kBins) {                              // and be absorbed by the free block below
    unlink_free(prev, prev_bin);
    block = prev;
  }
  if (above == nullptr) {  // touches the wilderness: give it back
    top_ = start;
    last_size_ = under;
    return;
  }
  set_size(block, merged, false);
  set_prev(above, merged);
  link_free(block, bin);
}

HeapStats Heap::stats() const {
  HeapStats s = stats_;
  s.in_use = s.arena_in_use - s.live_blocks * kHeaderBytes;
  s.frees = s.allocations + live_at_reset_ - s.live_blocks;
  return s;
}

void Heap::reset_peak() {
  stats_.peak_in_use = stats_.arena_in_use - stats_.live_blocks * kHeaderBytes;
  stats_.peak_arena_in_use = stats_.arena_in_use;
  stats_.peak_live_blocks = stats_.live_blocks;
  stats_.high_water = top_;
}

void Heap::reset_stats() {
  reset_peak();
  stats_.failed = 0;
  stats_.allocations = 0;
  live_at_reset_ = stats_.live_blocks;
}

Status Heap::check() const {
  if (base_ == nullptr) return Status::Ok();
  std::uint32_t at = 0;
  std::uint32_t prev_size = 0;
  std::size_t live = 0;
  std::size_t free_count = 0;
  std::size_t free_bytes = 0;
  std::size_t arena = 0;
  bool prev_free = false;
  while (at < top_) {
    const Header* block = header_at(at);
    if (prev_of(block) != prev_size || !header_ok(block, at, prev_size)) {
      return Status(Code::kDataLoss, static_cast<std::int32_t>(at));
    }
    const std::uint32_t size = size_of(block->size);
    const bool is_free = !used(block->size);
    if (is_free && prev_free) return Status(Code::kDataLoss, static_cast<std::int32_t>(at));  // not coalesced
    if (is_free) {
      ++free_count;
      free_bytes += size;
    } else {
      ++live;
      arena += size;
    }
    prev_free = is_free;
    prev_size = size;
    at += size;
  }
  if (at != top_ || prev_size != last_size_ || prev_free) return Status(Code::kDataLoss, -1);
  std::size_t listed = 0;
  std::size_t listed_bytes = 0;
  for (unsigned bin = 0; bin < kBins; ++bin) {
    if (((bin_map_ >> bin) & 1u) != (bins_[bin] != end_ ? 1u : 0u) || (end_ & (kEndBit | kLowBits)) != kEndBit) {
      return Status(Code::kDataLoss, -4);  // the bitmap disagrees with the bins, or the end mark is no end mark
    }
    std::uint32_t back = 0;
    for (std::uint32_t link = bins_[bin]; link != end_;) {
      Header* block = free_block_at(link);
      if (block == nullptr || links_of(block)->prev != back || ++listed > free_count ||
          bin_of(size_of(block->size)) != bin) {
        return Status(Code::kDataLoss, -2);
      }
      listed_bytes += size_of(block->size);
      back = link;
      link = links_of(block)->next;
    }
  }
  if (listed != free_count || listed_bytes != free_bytes || free_count != stats_.free_blocks ||
      live != stats_.live_blocks || arena != stats_.arena_in_use) {
    return Status(Code::kDataLoss, -3);
  }
  return Status::Ok();
}

}  // namespace tlsgen
