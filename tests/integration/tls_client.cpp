// Test client for run_integration.py: one TLS session of the runtime against a real server.
//
// Builds the whole stack the way an application does (SslPlatform over the profile's static heap,
// SslConfig from the profile, SslTcpStack over PosixTcpStack), sends an HTTP GET, reads the reply to
// the end, tears everything down and prints parseable lines the driver checks:
//   TLSGEN_RESULT step=<setup|config|open|connect|write|read|done> code=<Code> detail=<int> verify=0x<hex> ...
//     (a reply that ends with kTlsCleanClose is step=done code=kOk; a stream that ended without the
//     server's close_notify is step=read code=kClosed detail=MBEDTLS_ERR_SSL_CONN_EOF)
//   TLSGEN_CLOSE detail=<read()'s detail at the end of the reply: 0 = close_notify>
//   TLSGEN_REPLY bytes=<n> status_line=<first line of the reply>
//   TLSGEN_ALPN selected=<protocol|none>                    (with --alpn)
//   TLSGEN_DEBUG calls=<n> file=<path>                      (with --debug-log: the callback's records)
//   TLSGEN_CA_EXTRA code=<Code> detail=<int>                (with --ca-extra: the second ca_chain())
//   TLSGEN_CLIENT_CERT loaded=<0|1> server_saw=<0|1>         (after the reply: whether client_certificate()
//     loaded one (--client-cert, --client-key), and whether the server's page shows it: the subject
//     CN=tlsgen-device on s_server -www's "Client certificate" and gnutls-serv --http's peer certificate)
//   TLSGEN_HELLO_REQUEST ...                                (with --hello-request, see below)
//   TLSGEN_CONNECTED                                        (with --announce-connected: the request is out)
//   TLSGEN_PROFILE name=<profile> heap=<kHeapBytes> in=<in_content_len> out=<...> peer_chain_max=<bytes>
//     (first; --profile-only prints just this line)
//   TLSGEN_HEAP peak=<high-water bytes> peak_payload=<bytes> peak_blocks=<n> failed=<n> in_use_after=<bytes>
//               live_blocks_after=<n> region=<bytes> generated=<kHeapBytes>
//   TLSGEN_SOCKETS open_after=<n>
//   TLSGEN_SESSION code=<Code> detail=<int> bytes=<n>       (with --resume: save_session() after session 1)
//   TLSGEN_OFFER code=<Code> detail=<int>                   (with --resume: offer_session() before session 2)
//   TLSGEN_STALE_OFFER resumed=<0|1> server=...            (with --stale-offer-port: after session 3's handshake)
//   TLSGEN_RESUMED resumed=<0|1> server=<reused|new|unknown> (with --resume: after session 2's handshake; server:
//     what the server's reply page says, s_server -www "Reused,"/"New,", gnutls-serv --http's resumed line)
// --save-session FILE / --offer-session FILE do the same across two runs (the first run writes the saved
// session to FILE, the second offers it: a device that keeps its session in non-volatile memory).
// With --resume the program runs two sessions, the second offering the first's saved session (with
// --corrupt-session one byte of it flipped first); the TLSGEN_RESULT/REPLY lines of both are printed,
// the second's last.
// Exit status: 0 when the program ran to the end and the teardown was clean (whatever the TLS
// outcome: the driver compares it with the case's expectation), 2 for bad arguments, 3 when the
// teardown left heap blocks or sockets behind.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <sstream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

// The heap trace (--trace) tags each allocation with the handshake state mbedTLS was in (a private
// field): the heap-model calibration splits a session's peak by phase with it.
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"
#if defined(MBEDTLS_ERROR_C)
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#endif
#include "heap_trace.hpp"
#include "tlsgen/glue.hpp"
#include "tlsgen/posix_tcp_stack.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen_profile.hpp"

namespace {

class SteadyClock final : public tlsgen::Clock {
 public:
  std::uint32_t now_ms() override {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
  }
};

// Wraps a TcpStack: every other read, write and connect says kWouldBlock without touching the
// transport, and reads and writes move at most kChunk bytes. Exercises the WANT_READ/WANT_WRITE
// paths of the handshake and of application data, and partial transport writes.
class FlakyStack final : public tlsgen::TcpStack {
 public:
  static constexpr std::size_t kChunk = 100;
  explicit FlakyStack(tlsgen::TcpStack& inner) : inner_(inner) {}
  std::size_t injected_reads = 0, injected_writes = 0;

