#include "tlsgen/heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using tlsgen::Heap;
using tlsgen::HeapFault;

struct FaultLog {
  std::vector<HeapFault> faults;
  static void record(HeapFault fault, const void*, void* context) {
    static_cast<FaultLog*>(context)->faults.push_back(fault);
  }
};

class HeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(heap.init(region).ok());
    heap.set_fault_handler(&FaultLog::record, &log);
  }
  alignas(64) std::array<std::byte, 4096> region{};
  Heap heap;
  FaultLog log;
};

bool all_zero(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
}

// White-box view of the layout heap.hpp documents, for the corruption tests: a block's header sits
// kHeaderBytes before its payload and starts with the size word (size | log2(kAlignment) << 1 |
// in-use bit); a free block's first payload bytes hold its list links {next, prev}, each the
// block's offset from the (aligned) region start + 1, 0 ending the list.
struct Links {
  std::uint32_t next;
  std::uint32_t prev;
};

std::uint32_t size_word(const void* payload) {
  std::uint32_t word;
  std::memcpy(&word, static_cast<const std::byte*>(payload) - Heap::kHeaderBytes, sizeof word);
  return word;
}

void set_size_word(void* payload, std::uint32_t word) {
  std::memcpy(static_cast<std::byte*>(payload) - Heap::kHeaderBytes, &word, sizeof word);
}

Links links_of(const void* payload) {
  Links links;
  std::memcpy(&links, payload, sizeof links);
  return links;
}

void set_links(void* payload, Links links) { std::memcpy(payload, &links, sizeof links); }

// The list link that names the block whose payload is `payload` in a region starting at `base`.
std::uint32_t link_to(const void* base, const void* payload) {
  return static_cast<std::uint32_t>(static_cast<const std::byte*>(payload) - Heap::kHeaderBytes -
                                    static_cast<const std::byte*>(base)) +
         1;
}

constexpr std::uint32_t kAlignShift = static_cast<std::uint32_t>(std::countr_zero(Heap::kAlignment));

bool same_stats(const tlsgen::HeapStats& a, const tlsgen::HeapStats& b) {
  return a.capacity == b.capacity && a.in_use == b.in_use && a.peak_in_use == b.peak_in_use &&
         a.arena_in_use == b.arena_in_use && a.peak_arena_in_use == b.peak_arena_in_use &&
         a.high_water == b.high_water && a.live_blocks == b.live_blocks &&
         a.peak_live_blocks == b.peak_live_blocks && a.free_blocks == b.free_blocks && a.failed == b.failed &&
         a.allocations == b.allocations && a.frees == b.frees;
}

// The whole observable state of a heap: its region's bytes and its statistics. A fault must leave
// both exactly as they were.
struct Snapshot {
  std::vector<std::byte> bytes;
  tlsgen::HeapStats stats;
  Snapshot(std::span<const std::byte> region, const Heap& heap)
      : bytes(region.begin(), region.end()), stats(heap.stats()) {}
  bool same(std::span<const std::byte> region, const Heap& heap) const {
    return std::equal(bytes.begin(), bytes.end(), region.begin(), region.end()) && same_stats(stats, heap.stats());
  }
};

TEST(Heap, BlockBytes_IsHeaderPlusAlignedPayload) {
  EXPECT_EQ(Heap::block_bytes(1), Heap::kHeaderBytes + std::max(Heap::kMinPayload, Heap::kAlignment));
  EXPECT_EQ(Heap::block_bytes(Heap::kAlignment * 3), Heap::kHeaderBytes + Heap::kAlignment * 3);
  EXPECT_EQ(Heap::block_bytes(Heap::kAlignment * 3 + 1), Heap::kHeaderBytes + Heap::kAlignment * 4);
}

TEST(Heap, InitNullOrTinyRegion_IsInvalidArgument) {
  Heap heap;
  EXPECT_EQ(heap.init({}).code(), tlsgen::Code::kInvalidArgument);
  std::array<std::byte, 8> tiny{};
  EXPECT_EQ(heap.init(tiny).code(), tlsgen::Code::kInvalidArgument);
  EXPECT_EQ(heap.calloc(1, 1), nullptr);  // not initialised
}

TEST(Heap, UnalignedRegion_IsAlignedInternally) {
  alignas(64) std::array<std::byte, 1024> raw{};
  Heap heap;
  ASSERT_TRUE(heap.init(std::span(raw).subspan(3)).ok());
  void* p = heap.calloc(1, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % Heap::kAlignment, 0u);
  EXPECT_LE(heap.stats().capacity, raw.size() - 3);
}

TEST_F(HeapTest, Calloc_ReturnsZeroedAlignedMemory) {
  std::memset(region.data(), 0xAB, region.size());
  ASSERT_TRUE(heap.init(region).ok());
  for (std::size_t n : {1u, 7u, 16u, 33u, 100u}) {
    void* p = heap.calloc(n, 3);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % Heap::kAlignment, 0u);
    EXPECT_TRUE(all_zero(p, n * 3));
  }
}

TEST_F(HeapTest, ReusedBlock_IsZeroedAgain) {
  void* p = heap.calloc(1, 64);
  std::memset(p, 0xFF, 64);
  heap.free(p);
  void* q = heap.calloc(1, 64);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(all_zero(q, 64));
}

TEST_F(HeapTest, CallocOverflow_ReturnsNull) {
  EXPECT_EQ(heap.calloc(SIZE_MAX, 2), nullptr);
  EXPECT_EQ(heap.calloc(SIZE_MAX / 2 + 1, 2), nullptr);
  EXPECT_EQ(heap.calloc(1u << 20, 1u << 20), nullptr);
  EXPECT_EQ(heap.stats().failed, 3u);
  EXPECT_EQ(heap.stats().live_blocks, 0u);
}

