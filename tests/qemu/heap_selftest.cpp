// tlsgen::Heap on the Cortex-M layout (8-byte header {size word, prev}, 8-byte alignment), under
// QEMU mps2-an386: the behavioural checks of tests/runtime/heap_test.cpp, which only run on the
// host's 16-byte layout. Prints one line per check, then "HEAP SELFTEST PASS <n> checks"; exits
// non-zero (semihosting) at the end if any check failed.
//
// White-box parts use the layout heap.hpp documents: the size word is the header's first 32 bits
// (size | log2(kAlignment) << 1 | in-use bit); a free block's first payload bytes are its list links
// {next, prev}, each the block's offset from the region start + 1, on the list of its size class
// (bins of one size below 64 bytes, then [64, 96), [96, 128), ...): prev 0 for a bin's first block,
// next the heap's end mark (bit 31 set, a multiple of 8) for its last.
#include <cstdint>
#include <cstring>

#include "board.hpp"
#include "single_list_model.hpp"
#include "tlsgen/heap.hpp"

namespace {

using tlsgen::Heap;
using tlsgen::HeapFault;
using tlsgen::HeapStats;

static_assert(sizeof(void*) == 4, "this firmware checks the 32-bit layout");

constexpr std::uint32_t kRandomSteps = 4000;

// 16 KB, or 5 KB on a 16 KB-RAM board (the region and its copy must fit beside the stack).
alignas(8) std::byte g_region[board::kRamBytes >= 64 * 1024 ? 16 * 1024 : 5 * 1024];
std::byte g_copy[sizeof g_region];
Heap g_heap;

unsigned g_checks = 0;
unsigned g_failures = 0;

void expect(bool ok, const char* what) {
  ++g_checks;
  if (!ok) ++g_failures;
  board::host_printf("%s heap: %s\n", ok ? "ok  " : "FAIL", what);
}

struct FaultLog {
  static constexpr unsigned kMax = 16;
  HeapFault kinds[kMax];
  unsigned count = 0;
  static void record(HeapFault fault, const void*, void* context) {
    auto* self = static_cast<FaultLog*>(context);
    if (self->count < kMax) self->kinds[self->count] = fault;
    ++self->count;
  }
  // Exactly `n` faults since the last clear, all of kind `kind`.
  bool exactly(unsigned n, HeapFault kind) const {
    if (count != n) return false;
    for (unsigned i = 0; i < n && i < kMax; ++i) {
      if (kinds[i] != kind) return false;
    }
    return true;
  }
  void clear() { count = 0; }
};
FaultLog g_log;

// A fresh heap over the whole region, faults recorded.
void fresh() {
  (void)g_heap.init(g_region);
  g_heap.set_fault_handler(&FaultLog::record, &g_log);
  g_log.clear();
}

std::byte* at(void* p, std::ptrdiff_t delta) { return static_cast<std::byte*>(p) + delta; }

std::uint32_t size_word(const void* payload) {
  std::uint32_t word;
  std::memcpy(&word, static_cast<const std::byte*>(payload) - Heap::kHeaderBytes, sizeof word);
  return word;
}
void set_size_word(void* payload, std::uint32_t word) { std::memcpy(at(payload, -8), &word, sizeof word); }

struct Links {
  std::uint32_t next;
  std::uint32_t prev;
};
Links links_of(const void* payload) {
  Links links;
  std::memcpy(&links, payload, sizeof links);
  return links;
}
void set_links(void* payload, Links links) { std::memcpy(payload, &links, sizeof links); }
std::uint32_t link_to(const void* payload) {
  return static_cast<std::uint32_t>(static_cast<const std::byte*>(payload) - Heap::kHeaderBytes - g_region) + 1;
}
bool is_end_mark(std::uint32_t link) { return (link & 0x80000000u) != 0 && link % 8 == 0; }

// The heap's whole observable state: region bytes and statistics.
HeapStats g_stats_copy;
void snapshot() {
  std::memcpy(g_copy, g_region, sizeof g_region);
  g_stats_copy = g_heap.stats();
}
bool unchanged() {
  const HeapStats now = g_heap.stats();
  return std::memcmp(g_copy, g_region, sizeof g_region) == 0 &&
         std::memcmp(&now, &g_stats_copy, sizeof now) == 0;  // all size_t fields, no padding
}

bool aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 8 == 0; }
bool all_zero(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

void check_layout() {
  expect(Heap::kAlignment == 8 && Heap::kHeaderBytes == 8, "kAlignment 8, kHeaderBytes 8");
  expect(Heap::block_bytes(1) == 16 && Heap::block_bytes(8) == 16 && Heap::block_bytes(9) == 24 &&
             Heap::block_bytes(100) == 112,
         "block_bytes: header + max(n, 8) rounded up to 8");
  fresh();
  void* a = g_heap.calloc(1, 20);
  void* guard = g_heap.calloc(1, 1);
  expect(a != nullptr && size_word(a) == (32u | 3u << 1 | 1u), "size word: size | log2(8) << 1 | in use");
  g_heap.free(a);
  expect(size_word(a) == (32u | 3u << 1) && g_heap.check().ok(), "size word of a free block: in-use bit clear");
  g_heap.free(guard);
}

void check_init() {
  Heap heap;
  std::byte tiny[8];
  expect(heap.init({}).code() == tlsgen::Code::kInvalidArgument &&
             heap.init(tiny).code() == tlsgen::Code::kInvalidArgument,
         "init: null or tiny region is kInvalidArgument");
  expect(heap.calloc(1, 1) == nullptr, "calloc before init: null");
  expect(heap.init(std::span(g_region).subspan(3)).ok(), "init: unaligned region");
  void* p = heap.calloc(1, 10);
  expect(p != nullptr && aligned(p) && heap.stats().capacity <= sizeof g_region - 3,
         "unaligned region: aligned internally");
}

void check_alignment_and_zeroing() {
  std::memset(g_region, 0xAB, sizeof g_region);
  fresh();
  bool ok = true;
  for (std::size_t n = 1; n <= 200; n += 13) {
    void* p = g_heap.calloc(n, 3);
    ok = ok && p != nullptr && aligned(p) && all_zero(p, n * 3);
  }
  expect(ok, "calloc: every result 8-aligned and zeroed (region pre-filled with 0xAB)");
  fresh();
  void* p = g_heap.calloc(1, 64);
  std::memset(p, 0xFF, 64);
  g_heap.free(p);
  void* q = g_heap.calloc(1, 64);
  expect(q == p && all_zero(q, 64), "a reused block is zeroed again");
}

// Every payload size from 8 to 1,040 bytes (zero_blocks()'s 32-byte steps and its 16- and 8-byte tails on Thumb-2):
// the whole payload is zeroed, from the wilderness (pre-filled) and when a dirty block is reused, and not a byte
// past it: the wilderness above keeps its fill, and the live block above a reused one keeps its header and bytes.
void check_zeroing_every_size() {
  bool fresh_ok = true;
  bool reused_ok = true;
  for (std::size_t n = 1; n <= 1040; ++n) {
    const std::size_t payload = Heap::block_bytes(n) - Heap::kHeaderBytes;
    std::memset(g_region, 0xAB, sizeof g_region);
    fresh();
    auto* p = static_cast<unsigned char*>(g_heap.calloc(1, n));
    fresh_ok = fresh_ok && p != nullptr && all_zero(p, payload) && p[payload] == 0xAB && p[payload + 7] == 0xAB;
    auto* above = static_cast<unsigned char*>(g_heap.calloc(1, 24));
    if (p == nullptr || above == nullptr) {
      reused_ok = false;
      continue;
    }
    std::memset(p, 0xFF, payload);
    std::memset(above, 0x5A, 24);
    g_heap.free(p);
    auto* q = static_cast<unsigned char*>(g_heap.calloc(1, n));
    bool kept = true;
    for (std::size_t i = 0; i < 24; ++i) kept = kept && above[i] == 0x5A;
    reused_ok = reused_ok && q == p && all_zero(q, payload) && kept && g_heap.check().ok();
  }
  expect(fresh_ok, "calloc of 1 to 1,040 bytes: the whole payload zeroed, the wilderness above untouched");
  expect(reused_ok, "a dirty block reused, 1 to 1,040 bytes: zeroed again, the live block above intact");
}

void check_calloc_limits() {
  fresh();
  expect(g_heap.calloc(SIZE_MAX, 2) == nullptr, "calloc(SIZE_MAX, 2): null");
  expect(g_heap.calloc(65536, 65536) == nullptr, "calloc(65536, 65536) (product wraps to 0): null");
  expect(g_heap.calloc(65536, 65537) == nullptr, "calloc(65536, 65537) (product wraps to 65536): null");
  expect(g_heap.calloc(0x80000000u, 1) == nullptr, "calloc(2^31, 1): null");
  expect(g_heap.calloc(1, sizeof g_region) == nullptr, "calloc larger than the region: null");
  expect(g_heap.stats().failed == 5 && g_heap.stats().live_blocks == 0, "each counted as a failure");
  expect(g_heap.calloc(0, 8) == nullptr && g_heap.calloc(8, 0) == nullptr && g_heap.stats().failed == 5,
         "calloc of 0 bytes: null, not a failure");
  g_heap.free(nullptr);
  expect(g_log.count == 0 && g_heap.stats().frees == 0, "free(nullptr): no-op");
}

void check_coalescing_and_stats() {
  fresh();
  void* p[6];
  for (std::size_t i = 0; i < 6; ++i) p[i] = g_heap.calloc(1, 40 + 24 * i);
  const HeapStats peak = g_heap.stats();
  std::size_t arena = 0;
  for (std::size_t i = 0; i < 6; ++i) arena += Heap::block_bytes(40 + 24 * i);
  expect(peak.live_blocks == 6 && peak.arena_in_use == arena && peak.high_water == arena &&
             peak.in_use == arena - 6 * Heap::kHeaderBytes,
         "stats: live blocks, arena, high water, in use");
  g_heap.free(p[1]);
  g_heap.free(p[3]);
  expect(g_heap.stats().free_blocks == 2 && g_heap.check().ok(), "two separated free blocks");
  g_heap.free(p[2]);  // joins 1..3
  expect(g_heap.stats().free_blocks == 1 && g_heap.check().ok(), "a block between two free ones coalesces them");
  void* big = g_heap.calloc(1, Heap::block_bytes(64) + Heap::block_bytes(88) + Heap::block_bytes(112) - 8);
  expect(big == p[1] && g_heap.stats().free_blocks == 0, "the coalesced block is reused whole");
  g_heap.free(big);
  g_heap.free(p[0]);
  g_heap.free(p[5]);
  g_heap.free(p[4]);
  const HeapStats after = g_heap.stats();
  expect(g_log.count == 0 && after.in_use == 0 && after.arena_in_use == 0 && after.live_blocks == 0 &&
             after.free_blocks == 0 && after.peak_arena_in_use == arena && after.peak_live_blocks == 6,
         "all freed: nothing in use, peaks kept");
  g_heap.reset_peak();
  expect(g_heap.stats().high_water == 0 && g_heap.stats().peak_in_use == 0, "reset_peak: high water back to zero");
  g_heap.reset_stats();
  expect(g_heap.stats().allocations == 0 && g_heap.stats().frees == 0 && g_heap.stats().failed == 0,
         "reset_stats: counters zero");
  expect(g_heap.calloc(1, 8) == g_region + Heap::kHeaderBytes && g_heap.check().ok(),
         "the next block starts at the region's base");
}

void check_bad_frees() {
  fresh();
  auto* a = static_cast<std::byte*>(g_heap.calloc(1, 64));
  void* b = g_heap.calloc(1, 32);
  int on_stack = 0;
  snapshot();
  g_heap.free(&on_stack);
  g_heap.free(a + 4);
  expect(g_log.exactly(2, HeapFault::kBadFree) && unchanged(), "foreign and misaligned pointers: bad free");
  g_log.clear();
  for (const int fill : {0x00, 0x41, 0xFF}) {
    std::memset(a, fill, 64);
    snapshot();
    for (std::ptrdiff_t k = 8; k < 64; k += 8) g_heap.free(a + k);
  }
  expect(g_log.exactly(21, HeapFault::kBadFree) && unchanged(), "interior pointers at 8-byte multiples: bad free");
  g_log.clear();
  // Forged headers inside the live block a (issue 12): a block below, the target and a block above,
  // consistent with each other in the documented 8-byte layout, but not keyed with the heap's secret.
  const auto forge = [](std::byte* p, std::uint32_t size, std::uint32_t prev) {
    const std::uint32_t word = size | (3u << 1) | 1u;  // log2(8) << 1, in use
    std::memcpy(p, &word, 4);
    std::memcpy(p + 4, &prev, 4);
  };
  forge(a, 16, 0);
  forge(a + 16, 16, 16);
  forge(a + 32, 16, 16);
  snapshot();
  g_heap.free(a + 16 + Heap::kHeaderBytes);
  expect(g_log.exactly(1, HeapFault::kBadFree) && unchanged(), "forged headers inside a live block: bad free");
  g_log.clear();
  // A header forged at the first block's payload (offset 8: below any block's size from the region's
  // start) whose `prev` decodes to anything: free() must not look for a block below it.
  bool same = true;
  for (std::uint32_t k = 0; k < 64; ++k) {
    forge(a, 16, k * 0x9E3779B9u);
    snapshot();
    g_heap.free(a + Heap::kHeaderBytes);
    same = same && unchanged();
  }
  expect(g_log.exactly(64, HeapFault::kBadFree) && same, "forged headers at offset 8, any prev: bad free");
  g_log.clear();
  snapshot();
  g_heap.free(g_region + sizeof g_region - 64);
  g_heap.free(g_copy + 64);
  expect(g_log.exactly(2, HeapFault::kBadFree) && unchanged(), "wilderness and another buffer: bad free");
  g_log.clear();
  g_heap.free(a);
  g_heap.free(b);
  expect(g_log.count == 0 && g_heap.stats().live_blocks == 0, "the real blocks still free normally");
}

void check_double_frees() {
  fresh();
  void* a = g_heap.calloc(1, 40);
  void* b = g_heap.calloc(1, 40);
  void* guard = g_heap.calloc(1, 8);
  g_heap.free(a);
  snapshot();
  g_heap.free(a);
  expect(g_log.exactly(1, HeapFault::kDoubleFree) && unchanged() && g_heap.check().ok(),
         "double free of a free block");
  g_log.clear();
  g_heap.free(b);  // merged into the free block a below
  snapshot();
  g_heap.free(b);
  expect(g_log.exactly(1, HeapFault::kDoubleFree) && unchanged() && g_heap.check().ok(),
         "double free of a block merged into the free block below");
  g_log.clear();

  fresh();
  a = g_heap.calloc(1, 40);
  b = g_heap.calloc(1, 40);
  guard = g_heap.calloc(1, 8);
  g_heap.free(b);
  g_heap.free(a);  // absorbs b
  snapshot();
  g_heap.free(a);
  g_heap.free(b);
  expect(g_log.exactly(2, HeapFault::kDoubleFree) && unchanged() && g_heap.check().ok(),
         "double free of a block that absorbed the free block above, and of that block");
  g_log.clear();
  g_heap.free(guard);  // everything back to the wilderness
  snapshot();
  g_heap.free(guard);
  g_heap.free(a);
  g_heap.free(b);
  expect(g_log.exactly(3, HeapFault::kDoubleFree) && unchanged() && g_heap.stats().high_water > 0 &&
             g_heap.check().ok(),
         "double free of blocks given back to the wilderness");
}

void check_overwritten_headers() {
  fresh();
  void* a = g_heap.calloc(1, 32);
  void* b = g_heap.calloc(1, 32);
  void* c = g_heap.calloc(1, 32);
  const std::uint32_t word = size_word(b);
  std::byte saved[8];
  std::memcpy(saved, at(b, -8), 8);
  std::memset(at(a, 32), 0x41, 8);  // a 32-byte block's overrun: b's header
  snapshot();
  g_heap.free(b);
  expect(g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged() && !g_heap.check().ok(),
         "overrun into the next header: corrupt header");
  g_log.clear();
  std::memcpy(at(b, -8), saved, 8);
  set_size_word(b, word & ~6u);  // size and in-use bit intact, alignment field cleared
  snapshot();
  g_heap.free(b);
  expect(g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged() && !g_heap.check().ok(),
         "alignment field cleared: corrupt header");
  g_log.clear();
  set_size_word(b, (word & ~6u) | 2u);  // alignment field 1 instead of 3
  snapshot();
  g_heap.free(c);  // its neighbour below, b, is checked too
  expect(g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged(),
         "neighbour's alignment field wrong: corrupt header");
  g_log.clear();
  set_size_word(b, word);
  g_heap.free(b);
  g_heap.free(a);
  g_heap.free(c);
  expect(g_log.count == 0 && g_heap.stats().in_use == 0 && g_heap.check().ok(), "restored: all free normally");
}

std::uint32_t g_rng = 0x2545F491u;
std::uint32_t next_random() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng;
}

