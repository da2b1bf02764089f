// UART and timer of the MPS2 boards (mps2-an385, an386, an500; an505 through its secure aliases): ARM's
// CMSDK APB UART and APB timer, at the addresses the board's board_config.hpp gives.
#include <cstdint>

#include "board.hpp"

namespace {

struct CmsdkUart {
  volatile std::uint32_t data;
  volatile std::uint32_t state;  // bit 0: TX full, bit 1: RX full
  volatile std::uint32_t ctrl;   // bit 0: TX enable, bit 1: RX enable
  volatile std::uint32_t intstatus;
  volatile std::uint32_t bauddiv;
};

struct CmsdkTimer {
  volatile std::uint32_t ctrl;  // bit 0: enable
  volatile std::uint32_t value;
  volatile std::uint32_t reload;
  volatile std::uint32_t intstatus;
};

CmsdkUart& uart() { return *reinterpret_cast<CmsdkUart*>(board::kCmsdkUartBase); }
CmsdkTimer& timer() { return *reinterpret_cast<CmsdkTimer*>(board::kCmsdkTimerBase); }

}  // namespace

namespace board {

void init() {
  uart().bauddiv = 16;
  uart().ctrl = 0x3;  // TX | RX
  timer().ctrl = 0;
  timer().reload = 0xFFFFFFFFu;
  timer().value = 0xFFFFFFFFu;
  timer().ctrl = 1;
}

std::size_t uart_write(std::span<const std::byte> data) {
  std::size_t n = 0;
  while (n < data.size() && (uart().state & 1u) == 0) {
    uart().data = static_cast<std::uint32_t>(data[n]);
    ++n;
  }
  return n;
}

std::size_t uart_read(std::span<std::byte> buffer) {
  std::size_t n = 0;
  while (n < buffer.size() && (uart().state & 2u) != 0) {
    buffer[n++] = static_cast<std::byte>(uart().data & 0xFFu);
  }
  return n;
}

// The timer counts down from 2^32 - 1 at the APB clock (kTimerHz).
std::uint32_t timer_ticks() { return 0xFFFFFFFFu - timer().value; }

}  // namespace board