TEST_F(HeapTest, CallocZero_ReturnsNullWithoutCountingAFailure) {
  EXPECT_EQ(heap.calloc(0, 8), nullptr);
  EXPECT_EQ(heap.calloc(8, 0), nullptr);
  EXPECT_EQ(heap.stats().failed, 0u);
}

TEST_F(HeapTest, FreeNull_IsANoOp) {
  heap.free(nullptr);
  EXPECT_TRUE(log.faults.empty());
  EXPECT_EQ(heap.stats().frees, 0u);
}

TEST_F(HeapTest, FreedNeighbours_Coalesce) {
  void* a = heap.calloc(1, 100);
  void* b = heap.calloc(1, 100);
  void* c = heap.calloc(1, 100);
  void* guard = heap.calloc(1, 8);  // keeps a..c off the wilderness
  ASSERT_TRUE(a && b && c && guard);
  heap.free(b);
  heap.free(a);  // merges with b
  EXPECT_EQ(heap.stats().free_blocks, 1u);
  // One block now holds both: a request for a+b's payload lands at a.
  void* ab = heap.calloc(1, 2 * 100 + Heap::kHeaderBytes - Heap::kAlignment);
  EXPECT_EQ(ab, a);
  heap.free(c);
  heap.free(ab);
  heap.free(guard);
  EXPECT_EQ(heap.stats().free_blocks, 0u);
  EXPECT_EQ(heap.stats().in_use, 0u);
  EXPECT_TRUE(heap.check().ok());
}

TEST_F(HeapTest, Exhaustion_ReturnsNullThenRecovers) {
  std::vector<void*> blocks;
  for (void* p; (p = heap.calloc(1, 200)) != nullptr;) blocks.push_back(p);
  EXPECT_GT(blocks.size(), 10u);
  EXPECT_EQ(heap.stats().failed, 1u);
  for (void* p : blocks) heap.free(p);
  EXPECT_EQ(heap.stats().in_use, 0u);
  EXPECT_NE(heap.calloc(1, 3000), nullptr);
}

TEST_F(HeapTest, Stats_TrackPeakAndReset) {
  void* a = heap.calloc(1, 100);
  void* b = heap.calloc(1, 300);
  const auto peak = heap.stats();
  EXPECT_EQ(peak.live_blocks, 2u);
  EXPECT_EQ(peak.arena_in_use, Heap::block_bytes(100) + Heap::block_bytes(300));
  EXPECT_EQ(peak.high_water, peak.arena_in_use);
  heap.free(b);
  EXPECT_EQ(heap.stats().peak_arena_in_use, peak.arena_in_use);
  EXPECT_EQ(heap.stats().peak_live_blocks, 2u);
  heap.reset_peak();
  EXPECT_EQ(heap.stats().peak_arena_in_use, Heap::block_bytes(100));
  EXPECT_EQ(heap.stats().high_water, Heap::block_bytes(100));
  heap.free(a);
  heap.reset_stats();
  EXPECT_EQ(heap.stats().allocations, 0u);
  EXPECT_EQ(heap.stats().peak_in_use, 0u);
}

TEST_F(HeapTest, DoubleFree_IsReportedAndHarmless) {
  void* a = heap.calloc(1, 40);
  void* b = heap.calloc(1, 40);
  heap.free(a);
  heap.free(a);
  ASSERT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(log.faults[0], HeapFault::kDoubleFree);
  EXPECT_TRUE(heap.check().ok());
  heap.free(b);
  EXPECT_EQ(heap.stats().in_use, 0u);
}

TEST_F(HeapTest, ForeignPointer_IsBadFree) {
  int on_stack = 0;
  heap.free(&on_stack);
  void* a = heap.calloc(1, 64);
  heap.free(static_cast<char*>(a) + 8);  // inside a block, not its start
  heap.free(region.data() + region.size() - 16);  // beyond the used part
  ASSERT_GE(log.faults.size(), 3u);
  EXPECT_EQ(log.faults[0], HeapFault::kBadFree);
  EXPECT_NE(std::find(log.faults.begin() + 1, log.faults.end(), HeapFault::kBadFree), log.faults.end());
  EXPECT_EQ(heap.stats().live_blocks, 1u);
  heap.free(a);
  EXPECT_EQ(heap.stats().live_blocks, 0u);
}

TEST_F(HeapTest, OverwrittenHeader_IsCorruptHeader) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* c = heap.calloc(1, 32);
  // A buffer overrun of a writes into b's header.
  std::memset(static_cast<char*>(a) + (Heap::block_bytes(32) - Heap::kHeaderBytes), 0x41, Heap::kHeaderBytes);
  heap.free(b);
  ASSERT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(log.faults[0], HeapFault::kCorruptHeader);
  EXPECT_FALSE(heap.check().ok());
  (void)c;
}

TEST(Heap, SizeWord_EncodesAlignmentAndUse) {
  alignas(64) std::array<std::byte, 1024> region{};
  Heap heap;
  ASSERT_TRUE(heap.init(region).ok());
  void* a = heap.calloc(1, 40);
  void* guard = heap.calloc(1, 8);  // keeps a off the wilderness once freed
  ASSERT_TRUE(a && guard);
  EXPECT_EQ(size_word(a), Heap::block_bytes(40) | kAlignShift << 1 | 1u);
  heap.free(a);
  EXPECT_EQ(size_word(a), Heap::block_bytes(40) | kAlignShift << 1);
  EXPECT_TRUE(heap.check().ok());
}