void check_corrupt_links() {
  // The audit's repro: a, b, c, guard; free(b); junk over b's links; free(a) must not follow them.
  fresh();
  void* a = g_heap.calloc(1, 32);
  void* b = g_heap.calloc(1, 32);
  void* c = g_heap.calloc(1, 32);
  void* guard = g_heap.calloc(1, 8);
  g_heap.free(b);
  const Links saved = links_of(b);
  expect(links_of(b).prev == 0 && is_end_mark(links_of(b).next), "a bin's only block: prev 0, next the end mark");
  std::memset(b, 0x5A, 8);
  snapshot();
  g_heap.free(a);
  expect(g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged() && !g_heap.check().ok(),
         "use after free over a free block's links, then free of its neighbour: corrupt header, nothing written");
  g_log.clear();
  expect(g_heap.calloc(1, 32) == nullptr && g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged(),
         "calloc of that bin's size (its first block, no walk): null, corrupt header, nothing written");
  g_log.clear();
  set_links(b, Links{0, 0});  // the end mark zeroed
  snapshot();
  expect(g_heap.calloc(1, 32) == nullptr && g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged(),
         "a bin's end mark zeroed: calloc follows it, corrupt header, nothing written");
  g_log.clear();
  set_links(b, saved);
  g_heap.free(a);
  g_heap.free(c);
  g_heap.free(guard);
  expect(g_log.count == 0 && g_heap.stats().in_use == 0 && g_heap.check().ok(), "links restored: heap recovers");

  // Each kind of bad link, on the last block b of the bin d -> b (blocks of 64 and 80 bytes, both in
  // the bin [64, 96)): a calloc of 88 bytes walks the bin, one of 64 ends its walk at b and takes it.
  struct Case {
    const char* name;
    Links links;
  };
  fresh();
  a = g_heap.calloc(1, 32);
  b = g_heap.calloc(1, 56);
  c = g_heap.calloc(1, 32);
  void* d = g_heap.calloc(1, 72);
  void* e = g_heap.calloc(1, 32);
  g_heap.free(b);
  g_heap.free(d);
  const std::uint32_t top = static_cast<std::uint32_t>(g_heap.stats().high_water);
  const std::uint32_t lb = link_to(b), lc = link_to(c), ld = link_to(d);
  const std::uint32_t end = links_of(b).next;
  expect(Heap::bin_of(64) == Heap::bin_of(80) && Heap::bin_of(64) == Heap::bin_of(88) && links_of(d).next == lb &&
             links_of(d).prev == 0 && links_of(b).prev == ld && is_end_mark(end),
         "bin d -> b, b's next the end mark");
  const Case cases[] = {
      {"bad link: next zeroed (the list cut short)", {0, ld}},
      {"bad link: next a guessed end mark", {end == 0x80000000u ? 0x80000008u : 0x80000000u, ld}},
      {"bad link: next far outside the region", {0x7FFFFFF1u, ld}},
      {"bad link: next in the wilderness", {top + 1, ld}},
      {"bad link: next misaligned", {lc + 4, ld}},
      {"bad link: next at a live block", {lc, ld}},
      {"bad link: next at itself", {lb, ld}},
      {"bad link: next not pointing back", {ld, ld}},
      {"bad link: prev claims head", {end, 0}},
      {"bad link: prev at a live block", {end, lc}},
      {"bad link: prev in the wilderness", {end, top + 1}},
  };
  for (const Case& test : cases) {
    set_links(b, test.links);
    snapshot();
    g_log.clear();
    g_heap.free(a);
    const bool walk_null = g_heap.calloc(1, 80) == nullptr;
    const bool exact_null = g_heap.calloc(1, 56) == nullptr;
    expect(walk_null && exact_null && g_log.exactly(3, HeapFault::kCorruptHeader) && unchanged() &&
               !g_heap.check().ok(),
           test.name);
  }
  set_links(b, Links{end, ld});
  g_log.clear();
  expect(g_heap.check().ok() && g_heap.calloc(1, 56) == b, "links restored: b is reused");
  (void)e;

  // A cycle: the best-fit walk must end.
  fresh();
  a = g_heap.calloc(1, 56);
  b = g_heap.calloc(1, 32);
  c = g_heap.calloc(1, 72);
  guard = g_heap.calloc(1, 8);
  g_heap.free(a);
  g_heap.free(c);  // the bin [64, 96): c -> a
  Links back = links_of(a);
  back.next = link_to(c);
  set_links(a, back);
  snapshot();
  expect(g_heap.calloc(1, 80) == nullptr && g_log.exactly(1, HeapFault::kCorruptHeader) && unchanged(),
         "cycle in a bin: calloc ends, corrupt header");
}

