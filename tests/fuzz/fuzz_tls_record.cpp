// libFuzzer target: the TLS record path. Arbitrary bytes play the server's side of one client session
// of SslTcpStack, through an in-memory TcpStack, on the test-only profile tls/fuzz-tls.yaml (TLS 1.2
// and 1.3; AES-GCM, ChaCha20-Poly1305, CBC + HMAC with encrypt-then-MAC, PSK with CCM-8; ALPN).
// mbedTLS and the SSL runtime carry the coverage instrumentation, so libFuzzer steers into mbedTLS's
// record and handshake parsers. Every input must end with:
//   - no crash, no out-of-bounds access, no undefined behaviour (ASan + UBSan, no recovery);
//   - the heap back to 0 bytes and 0 blocks in use after close(), SslConfig::deinit() and
//     SslPlatform::deinit();
//   - every result from the set ssl_tcp_stack.hpp documents for that call (checked by require_*):
//     connect/read/write: Ok, kWouldBlock (non-blocking only), kTimeout (the transport's, detail
//     MBEDTLS_ERR_SSL_TIMEOUT; or a deadline's, detail 1/2), kTls with an mbedTLS error code,
//     kResourceExhausted with one; read also kClosed with detail 0 or MBEDTLS_ERR_SSL_CONN_EOF; a data
//     count within the buffer; a failure sticky until close();
//   - no livelock: a bounded number of calls per input (each either consumes input or flips an
//     injected interruption).
//
// Input: one options byte, then the server's bytes, in order:
//   bit 0      Mode::kNonBlocking (else kBlocking)
//   bit 1      the transport interrupts every other read and write: kWouldBlock (non-blocking) or
//              kTimeout (blocking), so every retry path runs
//   bits 2-4   most bytes one transport read returns: all, 1, 2, 3, 5, 13, 64, 700
//   bits 5-6   heap region: the profile's whole heap, or 90 %, 80 %, 70 % of it (allocation failures)
//   bit 7      operation deadlines on a fake clock that advances 1 ms per transport call (handshake
//              120 ms, read 30 ms)
// Seeds (corpus/tls_record/) are real sessions: record_sessions.py runs this binary against openssl
// s_server with TLSGEN_FUZZ_TLS_RECORD set and keeps option byte 0 plus every byte the server sent.
// The client is deterministic (tls/deterministic_entropy.cpp, no clock), so a seed replays in full:
// handshake, request, the reply, close_notify (record_sessions.py replay checks that).
//
// Environment (both only read once, in LLVMFuzzerInitialize):
//   TLSGEN_FUZZ_TLS_RECORD="<port> <file>"  record one session against 127.0.0.1:<port>, write the seed
//                                           to <file>, print the outcome, exit 0 if it completed
//   TLSGEN_FUZZ_TLS_REPORT=1                print each input's outcome (one line, stderr) while fuzzing or
//                                           replaying
//   TLSGEN_FUZZ_TLS_TRACE=1                 print every transport call (for a finding: one input)
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "mbedtls/build_info.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/ssl.h"
#include "tlsgen/clock.hpp"
#include "tlsgen/glue.hpp"
#include "tlsgen/posix_tcp_stack.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen_profile.hpp"

extern "C" void tlsgen_fuzz_entropy_reset(void);  // tls/deterministic_entropy.cpp

