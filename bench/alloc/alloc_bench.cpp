// Allocator bench: replays the recorded mbedTLS handshakes (tests/data/alloc-traces) on
// tlsgen::Heap, mbedTLS's memory_buffer_alloc and a seed-style first fit.
//   alloc_bench arena  <tlsgen|mba|firstfit> TRACE      smallest arena that completes the trace
//   alloc_bench replay <tlsgen|mba|firstfit|none> TRACE ROUNDS   (for callgrind: calls only)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "first_fit.hpp"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "tlsgen/heap.hpp"

namespace {
struct Op {
  bool alloc;
  std::size_t size;
  int id;
};

std::vector<Op> load(const char* path) {
  std::ifstream in(path);
  std::vector<Op> ops;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string op, size, id;
    std::getline(row, op, ',');
    std::getline(row, size, ',');
    std::getline(row, id, ',');
    ops.push_back({op == "a", std::stoul(size), std::stoi(id)});
  }
  return ops;
}

alignas(64) std::byte g_region[1 << 20];
tlsgen::Heap g_heap;
FirstFit g_ff;
std::vector<void*> g_live;

enum class Kind { kTlsgen, kMba, kFirstFit, kNone };

bool init(Kind k, std::size_t size) {
  switch (k) {
    case Kind::kTlsgen: return g_heap.init(std::span(g_region, size)).ok();
    case Kind::kMba:
      mbedtls_memory_buffer_alloc_init(reinterpret_cast<unsigned char*>(g_region), size);
      return true;
    case Kind::kFirstFit: return g_ff.init(std::span(g_region, size));
    case Kind::kNone: return true;
  }
  return false;
}
void finish(Kind k) {
  if (k == Kind::kMba) mbedtls_memory_buffer_alloc_free();
}
__attribute__((noinline)) void* do_calloc(Kind k, std::size_t n) {
  switch (k) {
    case Kind::kTlsgen: return g_heap.calloc(1, n);
    case Kind::kMba: return mbedtls_calloc(1, n);
    case Kind::kFirstFit: return g_ff.calloc(1, n);
    case Kind::kNone: return &g_region[n % 1024];
  }
  return nullptr;
}
__attribute__((noinline)) void do_free(Kind k, void* p) {
  switch (k) {
    case Kind::kTlsgen: g_heap.free(p); break;
    case Kind::kMba: mbedtls_free(p); break;
    case Kind::kFirstFit: g_ff.free(p); break;
    case Kind::kNone: break;
  }
}

bool replay(Kind k, const std::vector<Op>& ops, std::size_t arena, int max_id) {
  if (!init(k, arena)) return false;
  g_live.assign(static_cast<std::size_t>(max_id) + 1, nullptr);
  bool ok = true;
  for (const Op& op : ops) {
    if (op.alloc) {
      void* p = do_calloc(k, op.size);
      if (p == nullptr) {
        ok = false;
        break;
      }
      g_live[static_cast<std::size_t>(op.id)] = p;
    } else {
      do_free(k, g_live[static_cast<std::size_t>(op.id)]);
      g_live[static_cast<std::size_t>(op.id)] = nullptr;
    }
  }
  if (!ok) {
    for (void* p : g_live) if (p != nullptr) do_free(k, p);
  }
  finish(k);
  return ok;
}

Kind parse(const char* s) {
  if (std::strcmp(s, "tlsgen") == 0) return Kind::kTlsgen;
  if (std::strcmp(s, "mba") == 0) return Kind::kMba;
  if (std::strcmp(s, "firstfit") == 0) return Kind::kFirstFit;
  return Kind::kNone;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const Kind k = parse(argv[2]);
  const auto ops = load(argv[3]);
  int max_id = 0;
  for (const Op& o : ops) max_id = o.id > max_id ? o.id : max_id;
  if (std::strcmp(argv[1], "arena") == 0) {
    std::size_t lo = 64, hi = sizeof g_region;
    if (!replay(k, ops, hi, max_id)) return 3;
    while (lo + 1 < hi) {
      const std::size_t mid = (lo + hi) / 2;
      (replay(k, ops, mid, max_id) ? hi : lo) = mid;
    }
    std::printf("%zu\n", hi);
    return 0;
  }
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 1;
  std::size_t calls = 0;
  for (int r = 0; r < rounds; ++r) {
    if (!replay(k, ops, sizeof g_region, max_id)) return 4;
    calls += ops.size();
  }
  std::printf("%zu\n", calls);
  return 0;
}