// The single best-fit list the heap had before its bins (single_list_model.hpp), 16-bit offsets (the
// region is at most 16 KB), with room for the blocks of kModelLive live ones.
constexpr unsigned kModelLive = board::kRamBytes >= 64 * 1024 ? 48 : 24;
SingleListModel<std::uint16_t, 2 * kModelLive + 8> g_model;

// Random calloc/free steps on the heap and on the model side by side: the same offset for every block
// (the heap model's calibration depends on it), the same high water and number of free blocks.
void check_same_placement() {
  fresh();
  g_model.reset(static_cast<std::uint32_t>(g_heap.stats().capacity));
  void* live[kModelLive];
  unsigned count = 0;
  std::uint32_t bad_step = 0;
  std::uint32_t reused = 0;
  for (std::uint32_t step = 1; step <= 3000 && bad_step == 0; ++step) {
    if (count == 0 || (count < kModelLive && next_random() % 100 < 52)) {
      const std::uint32_t kind = next_random() % 8;
      const std::size_t n = 1 + next_random() % (kind < 4 ? 120 : kind < 7 ? 600 : 3000);
      void* p = g_heap.calloc(1, n);
      const std::uint32_t expected = g_model.calloc(n);
      const std::uint32_t got =
          p == nullptr ? g_model.kNone : static_cast<std::uint32_t>(static_cast<std::byte*>(p) - g_region) - 8;
      if (got != expected) bad_step = step;
      if (p != nullptr && got == expected) {
        live[count++] = p;
        if (got + Heap::block_bytes(n) < g_model.top()) ++reused;
      } else if (p != nullptr) {
        g_heap.free(p);
      }
    } else {
      const unsigned i = next_random() % count;
      g_heap.free(live[i]);
      g_model.free(static_cast<std::uint32_t>(static_cast<std::byte*>(live[i]) - g_region) - 8);
      live[i] = live[--count];
    }
    const HeapStats s = g_heap.stats();
    if (s.high_water != g_model.high_water() || s.free_blocks != g_model.free_blocks() || g_log.count != 0 ||
        !g_heap.check().ok()) {
      bad_step = step;
    }
  }
  if (bad_step != 0) {
    board::host_printf("     same placement: step %lu differs\n", static_cast<unsigned long>(bad_step));
  }
  expect(bad_step == 0 && reused > 100,
         "3000 random steps: every block where the single best-fit list put it, same high water");
  for (unsigned i = 0; i < count; ++i) g_heap.free(live[i]);
}