namespace {

using tlsgen::Code;
using tlsgen::Mode;
using tlsgen::Status;

// The test PKI's CA (tls/pki/ca.der, turned into this include by CMake).
constexpr unsigned char kCaDer[] = {
#include "fuzz_tls_ca.inc"
};
constexpr char kServerName[] = "tlsgen.test";  // in the server certificate's subjectAltName
constexpr unsigned char kPsk[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr char kPskIdentity[] = "tlsgen-client";
constexpr char kRequest[] = "GET /reply.txt HTTP/1.0\r\n\r\n";
const char* const kAlpn[] = {"http/1.1", nullptr};

bool g_report = false;
bool g_trace = false;

[[noreturn]] void broken(const char* what, Status st) {
  std::fprintf(stderr, "fuzz_tls_record: broken promise: %s (code %d, detail %d)\n", what, static_cast<int>(st.code()),
               static_cast<int>(st.detail()));
  std::abort();
}

void require(bool condition, const char* what, Status st = Status()) {
  if (!condition) broken(what, st);
}

struct Options {
  Mode mode = Mode::kBlocking;
  bool interrupt = false;
  std::size_t read_chunk = SIZE_MAX;
  unsigned heap_percent = 100;
  bool deadlines = false;
};

Options parse_options(std::uint8_t b) {
  static constexpr std::size_t kChunks[8] = {SIZE_MAX, 1, 2, 3, 5, 13, 64, 700};
  static constexpr unsigned kHeap[4] = {100, 90, 80, 70};
  Options o;
  o.mode = (b & 1U) != 0 ? Mode::kNonBlocking : Mode::kBlocking;
  o.interrupt = (b & 2U) != 0;
  o.read_chunk = kChunks[(b >> 2) & 7U];
  o.heap_percent = kHeap[(b >> 5) & 3U];
  o.deadlines = (b & 0x80U) != 0;
  return o;
}

class FakeClock final : public tlsgen::Clock {
 public:
  std::uint32_t now_ms() override { return now; }
  std::uint32_t now = 0;
};

// The server: the input's bytes, handed out as the options say; the client's bytes are taken and
// dropped. The end of the input is the server closing the connection (kClosed).
class ServerBytes final : public tlsgen::TcpStack {
 public:
  ServerBytes(std::span<const std::uint8_t> bytes, const Options& o, FakeClock& clock)
      : bytes_(bytes), o_(o), clock_(clock) {}

  tlsgen::Result<tlsgen::Socket> open(Mode) override {
    ++open_;
    return tlsgen::Socket{7};
  }
  Status connect(tlsgen::Socket, const char*, std::uint16_t) override { return Status(); }
  tlsgen::IoResult write(tlsgen::Socket, std::span<const std::byte> data) override {
    ++clock_.now;
    const bool cut = interrupted();
    if (g_trace) std::fprintf(stderr, "  write %zu%s\n", data.size(), cut ? ": interrupted" : "");
    if (cut) return {interruption(), 0};
    written_ += data.size();
    return {Status(), data.size()};
  }
  tlsgen::IoResult read(tlsgen::Socket, std::span<std::byte> buffer) override {
    ++clock_.now;
    const bool cut = interrupted();
    if (g_trace) std::fprintf(stderr, "  read %zu at %zu%s\n", buffer.size(), pos_, cut ? ": interrupted" : "");
    if (cut) return {interruption(), 0};
    if (pos_ == bytes_.size()) return {Status(Code::kClosed), 0};
    std::size_t n = bytes_.size() - pos_;
    n = n < buffer.size() ? n : buffer.size();
    n = n < o_.read_chunk ? n : o_.read_chunk;
    std::memcpy(buffer.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return {Status(), n};
  }
  Status close(tlsgen::Socket) override {
    --open_;
    return Status();
  }
  int open_sockets() const { return open_; }
  std::size_t consumed() const { return pos_; }

 private:
  bool interrupted() { return o_.interrupt && (++calls_ & 1U) != 0; }
  Status interruption() const { return Status(o_.mode == Mode::kNonBlocking ? Code::kWouldBlock : Code::kTimeout); }

  std::span<const std::uint8_t> bytes_;
  const Options& o_;
  FakeClock& clock_;
  std::size_t pos_ = 0;
  std::size_t written_ = 0;
  unsigned calls_ = 0;
  int open_ = 0;
};

// Recording: the real server through PosixTcpStack, every byte read kept.
class Recorder final : public tlsgen::TcpStack {
 public:
  explicit Recorder(std::uint16_t port) : port_(port) {}
  tlsgen::Result<tlsgen::Socket> open(Mode mode) override { return posix_.open(mode); }
  Status connect(tlsgen::Socket s, const char*, std::uint16_t) override {
    return posix_.connect(s, "127.0.0.1", port_);
  }
  tlsgen::IoResult write(tlsgen::Socket s, std::span<const std::byte> data) override { return posix_.write(s, data); }
  tlsgen::IoResult read(tlsgen::Socket s, std::span<std::byte> buffer) override {
    const tlsgen::IoResult r = posix_.read(s, buffer);
    if (r.ok()) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
      received.insert(received.end(), p, p + r.size);
    }
    return r;
  }
  Status close(tlsgen::Socket s) override { return posix_.close(s); }
  std::vector<std::uint8_t> received;

 private:
  tlsgen::PosixTcpStack posix_{10000};
  std::uint16_t port_;
};

// ---- what ssl_tcp_stack.hpp promises --------------------------------------------------------------

bool mbedtls_code(std::int32_t d) { return d < 0 && d >= -0x7FFF; }

// kTls / kResourceExhausted: an mbedTLS error, never one of the codes the runtime must translate.
void require_failure(Status st, bool in_handshake, const char* call) {
  require(mbedtls_code(st.detail()), call, st);
  switch (st.detail()) {
    case MBEDTLS_ERR_SSL_WANT_READ:
    case MBEDTLS_ERR_SSL_WANT_WRITE:
    case MBEDTLS_ERR_SSL_TIMEOUT:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
      broken("an mbedTLS code that must have been translated came out as a failure", st);
    case MBEDTLS_ERR_SSL_CONN_EOF:
      require(in_handshake || st.code() == Code::kResourceExhausted,
              "CONN_EOF after the handshake must be kClosed (kTlsTruncatedClose)", st);
      break;
    default:
      break;
  }
}

bool sticky(Status st) {
  return st.code() == Code::kTls || st.code() == Code::kResourceExhausted || st == tlsgen::kHandshakeDeadlineExpired;
}

// connect(): Ok | kWouldBlock | kTimeout | kTls | kResourceExhausted.
void require_connect_status(Status st, const Options& o) {
  switch (st.code()) {
    case Code::kOk:
      return;
    case Code::kWouldBlock:
      require(o.mode == Mode::kNonBlocking, "connect: kWouldBlock from a blocking session", st);
      return;
    case Code::kTimeout:
      require((o.interrupt && o.mode == Mode::kBlocking && st.detail() == MBEDTLS_ERR_SSL_TIMEOUT) ||
                  (o.deadlines && st == tlsgen::kHandshakeDeadlineExpired),
              "connect: kTimeout that neither the transport nor a deadline caused", st);
      return;
    case Code::kTls:
    case Code::kResourceExhausted:
      require_failure(st, true, "connect: failure without an mbedTLS code");
      return;
    default:
      broken("connect: a status ssl_tcp_stack.hpp does not document", st);
  }
}

// read()/write() after the handshake.
void require_io_status(const tlsgen::IoResult& r, std::size_t asked, const Options& o, bool is_read) {
  const char* call = is_read ? "read" : "write";
  switch (r.status.code()) {
    case Code::kOk:
      require(r.size >= 1 && r.size <= asked, is_read ? "read: Ok with a count outside 1..buffer size"
                                                      : "write: Ok with a count outside 1..length", r.status);
      return;
    case Code::kWouldBlock:
      require(o.mode == Mode::kNonBlocking && r.size == 0, "kWouldBlock from a blocking session", r.status);
      return;
    case Code::kTimeout:
      require(r.size == 0 &&
                  ((o.interrupt && o.mode == Mode::kBlocking && r.status.detail() == MBEDTLS_ERR_SSL_TIMEOUT) ||
                   (o.deadlines && is_read && r.status == tlsgen::kReadDeadlineExpired)),
              "kTimeout that neither the transport nor a deadline caused", r.status);
      return;
    case Code::kClosed:
      require(r.status == tlsgen::kTlsCleanClose || r.status == tlsgen::kTlsTruncatedClose,
              "kClosed with a detail other than 0 or MBEDTLS_ERR_SSL_CONN_EOF", r.status);
      return;
    case Code::kTls:
    case Code::kResourceExhausted:
      require_failure(r.status, false, call);
      return;
    default:
      broken(is_read ? "read: a status ssl_tcp_stack.hpp does not document"
                     : "write: a status ssl_tcp_stack.hpp does not document", r.status);
  }
}

bool retry(Status st) {
  return st.code() == Code::kWouldBlock || (st.code() == Code::kTimeout && st != tlsgen::kHandshakeDeadlineExpired);
}

const char* code_name(Code c) {
  switch (c) {
    case Code::kOk: return "kOk";
    case Code::kWouldBlock: return "kWouldBlock";
    case Code::kTimeout: return "kTimeout";
    case Code::kClosed: return "kClosed";
    case Code::kTls: return "kTls";
    case Code::kResourceExhausted: return "kResourceExhausted";
    default: return "other";
  }
}

struct Outcome {
  Status connect;
  std::string suite = "?";
  std::string protocol = "?";
  std::string alpn = "none";
  std::size_t reply = 0;
  std::uint32_t verify = 0xFFFFFFFFU;
  Status end;
  bool setup_refused = false;  // a reduced heap could not hold the configuration
};

std::span<std::byte> heap_share(unsigned percent) {
  const std::span<std::byte> all = tlsgen::glue::heap_region();
  std::size_t n = all.size() * percent / 100;
  n -= n % tlsgen::Heap::kAlignment;
  return all.first(n);
}

// One client session over `transport`: the steps and checks every input goes through.
Outcome run_session(tlsgen::TcpStack& transport, const Options& o, FakeClock& clock, std::size_t max_calls) {
  Outcome out;
  tlsgen_fuzz_entropy_reset();
  tlsgen::SslPlatform platform;
  require(platform.setup(heap_share(o.heap_percent)).ok(), "SslPlatform::setup");
  require(platform.seed_rng().ok(), "SslPlatform::seed_rng");
  tlsgen::SslConfig config;
  Status st = platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config);
  if (st.ok()) st = config.ca_chain(std::as_bytes(std::span(kCaDer)));
  if (st.ok()) {
    st = config.psk(std::as_bytes(std::span(kPsk)), std::as_bytes(std::span(kPskIdentity, sizeof kPskIdentity - 1)));
  }
  if (st.ok()) st = config.server_name(kServerName);
  if (st.ok()) st = config.alpn(kAlpn);
  if (!st.ok()) {
    // Only a reduced heap may refuse the configuration itself (the CA chain is parsed onto the heap).
    require(o.heap_percent < 100 && (st.code() == Code::kResourceExhausted || st.code() == Code::kTls),
            "configuration refused with the profile's whole heap", st);
    out.setup_refused = true;
  } else {
    std::array<tlsgen::SslSession, 1> slots;
    tlsgen::SslTcpStack tls(config, transport, slots);
    const tlsgen::Result<tlsgen::Socket> opened = tls.open(o.mode);
    require(opened.ok(), "open", opened.status());
    const tlsgen::Socket sock = opened.value();
    if (o.deadlines) require(tls.set_deadlines(sock, &clock, 120, 30).ok(), "set_deadlines");
    std::size_t calls = 0;
    do {
      st = tls.connect(sock, "127.0.0.1", 443);
      require_connect_status(st, o);
      require(++calls < max_calls, "connect kept asking to be called again (livelock)", st);
    } while (retry(st));
    out.connect = st;
    out.verify = tls.verify_result(sock);
    (void)tls.transport_status(sock);
    if (sticky(st)) {
      require(tls.connect(sock, "127.0.0.1", 443) == st, "connect: a failure that is not sticky", st);
      std::array<std::byte, 8> b{};
      require(tls.read(sock, b).status == st && tls.write(sock, b).status == st, "read/write after a failed handshake",
              st);
    }
    if (st.ok()) {
      out.suite = tls.ciphersuite(sock);
      out.protocol = tls.protocol(sock);
      const char* alpn = tls.alpn_protocol(sock);
      out.alpn = alpn != nullptr ? alpn : "none";
      require(out.suite != "?" && out.protocol != "?", "no suite or protocol after a handshake");
      // The request, whole: a retried write passes the same bytes again (ssl_tcp_stack.hpp).
      const auto request = std::as_bytes(std::span(kRequest, sizeof kRequest - 1));
      std::size_t sent = 0;
      tlsgen::IoResult w;
      do {
        w = tls.write(sock, request.subspan(sent));
        require_io_status(w, request.size() - sent, o, false);
        sent += w.status.ok() ? w.size : 0;
        require(++calls < max_calls, "write kept asking to be called again (livelock)", w.status);
      } while ((w.status.ok() && sent < request.size()) || retry(w.status));
      Status end = w.status;
      if (w.status.ok()) {
        std::array<std::byte, 512> buffer{};
        tlsgen::IoResult r;
        do {
          r = tls.read(sock, buffer);
          require_io_status(r, buffer.size(), o, true);
          out.reply += r.status.ok() ? r.size : 0;
          require(++calls < max_calls, "read kept asking to be called again (livelock)", r.status);
        } while (r.status.ok() || retry(r.status));
        end = r.status;
        require(tls.read(sock, buffer).status == end, "read: the end of the stream is not reported again", end);
      }
      out.end = end;
    }
    require(tls.close(sock).ok(), "close");
    require(tls.open_count() == 0, "a session still open after close()");
  }
  config.deinit();
  require(platform.deinit().ok(), "SslPlatform::deinit");
  const tlsgen::HeapStats stats = tlsgen::glue::heap().stats();
  require(stats.in_use == 0 && stats.live_blocks == 0, "heap not back to 0 after the session");
  return out;
}

void report(const Outcome& out, std::size_t consumed, std::size_t total) {
  if (out.setup_refused) {
    std::fprintf(stderr, "fuzz_tls_record: setup refused (reduced heap)\n");
    return;
  }
  // stderr, unbuffered: in order with libFuzzer's own "Running: <file>" lines.
  std::fprintf(stderr, "fuzz_tls_record: connect=%s/%d verify=%#x protocol=%s suite=%s alpn=%s reply=%zu end=%s/%d "
              "consumed=%zu/%zu\n", code_name(out.connect.code()), static_cast<int>(out.connect.detail()),
              static_cast<unsigned>(out.verify), out.protocol.c_str(),
              out.suite.c_str(), out.alpn.c_str(), out.reply, code_name(out.end.code()),
              static_cast<int>(out.end.detail()), consumed, total);
}

int record(const char* spec) {
  unsigned port = 0;
  char file[4096] = {0};
  if (std::sscanf(spec, "%u %4095s", &port, file) != 2 || port == 0 || port > 65535) {
    std::fprintf(stderr, "TLSGEN_FUZZ_TLS_RECORD must be \"<port> <file>\"\n");
    return 2;
  }
  Recorder recorder(static_cast<std::uint16_t>(port));
  FakeClock clock;
  const Outcome out = run_session(recorder, parse_options(0), clock, 100000);
  report(out, recorder.received.size(), recorder.received.size());
  std::FILE* f = std::fopen(file, "wb");
  if (f == nullptr) return 3;
  const std::uint8_t options = 0;
  std::fwrite(&options, 1, 1, f);
  std::fwrite(recorder.received.data(), 1, recorder.received.size(), f);
  std::fclose(f);
  return out.connect.ok() && out.end == tlsgen::kTlsCleanClose && out.reply > 0 ? 0 : 1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* spec = std::getenv("TLSGEN_FUZZ_TLS_RECORD");
  if (spec != nullptr && *spec != '\0') std::exit(record(spec));
  const char* rep = std::getenv("TLSGEN_FUZZ_TLS_REPORT");
  g_report = rep != nullptr && *rep != '\0' && *rep != '0';
  const char* trace = std::getenv("TLSGEN_FUZZ_TLS_TRACE");
  g_trace = trace != nullptr && *trace != '\0' && *trace != '0';
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Options o = parse_options(data[0]);
  FakeClock clock;
  ServerBytes server(std::span<const std::uint8_t>(data + 1, size - 1), o, clock);
  // Every call either consumes input or flips an interruption: a few calls per byte is the most any
  // input needs; more is a livelock.
  const Outcome out = run_session(server, o, clock, 4 * size + 1000);
  require(server.open_sockets() == 0, "the transport's socket is still open");
  if (g_report) report(out, server.consumed(), size - 1);
  return 0;
}
