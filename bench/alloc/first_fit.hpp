// A seed-style allocator (the drogue-tls heap's shape): an 8-byte header {size, align} before each
// block, first fit over an address-ordered free list, splitting, and coalescing of free neighbours.
// Bench only: the baseline tlsgen::Heap is compared with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

class FirstFit {
 public:
  bool init(std::span<std::byte> region) {
    auto start = reinterpret_cast<std::uintptr_t>(region.data());
    const std::size_t skip = (8 - start % 8) % 8;
    if (region.size() < skip + 32) return false;
    base_ = region.data() + skip;
    size_ = (region.size() - skip) / 8 * 8;
    head_ = reinterpret_cast<Free*>(base_);
    head_->size = static_cast<std::uint32_t>(size_);
    head_->next = nullptr;
    return true;
  }
  void* calloc(std::size_t n, std::size_t s) {
    if (n == 0 || s == 0 || n > SIZE_MAX / s) return nullptr;
    const std::size_t need = ((n * s + 7) / 8) * 8 + 8 < 16 ? 16 : ((n * s + 7) / 8) * 8 + 8;
    Free** link = &head_;
    for (Free* f = head_; f != nullptr; link = &f->next, f = f->next) {
      if (f->size < need) continue;
      std::byte* block = reinterpret_cast<std::byte*>(f);
      std::uint32_t size = f->size;
      if (size - need >= 16) {  // split: the rest stays on the list in place
        Free* rest = reinterpret_cast<Free*>(block + need);
        rest->size = static_cast<std::uint32_t>(size - need);
        rest->next = f->next;
        *link = rest;
        size = static_cast<std::uint32_t>(need);
      } else {
        *link = f->next;
      }
      auto* h = reinterpret_cast<std::uint32_t*>(block);
      h[0] = size;
      h[1] = 8;  // alignment
      std::memset(block + 8, 0, size - 8);
      return block + 8;
    }
    return nullptr;
  }
  void free(void* p) {
    if (p == nullptr) return;
    std::byte* block = static_cast<std::byte*>(p) - 8;
    const std::uint32_t size = reinterpret_cast<std::uint32_t*>(block)[0];
    Free* f = reinterpret_cast<Free*>(block);
    f->size = size;
    Free* prev = nullptr;
    Free* next = head_;
    while (next != nullptr && reinterpret_cast<std::byte*>(next) < block) {
      prev = next;
      next = next->next;
    }
    f->next = next;
    if (prev != nullptr) prev->next = f; else head_ = f;
    if (next != nullptr && block + f->size == reinterpret_cast<std::byte*>(next)) {  // merge above
      f->size += next->size;
      f->next = next->next;
    }
    if (prev != nullptr && reinterpret_cast<std::byte*>(prev) + prev->size == block) {  // merge below
      prev->size += f->size;
      prev->next = f->next;
    }
  }

 private:
  struct Free {
    std::uint32_t size;
    Free* next;
  };
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  Free* head_ = nullptr;
};