// A few thousand random calloc/free steps against a model: no overlap, data preserved, statistics
// agree, check() consistent after every step.
struct Live {
  unsigned char* p;
  std::size_t n;
  unsigned char tag;
};


bool intact(const Live& l) {
  for (std::size_t k = 0; k < l.n; ++k) {
    if (l.p[k] != static_cast<unsigned char>(l.tag + k)) return false;
  }
  return true;
}

void check_random() {
  fresh();
  static Live live[96];
  std::size_t count = 0;
  std::size_t allocations = 0;
  std::size_t frees = 0;
  std::uint32_t bad_step = 0;
  const char* why = nullptr;
  for (std::uint32_t step = 1; step <= kRandomSteps && why == nullptr; ++step) {
    if (count == 0 || (count < 96 && next_random() % 100 < 55)) {
      const std::size_t n = 1 + next_random() % (next_random() % 8 == 0 ? 2000 : 160);
      auto* p = static_cast<unsigned char*>(g_heap.calloc(1, n));
      if (p != nullptr) {
        ++allocations;
        if (!aligned(p) || !all_zero(p, n)) why = "not aligned or not zeroed";
        if (p < reinterpret_cast<unsigned char*>(g_region) + 8 ||
            p + n > reinterpret_cast<unsigned char*>(g_region) + sizeof g_region) {
          why = "outside the region";
        }
        for (std::size_t i = 0; i < count; ++i) {
          if (!(p + n <= live[i].p || live[i].p + live[i].n <= p)) why = "overlap";
        }
        const auto tag = static_cast<unsigned char>(next_random());
        for (std::size_t k = 0; k < n; ++k) p[k] = static_cast<unsigned char>(tag + k);
        live[count++] = {p, n, tag};
      }
    } else {
      const std::size_t i = next_random() % count;
      g_heap.free(live[i].p);
      ++frees;
      live[i] = live[--count];
    }
    std::size_t payload = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (!intact(live[i])) why = "data lost";
      payload += (live[i].n < 8 ? 8 : (live[i].n + 7) / 8 * 8);
    }
    const HeapStats s = g_heap.stats();
    if (s.live_blocks != count || s.allocations != allocations || s.frees != frees) why = "counts disagree";
    if (s.in_use < payload || s.in_use > payload + count * 8 || s.arena_in_use != s.in_use + 8 * count) {
      why = "in_use disagrees";
    }
    if (s.free_blocks > count || s.free_blocks > s.capacity / 32) why = "free blocks above the bound";
    if (g_log.count != 0) why = "unexpected fault";
    if (!g_heap.check().ok()) why = "check() failed";
    if (why != nullptr) bad_step = step;
  }
  if (why != nullptr) board::host_printf("     random: step %lu: %s\n", static_cast<unsigned long>(bad_step), why);
  expect(why == nullptr, "4000 random calloc/free steps against a model, check() after each");
  for (std::size_t i = 0; i < count; ++i) g_heap.free(live[i].p);
  const HeapStats end = g_heap.stats();
  expect(g_log.count == 0 && end.in_use == 0 && end.free_blocks == 0 && g_heap.check().ok(),
         "random run freed: nothing in use, nothing fragmented");
}

}  // namespace

int main() {
  board::host_printf("tlsgen::Heap selftest on Cortex-M (%u-byte header, %u-byte alignment)\n",
                     static_cast<unsigned>(Heap::kHeaderBytes), static_cast<unsigned>(Heap::kAlignment));
  check_layout();
  check_init();
  check_alignment_and_zeroing();
  check_zeroing_every_size();
  check_calloc_limits();
  check_coalescing_and_stats();
  check_bad_frees();
  check_double_frees();
  check_overwritten_headers();
  check_corrupt_links();
  check_same_placement();
  check_random();
  if (g_failures != 0) {
    board::host_printf("HEAP SELFTEST FAIL %u of %u checks\n", g_failures, g_checks);
    return 1;
  }
  board::host_printf("HEAP SELFTEST PASS %u checks\n", g_checks);
  return 0;
}