TEST_F(HeapTest, OverwrittenAlignmentBits_IsCorruptHeaderAndHeapUnchanged) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* c = heap.calloc(1, 32);
  ASSERT_TRUE(a && b && c);
  const std::uint32_t word = size_word(b);
  // Size and in-use bit intact, alignment field cleared / changed.
  for (const std::uint32_t bad : {word & ~(kAlignShift << 1), (word & ~(kAlignShift << 1)) | 2u}) {
    set_size_word(b, bad);
    const Snapshot before(region, heap);
    heap.free(b);
    ASSERT_EQ(log.faults.size(), 1u);
    EXPECT_EQ(log.faults[0], HeapFault::kCorruptHeader);
    EXPECT_TRUE(before.same(region, heap));
    EXPECT_EQ(heap.check().code(), tlsgen::Code::kDataLoss);
    log.faults.clear();
  }
  set_size_word(b, word);
  EXPECT_TRUE(heap.check().ok());
  heap.free(b);
  heap.free(a);
  heap.free(c);
  EXPECT_TRUE(log.faults.empty());
  EXPECT_EQ(heap.stats().in_use, 0u);
}

// The audit's repro: a use after free overwrites a free block's list links; freeing its neighbour
// must not follow them out of the region (it did: a wild write in unlink_free under ASan).
TEST_F(HeapTest, UseAfterFreeOfLinks_FreeIsCorruptHeaderAndWritesNothing) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* c = heap.calloc(1, 32);
  void* guard = heap.calloc(1, 8);
  ASSERT_TRUE(a && b && c && guard);
  heap.free(b);
  const Links saved = links_of(b);
  std::memset(b, 0x5A, 8);
  const Snapshot before(region, heap);
  heap.free(a);
  ASSERT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(log.faults[0], HeapFault::kCorruptHeader);
  EXPECT_TRUE(before.same(region, heap));
  EXPECT_EQ(heap.check().code(), tlsgen::Code::kDataLoss);
  set_links(b, saved);
  heap.free(a);
  heap.free(c);
  heap.free(guard);
  EXPECT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(heap.stats().in_use, 0u);
  EXPECT_TRUE(heap.check().ok());
}

// The payload of a block of `units` * kAlignment bytes (header included): bins are size classes in
// those units (heap.hpp, "Free lists"): one per size below 8 units, then [8, 12), [12, 16), ...
std::size_t payload_of_units(std::size_t units) { return units * Heap::kAlignment - Heap::kHeaderBytes; }

// The end mark a bin's last block has as `next` (heap.hpp): no link can take it.
bool is_end_mark(std::uint32_t link) {
  return (link & 0x80000000u) != 0 && link % Heap::kAlignment == 0;
}

// Every way a free block's links can be wrong, for the last block b of the bin d -> b (d and b of
// different sizes in one size class, [8, 12) units). Each must be caught by free (unlinking b), by
// calloc's best-fit walk of that bin, and by calloc taking b itself.
TEST_F(HeapTest, CorruptFreeLinks_AreCorruptHeaderAndHeapUnchanged) {
  struct Blocks {
    void *a, *b, *c, *d, *e;
  };
  const std::size_t small = payload_of_units(8), large = payload_of_units(10);
  ASSERT_EQ(Heap::bin_of(Heap::block_bytes(small)), Heap::bin_of(Heap::block_bytes(large)));
  ASSERT_EQ(Heap::bin_of(Heap::block_bytes(payload_of_units(11))), Heap::bin_of(Heap::block_bytes(small)));
  auto setup = [&] {  // a b c d e, then b and d freed: the bin is d -> b
    EXPECT_TRUE(heap.init(region).ok());
    EXPECT_TRUE(heap.set_secret(0x5EC2E7u).ok());
    Blocks k{heap.calloc(1, 32), heap.calloc(1, small), heap.calloc(1, 32), heap.calloc(1, large), heap.calloc(1, 32)};
    EXPECT_TRUE(k.a && k.b && k.c && k.d && k.e);
    heap.free(k.b);
    heap.free(k.d);
    return k;
  };
  const Blocks first = setup();
  const std::uint32_t b = link_to(region.data(), first.b);
  const std::uint32_t c = link_to(region.data(), first.c);
  const std::uint32_t d = link_to(region.data(), first.d);
  const auto top = static_cast<std::uint32_t>(heap.stats().high_water);
  ASSERT_EQ(links_of(first.d).next, b);
  ASSERT_EQ(links_of(first.d).prev, 0u);
  ASSERT_EQ(links_of(first.b).prev, d);
  const std::uint32_t end = links_of(first.b).next;
  ASSERT_TRUE(is_end_mark(end)) << end;
  const std::uint32_t guessed_end = 0x80000000u == end ? 0x80000008u : 0x80000000u;
  const struct {
    const char* name;
    Links links;  // b's {next, prev}; the correct value is {end, d}
  } cases[] = {
      {"junk", {0xEEEEEEEEu, 0xEEEEEEEEu}},
      {"next zeroed (the list cut short)", {0, d}},
      {"next a guessed end mark", {guessed_end, d}},
      {"next far outside", {0x7FFFFFF1u, d}},
      {"next in the wilderness", {top + 1, d}},
      {"next misaligned", {c + 4, d}},
      {"next at a live block", {c, d}},
      {"next at itself", {b, d}},
      {"next not pointing back", {d, d}},
      {"prev claims head", {end, 0}},
      {"prev zeroed, next too", {0, 0}},
      {"prev at a live block", {end, c}},
      {"prev misaligned", {end, d + 4}},
      {"prev in the wilderness", {end, top + 1}},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.name);
    const Blocks k = setup();
    ASSERT_EQ(k.b, first.b);
    const Links saved = links_of(k.b);
    set_links(k.b, test.links);
    const Snapshot before(region, heap);
    log.faults.clear();
    heap.free(k.a);                                           // unlinks b to merge
    EXPECT_EQ(heap.calloc(1, payload_of_units(11)), nullptr);  // walks the bin: d, b, and on
    EXPECT_EQ(heap.calloc(1, small), nullptr);                // the walk ends at b (exact), then takes it
    ASSERT_EQ(log.faults.size(), 3u);
    for (HeapFault fault : log.faults) EXPECT_EQ(fault, HeapFault::kCorruptHeader);
    EXPECT_TRUE(before.same(region, heap));
    EXPECT_EQ(heap.check().code(), tlsgen::Code::kDataLoss);
    set_links(k.b, saved);
    EXPECT_TRUE(heap.check().ok());
    EXPECT_EQ(heap.calloc(1, small), k.b);
  }
}

