// The placement tlsgen::Heap had before its free lists were split into size-class bins (issue 14), as a
// reference for the Cortex-M firmware tests: ONE list of every free block below the wilderness, newest
// first (a freed, merged or split-off block goes in front); calloc takes the smallest block that fits,
// the first of equal ones, an exact fit ending the walk, splits off a rest of at least block_bytes(1),
// and takes from the wilderness only when no free block fits; free coalesces with free neighbours and
// gives a block touching the wilderness back. Offsets and sizes only: where each block lands, which is
// what the heap model is calibrated against (stats().high_water). Fixed arrays, linear time: a test aid.
// tests/runtime/heap_test.cpp has the same model for the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tlsgen/heap.hpp"

// Offset: the integer type offsets and sizes are kept in (std::uint16_t for a region under 64 KB);
// kMaxBlocks: blocks below the top at most (a calloc that would need more refuses, like a full region).
template <typename Offset, unsigned kMaxBlocks>
class SingleListModel {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  void reset(std::uint32_t capacity) {
    count_ = free_count_ = 0;
    top_ = high_ = 0;
    capacity_ = capacity;
  }

  // The new block's header offset, or kNone when it does not fit.
  std::uint32_t calloc(std::size_t request) {
    const auto need = static_cast<std::uint32_t>(tlsgen::Heap::block_bytes(request));
    unsigned best = free_count_;
    std::uint32_t best_size = 0;
    for (unsigned k = 0; k < free_count_; ++k) {
      const std::uint32_t have = blocks_[index_of(free_[k])].size;
      if (have >= need && (best == free_count_ || have < best_size)) {
        best = k;
        best_size = have;
        if (have == need) break;
      }
    }
    if (best == free_count_) {
      if (need > capacity_ - top_ || count_ == kMaxBlocks) return kNone;
      insert(count_, top_, need, true);
      top_ += need;
      if (top_ > high_) high_ = top_;
      return top_ - need;
    }
    const std::uint32_t at = free_[best];
    remove_free(at);
    const unsigned i = index_of(at);
    blocks_[i].used = true;
    if (best_size - need >= tlsgen::Heap::block_bytes(1)) {
      if (count_ == kMaxBlocks) return kNone;
      blocks_[i].size = static_cast<Offset>(need);
      insert(i + 1, at + need, best_size - need, false);
      push_free(at + need);
    }
    return at;
  }

  void free(std::uint32_t at) {
    unsigned i = index_of(at);
    std::uint32_t start = at;
    std::uint32_t size = blocks_[i].size;
    if (i + 1 < count_ && !blocks_[i + 1].used) {
      size += blocks_[i + 1].size;
      remove_free(blocks_[i + 1].at);
      erase(i + 1);
    }
    if (i > 0 && !blocks_[i - 1].used) {
      start = blocks_[i - 1].at;
      size += blocks_[i - 1].size;
      remove_free(start);
      erase(i);
      --i;
    }
    if (start + size == top_) {  // back to the wilderness
      erase(i);
      top_ = start;
      return;
    }
    blocks_[i] = {static_cast<Offset>(start), static_cast<Offset>(size), false};
    push_free(start);
  }

  std::uint32_t high_water() const { return high_; }
  std::uint32_t top() const { return top_; }
  unsigned free_blocks() const { return free_count_; }

 private:
  struct Block {
    Offset at;
    Offset size;
    bool used;
  };
  unsigned index_of(std::uint32_t at) const {
    unsigned i = 0;
    while (i < count_ && blocks_[i].at != at) ++i;
    return i;
  }
  void insert(unsigned i, std::uint32_t at, std::uint32_t size, bool used) {
    for (unsigned k = count_; k > i; --k) blocks_[k] = blocks_[k - 1];
    blocks_[i] = {static_cast<Offset>(at), static_cast<Offset>(size), used};
    ++count_;
  }
  void erase(unsigned i) {
    for (unsigned k = i; k + 1 < count_; ++k) blocks_[k] = blocks_[k + 1];
    --count_;
  }
  void push_free(std::uint32_t at) {
    for (unsigned k = free_count_; k > 0; --k) free_[k] = free_[k - 1];
    free_[0] = static_cast<Offset>(at);
    ++free_count_;
  }
  void remove_free(std::uint32_t at) {
    unsigned i = 0;
    while (free_[i] != at) ++i;
    for (; i + 1 < free_count_; ++i) free_[i] = free_[i + 1];
    --free_count_;
  }

  Block blocks_[kMaxBlocks];  // every block below the top, by offset
  Offset free_[kMaxBlocks];   // the free ones, newest first
  unsigned count_ = 0;
  unsigned free_count_ = 0;
  std::uint32_t top_ = 0;
  std::uint32_t high_ = 0;
  std::uint32_t capacity_ = 0;
};
