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
    } else if (equals(line, len, "SEND OK")) {
      events_ |= kSendOk;
    } else if (equals(line, len, "SEND FAIL")) {
      events_ |= kSendFail;
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
}

bool Esp8266AtStack::feed_byte(std::byte byte) {
  const char c = static_cast<char>(byte);
  if (state_ == State::kPayload) {
    if (payload_link_ >= 0) {
      Link& l = links_[static_cast<std::size_t>(payload_link_)];
      if (l.size == l.ring.size()) {
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
  if (c == ':' && !line_overflow_ && line_len_ > 5 && std::memcmp(line_.data(), "+IPD,", 5) == 0) {
    // +IPD,<id>,<len>:   validate, then the next <len> bytes are payload.
    const char* p = line_.data() + 5;
    const char* end = line_.data() + line_len_ - 1;
    int id = -1;
    std::size_t len = 0;
    bool ok = p < end && *p >= '0' && *p <= '4' && p + 1 < end && p[1] == ',';
    if (ok) {
      id = *p - '0';
      p += 2;
      ok = p < end && end - p <= 4;
      for (; ok && p < end; ++p) {
        ok = *p >= '0' && *p <= '9';
        len = len * 10 + static_cast<std::size_t>(*p - '0');
      }
      ok = ok && len > 0 && len <= kMaxSend;
    }
    line_len_ = 0;
    if (ok) {
      state_ = State::kPayload;
      payload_left_ = len;
      const bool readable = id < link_count_ && links_[static_cast<std::size_t>(id)].in_use &&
                            !links_[static_cast<std::size_t>(id)].closing;
      payload_link_ = readable ? id : -1;  // -1: the payload is consumed and dropped
    }
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
    if (state_ == State::kPayload && payload_link_ >= 0) {
      const Link& l = links_[static_cast<std::size_t>(payload_link_)];
      if (!l.ring.empty() && l.size == l.ring.size()) return;  // back-pressure
    }
    std::byte b{};
    if (uart_.read(std::span(&b, 1)) == 0) return;
    feed_byte(b);
  }
}

Status Esp8266AtStack::wait_for(std::uint8_t wanted, std::uint32_t timeout_ms, std::uint8_t* got) {
  const std::uint32_t start = uart_.now_ms();
  for (;;) {
    poll();
    if ((events_ & wanted) != 0) {
      if (got != nullptr) *got = events_;
      return Status::Ok();
    }
    if (expired(start, timeout_ms)) return Status(Code::kTimeout);
    uart_.idle();
  }
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
  for (const char* cmd : {"AT", "ATE0", "AT+CIPMUX=1"}) {
    std::uint8_t got = 0;
    const Status s = command(cmd, kOk | kError, options_.command_timeout_ms, &got);
    if (!s.ok()) return s;
    if ((got & kOk) == 0) return Status(Code::kIo, 2);
  }
  return Status::Ok();
}

Result<Socket> Esp8266AtStack::open(Mode mode) {
  for (int i = 0; i < link_count_; ++i) {
    Link& l = links_[static_cast<std::size_t>(i)];
    if (!l.in_use) {
      l.in_use = true;
      l.connected = l.peer_closed = l.overflow = false;
      l.head = l.size = 0;
      l.mode = mode;
      return Socket{i};
    }
  }
  return Status(Code::kResourceExhausted);
}

Status Esp8266AtStack::connect(Socket socket, const char* host, std::uint16_t port) {
  Link* l = link(socket);
  if (l == nullptr || host == nullptr) return Status(Code::kInvalidArgument);
  if (l->connected) return Status(Code::kFailedPrecondition);
  char cmd[128];
  const int n = tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPSTART=%d,\"TCP\",\"%s\",%u", socket, host,
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
  if (l->peer_closed) return {Status(Code::kClosed), 0};
  if (!l->connected) return {Status(Code::kFailedPrecondition), 0};
  if (data.empty()) return {Status::Ok(), 0};
  const std::size_t n = data.size() < kMaxSend ? data.size() : kMaxSend;
  char cmd[32];
  tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPSEND=%d,%u", socket, static_cast<unsigned>(n));
  awaiting_prompt_ = true;
  std::uint8_t got = 0;
  Status s = command(cmd, kPrompt | kError, options_.io_timeout_ms, &got);
  awaiting_prompt_ = false;
  if (!s.ok()) return {s, 0};
  if ((got & kPrompt) == 0) return {Status(Code::kIo, 2), 0};
  events_ = kNone;
  s = send_all(data.first(n), options_.io_timeout_ms);
  if (s.ok()) s = wait_for(kSendOk | kSendFail | kError, options_.io_timeout_ms, &got);
  if (!s.ok()) return {s, 0};
  if ((got & kSendOk) == 0) return {Status(Code::kIo, (got & kSendFail) != 0 ? 1 : 2), 0};
  return {Status::Ok(), n};
}

IoResult Esp8266AtStack::read(Socket socket, std::span<std::byte> buffer) {
  Link* l = link(socket);
  if (l == nullptr) return {Status(Code::kInvalidArgument), 0};
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
    if (l->peer_closed) return {Status(Code::kClosed), 0};
    if (!l->connected) return {Status(Code::kFailedPrecondition), 0};
    if (l->mode == Mode::kNonBlocking) return {Status(Code::kWouldBlock), 0};
    if (expired(start, options_.io_timeout_ms)) return {Status(Code::kTimeout), 0};
    uart_.idle();
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
  if (payload_link_ == socket) payload_link_ = -1;
  if (l->connected && !l->peer_closed) {
    char cmd[24];
    tlsgen::snprintf(cmd, sizeof cmd, "AT+CIPCLOSE=%d", socket);
    std::uint8_t got = 0;
    s = command(cmd, kOk | kError, options_.command_timeout_ms, &got);
    if (s.ok() && (got & kOk) == 0) s = Status(Code::kIo, 2);
  }
  Link fresh;
  fresh.ring = l->ring;
  *l = fresh;
  return s;
}

}  // namespace tlsgen
