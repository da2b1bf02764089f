// Trace replay shared by the allocator bench's host program (alloc_bench.cpp, callgrind) and its
// Cortex-M4 firmware (alloc_bench_m4.cpp, QEMU TIMER0): the same calls on tlsgen::Heap, mbedTLS's
// memory_buffer_alloc and the seed-style first fit, and the smallest arena that completes a trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "first_fit.hpp"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "tlsgen/heap.hpp"
#include "trace_op.hpp"

namespace bench {

enum class Kind { kTlsgen, kMba, kFirstFit, kNone };

inline bool parse_kind(const char* s, Kind* out) {
  const struct { const char* name; Kind kind; } kinds[] = {
      {"tlsgen", Kind::kTlsgen}, {"mba", Kind::kMba}, {"firstfit", Kind::kFirstFit}, {"none", Kind::kNone}};
  for (const auto& k : kinds) {
    if (std::strcmp(s, k.name) == 0) {
      *out = k.kind;
      return true;
    }
  }
  return false;
}

class Replayer {
 public:
  // region: the arena the allocators get (a prefix of it); live: one slot per block id in the trace.
  Replayer(std::span<std::byte> region, std::span<void*> live) : region_(region), live_(live) {}

  // Replays every call with an arena of `arena` bytes; false if an allocation failed (then every
  // block still live is freed, so the allocator ends empty either way).
  bool run(Kind k, std::span<const Op> ops, std::size_t arena) {
    if (!init(k, arena)) return false;
    for (void*& p : live_) p = nullptr;
    bool ok = true;
    for (const Op op : ops) {
      if (op.id() >= live_.size()) return false;
      if (op.alloc()) {
        void* p = do_calloc(k, op.size());
        if (p == nullptr) {
          ok = false;
          break;
        }
        live_[op.id()] = p;
      } else {
        do_free(k, live_[op.id()]);
        live_[op.id()] = nullptr;
      }
    }
    if (!ok) {
      for (void*& p : live_) {
        if (p != nullptr) do_free(k, p);
        p = nullptr;
      }
    }
    finish(k);
    return ok;
  }

  // Binary search for the smallest arena that completes the trace; 0 if even the whole region fails.
  std::size_t smallest_arena(Kind k, std::span<const Op> ops) {
    std::size_t lo = 64, hi = region_.size();
    if (!run(k, ops, hi)) return 0;
    while (lo + 1 < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      (run(k, ops, mid) ? hi : lo) = mid;
    }
    return hi;
  }

 private:
  bool init(Kind k, std::size_t size) {
    if (size > region_.size()) return false;
    switch (k) {
      case Kind::kTlsgen:
        return heap_.init(region_.first(size)).ok();
      case Kind::kMba:
        mbedtls_memory_buffer_alloc_init(reinterpret_cast<unsigned char*>(region_.data()), size);
        return true;
      case Kind::kFirstFit:
        return first_fit_.init(region_.first(size));
      case Kind::kNone:
        return true;
    }
    return false;
  }
  void finish(Kind k) {
    if (k == Kind::kMba) mbedtls_memory_buffer_alloc_free();
  }
  __attribute__((noinline)) void* do_calloc(Kind k, std::size_t n) {
    switch (k) {
      case Kind::kTlsgen:
        return heap_.calloc(1, n);
      case Kind::kMba:
        return mbedtls_calloc(1, n);
      case Kind::kFirstFit:
        return first_fit_.calloc(1, n);
      case Kind::kNone:
        return &region_[n % 1024];
    }
    return nullptr;
  }
  __attribute__((noinline)) void do_free(Kind k, void* p) {
    switch (k) {
      case Kind::kTlsgen:
        heap_.free(p);
        break;
      case Kind::kMba:
        mbedtls_free(p);
        break;
      case Kind::kFirstFit:
        first_fit_.free(p);
        break;
      case Kind::kNone:
        break;
    }
  }

  std::span<std::byte> region_;
  std::span<void*> live_;
  tlsgen::Heap heap_;
  FirstFit first_fit_;
};

}  // namespace bench
