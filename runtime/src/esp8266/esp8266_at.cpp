#include "tlsgen/esp8266_at.hpp"

#include <cstring>

#include "tlsgen/format.hpp"

namespace tlsgen {

namespace {

bool equals(const char* line, std::size_t len, const char* text) {
  return std::strlen(text) == len && std::memcmp(line, text, len) == 0;
}

// "<digit>,<word>" -> the link id, or -1.
int link_prefix(const char* line, std::size_t len, const char* word) {
  if (len < 3 || line[0] < '0' || line[0] > '4' || line[1] != ',') return -1;
  return equals(line + 2, len - 2, word) ? line[0] - '0' : -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 1..max_digits decimal digits at p (p advances past them).
bool digits(const char*& p, const char* end, std::size_t max_digits, std::size_t& value) {
  value = 0;
  std::size_t n = 0;
  while (p < end && is_digit(*p)) {
    if (++n > max_digits) return false;
    value = value * 10 + static_cast<std::size_t>(*p - '0');
    ++p;
  }
  return n > 0;
}

// The host-name grammar (RFC 1123 labels; a dotted IPv4 address is one too): [A-Za-z0-9-] labels of
// 1..63 characters, not starting or ending with '-', separated by single dots (one trailing dot
// allowed), 253 characters at most. Nothing else can reach the AT command line.
bool host_name_ok(const char* host) {
  std::size_t len = 0;
  std::size_t label = 0;
  char prev = '.';
  for (; host[len] != '\0'; ++len) {
    const char c = host[len];
    if (len >= Esp8266AtStack::kMaxHostName) return false;
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return len > 0 && prev != '-';
}

bool address_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':'; }

}  // namespace

Esp8266AtStack::Esp8266AtStack(Uart& uart, std::span<std::byte> rx_storage, int links, Esp8266Options options)
    : uart_(uart), options_(options), link_count_(links < 1 ? 1 : (links > kMaxLinks ? kMaxLinks : links)) {
  const std::size_t each = rx_storage.size() / static_cast<std::size_t>(link_count_);
  for (int i = 0; i < link_count_; ++i) {
    links_[static_cast<std::size_t>(i)].ring = rx_storage.subspan(static_cast<std::size_t>(i) * each, each);
  }
}

bool Esp8266AtStack::expired(std::uint32_t start, std::uint32_t timeout_ms) {
  return uart_.now_ms() - start >= timeout_ms;
}

Esp8266AtStack::Link* Esp8266AtStack::link(Socket socket) {
  if (socket < 0 || socket >= link_count_) return nullptr;
  Link& l = links_[static_cast<std::size_t>(socket)];
  return l.in_use ? &l : nullptr;
}

std::size_t Esp8266AtStack::open_count() const {
  std::size_t n = 0;
  for (const Link& l : links_) n += l.in_use ? 1 : 0;
  return n;
}

void Esp8266AtStack::finish_line() {
  const char* line = line_.data();
  std::size_t len = line_len_;
  while (len > 0 && line[len - 1] == '\r') --len;
  if (!line_overflow_ && len > 0) {
    int id = -1;
    if (equals(line, len, "OK")) {
      events_ |= kOk;
    } else if (equals(line, len, "ERROR") || equals(line, len, "FAIL") || equals(line, len, "ALREADY CONNECTED")) {
      events_ |= kError;
    } else if (equals(line, len, "SEND OK") || equals(line, len, "SEND FAIL")) {
      const bool ok = line[5] == 'O';
      if (owed_verdict_link_ >= 0) {  // the answer to a write() that has returned already
        if (owed_verdict_link_ < kMaxLinks) {
          Link& l = links_[static_cast<std::size_t>(owed_verdict_link_)];
          if (!ok && l.in_use) l.send_failed = true;
        }
        owed_verdict_link_ = -1;
      } else {
        events_ |= ok ? kSendOk : kSendFail;
      }
    } else if ((id = link_prefix(line, len, "CONNECT")) >= 0) {
      if (id < link_count_) links_[static_cast<std::size_t>(id)].connected = true;
    } else if ((id = link_prefix(line, len, "CLOSED")) >= 0) {
      if (id < link_count_ && links_[static_cast<std::size_t>(id)].in_use) {
        links_[static_cast<std::size_t>(id)].peer_closed = true;
        links_[static_cast<std::size_t>(id)].connected = false;
      }
    }  // anything else (echo, "WIFI GOT IP", garbage): ignored
  }
  line_len_ = 0;
  line_overflow_ = false;
  line_quotes_ = 0;
}

// line_ holds "+IPD,...:" (the colon last, outside quotes). Whenever a length can be read, that many
// bytes are payload: delivered for a valid header to an open link, drained otherwise (and the link,
// if open, has lost data). Returns whether a payload follows.
bool Esp8266AtStack::parse_ipd() {
  const char* p = line_.data() + 5;
  const char* const end = line_.data() + line_len_ - 1;
  std::size_t id = 0;
  std::size_t len = 0;
  if (!digits(p, end, 1, id) || p == end || *p != ',') return false;
  ++p;
  if (!digits(p, end, 9, len) || len == 0) return false;  // no length: nothing announced
  bool form_ok = p == end;                                  // +IPD,<id>,<len>:
  if (!form_ok && *p == ',') {                              // +IPD,<id>,<len>,<ip>,<port>:  (AT+CIPDINFO=1)
    ++p;
    const char* q = p;
    if (q < end && *q == '"') {
      ++q;
      while (q < end && *q != '"' && address_char(*q)) ++q;
      form_ok = q < end && *q == '"' && q - p - 1 >= 1 && q - p - 1 <= 45;
      ++q;
    } else {
      while (q < end && address_char(*q)) ++q;
      form_ok = q > p && q - p <= 45;
    }
    p = q;
    std::size_t port = 0;
    form_ok = form_ok && p < end && *p == ',';
    if (form_ok) {
      ++p;
      form_ok = digits(p, end, 5, port) && p == end && port <= 65535;
    }
  }
  const bool open = id < static_cast<std::size_t>(link_count_) && links_[id].in_use && !links_[id].closing;
  state_ = State::kPayload;
  payload_left_ = len;
  datagram_header_owed_ = false;
  if (form_ok && len <= kMaxIpd && open && links_[id].udp && len + 2 > links_[id].ring.size()) {
    payload_link_ = -1;  // a datagram that can never fit the ring: drained, and reported by receive()
    ++links_[id].dropped;
    links_[id].dropped_length = len;
  } else if (form_ok && len <= kMaxIpd) {
    payload_link_ = open ? static_cast<int>(id) : -1;  // -1: not ours, consumed and dropped
    datagram_header_owed_ = open && links_[id].udp;
  } else {
    payload_link_ = -1;
    if (open) links_[id].overflow = true;  // drained: a hole in that link's stream
  }
  return true;
}

bool Esp8266AtStack::rx_blocked() const {
  if (state_ != State::kPayload || payload_link_ < 0) return false;
  const Link& l = links_[static_cast<std::size_t>(payload_link_)];
  if (datagram_header_owed_) return l.ring.size() - l.size < payload_left_ + 2;  // the whole datagram must fit
  return !l.ring.empty() && !l.overflow && l.size == l.ring.size();
}

bool Esp8266AtStack::feed_byte(std::byte byte) {
  const char c = static_cast<char>(byte);
  if (state_ == State::kPayload) {
    if (payload_link_ >= 0) {
      Link& l = links_[static_cast<std::size_t>(payload_link_)];
      if (datagram_header_owed_) {
        if (l.ring.size() - l.size < payload_left_ + 2) return false;  // wait until the whole datagram fits
        l.ring[(l.head + l.size) % l.ring.size()] = static_cast<std::byte>(payload_left_ >> 8);
        l.ring[(l.head + l.size + 1) % l.ring.size()] = static_cast<std::byte>(payload_left_ & 0xFFu);
        l.size += 2;
        datagram_header_owed_ = false;
      }
      if (l.overflow) {
        // the stream already has a hole: later bytes are dropped, not delivered after it
      } else if (l.size == l.ring.size()) {
        if (l.ring.empty()) {
          l.overflow = true;  // no storage at all: drop, but say so
        } else {
          return false;  // full: leave the byte in the UART (flow control)
        }
      } else {
        l.ring[(l.head + l.size) % l.ring.size()] = byte;
        ++l.size;
      }
    }
    if (--payload_left_ == 0) state_ = State::kLine;
    return true;
  }
  if (c == '>' && awaiting_prompt_ && line_len_ == 0) {
    events_ |= kPrompt;
    awaiting_prompt_ = false;
    owed_verdict_link_ = -1;  // whatever an earlier write() was owed came before this prompt
    return true;
  }
  if (c == '\n') {
    finish_line();
    return true;
  }
  if (line_len_ == 0 && (c == ' ' || c == '\r')) return true;  // "> " and blank lines
  if (line_len_ < line_.size()) {
    line_[line_len_++] = c;
  } else {
    line_overflow_ = true;  // over-long garbage: dropped at its newline
  }
  if (c == '"') ++line_quotes_;
  if (c == ':' && !line_overflow_ && line_quotes_ % 2 == 0 && line_len_ > 5 &&
      std::memcmp(line_.data(), "+IPD,", 5) == 0) {
    (void)parse_ipd();  // a payload follows, or the header announced none: either way the line is done
    line_len_ = 0;
    line_quotes_ = 0;
  }
  return true;
}

std::size_t Esp8266AtStack::feed(std::span<const std::byte> bytes) {
  std::size_t n = 0;
  while (n < bytes.size() && feed_byte(bytes[n])) ++n;
  return n;
}

void Esp8266AtStack::poll() {
  for (int budget = 0; budget < 4096; ++budget) {
    if (rx_blocked()) return;  // back-pressure
    std::byte b{};
    if (uart_.read(std::span(&b, 1)) == 0) return;
    feed_byte(b);
  }
}

// Waits for one of `wanted`. Ends early when the answer cannot come: the pending payload is stuck in
// a full ring (only read() can make room: kResourceExhausted, kRxBlockedDetail), or `watch_link`
// was closed by the peer (kClosed).
Status Esp8266AtStack::wait_for(std::uint8_t wanted, std::uint32_t timeout_ms, std::uint8_t* got, int watch_link) {
  const std::uint32_t start = uart_.now_ms();
  for (;;) {
    poll();
    if ((events_ & wanted) != 0) {
      if (got != nullptr) *got = events_;
      return Status::Ok();
    }
    if (watch_link >= 0 && links_[static_cast<std::size_t>(watch_link)].peer_closed) return Status(Code::kClosed);
    if (rx_blocked()) return Status(Code::kResourceExhausted, kRxBlockedDetail);
    if (expired(start, timeout_ms)) return Status(Code::kTimeout);
    uart_.idle();
  }
}

// A CIPSEND whose '>' prompt was stuck: the modem takes the next owed_prompt_len_ bytes as that
// write's data, so no other command may go out first. The write() that owes them finishes it (its
// retry); once its link is closed (owed_prompt_link_ == -1), the modem gets zeros instead. While the
// owing link is open, or the prompt still cannot be read, other commands get kRxBlockedDetail.
Status Esp8266AtStack::settle_owed_prompt(bool for_close, int link_id) {
  if (owed_prompt_len_ == 0) return Status::Ok();
  if (owed_prompt_link_ >= 0 && !(for_close && owed_prompt_link_ == link_id)) {
    return Status(Code::kResourceExhausted, kRxBlockedDetail);
  }
  owed_prompt_link_ = -1;
  std::uint8_t got = 0;
  const Status s = wait_for(kPrompt | kError, options_.io_timeout_ms, &got);
  if (!s.ok()) return s.code() == Code::kTimeout ? Status(Code::kResourceExhausted, kRxBlockedDetail) : s;
  const std::size_t n = owed_prompt_len_;
  owed_prompt_len_ = 0;
  awaiting_prompt_ = false;
  if ((got & kPrompt) == 0) return Status::Ok();  // ERROR: the modem wants nothing
  static const std::byte kZeros[64] = {};
  for (std::size_t left = n; left > 0;) {
    const std::size_t k = left < sizeof kZeros ? left : sizeof kZeros;
    const Status sent = send_all(std::span(kZeros, k), options_.io_timeout_ms);
    if (!sent.ok()) return sent;
    left -= k;
  }
  owed_verdict_link_ = kMaxLinks;  // its SEND OK / SEND FAIL concerns no open link: taken and dropped
  return Status::Ok();
}

Status Esp8266AtStack::send_all(std::span<const std::byte> data, std::uint32_t timeout_ms) {
  const std::uint32_t start = uart_.now_ms();
  while (!data.empty()) {
    const std::size_t n = uart_.write(data);
    data = data.subspan(n);
    if (data.empty()) break;
    if (expired(start, timeout_ms)) return Status(Code::kTimeout);
    poll();  // keep receiving while the UART is busy
    uart_.idle();
  }
  return Status::Ok();
}

Status Esp8266AtStack::command(const char* text, std::uint8_t wanted, std::uint32_t timeout_ms, std::uint8_t* got) {
  poll();
  events_ = kNone;
  const Status sent = send_all(std::as_bytes(std::span(text, std::strlen(text))), timeout_ms);
  if (!sent.ok()) return sent;
  static const char kEnd[] = "\r\n";
  const Status end = send_all(std::as_bytes(std::span(kEnd, 2)), timeout_ms);
  if (!end.ok()) return end;
  return wait_for(wanted, timeout_ms, got);
}

Status Esp8266AtStack::init() {
  const Status owed = settle_owed_prompt(false, -1);
  if (!owed.ok()) return owed;
  for (const char* cmd : {"AT", "ATE0", "AT+CIPMUX=1"}) {
    std::uint8_t got = 0;
    const Status s = command(cmd, kOk | kError, options_.command_timeout_ms, &got);
    if (!s.ok()) return s;
    if ((got & kOk) == 0) return Status(Code::kIo, kErrorDetail);
  }
  return Status::Ok();
}

Result<Socket> Esp8266AtStack::open(Mode mode) { return open_link(mode, false); }

Result<Socket> Esp8266AtStack::open_link(Mode mode, bool udp) {
  for (int i = 0; i < link_count_; ++i) {
    Link& l = links_[static_cast<std::size_t>(i)];
    if (!l.in_use) {
      l.in_use = true;
      l.connected = l.peer_closed = l.overflow = false;
      l.head = l.size = 0;
      l.mode = mode;
      l.udp = udp;
      l.dropped = l.dropped_length = 0;
      return Socket{i};
    }
  }
  return Status(Code::kResourceExhausted);
}

Status Esp8266AtStack::connect(Socket socket, const char* host, std::uint16_t port) {
  Link* l = link(socket);
  if (l == nullptr || host == nullptr) return Status(Code::kInvalidArgument);
  if (l->udp) return Status(Code::kFailedPrecondition);  // a udp() handle
  return start(socket, host, port, "TCP");
}

Status Esp8266AtStack::start(Socket socket, const char* host, std::uint16_t port, const char* type) {
  Link* l = link(socket);
  if (l->connected) return Status(Code::kFailedPrecondition);
  if (!host_name_ok(host)) return Status(Code::kInvalidArgument);  // it goes into the command line
  const Status owed = settle_owed_prompt(false, socket);
  if (!owed.ok()) return owed;
  char cmd[32 + kMaxHostName];
  const int n = tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPSTART=%d,\"%s\",\"%s\",%u", socket, type, host,
                                 static_cast<unsigned>(port));
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof cmd) return Status(Code::kInvalidArgument);
  std::uint8_t got = 0;
  const Status s = command(cmd, kOk | kError, options_.connect_timeout_ms, &got);
  if (!s.ok()) return s;
  if ((got & kError) != 0 || !l->connected) return Status(Code::kUnavailable);
  return Status::Ok();
}

