// Esp8266AtStack: the TcpStack of an ESP8266 modem driven by AT commands over a byte UART.
//
// The AT subset (ESP8266 NonOS AT firmware, multiple connections):
//   init():    AT, ATE0 (no echo), AT+CIPMUX=1 (link ids 0..4)            -> OK
//   connect(): AT+CIPSTART=<id>,"TCP","<host>",<port>                       -> <id>,CONNECT  OK | ERROR
//   write():   AT+CIPSEND=<id>,<n>  (n <= 2048)  -> '>'  then n bytes     -> SEND OK | SEND FAIL | ERROR
//   close():   AT+CIPCLOSE=<id>                                            -> <id>,CLOSED  OK
//   any time:  +IPD,<id>,<len>:<len bytes>   data from the peer;  <id>,CLOSED   the peer closed.
//
// The parser is a byte-at-a-time state machine with a bounded line buffer: garbage lines are
// ignored, an over-long line is dropped, a malformed +IPD header (bad id, length 0 or above 2048)
// is discarded, and the payload of a valid one goes to that link's receive ring. Nothing is ever
// written outside the caller's storage.
//
// Flow control: the UART is read only while the pending +IPD payload fits in its link's ring, so a
// full ring pushes back on the modem (and, through QEMU's UART, on the network) instead of losing
// data; read() drains the ring. Writes are synchronous: write() returns after SEND OK (or an
// error, or the I/O timeout) in both modes; read() and connect() honour Mode::kNonBlocking.
//
// Errors: kTimeout when the modem does not answer in time, kUnavailable when CIPSTART fails,
// kIo for SEND FAIL / ERROR (detail: 1 = SEND FAIL, 2 = ERROR), kResourceExhausted when no link id
// is free, kClosed after the peer's CLOSED once the ring is drained, kDataLoss when a link's ring
// overflowed (cannot happen with flow control unless the modem ignores it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"

namespace tlsgen {

// A byte UART: non-blocking in both directions, plus a millisecond clock for timeouts.
class Uart {
 public:
  virtual std::size_t write(std::span<const std::byte> data) = 0;  // bytes accepted now
  virtual std::size_t read(std::span<std::byte> buffer) = 0;       // bytes available now (0: none)
  virtual std::uint32_t now_ms() = 0;
  virtual void idle() {}  // called while waiting for the modem (sleep, or count the waiting time)

 protected:
  ~Uart() = default;
};

struct Esp8266Options {
  std::uint32_t command_timeout_ms = 5000;   // AT, CIPCLOSE, ...
  std::uint32_t connect_timeout_ms = 20000;  // CIPSTART
  std::uint32_t io_timeout_ms = 30000;       // CIPSEND round trip; blocking read
};

class Esp8266AtStack final : public TcpStack {
 public:
  static constexpr int kMaxLinks = 5;
  static constexpr std::size_t kMaxSend = 2048;
  static constexpr std::size_t kLineMax = 96;

  // `rx_storage` is split evenly into one receive ring per link (links: 1..kMaxLinks).
  Esp8266AtStack(Uart& uart, std::span<std::byte> rx_storage, int links = 1, Esp8266Options options = {});

  Status init();  // AT, ATE0, AT+CIPMUX=1

  Result<Socket> open(Mode mode) override;
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult write(Socket socket, std::span<const std::byte> data) override;
  IoResult read(Socket socket, std::span<std::byte> buffer) override;
  Status close(Socket socket) override;

  std::size_t open_count() const;

  // Feeds modem bytes to the parser (what poll() does with UART input); for tests and fuzzing.
  // Returns how many bytes were consumed (less than offered when a link's ring is full).
  std::size_t feed(std::span<const std::byte> bytes);

 private:
  struct Link {
    bool in_use = false;
    bool connected = false;
    bool peer_closed = false;
    bool overflow = false;
    bool closing = false;  // close() under way: its data can no longer be read, so it is dropped
    Mode mode = Mode::kBlocking;
    std::span<std::byte> ring;
    std::size_t head = 0;  // next byte to read
    std::size_t size = 0;  // bytes buffered
  };
  enum class State : std::uint8_t { kLine, kPayload };
  enum Event : std::uint8_t { kNone = 0, kOk = 1, kError = 2, kSendOk = 4, kSendFail = 8, kPrompt = 16 };

  void poll();
  bool feed_byte(std::byte b);  // false: not consumed (ring full)
  void finish_line();
  Status command(const char* text, std::uint8_t wait_for, std::uint32_t timeout_ms, std::uint8_t* got);
  Status send_all(std::span<const std::byte> data, std::uint32_t deadline);
  Status wait_for(std::uint8_t events, std::uint32_t timeout_ms, std::uint8_t* got);
  Link* link(Socket socket);
  bool expired(std::uint32_t start, std::uint32_t timeout_ms);

  Uart& uart_;
  Esp8266Options options_;
  std::array<Link, kMaxLinks> links_{};
  int link_count_;
  State state_ = State::kLine;
  std::array<char, kLineMax> line_{};
  std::size_t line_len_ = 0;
  bool line_overflow_ = false;
  int payload_link_ = -1;
  std::size_t payload_left_ = 0;
  std::uint8_t events_ = kNone;
  bool awaiting_prompt_ = false;
};

}  // namespace tlsgen
