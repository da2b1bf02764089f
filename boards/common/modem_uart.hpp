// The board's UART as the ESP8266 driver's tlsgen::Uart. Time spent polling for modem input is counted
// (waiting_ticks) so that handshake costs can exclude it: the modem and the network are not CPU work.
#pragma once

#include "board.hpp"
#include "tlsgen/esp8266_at.hpp"

namespace board {

class ModemUart final : public tlsgen::Uart {
 public:
  std::size_t write(std::span<const std::byte> data) override { return uart_write(data); }
  std::size_t read(std::span<std::byte> buffer) override { return uart_read(buffer); }
  std::uint32_t now_ms() override { return millis(); }
  void idle() override {
    const std::uint32_t start = timer_ticks();
    while (timer_ticks() - start < kTimerHz / 100'000u) {  // 10 us of waiting per idle call
    }
    waiting_ticks += timer_ticks() - start;
  }
  std::uint32_t waiting_ticks = 0;
};

}  // namespace board
