// Board bring-up check under QEMU, the same on every board: semihosting output and exit, the timer
// counting guest instructions (a loop of a known instruction count, measured), the command line, the
// host file store, and the stack's high-water mark.
#include <cstring>

#include "board.hpp"

int main() {
  board::host_printf("hello from %s, cmdline '%s'\n", board::kName, board::host_cmdline());
  // 2 instructions per iteration (subs, bne), 1,000,000 iterations: under -icount shift=0 the timer must
  // count 2,000,000 instructions, give or take the few around the loop.
  constexpr std::uint32_t kIterations = 1'000'000;
  std::uint32_t n = kIterations;
  const std::uint32_t t0 = board::timer_ticks();
  // .syntax unified: GCC hands Thumb-1 inline assembly to the assembler in the old divided syntax.
  __asm__ volatile(".syntax unified\n .p2align 2\n1: subs %0, %0, #1\n bne 1b" : "+l"(n) : : "cc");
  const std::uint32_t ticks = board::timer_ticks() - t0;
  const auto counted = static_cast<unsigned long>(board::instructions(ticks));
  board::host_printf("loop of %lu instructions: %lu ticks = %lu instructions counted\n",
                     static_cast<unsigned long>(2 * kIterations), static_cast<unsigned long>(ticks), counted);
  if (counted < 2 * kIterations || counted > 2 * kIterations + 200) {
    board::host_write("instruction count off\n");
    return 4;
  }
  const char message[] = "stored";
  if (board::host_write_file("hello.bin", std::as_bytes(std::span(message))) != sizeof message) return 2;
  std::byte back[16];
  if (board::host_read_file("hello.bin", back) != sizeof message || std::memcmp(back, message, sizeof message) != 0) {
    return 3;
  }
  board::host_write("file store ok\n");
  board::host_printf("stack: %u of %u bytes used\n", static_cast<unsigned>(board::stack_peak()),
                     static_cast<unsigned>(board::stack_size()));
  return board::stack_peak() > 0 && board::stack_peak() < board::stack_size() ? 0 : 5;
}