IoResult Esp8266AtStack::write(Socket socket, std::span<const std::byte> data) {
  Link* l = link(socket);
  if (l == nullptr) return {Status(Code::kInvalidArgument), 0};
  if (l->udp) return {Status(Code::kFailedPrecondition), 0};  // a udp() handle
  return send_on(socket, data);
}

// One CIPSEND of up to kMaxSend bytes (TCP: write(); UDP: one datagram, which the caller has bounded).
IoResult Esp8266AtStack::send_on(Socket socket, std::span<const std::byte> data) {
  Link* l = link(socket);
  const bool resuming = owed_prompt_len_ != 0 && owed_prompt_link_ == socket;
  if (owed_prompt_len_ != 0 && !resuming) return {Status(Code::kResourceExhausted, kRxBlockedDetail), 0};
  if (!resuming) {
    if (l->send_failed) return {Status(Code::kIo, kSendFailDetail), 0};
    if (l->peer_closed) return {Status(Code::kClosed), 0};
    if (!l->connected) return {Status(Code::kFailedPrecondition), 0};
  }
  if (data.empty()) return {Status::Ok(), 0};
  std::uint8_t got = 0;
  std::size_t n = 0;
  if (resuming) {
    // The retry of a write() whose prompt was stuck: the modem waits for exactly those bytes.
    n = owed_prompt_len_;
    if (data.size() < n) return {Status(Code::kInvalidArgument), 0};
    poll();
    got = events_;
    if ((got & (kPrompt | kError)) == 0) {
      const Status s = wait_for(kPrompt | kError, options_.io_timeout_ms, &got);
      if (!s.ok()) return {s, 0};  // still stuck: the same kRxBlockedDetail (or kTimeout)
    }
    owed_prompt_len_ = 0;
    owed_prompt_link_ = -1;
    awaiting_prompt_ = false;
  } else {
    poll();
    if (rx_blocked()) return {Status(Code::kResourceExhausted, kRxBlockedDetail), 0};  // nothing sent yet
    n = data.size() < kMaxSend ? data.size() : kMaxSend;
    char cmd[32];
    tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPSEND=%d,%u", socket, static_cast<unsigned>(n));
    awaiting_prompt_ = true;
    const Status s = command(cmd, kPrompt | kError, options_.io_timeout_ms, &got);
    if (s == Status(Code::kResourceExhausted, kRxBlockedDetail)) {
      // The prompt (or ERROR) is behind data only read() can make room for: the modem may already be
      // waiting for our n bytes, so nothing else may be sent until this write() is retried.
      owed_prompt_link_ = socket;
      owed_prompt_len_ = n;
      return {s, 0};
    }
    if (!s.ok()) {
      awaiting_prompt_ = false;
      return {s, 0};
    }
    awaiting_prompt_ = false;
  }
  if ((got & kPrompt) == 0) return {Status(Code::kIo, kErrorDetail), 0};
  events_ = kNone;
  Status s = send_all(data.first(n), options_.io_timeout_ms);
  if (!s.ok()) return {s, 0};
  s = wait_for(kSendOk | kSendFail | kError, options_.io_timeout_ms, &got, socket);
  if (s == Status(Code::kResourceExhausted, kRxBlockedDetail)) {
    owed_verdict_link_ = socket;  // the modem has the bytes; SEND OK / SEND FAIL is taken when it comes
    return {Status::Ok(), n};
  }
  if (s.code() == Code::kClosed) {
    owed_verdict_link_ = socket;  // a SEND FAIL may still follow the CLOSED
    return {s, 0};
  }
  if (!s.ok()) return {s, 0};
  if ((got & kSendOk) == 0) return {Status(Code::kIo, (got & kSendFail) != 0 ? kSendFailDetail : kErrorDetail), 0};
  return {Status::Ok(), n};
}