// The first block of a bin: calloc takes it without a walk (a bin of one size), free puts a block in
// front of it. Its links are checked either way.
TEST_F(HeapTest, CorruptBinHead_IsCorruptHeaderAndHeapUnchanged) {
  const std::size_t n = payload_of_units(5);  // a bin of one size
  for (const bool zero_next : {false, true}) {
    SCOPED_TRACE(zero_next ? "next (the end mark) zeroed" : "prev rewritten");
    ASSERT_TRUE(heap.init(region).ok());
    void* x = heap.calloc(1, n);
    void* guard1 = heap.calloc(1, 8);
    void* y = heap.calloc(1, n);
    void* guard2 = heap.calloc(1, 8);
    ASSERT_TRUE(x && guard1 && y && guard2);
    heap.free(x);  // the bin: x alone
    ASSERT_TRUE(is_end_mark(links_of(x).next));
    ASSERT_EQ(links_of(x).prev, 0u);
    const Links saved = links_of(x);
    set_links(x, zero_next ? Links{0, 0} : Links{saved.next, link_to(region.data(), y)});
    const Snapshot before(region, heap);
    log.faults.clear();
    EXPECT_EQ(heap.calloc(1, n), nullptr);  // takes x
    heap.free(y);                           // goes in front of x
    ASSERT_EQ(log.faults.size(), zero_next ? 1u : 2u);  // (a zeroed `next` is only followed by the taking)
    for (HeapFault fault : log.faults) EXPECT_EQ(fault, HeapFault::kCorruptHeader);
    if (zero_next) {
      // free(y) did not follow x's `next`: y went in front of x. The taking follows it and refuses.
      EXPECT_EQ(heap.calloc(1, n), y);
      EXPECT_EQ(heap.calloc(1, n), nullptr);
      ASSERT_EQ(log.faults.size(), 2u);
      EXPECT_EQ(log.faults[1], HeapFault::kCorruptHeader);
      heap.free(y);
    } else {
      EXPECT_TRUE(before.same(region, heap));
    }
    EXPECT_EQ(heap.check().code(), tlsgen::Code::kDataLoss);
    set_links(x, saved);
    if (zero_next) {  // y is in front of x again
      Links fixed = links_of(x);
      fixed.prev = link_to(region.data(), y);
      set_links(x, fixed);
    }
    EXPECT_TRUE(heap.check().ok());
  }
}

// A fresh heap with two free blocks in the bin [8, 12) units, c -> a, and b live between them (a guard
// block above keeps c off the wilderness): the start of the free-list corruption cases below.
void two_free_blocks_in_one_bin(Heap& heap, std::span<std::byte> region, void*& a, void*& b, void*& c) {
  ASSERT_TRUE(heap.init(region).ok());
  a = heap.calloc(1, payload_of_units(8));
  b = heap.calloc(1, 32);
  c = heap.calloc(1, payload_of_units(10));
  void* guard = heap.calloc(1, 8);
  ASSERT_TRUE(a && b && c && guard);
  heap.free(a);
  heap.free(c);
}

TEST_F(HeapTest, TruncatedFreeList_IsCorruptHeaderAndHeapUnchanged) {
  for (const bool at_tail : {false, true}) {
    SCOPED_TRACE(at_tail ? "the last block's end mark zeroed" : "the first block's next zeroed");
    void *a = nullptr, *b = nullptr, *c = nullptr;
    ASSERT_NO_FATAL_FAILURE(two_free_blocks_in_one_bin(heap, region, a, b, c));
    Links cut = links_of(at_tail ? a : c);
    cut.next = 0;  // a zeroed link: not the end mark
    set_links(at_tail ? a : c, cut);
    const Snapshot before(region, heap);
    log.faults.clear();
    EXPECT_EQ(heap.calloc(1, 16), nullptr);  // c fits, but the walk of its bin meets the zeroed link
    heap.free(b);                            // merges a, c and b: unlinks both
    ASSERT_EQ(log.faults.size(), 2u);
    EXPECT_EQ(log.faults[0], HeapFault::kCorruptHeader);
    EXPECT_EQ(log.faults[1], HeapFault::kCorruptHeader);
    EXPECT_TRUE(before.same(region, heap));
    EXPECT_FALSE(heap.check().ok());
  }
}

TEST_F(HeapTest, FreeListCycle_CallocEndsWithCorruptHeader) {
  for (const bool self_loop : {false, true}) {
    SCOPED_TRACE(self_loop ? "self loop" : "two-block cycle");
    void *a = nullptr, *b = nullptr, *c = nullptr;
    ASSERT_NO_FATAL_FAILURE(two_free_blocks_in_one_bin(heap, region, a, b, c));
    Links links = links_of(self_loop ? c : a);
    links.next = link_to(region.data(), c);
    set_links(self_loop ? c : a, links);
    const Snapshot before(region, heap);
    log.faults.clear();
    EXPECT_EQ(heap.calloc(1, payload_of_units(11)), nullptr);  // fits no block of the bin: walks all of it
    ASSERT_EQ(log.faults.size(), 1u);
    EXPECT_EQ(log.faults[0], HeapFault::kCorruptHeader);
    EXPECT_TRUE(before.same(region, heap));
    EXPECT_FALSE(heap.check().ok());
  }
}