  tlsgen::Result<tlsgen::Socket> open(tlsgen::Mode mode) override { return inner_.open(mode); }
  tlsgen::Status connect(tlsgen::Socket s, const char* host, std::uint16_t port) override {
    if (++connects_ == 1) return tlsgen::Status(tlsgen::Code::kWouldBlock);
    return inner_.connect(s, host, port);
  }
  tlsgen::IoResult write(tlsgen::Socket s, std::span<const std::byte> data) override {
    if (++writes_ % 2 == 1) {
      ++injected_writes;
      return {tlsgen::Status(tlsgen::Code::kWouldBlock), 0};
    }
    return inner_.write(s, data.first(data.size() < kChunk ? data.size() : kChunk));
  }
  tlsgen::IoResult read(tlsgen::Socket s, std::span<std::byte> buffer) override {
    if (++reads_ % 2 == 1) {
      ++injected_reads;
      return {tlsgen::Status(tlsgen::Code::kWouldBlock), 0};
    }
    return inner_.read(s, buffer.first(buffer.size() < kChunk ? buffer.size() : kChunk));
  }
  tlsgen::Status close(tlsgen::Socket s) override { return inner_.close(s); }

 private:
  tlsgen::TcpStack& inner_;
  std::size_t connects_ = 0, writes_ = 0, reads_ = 0;
};

// Wraps a TcpStack: once armed, the next write says kWouldBlock without touching the transport, so
// SslTcpStack::write() leaves its record pending in mbedTLS (out_left != 0). Remembers the transport
// handle, so the test can wait on its descriptor.
class HoldOnceStack final : public tlsgen::TcpStack {
 public:
  explicit HoldOnceStack(tlsgen::TcpStack& inner) : inner_(inner) {}
  bool hold_next_write = false;
  std::size_t held = 0;
  std::size_t written = 0;  // bytes the transport accepted
  tlsgen::Socket last_socket = tlsgen::kInvalidSocket;

  tlsgen::Result<tlsgen::Socket> open(tlsgen::Mode mode) override { return inner_.open(mode); }
  tlsgen::Status connect(tlsgen::Socket s, const char* host, std::uint16_t port) override {
    last_socket = s;
    return inner_.connect(s, host, port);
  }
  tlsgen::IoResult write(tlsgen::Socket s, std::span<const std::byte> data) override {
    if (hold_next_write) {
      hold_next_write = false;
      ++held;
      return {tlsgen::Status(tlsgen::Code::kWouldBlock), 0};
    }
    const tlsgen::IoResult r = inner_.write(s, data);
    written += r.size;
    return r;
  }
  tlsgen::IoResult read(tlsgen::Socket s, std::span<std::byte> buffer) override { return inner_.read(s, buffer); }
  tlsgen::Status close(tlsgen::Socket s) override { return inner_.close(s); }