// Nothing to deliver on `l` yet: why not (the peer closed, never connected, a non-blocking link, the I/O
// timeout since `start`), or Ok after idling once, to poll again. Inlined into both callers: the reference
// firmware's read() stays the code it was.
[[gnu::always_inline]] inline Status Esp8266AtStack::await_data(const Link& l, std::uint32_t start, std::uint32_t wait_ms) {
  if (l.peer_closed) return Status(Code::kClosed);
  if (!l.connected) return Status(Code::kFailedPrecondition);
  if (wait_ms == kIoTimeout && l.mode == Mode::kNonBlocking) return Status(Code::kWouldBlock);
  if (expired(start, wait_ms == kIoTimeout ? options_.io_timeout_ms : wait_ms)) return Status(Code::kTimeout);
  uart_.idle();
  return Status::Ok();
}

IoResult Esp8266AtStack::read(Socket socket, std::span<std::byte> buffer) {
  Link* l = link(socket);
  if (l == nullptr) return {Status(Code::kInvalidArgument), 0};
  if (l->udp) return {Status(Code::kFailedPrecondition), 0};  // a udp() handle
  if (buffer.empty()) return {Status::Ok(), 0};
  const std::uint32_t start = uart_.now_ms();
  for (;;) {
    poll();
    if (l->size > 0) {
      std::size_t n = 0;
      while (n < buffer.size() && l->size > 0) {
        buffer[n++] = l->ring[l->head];
        l->head = (l->head + 1) % l->ring.size();
        --l->size;
      }
      return {Status::Ok(), n};
    }
    if (l->overflow) return {Status(Code::kDataLoss), 0};
    const Status waited = await_data(*l, start);
    if (!waited.ok()) return {waited, 0};
  }
}

