// UART and timer of the nRF51 (QEMU microbit): Nordic's UART0 (not UARTE: EasyDMA came with the nRF52)
// and TIMER0, both task/event peripherals: a task register starts something when 1 is written to it, an
// event register reads 1 once it happened and is cleared by writing 0.
#include <cstdint>

#include "board.hpp"

namespace {

volatile std::uint32_t& reg(std::uintptr_t base, std::uintptr_t offset) {
  return *reinterpret_cast<volatile std::uint32_t*>(base + offset);
}

// UART0 (nRF51 Reference Manual, chapter 29)
constexpr std::uintptr_t kUart = board::kNrfUartBase;
constexpr std::uintptr_t kStartRx = 0x000, kStartTx = 0x008, kEventRxdRdy = 0x108, kEventTxdRdy = 0x11C,
                         kEnable = 0x500, kPselTxd = 0x50C, kPselRxd = 0x514, kRxd = 0x518, kTxd = 0x51C,
                         kBaudrate = 0x524;
// TIMER0 (chapter 18)
constexpr std::uintptr_t kTimer = board::kNrfTimerBase;
constexpr std::uintptr_t kTimerStart = 0x000, kTimerClear = 0x00C, kTimerCapture0 = 0x040, kTimerMode = 0x504,
                         kTimerBitmode = 0x508, kTimerPrescaler = 0x510, kTimerCc0 = 0x540;

bool g_tx_pending = false;  // a byte is in TXD and its TXDRDY event has not come yet

}  // namespace

namespace board {

void init() {
  reg(kUart, kPselTxd) = 24;  // the micro:bit's USB-serial pins (P0.24 TX, P0.25 RX); QEMU ignores them
  reg(kUart, kPselRxd) = 25;
  reg(kUart, kBaudrate) = 0x01D7E000;  // 115200 baud
  reg(kUart, kEnable) = 4;
  reg(kUart, kStartTx) = 1;
  reg(kUart, kStartRx) = 1;
  reg(kTimer, kTimerMode) = 0;       // timer (not counter)
  reg(kTimer, kTimerBitmode) = 3;    // 32 bits
  reg(kTimer, kTimerPrescaler) = 0;  // 16 MHz
  reg(kTimer, kTimerClear) = 1;
  reg(kTimer, kTimerStart) = 1;
}

// One byte at a time: TXD takes the next byte once the previous one's TXDRDY event has come (a byte written
// while one is pending is lost).
std::size_t uart_write(std::span<const std::byte> data) {
  std::size_t n = 0;
  while (n < data.size()) {
    if (g_tx_pending) {
      if (reg(kUart, kEventTxdRdy) == 0) break;
      g_tx_pending = false;
    }
    reg(kUart, kEventTxdRdy) = 0;
    reg(kUart, kTxd) = static_cast<std::uint32_t>(data[n++]);
    g_tx_pending = true;
  }
  return n;
}

// RXDRDY is cleared before RXD is read: reading RXD raises it again while the receive FIFO holds more.
std::size_t uart_read(std::span<std::byte> buffer) {
  std::size_t n = 0;
  while (n < buffer.size() && reg(kUart, kEventRxdRdy) != 0) {
    reg(kUart, kEventRxdRdy) = 0;
    buffer[n++] = static_cast<std::byte>(reg(kUart, kRxd) & 0xFFu);
  }
  return n;
}

std::uint32_t timer_ticks() {
  reg(kTimer, kTimerCapture0) = 1;
  return reg(kTimer, kTimerCc0);
}

}  // namespace board
