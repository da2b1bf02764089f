// libFuzzer target: the ESP8266 AT driver and its parser against a modem that says arbitrary bytes,
// through every path of the state machine in both directions: commands out (init, CIPSTART, CIPSEND
// with its '>' prompt and payload, CIPCLOSE, a UART that accepts only part of a write), and modem
// bytes in (OK/ERROR/SEND OK/SEND FAIL, <id>,CONNECT, <id>,CLOSED, +IPD framing into each link's
// ring with back-pressure, garbage and over-long lines). Must never crash, read or write out of
// bounds (ASan), hang (every wait is bounded by the fake clock), or break the API's promises.
//
// Input: a configuration byte, then records (anything else is skipped):
//   'M' <n> <n bytes>  the modem's next reply chunk. All chunks queue up in input order, and the
//                      modem releases the next one whenever the driver waits (Uart::idle), as a
//                      modem answers a command or data arrives while the host waits.
//   'T'                release the next chunk now (data arriving between calls)
//   'F' <n> <n bytes>  Esp8266AtStack::feed() those bytes directly
//   'I'                init()
//   'O' / 'o'          open() blocking / non-blocking
//   'C' <id>           connect(id - '0', ...)      (any id: invalid ones included)
//   'W' <id> <k>       write(id - '0', 9 * k bytes)  (up to 2295: above the 2048-byte CIPSEND limit)
//   'R' <id> <k>       read(id - '0', k-byte buffer)
//   'X' <id>           close(id - '0')
//   'U' <k>            the UART accepts at most k bytes per write from now on (0: busy)
//   'P' / 'p'          Esp8266AtUdp::open() blocking / non-blocking (UDP links: length-prefixed datagrams)
//   'D' <id>           Esp8266AtUdp::connect(id - '0', ...)
//   'S' <id> <k>       Esp8266AtUdp::send(id - '0', a 9 * k-byte datagram)  (0: empty, above 2048: refused)
//   'V' <id> <k>       Esp8266AtUdp::receive(id - '0', k-byte buffer)
//   'Y' <id>           Esp8266AtUdp::close(id - '0')
// Configuration byte c: 1 + c % 5 links, (c / 5 % 8) * 64 bytes of receive storage.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tlsgen/esp8266_at.hpp"

namespace {

class ScriptedModem final : public tlsgen::Uart {
 public:
  void queue(const std::uint8_t* bytes, std::size_t n) {
    chunks_.push_back(script_.size());
    script_.insert(script_.end(), bytes, bytes + n);
  }
  void release() {  // the next chunk becomes readable
    if (released_chunks_ < chunks_.size()) ++released_chunks_;
  }
  void accept_per_write(std::size_t n) { accept_ = n; }
  std::size_t written() const { return written_; }

  std::size_t write(std::span<const std::byte> bytes) override {
    const std::size_t n = bytes.size() < accept_ ? bytes.size() : accept_;
    written_ += n;
    return n;
  }
  std::size_t read(std::span<std::byte> buffer) override {
    const std::size_t end = released_chunks_ < chunks_.size() ? chunks_[released_chunks_] : script_.size();
    std::size_t n = 0;
    while (n < buffer.size() && pos_ < end) buffer[n++] = static_cast<std::byte>(script_[pos_++]);
    return n;
  }
  std::uint32_t now_ms() override { return now_; }
  void idle() override {
    now_ += 5;
    release();
  }

