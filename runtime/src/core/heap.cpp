#include "tlsgen/heap.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

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

}  // namespace

struct Heap::Header {
  std::uint32_t size;  // bytes of the block, header included | alignment tag | bit 0: in use
  std::uint32_t prev;  // size of the block just below (0 for the first block) ^ key_at(offset)
#if UINTPTR_MAX > 0xFFFFFFFFu
  std::uint32_t check;  // size ^ prev (as stored) ^ rotl(key_at(offset), 13): catches an overwritten header
  std::uint32_t align;  // kAlignment (all blocks share it)
#endif
};

// Free-list links, kept in a free block's payload (offsets + 1; 0 ends the list).
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

// The small helpers below sit on every calloc and free. Built for speed they are forced inline
// (about 35 instructions per call fewer on Cortex-M4); built for size (-Os: __OPTIMIZE_SIZE__) the
// compiler decides, which keeps about 200 bytes of flash.
#if defined(__OPTIMIZE_SIZE__)
#define TLSGEN_HEAP_INLINE inline
#else
#define TLSGEN_HEAP_INLINE [[gnu::always_inline]] inline
#endif
TLSGEN_HEAP_INLINE Heap::Header* Heap::header_at(std::uint32_t offset) const {
  return static_cast<Header*>(static_cast<void*>(base_ + offset));
}

TLSGEN_HEAP_INLINE std::uint32_t Heap::offset_of(const Header* header) const {
  return static_cast<std::uint32_t>(static_cast<const std::byte*>(static_cast<const void*>(header)) - base_);
}

TLSGEN_HEAP_INLINE Heap::Links* Heap::links_of(Header* block) {
  return static_cast<Links*>(static_cast<void*>(block + 1));
}

