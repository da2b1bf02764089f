// Allocator bench (host): replays the recorded mbedTLS handshakes (tests/data/alloc-traces) on
// tlsgen::Heap, mbedTLS's memory_buffer_alloc and a seed-style first fit (replay.hpp).
//   alloc_bench arena  <tlsgen|mba|firstfit> TRACE             smallest arena that completes the trace
//   alloc_bench replay <tlsgen|mba|firstfit|none> TRACE ROUNDS  (for callgrind: the calls only)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "replay.hpp"

namespace {

// CSV rows `op,size,id` (a = allocation, f = free); empty on a malformed file.
std::vector<bench::Op> load(const char* path) {
  std::ifstream in(path);
  std::vector<bench::Op> ops;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string op, size, id;
    std::getline(row, op, ',');
    std::getline(row, size, ',');
    std::getline(row, id, ',');
    const unsigned long s = std::strtoul(size.c_str(), nullptr, 10);
    const unsigned long i = std::strtoul(id.c_str(), nullptr, 10);
    if ((op != "a" && op != "f") || s > bench::Op::kMaxSize || i > bench::Op::kMaxId) return {};
    ops.push_back(bench::Op::make(op == "a", static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(i)));
  }
  return ops;
}

alignas(64) std::byte g_region[1 << 20];

}  // namespace

int main(int argc, char** argv) {
  bench::Kind kind{};
  if (argc < 4 || !bench::parse_kind(argv[2], &kind)) {
    std::fprintf(stderr, "usage: alloc_bench arena|replay tlsgen|mba|firstfit|none TRACE [ROUNDS]\n");
    return 2;
  }
  const auto ops = load(argv[3]);
  if (ops.empty()) {
    std::fprintf(stderr, "alloc_bench: %s: no trace rows (or a malformed row)\n", argv[3]);
    return 2;
  }
  std::uint32_t max_id = 0;
  for (const bench::Op o : ops) max_id = o.id() > max_id ? o.id() : max_id;
  std::vector<void*> live(max_id + 1u, nullptr);
  bench::Replayer replayer(g_region, live);
  if (std::strcmp(argv[1], "arena") == 0) {
    const std::size_t arena = replayer.smallest_arena(kind, ops);
    if (arena == 0) return 3;
    std::printf("%zu\n", arena);
    return 0;
  }
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 1;
  std::size_t calls = 0;
  for (int r = 0; r < rounds; ++r) {
    if (!replayer.run(kind, ops, sizeof g_region)) return 4;
    calls += ops.size();
  }
  std::printf("%zu\n", calls);
  return 0;
}
