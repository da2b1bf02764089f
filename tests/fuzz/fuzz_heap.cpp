// libFuzzer target: tlsgen::Heap against a simple model. Random calloc/free sequences; after every
// step: no two live blocks overlap, contents are preserved, memory is zeroed and aligned, the
// statistics agree with the model and check() walks a consistent heap.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tlsgen/heap.hpp"

namespace {
struct Live {
  unsigned char* p;
  std::size_t n;
  unsigned char tag;
};
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  alignas(64) static std::byte region[32 * 1024];
  tlsgen::Heap heap;
  const std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, 15);
  const std::size_t length = in.ConsumeIntegralInRange<std::size_t>(64, sizeof region - offset);
  require(heap.init(std::span(region + offset, length)).ok());
  std::vector<Live> live;
  while (in.remaining_bytes() > 0) {
    if (live.empty() || in.ConsumeIntegralInRange(0, 9) < 6) {
      const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
      const std::size_t each = in.ConsumeIntegralInRange<std::size_t>(0, in.ConsumeBool() ? 4000 : 100);
      auto* p = static_cast<unsigned char*>(heap.calloc(count, each));
      if (p == nullptr) continue;
      const std::size_t n = count * each;
      require(reinterpret_cast<std::uintptr_t>(p) % tlsgen::Heap::kAlignment == 0);
      for (std::size_t i = 0; i < n; ++i) require(p[i] == 0);
      for (const Live& l : live) require(p + n <= l.p || l.p + l.n <= p);
      const auto tag = in.ConsumeIntegral<unsigned char>();
      std::memset(p, tag, n);
      live.push_back({p, n, tag});
    } else {
      const std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, live.size() - 1);
      for (std::size_t k = 0; k < live[i].n; ++k) require(live[i].p[k] == live[i].tag);
      heap.free(live[i].p);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
    require(heap.stats().live_blocks == live.size());
    require(heap.check().ok());
  }
  for (const Live& l : live) heap.free(l.p);
  require(heap.stats().in_use == 0 && heap.stats().live_blocks == 0 && heap.check().ok());
  return 0;
}