Status Esp8266AtStack::close(Socket socket) {
  Link* l = link(socket);
  if (l == nullptr) return Status(Code::kInvalidArgument);
  Status s = Status::Ok();
  // Unread data of this link can never be read now: drop it, and any payload still on its way, so
  // that frames queued ahead of the modem's answer (a peer that kept sending) cannot hold the UART
  // under back-pressure until the command times out.
  l->closing = true;
  l->head = l->size = 0;
  if (payload_link_ == socket) {
    payload_link_ = -1;
    datagram_header_owed_ = false;
  }
  if (owed_verdict_link_ == socket) owed_verdict_link_ = kMaxLinks;
  s = settle_owed_prompt(true, socket);  // a write() of this link the modem still waits for: zeros
  if (s.ok() && l->connected && !l->peer_closed) {
    char cmd[24];
    tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPCLOSE=%d", socket);
    std::uint8_t got = 0;
    s = command(cmd, kOk | kError, options_.command_timeout_ms, &got);
    if (s.ok() && (got & kOk) == 0) s = Status(Code::kIo, kErrorDetail);
  }
  if (owed_prompt_link_ == socket) owed_prompt_link_ = -1;  // still owed (unreadable): zeros, later
  Link fresh;
  fresh.ring = l->ring;
  *l = fresh;
  return s;
}

