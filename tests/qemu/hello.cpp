// Board bring-up check under QEMU: semihosting output and exit, TIMER0 counting guest instructions,
// the command line, the host file store, and the UART (loopback through the test driver).
#include <cstring>

#include "board.hpp"

int main() {
  board::host_printf("hello from mps2-an386, cmdline '%s'\n", board::host_cmdline());
  const std::uint32_t t0 = board::timer_ticks();
  volatile std::uint32_t sink = 0;
  for (std::uint32_t i = 0; i < 100000; ++i) sink = sink + i;
  const std::uint32_t ticks = board::timer_ticks() - t0;
  board::host_printf("loop of 100000 iterations: %lu ticks = %lu instructions\n", static_cast<unsigned long>(ticks),
                     static_cast<unsigned long>(ticks) * board::kInstructionsPerTick);
  const char message[] = "stored";
  if (board::host_write_file("hello.bin", std::as_bytes(std::span(message))) != sizeof message) return 2;
  std::byte back[16];
  if (board::host_read_file("hello.bin", back) != sizeof message || std::memcmp(back, message, sizeof message) != 0) {
    return 3;
  }
  board::host_write("file store ok\n");
  return ticks > 0 ? 0 : 4;
}