// Links that cross from one bin into another: each list is still consistent link by link, but a
// block sits in a bin its size does not belong to. check() sees it.
TEST_F(HeapTest, BlockInTheWrongBin_CheckIsDataLoss) {
  void* x = heap.calloc(1, payload_of_units(5));
  void* g1 = heap.calloc(1, 8);
  void* y = heap.calloc(1, payload_of_units(9));
  void* g2 = heap.calloc(1, 8);
  ASSERT_TRUE(x && g1 && y && g2);
  ASSERT_NE(Heap::bin_of(5 * Heap::kAlignment), Heap::bin_of(9 * Heap::kAlignment));
  heap.free(x);
  heap.free(y);  // two bins of one block each
  ASSERT_TRUE(heap.check().ok());
  const Links xs = links_of(x), ys = links_of(y);
  set_links(x, Links{link_to(region.data(), y), 0});  // x -> y in x's bin
  set_links(y, Links{xs.next, link_to(region.data(), x)});
  EXPECT_EQ(heap.check().code(), tlsgen::Code::kDataLoss);
  set_links(x, xs);
  set_links(y, ys);
  EXPECT_TRUE(heap.check().ok());
}

TEST(Heap, Bins_SizeClasses) {
  const std::size_t a = Heap::kAlignment;
  EXPECT_EQ(Heap::bin_of(Heap::block_bytes(1)), 0u);
  for (std::size_t units = Heap::block_bytes(1) / a; units < 8; ++units) {
    EXPECT_EQ(Heap::bin_of(units * a), units - Heap::block_bytes(1) / a) << units;  // one bin per size
  }
  const unsigned first_range = Heap::bin_of(8 * a);
  EXPECT_EQ(Heap::bin_of(11 * a), first_range);
  EXPECT_EQ(Heap::bin_of(12 * a), first_range + 1);
  EXPECT_EQ(Heap::bin_of(15 * a), first_range + 1);
  EXPECT_EQ(Heap::bin_of(16 * a), first_range + 2);
  EXPECT_EQ(Heap::bin_of(24 * a), first_range + 3);
  EXPECT_EQ(Heap::bin_of(Heap::kMaxRegion - a), Heap::kBins - 1);
  unsigned last = 0;
  for (std::size_t size = Heap::block_bytes(1); size < (std::size_t{1} << 20); size += a) {
    const unsigned bin = Heap::bin_of(size);
    ASSERT_TRUE(bin == last || bin == last + 1) << size;  // in order, none skipped
    last = bin;
  }
  EXPECT_EQ(last, Heap::kBins - 1);
}

// Double frees, in each state the first free can leave the block in.
TEST_F(HeapTest, DoubleFreeOfBlockMergedIntoFreeBlockBelow_IsDoubleFree) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* guard = heap.calloc(1, 8);
  ASSERT_TRUE(a && b && guard);
  heap.free(a);
  heap.free(b);  // absorbed by the free block a
  const Snapshot before(region, heap);
  heap.free(b);
  ASSERT_EQ(log.faults.size(), 1u);
  EXPECT_EQ(log.faults[0], HeapFault::kDoubleFree);
  EXPECT_TRUE(before.same(region, heap));
  EXPECT_TRUE(heap.check().ok());
}

TEST_F(HeapTest, DoubleFreeOfBlocksMergedWithFreeBlockAbove_IsDoubleFree) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* guard = heap.calloc(1, 8);
  ASSERT_TRUE(a && b && guard);
  heap.free(b);
  heap.free(a);  // absorbs the free block b
  const Snapshot before(region, heap);
  heap.free(a);
  heap.free(b);
  ASSERT_EQ(log.faults.size(), 2u);
  EXPECT_EQ(log.faults[0], HeapFault::kDoubleFree);
  EXPECT_EQ(log.faults[1], HeapFault::kDoubleFree);
  EXPECT_TRUE(before.same(region, heap));
  EXPECT_TRUE(heap.check().ok());
}

TEST_F(HeapTest, DoubleFreeOfBlockGivenBackToWilderness_IsDoubleFree) {
  void* a = heap.calloc(1, 32);
  void* b = heap.calloc(1, 32);
  void* c = heap.calloc(1, 32);
  ASSERT_TRUE(a && b && c);
  heap.free(c);  // the top block: back to the wilderness
  heap.free(a);
  heap.free(b);  // merges with a below, and the result goes back to the wilderness
  EXPECT_EQ(heap.stats().free_blocks, 0u);
  const Snapshot before(region, heap);
  heap.free(c);
  heap.free(b);
  heap.free(a);
  ASSERT_EQ(log.faults.size(), 3u);
  for (HeapFault fault : log.faults) EXPECT_EQ(fault, HeapFault::kDoubleFree);
  EXPECT_TRUE(before.same(region, heap));
  EXPECT_TRUE(heap.check().ok());
}

// Issue 12, item 6: an attacker who controls a live block's bytes writes headers into it that follow
// the documented layout (with the formerly public check constant on 64-bit) -- a block below, the
// target and a block above, consistent with each other -- and frees the target. The heap must see
// through it: the headers carry a per-heap secret (mixed with their offset), which a forger does not
// know.
void forge_header(std::byte* at, std::uint32_t size, std::uint32_t prev) {
  const std::uint32_t word = size | (kAlignShift << 1) | 1u;  // in use
  std::memcpy(at, &word, 4);
  std::memcpy(at + 4, &prev, 4);
  if constexpr (Heap::kHeaderBytes == 16) {
    const std::uint32_t check = word ^ prev ^ 0x7153E1A5u;  // the constant heap.cpp used to have
    const auto align = static_cast<std::uint32_t>(Heap::kAlignment);
    std::memcpy(at + 8, &check, 4);
    std::memcpy(at + 12, &align, 4);
  }
}

