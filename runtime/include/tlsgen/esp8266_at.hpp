// Esp8266AtStack: the TcpStack of an ESP8266 modem driven by AT commands over a byte UART.
//
// The AT subset (ESP8266 NonOS AT firmware, multiple connections):
//   init():    AT, ATE0 (no echo), AT+CIPMUX=1 (link ids 0..4)            -> OK
//   connect(): AT+CIPSTART=<id>,"TCP","<host>",<port>                       -> <id>,CONNECT  OK | ERROR
//   write():   AT+CIPSEND=<id>,<n>  (n <= 2048)  -> '>'  then n bytes     -> SEND OK | SEND FAIL | ERROR
//   close():   AT+CIPCLOSE=<id>                                            -> <id>,CLOSED  OK
//   any time:  +IPD,<id>,<len>:<len bytes>  or, after AT+CIPDINFO=1, +IPD,<id>,<len>,<ip>,<port>:<len bytes>
//              (the address quoted or not)  data from the peer;  <id>,CLOSED  the peer closed.
//
// connect() takes a host name or a dotted address, checked against the host-name grammar (letters,
// digits, '-' and '.'; labels of 1..63 characters not starting or ending with '-'; 253 characters at
// most) before it goes into the command: anything else (quotes, CR, LF, commas, spaces, bytes above
// 0x7E) is kInvalidArgument and nothing is written to the UART.
//
// The parser is a byte-at-a-time state machine with a bounded line buffer: garbage lines are
// ignored, an over-long line is dropped. A +IPD header is validated (link id, length 1..kMaxIpd, the
// optional address and port); the payload of a valid one goes to that link's receive ring. Whenever a
// header announces a length, that many bytes are payload and are never parsed as modem lines: the
// payload of a header the parser refuses (a length above kMaxIpd, a form it does not know) is drained,
// and its link, if open, reports kDataLoss once its earlier data is read (the stream has a hole: no
// silent truncation). A header without a length (+IPD,x,y:) announces nothing and is dropped. Nothing
// is ever written outside the caller's storage.
//
// Flow control: the UART is read only while the pending +IPD payload fits in its link's ring, so a
// full ring pushes back on the modem (and, through QEMU's UART, on the network) instead of losing
// data; read() drains the ring. While a ring is full nothing behind that payload can be parsed, the
// modem's answers included, and in a single-threaded program only read() can change that. So a wait
// for an answer that is stuck behind it ends at once instead of waiting out its timeout:
//   - write() before AT+CIPSEND, or while waiting for the '>' prompt: kResourceExhausted with detail
//     kRxBlockedDetail. read() the links, then call write() again with the same bytes (at least as
//     many): a prompt still owed is awaited and the data sent once. Until then the modem waits for
//     those bytes, so other writes, connect() and init() return the same status, and close() of that
//     link first hands the modem its owed bytes (zeros: the link is going away).
//   - write() after its data went out, waiting for SEND OK: returns Ok (the modem has the bytes); its
//     verdict is taken when it can be read, and a SEND FAIL makes that link's next write() kIo
//     (kSendFailDetail), sticky: the peer's stream has a hole.
//   - connect() and close(): kResourceExhausted (kRxBlockedDetail) as well.
// A <id>,CLOSED for the link write() is sending on ends the wait for SEND OK at once with kClosed.
// Writes are synchronous otherwise: write() returns after SEND OK (or an error, or the I/O timeout)
// in both modes; read() and connect() honour Mode::kNonBlocking.
//
// UDP links (Esp8266AtUdp below: the UdpStack view of the same modem and links, for DTLS; an object of
// its own, so firmware that never uses UDP links carries none of its code): AT+CIPSTART=<id>,"UDP",
// "<host>",<port> sets the peer; each AT+CIPSEND carries one datagram (at most kMaxSend bytes: a larger
// one is kInvalidArgument, never split; an empty one too, the modem cannot send it), and each +IPD on the
// link is one datagram. The link's ring then holds whole datagrams, each behind a 2-byte length: a
// datagram is taken from the UART only when all of it fits (flow control as for TCP), one that could
// never fit the ring is drained and reported (kResourceExhausted, detail its length) by the next
// receive() that finds no datagram queued, and receive() into a buffer smaller than the datagram drops it
// and reports the same. The TcpStack calls but close() refuse a UDP link (kFailedPrecondition), and the
// UdpStack calls a TCP link (kInvalidArgument). A send() that returns kResourceExhausted/kRxBlockedDetail is
// retried with the same datagram, as a write() is.
//
// Errors: kTimeout when the modem does not answer in time, kUnavailable when CIPSTART fails,
// kIo for SEND FAIL / ERROR (detail: kSendFailDetail, kErrorDetail), kResourceExhausted when no link
// id is free (detail 0) or an answer is stuck behind unread data (kRxBlockedDetail), kClosed after the
// peer's CLOSED once the ring is drained, kDataLoss when a link's stream lost bytes (a refused +IPD
// header, or a ring overflow, which cannot happen with flow control unless the modem ignores it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"
#include "tlsgen/udp_stack.hpp"

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
  // The largest +IPD payload accepted: above the 1,460 bytes of one TCP segment, because Espressif's
  // AT firmware coalesces (an Espressif answer mentions frames up to 5,760 bytes on the ESP32). The
  // payload streams into the link's ring under flow control, so the ring may be much smaller.
  static constexpr std::size_t kMaxIpd = 8192;
  static constexpr std::size_t kMaxHostName = 253;
  static constexpr std::size_t kLineMax = 96;
  // Status details of kIo and kResourceExhausted from this stack.
  static constexpr std::int32_t kSendFailDetail = 1;   // kIo: the modem said SEND FAIL
  static constexpr std::int32_t kErrorDetail = 2;      // kIo: the modem said ERROR
  static constexpr std::int32_t kRxBlockedDetail = 3;  // kResourceExhausted: the answer is behind unread data

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
    bool overflow = false;     // bytes of this link's stream were lost: kDataLoss once the ring is read
    bool send_failed = false;  // a SEND FAIL that came after write() returned: later writes are kIo
    bool closing = false;  // close() under way: its data can no longer be read, so it is dropped
    bool udp = false;          // opened through udp(): the ring holds length-prefixed datagrams
    std::size_t dropped = 0;   // UDP: datagrams drained because they could never fit the ring, unreported
    std::size_t dropped_length = 0;  // the last one's length
    Mode mode = Mode::kBlocking;
    std::span<std::byte> ring;
    std::size_t head = 0;  // next byte to read
    std::size_t size = 0;  // bytes buffered
  };
  friend class Esp8266AtUdp;

  enum class State : std::uint8_t { kLine, kPayload };
  enum Event : std::uint8_t { kNone = 0, kOk = 1, kError = 2, kSendOk = 4, kSendFail = 8, kPrompt = 16 };

  void poll();
  bool feed_byte(std::byte b);  // false: not consumed (ring full)
  void finish_line();
  Status command(const char* text, std::uint8_t wait_for, std::uint32_t timeout_ms, std::uint8_t* got);
  Status send_all(std::span<const std::byte> data, std::uint32_t deadline);
  Status wait_for(std::uint8_t events, std::uint32_t timeout_ms, std::uint8_t* got, int watch_link = -1);
  bool rx_blocked() const;  // the pending +IPD payload waits for room in a full ring
  bool parse_ipd();         // the line holds a whole +IPD header: start its payload (true) or not
  Status settle_owed_prompt(bool for_close, int link_id);
  Status start(Socket socket, const char* host, std::uint16_t port, const char* type);
  IoResult send_on(Socket socket, std::span<const std::byte> data);
  Result<Socket> open_link(Mode mode, bool udp);
  // `wait_ms`: how long from `start` (kIoTimeout: the options' io_timeout_ms, and only in Mode::kBlocking).
  static constexpr std::uint32_t kIoTimeout = 0xFFFFFFFFu;
  Status await_data(const Link& l, std::uint32_t start, std::uint32_t wait_ms = kIoTimeout);
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
  std::size_t line_quotes_ = 0;  // quote characters in the line (a colon inside quotes is an address's)
  int payload_link_ = -1;
  std::size_t payload_left_ = 0;
  std::uint8_t events_ = kNone;
  bool awaiting_prompt_ = false;
  int owed_prompt_link_ = -1;     // a CIPSEND whose '>' was stuck behind received data: the modem
  std::size_t owed_prompt_len_ = 0;  // waits for this many bytes before it takes another command
  int owed_verdict_link_ = -1;    // a SEND OK / SEND FAIL not yet seen for a write() that returned
  bool datagram_header_owed_ = false;  // UDP payload: its length prefix is written with its first byte
};

// The UDP links of an Esp8266AtStack, behind the UdpStack interface (handles share the modem's link ids
// with its TCP links; the contract is in the comment at the top of this file).
class Esp8266AtUdp final : public UdpStack {
 public:
  explicit Esp8266AtUdp(Esp8266AtStack& modem) : modem_(modem) {}
  Result<Socket> open(Mode mode) override;
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult send(Socket socket, std::span<const std::byte> datagram) override;
  IoResult receive(Socket socket, std::span<std::byte> buffer) override;
  IoResult receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) override;
  Status close(Socket socket) override;

 private:
  static constexpr std::uint32_t kAsTheModeSays = 0xFFFFFFFFu;
  IoResult receive_waiting(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms);

  Esp8266AtStack& modem_;
};

}  // namespace tlsgen