// ---- UDP links -------------------------------------------------------------------------------------

Result<Socket> Esp8266AtUdp::open(Mode mode) { return modem_.open_link(mode, true); }

Status Esp8266AtUdp::connect(Socket socket, const char* host, std::uint16_t port) {
  Esp8266AtStack::Link* l = modem_.link(socket);
  if (l == nullptr || !l->udp || host == nullptr || port == 0) return Status(Code::kInvalidArgument);
  return modem_.start(socket, host, port, "UDP");
}

IoResult Esp8266AtUdp::send(Socket socket, std::span<const std::byte> datagram) {
  Esp8266AtStack::Link* l = modem_.link(socket);
  if (l == nullptr || !l->udp || datagram.data() == nullptr) return {Status(Code::kInvalidArgument), 0};
  if (datagram.empty() || datagram.size() > Esp8266AtStack::kMaxSend) return {Status(Code::kInvalidArgument), 0};  // never split
  const bool resuming = modem_.owed_prompt_len_ != 0 && modem_.owed_prompt_link_ == socket;
  if (!resuming && !l->connected && !l->peer_closed) return {Status(Code::kFailedPrecondition), 0};
  const IoResult r = modem_.send_on(socket, datagram);
  if (r.ok() && r.size != datagram.size()) return {Status(Code::kIo, Esp8266AtStack::kErrorDetail), 0};  // cannot happen: one CIPSEND
  return r;
}

