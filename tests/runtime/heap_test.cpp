#include "tlsgen/heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
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

TEST(Heap, RecordedHandshakes_ReplayAndNeedExactlyTheirHighWater) {
  const std::string dir = TLSGEN_TRACE_DIR;
  const char* traces[] = {"a_psk_default_mfl0.csv", "a_psk_tiny_mfl0.csv", "c_ecdsa_req_default_mfl0.csv",
                          "c_ecdsa_req_tiny_mfl0.csv", "e_tls13_ec_x25519_req_default.csv",
                          "e_tls13_ec_x25519_req_tiny.csv"};
  alignas(64) static std::array<std::byte, 256 * 1024> region;
  for (const char* name : traces) {
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

}  // namespace
