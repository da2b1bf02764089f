// Reading a packed allocation trace (bench::Op rows, trace_op.hpp) on a QEMU board: the file named by
// `trace=FILE` in QEMU's -append, read over semihosting. Shared by the Cortex-M allocator bench
// (alloc_bench_m4.cpp) and the placement test (tests/qemu/heap_traces.cpp).
#pragma once

#include <cstddef>
#include <span>

#include "board.hpp"
#include "trace_op.hpp"

namespace bench {

// The rows read into `rows`; empty (after a message naming `who`) when there is no trace=FILE, the file
// cannot be read, is not whole rows, or fills `rows` (it may hold more than fit).
inline std::span<const Op> read_trace(const char* who, std::span<Op> rows) {
  char name[96];
  if (board::cmdline_arg("trace", name, sizeof name) == nullptr) {
    board::host_printf("%s: no trace=FILE in the command line\n", who);
    return {};
  }
  const long bytes = board::host_read_file(name, std::as_writable_bytes(rows));
  if (bytes <= 0 || bytes % 4 != 0 || static_cast<std::size_t>(bytes) == rows.size_bytes()) {
    board::host_printf("%s: cannot read %s (or it holds more than %u rows)\n", who, name,
                       static_cast<unsigned>(rows.size() - 1));
    return {};
  }
  return rows.first(static_cast<std::size_t>(bytes) / 4);
}

}  // namespace bench