void Heap::fault(HeapFault kind, const void* pointer) const {
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
TLSGEN_HEAP_INLINE std::uint32_t Heap::key_at(std::uint32_t offset) const {
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
TLSGEN_HEAP_INLINE void Heap::init_header(Header* block, std::uint32_t size, std::uint32_t prev, bool in_use) const {
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

// The header of a block at `offset` (aligned, below top_) agrees with the region: sane, ends at or
// below top_, and its `prev` is 0 for the first block and otherwise an aligned size of a block that
// fits below it.
TLSGEN_HEAP_INLINE bool Heap::header_ok(const Header* block, std::uint32_t offset) const {
  const std::uint32_t prev = prev_of(block);
  return header_sane(block) && size_of(block->size) <= top_ - offset && prev % kAlignment == 0 && prev <= offset &&
         (offset == 0 ? prev == 0 : prev >= block_bytes(1));
}

Status Heap::set_secret(std::uint64_t secret) {
  if (base_ == nullptr || top_ != 0) return Status(Code::kFailedPrecondition);  // headers use the old key
  secret_lo_ = static_cast<std::uint32_t>(secret);
  secret_hi_ = static_cast<std::uint32_t>(secret >> 32);
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
  free_head_ = 0;
  stats_ = HeapStats{};
  stats_.capacity = usable;
  return Status::Ok();
}

// The free block a list link names, or null when the link cannot be one: 0 or outside [0, top_)
// (offset = link - 1 wraps for 0), misaligned, or at a size word that is not a free block's
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

// The `next` link of `block` (a validated free block) ends the list or names a free block whose
// `prev` link points back at it.
TLSGEN_HEAP_INLINE bool Heap::next_link_ok(Header* block) const {
  const Links* links = links_of(block);
  if (links->next == 0) return true;
  Header* after = free_block_at(links->next);
  return after != nullptr && links_of(after)->prev == offset_of(block) + 1;
}

// `block` (a validated free block) can be taken off the list: its links name free blocks whose own
// links point back at it (or it is the head).
bool Heap::can_unlink(Header* block) const {
  const std::uint32_t self = offset_of(block) + 1;
  const Links* links = links_of(block);
  if (links->prev == 0) {
    if (free_head_ != self) return false;
  } else {
    Header* before = free_block_at(links->prev);
    if (before == nullptr || links_of(before)->next != self) return false;
  }
  return next_link_ok(block);
}

// The list's head can take a new block in front of it.
bool Heap::head_ok() const {
  if (free_head_ == 0) return true;
  Header* head = free_block_at(free_head_);
  return head != nullptr && links_of(head)->prev == 0;
}

// Unchecked list updates: callers validate with free_block_at / can_unlink / head_ok first.
void Heap::link_free(Header* block) {
  Links* links = links_of(block);
  links->prev = 0;
  links->next = free_head_;
  if (free_head_ != 0) {
    links_of(header_at(free_head_ - 1))->prev = offset_of(block) + 1;
  }
  free_head_ = offset_of(block) + 1;
  ++stats_.free_blocks;
}

void Heap::unlink_free(Header* block) {
  const Links* links = links_of(block);
  if (links->prev != 0) {
    links_of(header_at(links->prev - 1))->next = links->next;
  } else {
    free_head_ = links->next;
  }
  if (links->next != 0) {
    links_of(header_at(links->next - 1))->prev = links->prev;
  }
  --stats_.free_blocks;
}

void Heap::account_alloc(std::uint32_t block_size) {
  stats_.allocations++;
  stats_.live_blocks++;
  stats_.in_use += block_size - kHeaderBytes;
  stats_.arena_in_use += block_size;
  if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  if (stats_.arena_in_use > stats_.peak_arena_in_use) stats_.peak_arena_in_use = stats_.arena_in_use;
  if (stats_.live_blocks > stats_.peak_live_blocks) stats_.peak_live_blocks = stats_.live_blocks;
  if (top_ > stats_.high_water) stats_.high_water = top_;
}

void Heap::account_free(std::uint32_t block_size) {
  stats_.frees++;
  stats_.live_blocks--;
  stats_.in_use -= block_size - kHeaderBytes;
  stats_.arena_in_use -= block_size;
}

void* Heap::calloc(std::size_t count, std::size_t size) {
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

  // Best fit among the free blocks below the wilderness. Every link is checked before it is
  // followed (each block it names must be a sane free block pointing back), and the walk takes at
  // most stats_.free_blocks steps, so a corrupted list can neither send it outside the region nor
  // keep it going round a cycle.
  Header* best = nullptr;
  std::uint32_t best_size = 0;
  std::size_t steps = 0;
  std::uint32_t back = 0;
  bool exact = false;
  for (std::uint32_t at = free_head_; at != 0;) {
    Header* candidate = free_block_at(at);
    if (candidate == nullptr || links_of(candidate)->prev != back || ++steps > stats_.free_blocks) {
      fault(HeapFault::kCorruptHeader, back == 0 ? nullptr : header_at(back - 1) + 1);
      return nullptr;
    }
    const std::uint32_t have = size_of(candidate->size);
    if (have >= need && (best == nullptr || have < best_size)) {
      best = candidate;
      best_size = have;
      exact = have == need;
      if (exact) break;
    }
    back = at;
    at = links_of(candidate)->next;
  }
  if (!exact && steps != stats_.free_blocks) {  // the list ends early: a link was zeroed
    fault(HeapFault::kCorruptHeader, back == 0 ? nullptr : header_at(back - 1) + 1);
    return nullptr;
  }

  Header* block = nullptr;
  if (best != nullptr) {
    // The walk checked best's `prev` link (it came from there) and, unless it stopped at best (an
    // exact fit), its `next` link too. The block above best (live: free blocks never touch) gets a
    // new `prev` if best is split.
    const std::uint32_t after = offset_of(best) + best_size;
    Header* above = after < top_ ? header_at(after) : nullptr;
    if ((exact && !next_link_ok(best)) || (above != nullptr && prev_of(above) != best_size)) {
      fault(HeapFault::kCorruptHeader, best + 1);
      return nullptr;
    }
    unlink_free(best);
    if (best_size - need >= block_bytes(1)) {  // split: the rest stays free
      set_size(best, need, true);
      Header* rest = header_at(offset_of(best) + need);
      init_header(rest, best_size - need, need, false);
      if (above != nullptr) {
        set_prev(above, best_size - need);
      } else {
        last_size_ = best_size - need;
      }
      link_free(rest);
    } else {
      set_size(best, best_size, true);
    }
    block = best;
  } else {
    if (need > capacity_ - top_) {
      stats_.failed++;
      return nullptr;
    }
    block = header_at(top_);
    init_header(block, need, last_size_, true);
    top_ += need;
    last_size_ = need;
  }
  account_alloc(size_of(block->size));
  void* payload = block + 1;
  std::memset(payload, 0, size_of(block->size) - kHeaderBytes);
  if (observer_ != nullptr) observer_(observer_context_, payload, count * size, size_of(block->size));
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
HeapFault Heap::classify(const void* pointer) const {
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
    if (!header_ok(block, at) || prev_of(block) != prev_size) return HeapFault::kCorruptHeader;
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

void Heap::free(void* pointer) {
  if (pointer == nullptr) return;
  const std::uintptr_t rel = reinterpret_cast<std::uintptr_t>(pointer) - reinterpret_cast<std::uintptr_t>(base_);
  if (base_ == nullptr || rel < kHeaderBytes || rel >= top_ || rel % kAlignment != 0) {
    fault(classify(pointer), pointer);
    return;
  }
  Header* block = static_cast<Header*>(pointer) - 1;
  const auto offset = static_cast<std::uint32_t>(rel - kHeaderBytes);
  if (!used(block->size) || !header_ok(block, offset)) {
    fault(classify(pointer), pointer);
    return;
  }
  const std::uint32_t size = size_of(block->size);
  const std::uint32_t end = offset + size;
  Header* next = end < top_ ? header_at(end) : nullptr;
  const std::uint32_t below = prev_of(block);
  Header* prev = offset != 0 ? header_at(offset - below) : nullptr;
  if ((next != nullptr && (prev_of(next) != size || (next->size & kLowBits & ~kUsed) != kAlignTag)) ||
      (prev != nullptr && (prev->size | kUsed) != (below | kAlignTag | kUsed))) {
    fault(HeapFault::kCorruptHeader, pointer);
    return;
  }
  // Everything the merge will follow or rewrite, checked before anything changes: a free neighbour
  // (absorbed, so its size counts) must be a sane free block on the list, and the block above the
  // merged one must agree with it. A live neighbour only gets a new `prev` (see set_prev).
  const bool next_free = next != nullptr && !used(next->size);
  const bool prev_free = prev != nullptr && !used(prev->size);
  const std::uint32_t start = prev_free ? offset - below : offset;
  const std::uint32_t merged = size + (next_free ? size_of(next->size) : 0u) + (prev_free ? below : 0u);
  Header* above = start + merged < top_ ? header_at(start + merged) : nullptr;
  if ((next_free && (!header_ok(next, end) || !can_unlink(next) ||
                     (above != nullptr && prev_of(above) != size_of(next->size)))) ||
      (prev_free && (!header_ok(prev, start) || !can_unlink(prev))) ||
      (above != nullptr && !(next_free && free_head_ == end + 1) && !(prev_free && free_head_ == start + 1) &&
       !head_ok())) {  // (a head that is unlinked was checked by can_unlink, and so was its successor)
    fault(HeapFault::kCorruptHeader, pointer);
    return;
  }

  account_free(size);
  if (observer_ != nullptr) observer_(observer_context_, pointer, 0, size);
  set_size(block, size, false);  // marked free first: a later double free of it is recognised
  if (next_free) unlink_free(next);  // absorb the free block above
  if (prev_free) {                    // and be absorbed by the free block below
    unlink_free(prev);
    block = prev;
  }
  if (above == nullptr) {  // touches the wilderness: give it back
    top_ = start;
    last_size_ = prev_of(block);
    return;
  }
  set_size(block, merged, false);
  set_prev(above, merged);
  link_free(block);
}

HeapStats Heap::stats() const { return stats_; }

void Heap::reset_peak() {
  stats_.peak_in_use = stats_.in_use;
  stats_.peak_arena_in_use = stats_.arena_in_use;
  stats_.peak_live_blocks = stats_.live_blocks;
  stats_.high_water = top_;
}

void Heap::reset_stats() {
  reset_peak();
  stats_.failed = 0;
  stats_.allocations = 0;
  stats_.frees = 0;
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
    if (!header_ok(block, at) || prev_of(block) != prev_size) {
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
  std::uint32_t back = 0;
  for (std::uint32_t link = free_head_; link != 0;) {
    Header* block = free_block_at(link);
    if (block == nullptr || links_of(block)->prev != back || ++listed > free_count) {
      return Status(Code::kDataLoss, -2);
    }
    listed_bytes += size_of(block->size);
    back = link;
    link = links_of(block)->next;
  }
  if (listed != free_count || listed_bytes != free_bytes || free_count != stats_.free_blocks ||
      live != stats_.live_blocks || arena != stats_.arena_in_use) {
    return Status(Code::kDataLoss, -3);
  }
  return Status::Ok();
}

}  // namespace tlsgen