 private:
  tlsgen::TcpStack& inner_;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string server_name;
  std::string ca_file;
  std::string psk_hex;
  std::string psk_identity = "tlsgen-client";
  std::string path = "/";
  std::string verify;  // empty: the profile's
  bool nonblocking = false;
  bool flaky = false;
  bool hello_request = false;   // the pending-write / HelloRequest scenario (TLS 1.2)
  bool profile_only = false;    // print TLSGEN_PROFILE and exit (the fault peer sizes its chains by it)
  bool announce_connected = false;  // print TLSGEN_CONNECTED once the request is written (driver hook)
  bool resume = false;          // a second session offering the first's saved session
  bool corrupt_session = false;  // ... with one byte of it flipped
  std::uint16_t stale_offer_port = 0;  // then a third session, to another server, offering it again (rejected)
  long age_session_s = 0;        // ... saved as if its ticket had come this many seconds earlier
  std::string save_session_file;   // write the saved session here after the session
  std::string offer_session_file;  // offer the saved session read from here
  unsigned handshake_deadline_ms = 0;  // SslTcpStack::set_deadlines (0: none)
  unsigned read_deadline_ms = 0;
  std::string alpn;             // comma-separated ALPN protocols to offer
  std::string debug_log;        // file for mbedTLS's debug callback records
  std::string ca_extra_file;    // a second ca_chain() call after --ca (its failure is printed, not fatal)
  std::string client_cert_file; // client_certificate(): the device's chain (PEM or DER) ...
  std::string client_key_file;  // ... and its key (PEM or DER)
  bool external_key = false;    // --external-key: the key signs through a signing function (a software
                                // stand-in for a secure element), not through client_certificate()'s parser
  std::size_t request_pad = 0;
  int timeout_ms = 5000;
  std::string trace_file;       // --trace: write every heap call as op,size,id (the shared traces' format)
  unsigned heap_percent = 100;  // run inside the first heap_percent % of the generated heap
  std::size_t heap_bytes = 0;   // or inside its first heap_bytes bytes
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--profile-only") {
      o.profile_only = true;
    } else if (a == "--resume") {
      o.resume = true;
    } else if (a == "--stale-offer-port" && has_value) {
      o.resume = true;
      o.stale_offer_port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--corrupt-session") {
      o.resume = o.corrupt_session = true;
    } else if (a == "--age-session" && has_value) {
      o.resume = true;
      o.age_session_s = std::strtol(argv[++i], nullptr, 10);
    } else if (a == "--save-session" && has_value) {
      o.save_session_file = argv[++i];
    } else if (a == "--offer-session" && has_value) {
      o.offer_session_file = argv[++i];
    } else if (a == "--nonblocking") {
      o.nonblocking = true;
    } else if (a == "--flaky") {
      o.flaky = true;
      o.nonblocking = true;
    } else if (a == "--announce-connected") {
      o.announce_connected = true;
    } else if (a == "--hello-request") {
      o.hello_request = true;
      o.nonblocking = true;
    } else if (a == "--external-key") {
      o.external_key = true;
    } else if (!has_value) {
      std::fprintf(stderr, "missing value for %s\n", a.c_str());
      return false;
    } else if (a == "--host") {
      o.host = argv[++i];
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--server-name") {
      o.server_name = argv[++i];
    } else if (a == "--ca") {
      o.ca_file = argv[++i];
    } else if (a == "--client-cert" && has_value) {
      o.client_cert_file = argv[++i];
    } else if (a == "--client-key" && has_value) {
      o.client_key_file = argv[++i];

    } else if (a == "--psk") {
      o.psk_hex = argv[++i];
    } else if (a == "--psk-identity") {
      o.psk_identity = argv[++i];
    } else if (a == "--path") {
      o.path = argv[++i];
    } else if (a == "--verify") {
      o.verify = argv[++i];
    } else if (a == "--request-pad") {
      o.request_pad = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a == "--heap-bytes") {
      o.heap_bytes = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (a == "--trace") {
      o.trace_file = argv[++i];
    } else if (a == "--heap-percent") {
      o.heap_percent = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--alpn") {
      o.alpn = argv[++i];
    } else if (a == "--debug-log") {
      o.debug_log = argv[++i];
    } else if (a == "--ca-extra") {
      o.ca_extra_file = argv[++i];
    } else if (a == "--handshake-deadline-ms") {
      o.handshake_deadline_ms = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--read-deadline-ms") {
      o.read_deadline_ms = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--timeout-ms") {
      o.timeout_ms = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  return o.port != 0 || o.profile_only;
}

std::vector<std::byte> from_hex(const std::string& hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::strtoul(hex.substr(i, 2).c_str(), nullptr, 16)));
  }
  return out;
}

// A CA file as ca_chain() takes it: PEM with its terminating NUL (as mbedTLS requires), DER as is
// (all of it: a DER certificate contains NUL bytes, so it never goes through a C string).
bool read_certificates(const std::string& path, std::vector<std::byte>& out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  if (!in.good() && !in.eof()) {
    return false;
  }
  if (data.empty()) {
    return false;
  }
  out.assign(reinterpret_cast<const std::byte*>(data.data()), reinterpret_cast<const std::byte*>(data.data()) + data.size());
  if (data.find("-----BEGIN") != std::string::npos) {
    out.push_back(std::byte{0});
  }
  return true;
}

std::span<const std::byte> bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

void report(const char* step, tlsgen::Status st, tlsgen::SslTcpStack* tls, tlsgen::Socket sock) {
  char text[160] = "";
#if defined(MBEDTLS_ERROR_C)
  if (st.detail() < 0 && (st.code() == tlsgen::Code::kTls || st.code() == tlsgen::Code::kResourceExhausted)) {
    mbedtls_strerror(st.detail(), text, sizeof text);
  }
#endif
  const std::uint32_t verify = tls != nullptr ? tls->verify_result(sock) : 0xFFFFFFFFU;
  const tlsgen::Status transport = tls != nullptr ? tls->transport_status(sock) : tlsgen::Status();
  std::printf("TLSGEN_RESULT step=%s code=%s detail=%d verify=0x%08x transport=%s/%d suite=%s version=%s error=\"%s\"\n",
              step, tlsgen::name(st.code()), static_cast<int>(st.detail()), static_cast<unsigned>(verify),
              tlsgen::name(transport.code()), static_cast<int>(transport.detail()),
              tls != nullptr ? tls->ciphersuite(sock) : "?", tls != nullptr ? tls->protocol(sock) : "?", text);
}

// Repeats a non-blocking call while it says kWouldBlock (1 ms apart, bounded by timeout_ms).
template <typename F>
auto retry(const Options& o, F call) {
  auto r = call();
  for (int waited = 0; o.nonblocking && waited < o.timeout_ms; ++waited) {
    tlsgen::Status st;
    if constexpr (std::is_same_v<decltype(r), tlsgen::IoResult>) {
      st = r.status;
    } else {
      st = r;
    }
    if (st.code() != tlsgen::Code::kWouldBlock) {
      break;
    }
    ::usleep(1000);
    r = call();
  }
  return r;
}