TEST_F(HeapTest, ForgedHeadersInsideALiveBlock_FreeIsRefused) {
  const std::size_t unit = Heap::block_bytes(1);
  auto* a = static_cast<std::byte*>(heap.calloc(1, 8 * unit));
  void* b = heap.calloc(1, 32);
  ASSERT_TRUE(a && b);
  forge_header(a, static_cast<std::uint32_t>(unit), 0);                    // below: "the first block"... or not
  forge_header(a + unit, static_cast<std::uint32_t>(unit), static_cast<std::uint32_t>(unit));  // the target
  forge_header(a + 2 * unit, static_cast<std::uint32_t>(unit), static_cast<std::uint32_t>(unit));  // above
  // The real header below `a` says "a block of 8 units + header"; the forged one at `a` claims to be a
  // whole block of its own, so the walk from the target reaches only forged headers.
  const Snapshot before(region, heap);
  heap.free(a + unit + Heap::kHeaderBytes);
  ASSERT_EQ(log.faults.size(), 1u) << "a forged header inside a live block was accepted by free()";
  EXPECT_EQ(log.faults[0], HeapFault::kBadFree);
  EXPECT_TRUE(before.same(region, heap));
  // Nothing of `a` can be handed out again while it is live.
  void* c = heap.calloc(1, 16);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(static_cast<std::byte*>(c) >= a + 8 * unit || static_cast<std::byte*>(c) < a);
  heap.free(c);
  heap.free(a);
  heap.free(b);
  EXPECT_EQ(heap.stats().live_blocks, 0u);
  EXPECT_TRUE(heap.check().ok());
}

TEST(HeapSecret, SetOnlyWhileEmpty_AndHeadersDependOnIt) {
  alignas(64) std::array<std::byte, 1024> r1{}, r2{};
  Heap h1, h2;
  ASSERT_TRUE(h1.init(r1).ok());
  ASSERT_TRUE(h2.init(r2).ok());
  ASSERT_TRUE(h1.set_secret(0x0123456789ABCDEFull).ok());
  ASSERT_TRUE(h2.set_secret(0xFEDCBA9876543210ull).ok());
  void* p1 = h1.calloc(1, 40);
  void* p2 = h2.calloc(1, 40);
  ASSERT_TRUE(p1 && p2);
  // Same request at the same offset: only the secret differs, and so do the stored headers.
  EXPECT_NE(std::memcmp(static_cast<std::byte*>(p1) - Heap::kHeaderBytes, static_cast<std::byte*>(p2) - Heap::kHeaderBytes,
                        Heap::kHeaderBytes),
            0);
  EXPECT_EQ(h1.set_secret(1).code(), tlsgen::Code::kFailedPrecondition);  // blocks are live
  h1.free(p1);
  h2.free(p2);
  EXPECT_TRUE(h1.set_secret(1).ok());  // empty again
  void* q = h1.calloc(1, 40);
  ASSERT_NE(q, nullptr);
  h1.free(q);
  EXPECT_TRUE(h1.check().ok());
  EXPECT_EQ(h1.stats().live_blocks, 0u);
}

TEST_F(HeapTest, InteriorPointerAtAlignment_IsBadFree) {
  auto* a = static_cast<unsigned char*>(heap.calloc(1, 8 * Heap::kAlignment));
  void* b = heap.calloc(1, 32);
  ASSERT_TRUE(a && b);
  for (const int fill : {0x00, 0x41, 0xFF}) {
    std::memset(a, fill, 8 * Heap::kAlignment);
    const Snapshot before(region, heap);
    for (std::size_t k = 1; k < 8; ++k) heap.free(a + k * Heap::kAlignment);
    ASSERT_EQ(log.faults.size(), 7u) << fill;
    for (HeapFault fault : log.faults) EXPECT_EQ(fault, HeapFault::kBadFree) << fill;
    EXPECT_TRUE(before.same(region, heap));
    log.faults.clear();
  }
  heap.free(a);
  heap.free(b);
  EXPECT_TRUE(log.faults.empty());
  EXPECT_EQ(heap.stats().live_blocks, 0u);
}

TEST_F(HeapTest, WildernessIsUsedOnlyWhenNoFreeBlockFits) {
  void* a = heap.calloc(1, 256);
  void* b = heap.calloc(1, 8);
  heap.free(a);
  const std::size_t top = heap.stats().high_water;
  void* c = heap.calloc(1, 64);  // fits the freed block: must not grow the used area
  EXPECT_EQ(c, a);
  EXPECT_EQ(heap.stats().high_water, top);
  heap.free(b);
  heap.free(c);
  EXPECT_TRUE(heap.check().ok());
}

TEST_F(HeapTest, Observer_SeesEveryCallocAndFree) {
  struct Seen {
    std::vector<std::pair<std::size_t, std::size_t>> events;  // (request, block)
  } seen;
  heap.set_observer(
      [](void* ctx, const void*, std::size_t request, std::size_t block) {
        static_cast<Seen*>(ctx)->events.emplace_back(request, block);
      },
      &seen);
  void* a = heap.calloc(3, 10);
  heap.free(a);
  heap.free(nullptr);
  heap.set_observer(nullptr, nullptr);
  void* b = heap.calloc(1, 1);
  heap.free(b);
  ASSERT_EQ(seen.events.size(), 2u);
  EXPECT_EQ(seen.events[0], std::make_pair(std::size_t{30}, Heap::block_bytes(30)));
  EXPECT_EQ(seen.events[1], std::make_pair(std::size_t{0}, Heap::block_bytes(30)));
}

