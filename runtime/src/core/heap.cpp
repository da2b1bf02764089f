#include "tlsgen/heap.hpp"

#include <cstdint>
#include <cstring>

namespace tlsgen {

namespace {

constexpr std::uint32_t kUsed = 1u;
constexpr std::uint32_t kMagic = 0x7153E1A5u;

constexpr std::uint32_t size_of(std::uint32_t field) { return field & ~kUsed; }

[[noreturn]] void trap_on_fault(HeapFault, const void*, void*) { __builtin_trap(); }

}  // namespace

struct Heap::Header {
  std::uint32_t size;  // bytes of the block, header included; bit 0: in use
  std::uint32_t prev;  // size of the block just below (0 for the first block)
#if UINTPTR_MAX > 0xFFFFFFFFu
  std::uint32_t check;  // size ^ prev ^ kMagic: catches an overwritten header
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

Heap::Header* Heap::header_at(std::uint32_t offset) const {
  return static_cast<Header*>(static_cast<void*>(base_ + offset));
}

std::uint32_t Heap::offset_of(const Header* header) const {
  return static_cast<std::uint32_t>(static_cast<const std::byte*>(static_cast<const void*>(header)) - base_);
}

Heap::Links* Heap::links_of(void* payload) { return static_cast<Links*>(payload); }

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

void Heap::set_size(Header* block, std::uint32_t size, bool used) {
  block->size = size | (used ? kUsed : 0u);
#if UINTPTR_MAX > 0xFFFFFFFFu
  block->check = block->size ^ block->prev ^ kMagic;
  block->align = static_cast<std::uint32_t>(kAlignment);
#endif
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
  top_ = 0;
  last_size_ = 0;
  free_head_ = 0;
  stats_ = HeapStats{};
  stats_.capacity = usable;
  return Status::Ok();
}

void Heap::link_free(Header* block) {
  Links* links = links_of(block + 1);
  links->prev = 0;
  links->next = free_head_;
  if (free_head_ != 0) {
    links_of(header_at(free_head_ - 1) + 1)->prev = offset_of(block) + 1;
  }
  free_head_ = offset_of(block) + 1;
  ++stats_.free_blocks;
}

void Heap::unlink_free(Header* block) {
  const Links* links = links_of(block + 1);
  if (links->prev != 0) {
    links_of(header_at(links->prev - 1) + 1)->next = links->next;
  } else {
    free_head_ = links->next;
  }
  if (links->next != 0) {
    links_of(header_at(links->next - 1) + 1)->prev = links->prev;
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

  // Best fit among the free blocks below the wilderness.
  Header* best = nullptr;
  for (std::uint32_t at = free_head_; at != 0; at = links_of(header_at(at - 1) + 1)->next) {
    Header* candidate = header_at(at - 1);
    const std::uint32_t have = size_of(candidate->size);
    if (have >= need && (best == nullptr || have < size_of(best->size))) {
      best = candidate;
      if (have == need) break;
    }
  }

  Header* block = nullptr;
  if (best != nullptr) {
    unlink_free(best);
    const std::uint32_t have = size_of(best->size);
    if (have - need >= block_bytes(1)) {  // split: the rest stays free
      set_size(best, need, true);
      Header* rest = header_at(offset_of(best) + need);
      rest->prev = need;
      set_size(rest, have - need, false);
      const std::uint32_t after = offset_of(rest) + (have - need);
      if (after < top_) {
        Header* next = header_at(after);
        next->prev = have - need;
        set_size(next, size_of(next->size), (next->size & kUsed) != 0);
      } else {
        last_size_ = have - need;
      }
      link_free(rest);
    } else {
      set_size(best, have, true);
    }
    block = best;
  } else {
    if (need > capacity_ - top_) {
      stats_.failed++;
      return nullptr;
    }
    block = header_at(top_);
    block->prev = last_size_;
    set_size(block, need, true);
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
  const auto* p = static_cast<const std::byte*>(pointer);
  return base_ != nullptr && p >= base_ + kHeaderBytes && p < base_ + top_;
}

void Heap::free(void* pointer) {
  if (pointer == nullptr) return;
  if (!owns(pointer) ||
      static_cast<std::size_t>(static_cast<const std::byte*>(pointer) - base_) % kAlignment != 0) {
    fault(HeapFault::kBadFree, pointer);
    return;
  }
  Header* block = static_cast<Header*>(pointer) - 1;
  const std::uint32_t offset = offset_of(block);
  const std::uint32_t size = size_of(block->size);
  const bool sane = size >= block_bytes(1) && size % kAlignment == 0 && size <= top_ - offset &&
                    block->prev <= offset && (offset != 0 || block->prev == 0)
#if UINTPTR_MAX > 0xFFFFFFFFu
                    && block->check == (block->size ^ block->prev ^ kMagic)
#endif
      ;
  if (!sane) {
    fault(HeapFault::kCorruptHeader, pointer);
    return;
  }
  if ((block->size & kUsed) == 0) {
    fault(HeapFault::kDoubleFree, pointer);
    return;
  }
  const std::uint32_t end = offset + size;
  Header* next = end < top_ ? header_at(end) : nullptr;
  Header* prev = offset != 0 ? header_at(offset - block->prev) : nullptr;
  if ((next != nullptr && next->prev != size) || (prev != nullptr && size_of(prev->size) != block->prev)) {
    fault(HeapFault::kCorruptHeader, pointer);
    return;
  }

  account_free(size);
  if (observer_ != nullptr) observer_(observer_context_, pointer, 0, size);
  std::uint32_t merged = size;
  if (next != nullptr && (next->size & kUsed) == 0) {  // absorb the free block above
    unlink_free(next);
    merged += size_of(next->size);
  }
  if (prev != nullptr && (prev->size & kUsed) == 0) {  // and be absorbed by the free block below
    unlink_free(prev);
    merged += size_of(prev->size);
    block = prev;
  }
  const std::uint32_t start = offset_of(block);
  if (start + merged == top_) {  // touches the wilderness: give it back
    top_ = start;
    last_size_ = block->prev;
    return;
  }
  set_size(block, merged, false);
  header_at(start + merged)->prev = merged;
  Header* above = header_at(start + merged);
  set_size(above, size_of(above->size), (above->size & kUsed) != 0);
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
  std::size_t arena = 0;
  bool prev_free = false;
  while (at < top_) {
    const Header* block = header_at(at);
    const std::uint32_t size = size_of(block->size);
    if (size < block_bytes(1) || size % kAlignment != 0 || size > top_ - at || block->prev != prev_size) {
      return Status(Code::kDataLoss, static_cast<std::int32_t>(at));
    }
#if UINTPTR_MAX > 0xFFFFFFFFu
    if (block->check != (block->size ^ block->prev ^ kMagic)) {
      return Status(Code::kDataLoss, static_cast<std::int32_t>(at));
    }
#endif
    const bool is_free = (block->size & kUsed) == 0;
    if (is_free && prev_free) return Status(Code::kDataLoss, static_cast<std::int32_t>(at));  // not coalesced
    if (is_free) {
      ++free_count;
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
  std::uint32_t back = 0;
  for (std::uint32_t link = free_head_; link != 0; link = links_of(header_at(link - 1) + 1)->next) {
    const Header* block = header_at(link - 1);
    if (link - 1 >= top_ || (block->size & kUsed) != 0 || links_of(header_at(link - 1) + 1)->prev != back ||
        ++listed > free_count) {
      return Status(Code::kDataLoss, -2);
    }
    back = link;
  }
  if (listed != free_count || free_count != stats_.free_blocks || live != stats_.live_blocks ||
      arena != stats_.arena_in_use) {
    return Status(Code::kDataLoss, -3);
  }
  return Status::Ok();
}

}  // namespace tlsgen