 private:
  std::vector<std::uint8_t> script_;
  std::vector<std::size_t> chunks_;  // start offsets; chunk k is readable once released_chunks_ > k
  std::size_t released_chunks_ = 0;
  std::size_t pos_ = 0;
  std::size_t accept_ = SIZE_MAX;
  std::size_t written_ = 0;
  std::uint32_t now_ = 0;
};

void require(bool condition) {
  if (!condition) std::abort();  // a broken promise of the API: a finding
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t config = data[0];
  const int links = 1 + config % 5;
  static std::byte storage[7 * 64];
  const std::size_t storage_size = static_cast<std::size_t>(config / 5 % 8) * 64;
  ScriptedModem modem;
  // First pass: the modem's script (every 'M' chunk, in order).
  for (std::size_t i = 1; i < size; ++i) {
    const std::uint8_t op = data[i];
    if ((op == 'M' || op == 'F') && i + 1 < size) {
      const std::size_t n = data[i + 1] < size - i - 2 ? data[i + 1] : size - i - 2;
      if (op == 'M') modem.queue(data + i + 2, n);
      i += 1 + n;
    } else if (op == 'C' || op == 'X' || op == 'U' || op == 'D' || op == 'Y') {
      i += 1;
    } else if (op == 'W' || op == 'R' || op == 'S' || op == 'V') {
      i += 2;
    }
  }
  tlsgen::Esp8266AtStack stack(modem, std::span(storage, storage_size), links, {50, 50, 50});
  tlsgen::Esp8266AtUdp udp(stack);
  static std::byte payload[9 * 255];
  for (std::size_t k = 0; k < sizeof payload; ++k) payload[k] = static_cast<std::byte>('a' + k % 26);
  std::byte buffer[255];
  int steps = 0;
  // Second pass: the host's calls.
  for (std::size_t i = 1; i < size && steps < 64; ++i, ++steps) {
    const std::uint8_t op = data[i];
    const auto arg = [&](std::size_t k) -> std::uint8_t { return i + k < size ? data[i + k] : 0; };
    const auto id = [&](std::size_t k) { return static_cast<tlsgen::Socket>(static_cast<int>(arg(k)) - '0'); };
    switch (op) {
      case 'M':
      case 'F': {
        if (i + 1 >= size) break;
        const std::size_t n = data[i + 1] < size - i - 2 ? data[i + 1] : size - i - 2;
        if (op == 'F') {
          const std::size_t used = stack.feed(std::as_bytes(std::span(data + i + 2, n)));
          require(used <= n);
        }
        i += 1 + n;
        break;
      }
      case 'T':
        modem.release();
        break;
      case 'I':
        (void)stack.init();
        break;
      case 'O':
      case 'o': {
        const auto s = stack.open(op == 'O' ? tlsgen::Mode::kBlocking : tlsgen::Mode::kNonBlocking);
        require(!s.ok() || (s.value() >= 0 && s.value() < links));
        break;
      }
      case 'C':
        (void)stack.connect(id(1), "10.0.0.1", 443);
        i += 1;
        break;
      case 'W': {
        const std::size_t n = 9u * arg(2);
        const auto before = modem.written();
        const tlsgen::IoResult r = stack.write(id(1), std::span(payload, n));
        // Success: at most one CIPSEND's worth (exactly that, unless it finished an earlier write() whose
        // prompt was stuck behind received data: then that write's length), all of it handed to the UART.
        require(!r.status.ok() || r.size <= (n < tlsgen::Esp8266AtStack::kMaxSend ? n : tlsgen::Esp8266AtStack::kMaxSend));
        require(!r.status.ok() || n == 0 || r.size > 0);
        require(!r.status.ok() || n == 0 || modem.written() - before >= r.size);
        i += 2;
        break;
      }
      case 'R': {
        const std::size_t n = arg(2);
        const tlsgen::IoResult r = stack.read(id(1), std::span(buffer, n));
        require(r.size <= n);
        require(!r.status.ok() || n == 0 || r.size > 0);  // a successful read returns data
        i += 2;
        break;
      }
      case 'X':
        (void)stack.close(id(1));
        i += 1;
        break;
      case 'U':
        modem.accept_per_write(arg(1));
        i += 1;
        break;
      case 'P':
      case 'p': {
        const auto s = udp.open(op == 'P' ? tlsgen::Mode::kBlocking : tlsgen::Mode::kNonBlocking);
        require(!s.ok() || (s.value() >= 0 && s.value() < links));
        break;
      }
      case 'D':
        (void)udp.connect(id(1), "10.0.0.1", 5684);
        i += 1;
        break;
      case 'S': {
        const std::size_t n = 9u * arg(2);
        const tlsgen::IoResult r = udp.send(id(1), std::span(payload, n));
        // A datagram goes whole or not at all, and never empty or above one CIPSEND.
        require(!r.status.ok() || (r.size == n && n > 0 && n <= tlsgen::Esp8266AtStack::kMaxSend));
        require(r.status.ok() || r.size == 0);
        i += 2;
        break;
      }
      case 'V': {
        const std::size_t n = arg(2);
        const tlsgen::IoResult r = udp.receive(id(1), std::span(buffer, n));
        require(r.size <= n);
        require(r.status.ok() || r.size == 0);  // a datagram too large is dropped, never cut
        i += 2;
        break;
      }
      case 'Y':
        (void)udp.close(id(1));
        i += 1;
        break;
      default:
        break;
    }
    require(stack.open_count() <= static_cast<std::size_t>(links));
  }
  return 0;
}