// Random calloc/free sequences against a model: no overlap, contents preserved, counts agree.
TEST(Heap, RandomSequences_MatchModel) {
  alignas(64) static std::array<std::byte, 64 * 1024> region;
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    Heap heap;
    ASSERT_TRUE(heap.init(region).ok());
    struct Live {
      unsigned char* p;
      std::size_t n;
      unsigned char tag;
    };
    std::vector<Live> live;
    std::size_t payload = 0;
    for (int step = 0; step < 3000; ++step) {
      if (live.empty() || rng() % 100 < 55) {
        const std::size_t n = 1 + rng() % (rng() % 8 == 0 ? 3000 : 200);
        auto* p = static_cast<unsigned char*>(heap.calloc(1, n));
        if (p == nullptr) continue;
        ASSERT_TRUE(all_zero(p, n));
        const auto tag = static_cast<unsigned char>(rng());
        std::memset(p, tag, n);
        for (const Live& other : live) {
          ASSERT_TRUE(p + n <= other.p || other.p + other.n <= p) << "overlap";
        }
        live.push_back({p, n, tag});
        payload += (std::max(n, Heap::kMinPayload) + Heap::kAlignment - 1) / Heap::kAlignment * Heap::kAlignment;
      } else {
        const std::size_t i = rng() % live.size();
        for (std::size_t k = 0; k < live[i].n; ++k) {
          ASSERT_EQ(live[i].p[k], live[i].tag) << "data lost";
        }
        heap.free(live[i].p);
        payload -= (std::max(live[i].n, Heap::kMinPayload) + Heap::kAlignment - 1) / Heap::kAlignment *
                   Heap::kAlignment;
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      }
      ASSERT_EQ(heap.stats().live_blocks, live.size());
      // The bound heap.hpp states: no two free blocks are adjacent and the block under the
      // wilderness is live, so F <= live blocks and F <= capacity / (2 * block_bytes(1)).
      ASSERT_LE(heap.stats().free_blocks, live.size());
      ASSERT_LE(heap.stats().free_blocks, heap.stats().capacity / (2 * Heap::block_bytes(1)));
      // in_use counts whole payloads: a best-fit block too small to split keeps its remainder.
      ASSERT_GE(heap.stats().in_use, payload);
      ASSERT_LT(heap.stats().in_use, payload + live.size() * Heap::block_bytes(1) + 1);
      if (step % 97 == 0) {
        ASSERT_TRUE(heap.check().ok()) << "step " << step;
      }
    }
    for (const Live& l : live) heap.free(l.p);
    EXPECT_EQ(heap.stats().in_use, 0u);
    EXPECT_EQ(heap.stats().free_blocks, 0u);
    EXPECT_TRUE(heap.check().ok());
  }
}

// The recorded mbedTLS handshakes: each replays to zero bytes in use, and the arena it needed
// (high-water mark) is what binary search finds as the smallest region that completes it.
struct Op {
  bool alloc;
  std::size_t size;
  int id;
};

std::vector<Op> load_trace(const std::string& path) {
  std::ifstream in(path);
  std::vector<Op> ops;
  std::string line;
  std::getline(in, line);  // header
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

bool replay(const std::vector<Op>& ops, std::span<std::byte> region, tlsgen::HeapStats* out) {
  Heap heap;
  if (!heap.init(region).ok()) return false;
  std::map<int, void*> live;
  for (const Op& op : ops) {
    if (op.alloc) {
      void* p = heap.calloc(1, op.size);
      if (p == nullptr) return false;
      live[op.id] = p;
    } else {
      heap.free(live.at(op.id));
      live.erase(op.id);
    }
  }
  if (out != nullptr) *out = heap.stats();
  return heap.stats().in_use == 0 && heap.check().ok();
}

// The recorded handshakes in TLSGEN_TRACE_DIR (tests/data/alloc-traces): PSK, ECDSA and TLS 1.3, each with the
// default and the tiny record sizes.
constexpr const char* kRecordedTraces[] = {"a_psk_default_mfl0.csv",           "a_psk_tiny_mfl0.csv",
                                           "c_ecdsa_req_default_mfl0.csv",     "c_ecdsa_req_tiny_mfl0.csv",
                                           "e_tls13_ec_x25519_req_default.csv", "e_tls13_ec_x25519_req_tiny.csv"};

TEST(Heap, RecordedHandshakes_ReplayAndNeedExactlyTheirHighWater) {
  const std::string dir = TLSGEN_TRACE_DIR;
  alignas(64) static std::array<std::byte, 256 * 1024> region;
  for (const char* name : kRecordedTraces) {
    const auto ops = load_trace(dir + "/" + name);
    ASSERT_GT(ops.size(), 30u) << "trace missing or empty: " << dir << "/" << name;
    tlsgen::HeapStats stats{};
    ASSERT_TRUE(replay(ops, region, &stats)) << name;
    EXPECT_EQ(stats.live_blocks, 0u);
    std::size_t lo = 0, hi = region.size();  // smallest region that completes the trace
    while (lo + 1 < hi) {
      const std::size_t mid = (lo + hi) / 2;
      (replay(ops, std::span(region).first(mid), nullptr) ? hi : lo) = mid;
    }
    EXPECT_EQ(hi, stats.high_water) << name;
    EXPECT_GE(stats.high_water, stats.peak_arena_in_use) << name;
  }
}

// The placement the heap had before its free lists were split into bins, as a reference: ONE list of
// every free block below the wilderness, newest first (a freed, merged or split-off block goes in
// front); calloc walks it for the smallest block that fits, the first of equal ones, stopping at an
// exact fit, splits off a rest of at least block_bytes(1), and takes from the wilderness only when no
// free block fits; free coalesces with free neighbours and gives a block touching the wilderness back.
// Offsets and sizes only (no headers, no checks): where each block lands, which is what the heap
// model is calibrated against (stats().high_water).
class SingleListBestFit {
 public:
  static constexpr std::size_t kNone = ~std::size_t{0};

  explicit SingleListBestFit(std::size_t capacity) : capacity_(capacity) {}

  // The offset of the new block's header, or kNone when it does not fit.
  std::size_t calloc(std::size_t request) {
    const std::size_t need = Heap::block_bytes(request);
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      const std::size_t have = blocks_.at(*it).size;
      if (have >= need && (best == free_.end() || have < blocks_.at(*best).size)) {
        best = it;
        if (have == need) break;
      }
    }
    if (best == free_.end()) {
      if (need > capacity_ - top_) return kNone;
      blocks_[top_] = {need, true};
      top_ += need;
      high_water_ = std::max(high_water_, top_);
      return top_ - need;
    }
    const std::size_t at = *best;
    free_.erase(best);
    Block& block = blocks_.at(at);
    block.used = true;
    if (block.size - need >= Heap::block_bytes(1)) {
      blocks_[at + need] = {block.size - need, false};
      block.size = need;
      free_.push_front(at + need);
    }
    return at;
  }

  void free(std::size_t at) {
    auto it = blocks_.find(at);
    ASSERT_TRUE(it != blocks_.end() && it->second.used);
    std::size_t start = at;
    std::size_t size = it->second.size;
    if (auto next = std::next(it); next != blocks_.end() && !next->second.used) {
      size += next->second.size;
      free_.remove(next->first);
      blocks_.erase(next);
    }
    if (it != blocks_.begin()) {
      if (auto prev = std::prev(it); !prev->second.used) {
        start = prev->first;
        size += prev->second.size;
        free_.remove(prev->first);
      }
    }
    blocks_.erase(it);
    if (start + size == top_) {  // back to the wilderness
      blocks_.erase(start);
      top_ = start;
      return;
    }
    blocks_[start] = {size, false};
    free_.push_front(start);
  }

  std::size_t high_water() const { return high_water_; }
  std::size_t free_blocks() const { return free_.size(); }

 private:
  struct Block {
    std::size_t size;
    bool used;
  };
  std::size_t capacity_;
  std::size_t top_ = 0;
  std::size_t high_water_ = 0;
  std::map<std::size_t, Block> blocks_;  // every block below top_, by offset
  std::list<std::size_t> free_;          // the free ones, newest first
};