// One session; the outcome is in the printed lines.
// The pending-write scenario (TLS 1.2, against `openssl s_server` whose stdin the driver holds):
//   1. write("PING-1") while the transport refuses it: kWouldBlock, the record stays in mbedTLS;
//   2. print TLSGEN_PENDING, the driver makes the server send a HelloRequest ("r" on its stdin);
//   3. once it arrived, read(): mbedTLS refuses the renegotiation, and on the way flushes the
//      pending record (mbedtls_ssl_send_alert_message() starts with mbedtls_ssl_flush_output());
//   4. write("PING-1") again, as the TcpStack contract asks: must complete without a second copy;
//   5. write("PING-2") as an end marker. The driver counts the PING lines the server printed.
void hello_request_session(const Options& o, tlsgen::SslTcpStack& tls, tlsgen::Socket sock, HoldOnceStack& hold,
                           tlsgen::PosixTcpStack& tcp) {
  const std::string ping1 = "PING-1\n";
  const std::string ping2 = "PING-2\n";
  hold.hold_next_write = true;
  const tlsgen::IoResult first = tls.write(sock, bytes(ping1));
  std::printf("TLSGEN_PENDING first=%s held=%zu\n", tlsgen::name(first.status.code()), hold.held);
  std::fflush(stdout);
  if (first.status.code() != tlsgen::Code::kWouldBlock) {
    report("write", first.status, &tls, sock);
    return;
  }
  pollfd p{};
  p.fd = tcp.native_handle(hold.last_socket);
  p.events = POLLIN;
  const int arrived = ::poll(&p, 1, o.timeout_ms);
  std::array<std::byte, 64> buf{};
  const std::size_t before_read = hold.written;
  const tlsgen::IoResult r = tls.read(sock, buf);
  const std::size_t flushed_in_read = hold.written - before_read;  // > 0: read() sent the pending record
  const std::size_t before_retry = hold.written;
  const tlsgen::IoResult again = retry(o, [&] { return tls.write(sock, bytes(ping1)); });
  const std::size_t sent_by_retry = hold.written - before_retry;
  const tlsgen::IoResult marker = retry(o, [&] { return tls.write(sock, bytes(ping2)); });
  std::printf("TLSGEN_HELLO_REQUEST arrived=%d read=%s/%d flushed_in_read=%zu retry=%s/%zu sent_by_retry=%zu "
              "marker=%s/%zu\n",
              arrived, tlsgen::name(r.status.code()), static_cast<int>(r.status.detail()), flushed_in_read,
              tlsgen::name(again.status.code()), again.size, sent_by_retry, tlsgen::name(marker.status.code()),
              marker.size);
  tlsgen::Status outcome;
  if (!again.ok()) {
    outcome = again.status;
  } else if (!marker.ok()) {
    outcome = marker.status;
  } else if (again.size != ping1.size()) {
    outcome = tlsgen::Status(tlsgen::Code::kDataLoss, static_cast<std::int32_t>(again.size));
  }
  report(outcome.ok() ? "done" : "write", outcome, &tls, sock);
}

// mbedTLS's debug callback: one record per call, "<level>\t<file>\t<line>\t<message>" and a NUL
// (the message keeps its own trailing newline; the driver checks that each one is well-formed).
struct DebugLog {
  std::FILE* file = nullptr;
  std::size_t calls = 0;
};
void debug_record(void* context, int level, const char* file, int line, const char* message) {
  auto* log = static_cast<DebugLog*>(context);
  ++log->calls;
  std::fprintf(log->file, "%d\t%s\t%d\t%s", level, file != nullptr ? file : "(null)", line,
               message != nullptr ? message : "(null)");
  std::fputc('\0', log->file);
}

// The session the heap trace reads the handshake state of (set while it is open; mbedTLS's context
// exists from connect() on).
tlsgen::SslTcpStack* g_traced_stack = nullptr;
tlsgen::Socket g_traced_socket = tlsgen::kInvalidSocket;

int traced_state() {
  const mbedtls_ssl_context* ssl = g_traced_stack != nullptr ? g_traced_stack->native(g_traced_socket) : nullptr;
  return ssl != nullptr ? ssl->MBEDTLS_PRIVATE(state) : -1;
}

// The ALPN list of --alpn, nullptr-terminated, with storage that outlives the configuration.
std::vector<std::string> alpn_names;
std::vector<const char*> alpn_list;