IoResult Esp8266AtUdp::receive(Socket socket, std::span<std::byte> buffer) {
  return receive_waiting(socket, buffer, kAsTheModeSays);
}

IoResult Esp8266AtUdp::receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) {
  return receive_waiting(socket, buffer, wait_ms == kAsTheModeSays ? wait_ms - 1 : wait_ms);
}

IoResult Esp8266AtUdp::receive_waiting(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) {
  static_assert(kAsTheModeSays == Esp8266AtStack::kIoTimeout);
  Esp8266AtStack::Link* l = modem_.link(socket);
  if (l == nullptr || !l->udp || (buffer.data() == nullptr && !buffer.empty())) return {Status(Code::kInvalidArgument), 0};
  const std::uint32_t start = modem_.uart_.now_ms();
  for (;;) {
    modem_.poll();
    const auto at = [l](std::size_t i) { return std::to_integer<std::size_t>(l->ring[(l->head + i) % l->ring.size()]); };
    // The first datagram of the ring once all of it is there: its length prefix goes in with its first byte, the
    // rest as the UART brings it (a partly received datagram is never taken).
    if (l->size >= 2 && l->size >= 2 + ((at(0) << 8) | at(1))) {
      const std::size_t length = (at(0) << 8) | at(1);
      const bool fits = length <= buffer.size();
      for (std::size_t i = 0; fits && i < length; ++i) buffer[i] = l->ring[(l->head + 2 + i) % l->ring.size()];
      l->head = (l->head + 2 + length) % l->ring.size();
      l->size -= 2 + length;
      if (!fits) return {Status(Code::kResourceExhausted, static_cast<std::int32_t>(length)), 0};  // dropped
      return {Status::Ok(), length};
    }
    if (l->dropped > 0) {
      --l->dropped;
      return {Status(Code::kResourceExhausted, static_cast<std::int32_t>(l->dropped_length)), 0};
    }
    const Status waited = modem_.await_data(*l, start, wait_ms);
    if (!waited.ok()) return {waited, 0};
  }
}

Status Esp8266AtUdp::close(Socket socket) {
  Esp8266AtStack::Link* l = modem_.link(socket);
  if (l == nullptr || !l->udp) return Status(Code::kInvalidArgument);
  return modem_.close(socket);
}

}  // namespace tlsgen