// The heap and the reference side by side: every call must place the block at the same offset (or
// fail on both), and the high-water mark and the number of free blocks must agree after every call.
class SideBySide {
 public:
  explicit SideBySide(std::span<std::byte> region) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region.data()) % Heap::kAlignment, 0u);
    EXPECT_TRUE(heap_.init(region).ok());
    base_ = region.data();
    model_ = std::make_unique<SingleListBestFit>(heap_.stats().capacity);
  }
  // Returns the payload (null when both refused), or records a mismatch.
  void* calloc(std::size_t request) {
    void* p = heap_.calloc(1, request);
    const std::size_t expected = model_->calloc(request);
    const std::size_t got =
        p == nullptr ? SingleListBestFit::kNone
                     : static_cast<std::size_t>(static_cast<std::byte*>(p) - base_) - Heap::kHeaderBytes;
    ++calls_;
    EXPECT_EQ(got, expected) << "call " << calls_ << ": calloc of " << request << " bytes";
    agree();
    return got == expected ? p : nullptr;
  }
  void free(void* p) {
    heap_.free(p);
    model_->free(static_cast<std::size_t>(static_cast<std::byte*>(p) - base_) - Heap::kHeaderBytes);
    ++calls_;
    agree();
  }
  const Heap& heap() const { return heap_; }
  std::size_t calls() const { return calls_; }

 private:
  void agree() {
    EXPECT_EQ(heap_.stats().high_water, model_->high_water()) << "after call " << calls_;
    EXPECT_EQ(heap_.stats().free_blocks, model_->free_blocks()) << "after call " << calls_;
  }
  Heap heap_;
  std::byte* base_ = nullptr;
  std::unique_ptr<SingleListBestFit> model_;
  std::size_t calls_ = 0;
};

// Issue 14: the bins must not move any block. Every recorded handshake, call by call, against the
// single best-fit list: the same offsets, hence the same high water (the heap model's calibration).
TEST(Heap, RecordedHandshakes_PlaceEveryBlockWhereTheSingleListDid) {
  const std::string dir = TLSGEN_TRACE_DIR;
  alignas(64) static std::array<std::byte, 256 * 1024> region;
  for (const char* name : kRecordedTraces) {
    SCOPED_TRACE(name);
    const auto ops = load_trace(dir + "/" + name);
    ASSERT_GT(ops.size(), 30u) << "trace missing or empty: " << dir << "/" << name;
    SideBySide both(region);
    std::map<int, void*> live;
    for (const Op& op : ops) {
      if (op.alloc) {
        void* p = both.calloc(op.size);
        ASSERT_NE(p, nullptr);
        live[op.id] = p;
      } else {
        both.free(live.at(op.id));
        live.erase(op.id);
      }
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_EQ(both.calls(), ops.size());
    EXPECT_TRUE(both.heap().check().ok());
    EXPECT_EQ(both.heap().stats().live_blocks, 0u);
  }
}

// The same comparison on random sequences (fixed seeds) whose sizes reach every bin, with frees in
// random order (so merges of every kind) and a region small enough to fail sometimes; check() (bins,
// bitmap, every block) after every call.
TEST(Heap, RandomSequences_PlaceEveryBlockWhereTheSingleListDid) {
  alignas(64) static std::array<std::byte, 48 * 1024> region;
  for (const std::uint32_t seed : {1u, 14u, 2026u, 9302u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    SideBySide both(region);
    std::vector<void*> live;
    std::size_t failures = 0;
    for (int step = 0; step < 6000; ++step) {
      if (live.empty() || rng() % 100 < 52) {
        std::size_t n = 0;
        switch (rng() % 8) {
          case 0: n = 1 + rng() % 16; break;
          case 1: case 2: case 3: n = 1 + rng() % 120; break;  // the bins of one size
          case 4: case 5: n = 1 + rng() % 600; break;
          case 6: n = 1 + rng() % 4000; break;
          default: n = 1 + rng() % 20000; break;  // the last bin
        }
        void* p = both.calloc(n);
        if (p != nullptr) {
          live.push_back(p);
        } else {
          ++failures;
        }
      } else {
        const std::size_t i = rng() % live.size();
        both.free(live[i]);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      }
      ASSERT_TRUE(both.heap().check().ok()) << "step " << step;
      if (::testing::Test::HasFailure()) return;
    }
    for (void* p : live) both.free(p);
    EXPECT_TRUE(both.heap().check().ok());
    EXPECT_EQ(both.heap().stats().free_blocks, 0u);
    EXPECT_GT(failures, 0u);  // the region filled up at times: placement near the top was exercised
  }
}

}  // namespace