// --age-session: the saved session as if its ticket had come `seconds` earlier, through the format
// SslTcpStack::save_session documents ("TGS2", int64 LE ms when the ticket came, uint32 LE lifetime, mbedTLS's
// session, CRC-32 LE of all before it), with a CRC of its own here.
void age_saved_session(std::vector<std::byte>& saved, long seconds) {
  if (saved.size() < 20) return;
  std::int64_t ms = 0;
  for (int k = 0; k < 8; ++k) ms |= static_cast<std::int64_t>(std::to_integer<std::uint8_t>(saved[4 + k])) << (8 * k);
  ms -= static_cast<std::int64_t>(seconds) * 1000;
  for (int k = 0; k < 8; ++k) saved[4 + k] = static_cast<std::byte>((static_cast<std::uint64_t>(ms) >> (8 * k)) & 0xFF);
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i + 4 < saved.size(); ++i) {
    crc ^= std::to_integer<std::uint8_t>(saved[i]);
    for (int b = 0; b < 8; ++b) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  crc = ~crc;
  for (int k = 0; k < 4; ++k) saved[saved.size() - 4 + k] = static_cast<std::byte>((crc >> (8 * k)) & 0xFF);
}

// The session a --resume run saves after its first session and offers in its second.
std::vector<std::byte> saved_session;

// The session ID gnutls-serv --http shows on its page ("Session ID: <i>HEX</i>"), empty if none.
std::string page_session_id(const std::string& reply) {
  const std::string tag = "Session ID: <i>";
  const std::size_t at = reply.find(tag);
  if (at == std::string::npos) return {};
  const std::size_t end = reply.find('<', at + tag.size());
  return end == std::string::npos ? std::string() : reply.substr(at + tag.size(), end - at - tag.size());
}
std::string first_page_session_id;  // the first session's, in a --resume run

// What the server's page says of the session: s_server -www prints "Reused, " or "New, "; gnutls-serv
// --http shows the session ID, which a resumed session keeps (compared with the first session's page).
const char* server_says_resumed(const std::string& reply) {
  if (reply.find("Reused, ") != std::string::npos) return "reused";
  if (reply.find("New, ") != std::string::npos) return "new";
  const std::string id = page_session_id(reply);
  if (!id.empty() && !first_page_session_id.empty()) return id == first_page_session_id ? "reused" : "new";
  return "unknown";
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// --external-key: the device key held apart from the configuration, as a secure element would hold it; the
// signing function SslConfig calls signs with it. Counts its calls (TLSGEN_EXTERNAL_KEY line).
struct Signer {
  mbedtls_pk_context key{};
  tlsgen::SslPlatform* platform = nullptr;
  int calls = 0;
} signer;

tlsgen::Status load_signer(std::span<const std::byte> key, tlsgen::SslPlatform& platform) {
  mbedtls_pk_init(&signer.key);
  signer.platform = &platform;
  const int ret = mbedtls_pk_parse_key(&signer.key, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                                       nullptr, 0, mbedtls_ctr_drbg_random, platform.drbg());
  return ret == 0 ? tlsgen::Status() : tlsgen::Status::Tls(ret);
}

int sign_with_signer(void* context, mbedtls_md_type_t md, std::span<const std::byte> digest, std::span<std::byte> out,
                     std::size_t* written) {
  auto* s = static_cast<Signer*>(context);
  ++s->calls;
  return mbedtls_pk_sign(&s->key, md, reinterpret_cast<const unsigned char*>(digest.data()), digest.size(),
                         reinterpret_cast<unsigned char*>(out.data()), out.size(), written, mbedtls_ctr_drbg_random,
                         s->platform->drbg());
}
#else
tlsgen::Status load_signer(std::span<const std::byte>, tlsgen::SslPlatform&) {
  return tlsgen::Status(tlsgen::Code::kFailedPrecondition);
}
struct Signer {
  int calls = 0;
} signer;
int sign_with_signer(void*, mbedtls_md_type_t, std::span<const std::byte>, std::span<std::byte>, std::size_t*) { return -1; }
#endif

// offer: the second session of a --resume run (offer saved_session); save: the first (save into it).
// stale: the offer goes to a server that cannot take it (--stale-offer-port: another server process, whose ticket
// key is not the first one's), so the handshake is a full one while mbedTLS still holds the offered ticket.
void run_session(const Options& o, tlsgen::SslConfig& config, tlsgen::PosixTcpStack& tcp, bool offer = false,
                 bool save = false, bool stale = false) {
  std::array<tlsgen::SslSession, 1> sessions;
  FlakyStack flaky(tcp);
  HoldOnceStack hold(tcp);
  tlsgen::TcpStack& transport = o.flaky           ? static_cast<tlsgen::TcpStack&>(flaky)
                                : o.hello_request ? static_cast<tlsgen::TcpStack&>(hold)
                                                  : tcp;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const tlsgen::Result<tlsgen::Socket> opened =
      tls.open(o.nonblocking ? tlsgen::Mode::kNonBlocking : tlsgen::Mode::kBlocking);
  if (!opened.ok()) {
    report("open", opened.status(), nullptr, tlsgen::kInvalidSocket);
    return;
  }
  const tlsgen::Socket sock = opened.value();
  g_traced_stack = &tls;
  g_traced_socket = sock;
  struct Untrace {
    ~Untrace() { g_traced_stack = nullptr; }
  } untrace;
  static SteadyClock clock;
  if (offer) {
    const tlsgen::Status offered = tls.offer_session(sock, saved_session);
    std::printf("TLSGEN_OFFER code=%s detail=%d\n", tlsgen::name(offered.code()), static_cast<int>(offered.detail()));
  }
  if (o.handshake_deadline_ms != 0 || o.read_deadline_ms != 0) {
    const tlsgen::Status set = tls.set_deadlines(sock, &clock, o.handshake_deadline_ms, o.read_deadline_ms);
    if (!set.ok()) {
      report("open", set, &tls, sock);
      (void)tls.close(sock);
      return;
    }
  }
  tlsgen::Status st = retry(o, [&] { return tls.connect(sock, o.host.c_str(), o.port); });
  if (!st.ok()) {
    report("connect", st, &tls, sock);
    (void)tls.close(sock);
    return;
  }
  if (!o.alpn.empty()) {
    const char* selected = tls.alpn_protocol(sock);
    std::printf("TLSGEN_ALPN selected=%s\n", selected != nullptr ? selected : "none");
  }
  if (o.hello_request) {
    hello_request_session(o, tls, sock, hold, tcp);
    (void)tls.close(sock);
    return;
  }

  std::string request = "GET " + o.path + " HTTP/1.0\r\nHost: " +
                        (o.server_name.empty() ? o.host : o.server_name) + "\r\n";
  if (o.request_pad != 0) {
    request += "X-Pad: " + std::string(o.request_pad, 'p') + "\r\n";
  }
  request += "\r\n";
  std::size_t sent = 0;
  std::size_t write_calls = 0;
  std::size_t write_would_block = 0;
  while (sent < request.size()) {
    const tlsgen::IoResult w = retry(o, [&] {
      const tlsgen::IoResult r = tls.write(sock, bytes(request).subspan(sent));
      write_would_block += r.status.code() == tlsgen::Code::kWouldBlock ? 1U : 0U;
      return r;
    });
    ++write_calls;
    if (!w.ok()) {
      report("write", w.status, &tls, sock);
      (void)tls.close(sock);
      return;
    }
    sent += w.size;
  }

  if (o.announce_connected) {
    std::printf("TLSGEN_CONNECTED\n");
    std::fflush(stdout);
  }
  std::string reply;
  std::array<std::byte, 512> buf{};
  tlsgen::Status end;
  for (;;) {
    const tlsgen::IoResult r = retry(o, [&] { return tls.read(sock, buf); });
    reply.append(reinterpret_cast<const char*>(buf.data()), r.size);
    if (!r.ok()) {
      end = r.status;
      break;
    }
  }
  // An HTTP/1.0 reply ends with the server closing: only its close_notify (kTlsCleanClose) says that
  // the reply is complete. kTlsTruncatedClose (the stream ended without one) is reported as the
  // read failure it is, like any other error.
  if (end == tlsgen::kTlsCleanClose) {
    report("done", tlsgen::Status(), &tls, sock);
  } else {
    report("read", end, &tls, sock);
  }
  std::printf("TLSGEN_CLOSE detail=%d\n", static_cast<int>(end.detail()));
  std::printf("TLSGEN_CLIENT_CERT loaded=%d server_saw=%d external_signatures=%d\n",
              config.has_client_certificate() ? 1 : 0, reply.find("CN=tlsgen-device") != std::string::npos ? 1 : 0,
              signer.calls);
  if (offer) {
    std::printf("%s resumed=%d server=%s\n", stale ? "TLSGEN_STALE_OFFER" : "TLSGEN_RESUMED", tls.resumed(sock) ? 1 : 0,
                server_says_resumed(reply));
  }
  if (save) {
    first_page_session_id = page_session_id(reply);
    // Exactly what tlsgen states the profile's saved sessions need: a larger session would not fit (kResourceExhausted).
    saved_session.assign(tlsgen::profile::kSavedSessionMaxBytes > 0 ? tlsgen::profile::kSavedSessionMaxBytes : 1,
                         std::byte{0});
    const tlsgen::Result<std::size_t> n = tls.save_session(sock, saved_session);
    saved_session.resize(n.ok() ? n.value() : 0);
    std::size_t ticket_bytes = 0;  // the server's ticket (what tls.resumption.ticket_max_bytes must cover)
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    const mbedtls_ssl_session* kept = tls.native(sock)->MBEDTLS_PRIVATE(session);
    ticket_bytes = kept != nullptr && kept->MBEDTLS_PRIVATE(ticket) != nullptr ? kept->MBEDTLS_PRIVATE(ticket_len) : 0;
#endif
    std::printf("TLSGEN_SESSION code=%s detail=%d bytes=%zu ticket=%zu\n", tlsgen::name(n.status().code()),
                static_cast<int>(n.status().detail()), saved_session.size(), ticket_bytes);
    if (o.corrupt_session && !saved_session.empty()) {
      saved_session[saved_session.size() / 2] ^= std::byte{0x5A};
    }
    if (o.age_session_s != 0 && !saved_session.empty()) {
      age_saved_session(saved_session, o.age_session_s);
    }
  }
  const std::string status_line = reply.substr(0, reply.find("\r\n"));
  std::printf("TLSGEN_FLAKY injected_reads=%zu injected_writes=%zu write_would_block=%zu\n", flaky.injected_reads,
              flaky.injected_writes, write_would_block);
  std::printf("TLSGEN_REPLY bytes=%zu write_calls=%zu request_bytes=%zu status_line=%s\n", reply.size(),
              write_calls, request.size(), status_line.c_str());
  const tlsgen::Status closed = tls.close(sock);
  if (!closed.ok()) {
    report("close", closed, nullptr, tlsgen::kInvalidSocket);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: %s --port N [--host H] [--server-name N] [--ca FILE] [--psk HEX] [--psk-identity ID]\n"
                 "          [--verify none|optional|required] [--nonblocking | --flaky] [--request-pad N]\n"
                 "          [--path P] [--heap-percent N | --heap-bytes N] [--timeout-ms T] [--hello-request]\n"
                 "          [--alpn P1,P2] [--debug-log FILE] [--ca-extra FILE]\n"
                 "          [--resume [--stale-offer-port N] | --corrupt-session | --age-session S]\n",
                 argv[0]);
    return 2;
  }
  std::printf("TLSGEN_PROFILE name=%s heap=%zu model=%zu in=%zu out=%zu peer_chain_max=%zu\n", tlsgen::profile::kName,
              tlsgen::profile::kHeapBytes, tlsgen::profile::kHeapModelBytes, tlsgen::profile::kInContentLen,
              tlsgen::profile::kOutContentLen, tlsgen::profile::kPeerChainMaxBytes);
  if (o.profile_only) {
    return 0;
  }

  tlsgen::PosixTcpStack tcp(o.timeout_ms);
  std::vector<std::byte> ca;
  if (!o.ca_file.empty() && !read_certificates(o.ca_file, ca)) {
    std::fprintf(stderr, "cannot read %s\n", o.ca_file.c_str());
    return 2;
  }
  const std::vector<std::byte> psk = from_hex(o.psk_hex);
  std::vector<std::byte> client_cert;
  std::vector<std::byte> client_key;
  if (!o.client_cert_file.empty() &&
      (!read_certificates(o.client_cert_file, client_cert) || !read_certificates(o.client_key_file, client_key))) {
    std::fprintf(stderr, "cannot read %s or %s\n", o.client_cert_file.c_str(), o.client_key_file.c_str());
    return 2;
  }
  std::vector<std::byte> ca_extra;
  if (!o.ca_extra_file.empty() && !read_certificates(o.ca_extra_file, ca_extra)) {
    std::fprintf(stderr, "cannot read %s\n", o.ca_extra_file.c_str());
    return 2;
  }
  DebugLog debug_log;
  if (!o.debug_log.empty()) {
    debug_log.file = std::fopen(o.debug_log.c_str(), "wb");
    if (debug_log.file == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", o.debug_log.c_str());
      return 2;
    }
  }

  std::size_t region = tlsgen::profile::kHeapBytes * (o.heap_percent < 100 ? o.heap_percent : 100U) / 100U;
  if (o.heap_bytes != 0 && o.heap_bytes < region) {
    region = o.heap_bytes;
  }
  // The heap-model calibration harness (bench/heap) records sessions: request sizes in call order.
  static tlsgen_test::HeapTrace trace;  // --trace
  trace.start(o.trace_file, traced_state);
  bool torn_down = false;
  {
    tlsgen::SslPlatform platform;
    tlsgen::Status st = region == tlsgen::profile::kHeapBytes
                            ? platform.setup()
                            : platform.setup(tlsgen::glue::heap_region().first(region));
    if (st.ok()) st = platform.seed_rng(bytes(std::string("tlsgen integration")));
    if (!st.ok()) {
      report("setup", st, nullptr, tlsgen::kInvalidSocket);
    } else {
      tlsgen::SslConfig config;
      st = platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config);
      if (st.ok() && !ca.empty()) st = config.ca_chain(ca);
      if (st.ok() && !client_cert.empty() && !o.external_key) st = config.client_certificate(client_cert, client_key);
      if (st.ok() && !client_cert.empty() && o.external_key) {
        st = load_signer(client_key, platform);
        if (st.ok()) st = config.client_certificate(client_cert, sign_with_signer, &signer);
      }
      if (st.ok() && !ca_extra.empty()) {
        // A careless application: the second call's failure is printed and ignored.
        const tlsgen::Status extra = config.ca_chain(ca_extra);
        std::printf("TLSGEN_CA_EXTRA code=%s detail=%d\n", tlsgen::name(extra.code()),
                    static_cast<int>(extra.detail()));
      }
      if (st.ok() && !o.alpn.empty()) {
        for (std::size_t start = 0; start <= o.alpn.size();) {
          const std::size_t comma = std::min(o.alpn.find(',', start), o.alpn.size());
          alpn_names.push_back(o.alpn.substr(start, comma - start));
          start = comma + 1;
        }
        for (const std::string& n : alpn_names) alpn_list.push_back(n.c_str());
        alpn_list.push_back(nullptr);
        st = config.alpn(alpn_list.data());
      }
      if (st.ok() && debug_log.file != nullptr) {
        st = config.debug(debug_record, &debug_log, tlsgen::profile::kDebugLevel);
      }
      if (st.ok() && !psk.empty()) st = config.psk(psk, bytes(o.psk_identity));
      if (st.ok() && !o.server_name.empty()) st = config.server_name(o.server_name.c_str());
      if (st.ok() && !o.verify.empty()) {
        st = config.authmode(o.verify == "none"       ? tlsgen::Verify::kNone
                             : o.verify == "optional" ? tlsgen::Verify::kOptional
                                                      : tlsgen::Verify::kRequired);
      }
      if (!st.ok()) {
        report("config", st, nullptr, tlsgen::kInvalidSocket);
      } else if (!o.resume) {
        bool offer = false;
        if (!o.offer_session_file.empty()) {
          std::ifstream in(o.offer_session_file, std::ios::binary);
          const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          saved_session.resize(text.size());
          std::memcpy(saved_session.data(), text.data(), text.size());
          offer = true;
        }
        run_session(o, config, tcp, offer, !o.save_session_file.empty());
        if (!o.save_session_file.empty()) {
          std::ofstream out(o.save_session_file, std::ios::binary | std::ios::trunc);
          out.write(reinterpret_cast<const char*>(saved_session.data()), static_cast<std::streamsize>(saved_session.size()));
        }
        std::fill(saved_session.begin(), saved_session.end(), std::byte{0});
      } else {
        run_session(o, config, tcp, false, true);
        if (!saved_session.empty()) {
          run_session(o, config, tcp, true, false);
        }
        if (!saved_session.empty() && o.stale_offer_port != 0) {
          Options other = o;
          other.port = o.stale_offer_port;
          run_session(other, config, tcp, true, false, true);
        }
        std::fill(saved_session.begin(), saved_session.end(), std::byte{0});  // it holds the master secret
      }
      config.deinit();
#if defined(MBEDTLS_X509_CRT_PARSE_C)
      mbedtls_pk_free(&signer.key);  // the stand-in secure element's key was on the same heap
#endif
      const tlsgen::Status down = platform.deinit();
      torn_down = down.ok();
      if (!down.ok()) {
        report("deinit", down, nullptr, tlsgen::kInvalidSocket);
      }
    }
  }

  // high_water: the arena this run needed (headers and fragmentation included) -- the figure the
  // generated heap size is checked against; peak_payload: the most bytes mbedTLS held at once.
  const tlsgen::HeapStats stats = tlsgen::glue::heap().stats();
  std::printf("TLSGEN_HEAP peak=%zu peak_payload=%zu peak_blocks=%zu failed=%zu in_use_after=%zu "
              "live_blocks_after=%zu region=%zu generated=%zu\n",
              stats.high_water, stats.peak_in_use, stats.peak_live_blocks, stats.failed, stats.in_use,
              stats.live_blocks, region, tlsgen::profile::kHeapBytes);
  std::printf("TLSGEN_SOCKETS open_after=%zu\n", tcp.open_count());
  if (debug_log.file != nullptr) {
    std::fclose(debug_log.file);
    std::printf("TLSGEN_DEBUG calls=%zu file=%s\n", debug_log.calls, o.debug_log.c_str());
  }
  const bool clean = torn_down && stats.in_use == 0 && stats.live_blocks == 0 && tcp.open_count() == 0;
  trace.finish();
  return clean ? 0 : 3;
}
