// Test client for the DTLS cases (run_dtls.py): DTLS sessions of the runtime (SslPlatform, SslConfig,
// SslUdpStack over PosixUdpStack) against a real server, directly or through the lossy proxy.
//
//   dtls_client --port N [--host H] [--psk HEX --psk-identity ID] [--ca FILE] [--server-name N]
//               [--client-cert FILE --client-key FILE] [--sessions K] [--exchanges E] [--message TEXT]
//               [--expect-reply reverse|echo|any]
//               [--nonblocking] [--heap-bytes N] [--wait-ms T] [--send-size N] [--resume] [--trace FILE]
//
// Each of the K sessions (one after another, on the same platform and configuration): open, connect (the
// handshake), E request/response exchanges (send TEXT, receive one datagram, check it: `reverse` for
// openssl s_server -rev, which answers each line reversed; `echo` for gnutls-serv --echo), close. Printed:
//   TLSGEN_PROFILE name=<profile> heap=<kHeapBytes> model=<kHeapModelBytes> mtu=<kDtlsMtu>
//   TLSGEN_RESULT session=<i> step=<open|connect|send|receive|done> code=<Code> detail=<int> suite=<name>
//                 version=<name> handshake_ms=<ms> sent=<datagrams> received=<datagrams> empty=<n> oversize=<n>
//                 cookies=<HelloVerifyRequests answered>
//                 exchanges=<n done> strays=<datagrams that answered no request> transport=<Code>/<detail>
//   TLSGEN_HEAP peak=<high-water bytes> peak_payload=<bytes> failed=<n> in_use_after=<bytes>
//               live_blocks_after=<n> region=<bytes> generated=<kHeapBytes>
//   TLSGEN_SOCKETS open_after=<n>
// --resume: every session after the first offers the session the one before it saved (save_session() into a
// buffer of exactly kSavedSessionMaxBytes, after its exchanges), printing
//   TLSGEN_SESSION session=<i> code=<Code> detail=<int> bytes=<n> ticket=<the server's ticket bytes>
//   TLSGEN_OFFER session=<i> code=<Code> detail=<int>       (before session i's connect, i >= 1)
//   TLSGEN_RESUMED session=<i> resumed=<0|1>                 (after session i's handshake, i >= 1)
// --stale-offer-port N: then one more session, to the server on port N (another process: it cannot take the
// ticket), offering the last saved session: TLSGEN_STALE_OFFER and TLSGEN_STALE_RESULT in place of the two above.
// --trace FILE writes every heap call as op,size,id,state (tls_client's format: the handshake state mbedTLS was in,
// -1 outside a session), for the heap model's calibration (tools/sweep/runner.py --calibrate).
// --send-size N sends one datagram of N bytes after the exchanges and prints TLSGEN_SEND code=... detail=...
// (the too-large case: kInvalidArgument with the largest payload).
// Exit status: 0 when every session ran and the teardown was clean (whatever the DTLS outcome: the driver
// compares), 2 for bad arguments, 3 when the teardown left heap blocks or sockets behind.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// The heap trace (--trace) tags each allocation with the handshake state mbedTLS was in (a private field).
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "heap_trace.hpp"
#include "tlsgen/glue.hpp"
#include "tlsgen/posix_udp_stack.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_udp_stack.hpp"
#include "tlsgen_profile.hpp"

namespace {

class SteadyClock final : public tlsgen::Clock {
 public:
  std::uint32_t now_ms() override {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }
};

struct Options {
  std::string host = "127.0.0.1";
  unsigned port = 0;
  std::string psk_hex;
  std::string psk_identity;
  std::string ca_file;
  std::string server_name;
  std::string client_cert_file;  // SslConfig::client_certificate(): the device's chain and key (PEM or DER)
  std::string client_key_file;
  unsigned sessions = 1;
  unsigned exchanges = 1;
  std::string message = "tlsgen dtls ping";
  std::string expect = "any";
  bool nonblocking = false;
  std::size_t heap_bytes = 0;
  unsigned wait_ms = 5000;  // one reply's wait
  std::size_t send_size = 0;
  bool resume = false;  // each session after the first offers the previous one's saved session
  unsigned stale_offer_port = 0;  // then one more session, to another server, offering the last saved session
  std::string trace_file;  // --trace: every heap call as op,size,id,state
};

// The session the heap trace reads the handshake state of (set while it is open).
tlsgen::SslUdpStack* g_traced_stack = nullptr;
tlsgen::Socket g_traced_socket = tlsgen::kInvalidSocket;

int traced_state() {
  const mbedtls_ssl_context* ssl = g_traced_stack != nullptr ? g_traced_stack->native(g_traced_socket) : nullptr;
  return ssl != nullptr ? ssl->MBEDTLS_PRIVATE(state) : -1;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--nonblocking") {
      o.nonblocking = true;
      continue;
    }
    if (a == "--resume") {
      o.resume = true;
      continue;
    }
    if (a == "--stale-offer-port" && i + 1 < argc) {
      o.resume = true;
      o.stale_offer_port = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
      continue;
    }
    if (!value(v)) return false;
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--psk") o.psk_hex = v;
    else if (a == "--psk-identity") o.psk_identity = v;
    else if (a == "--ca") o.ca_file = v;
    else if (a == "--server-name") o.server_name = v;
    else if (a == "--client-cert") o.client_cert_file = v;
    else if (a == "--client-key") o.client_key_file = v;
    else if (a == "--sessions") o.sessions = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--exchanges") o.exchanges = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--message") o.message = v;
    else if (a == "--expect-reply") o.expect = v;
    else if (a == "--heap-bytes") o.heap_bytes = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--wait-ms") o.wait_ms = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--send-size") o.send_size = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--trace") o.trace_file = v;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  const bool pair = o.client_cert_file.empty() == o.client_key_file.empty();  // both or neither
  return o.port != 0 && o.port < 65536 && pair && (o.expect == "any" || o.expect == "echo" || o.expect == "reverse");
}

std::vector<std::byte> from_hex(const std::string& hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::strtoul(hex.substr(i, 2).c_str(), nullptr, 16)));
  }
  return out;
}

std::span<const std::byte> bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

bool read_file(const std::string& path, std::vector<std::byte>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out.assign(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data()) + text.size());
  if (text.rfind("-----BEGIN", 0) == 0) out.push_back(std::byte{0});  // PEM: mbedTLS wants its terminating NUL
  return true;  // DER: as it is
}

// The reply the server gives to `message` (its line, newline included).
bool reply_ok(const Options& o, const std::string& sent, const std::string& got) {
  if (o.expect == "any") return !got.empty();
  std::string line = sent;
  if (o.expect == "reverse") {
    std::string body = line.substr(0, line.size() - 1);
    std::reverse(body.begin(), body.end());
    line = body + "\n";
  }
  return got == line;
}

struct Outcome {
  const char* step = "done";
  tlsgen::Status status;
  unsigned exchanges = 0;
  unsigned strays = 0;  // datagrams delivered that answer no request of this session (a replay let through)
};

// `saved`: with --resume, the previous session's saved bytes (offered when not empty), replaced by this
// session's after its exchanges.
// stale: the last saved session offered to another server (--stale-offer-port), which cannot take it: a full
// handshake while mbedTLS holds the offered ticket (TLSGEN_STALE_OFFER instead of TLSGEN_RESUMED).
Outcome run_session(const Options& o, tlsgen::SslUdpStack& dtls, unsigned index, tlsgen::Socket& sock,
                    std::vector<std::byte>& saved, bool stale = false) {
  Outcome out;
  const tlsgen::Result<tlsgen::Socket> opened = dtls.open(o.nonblocking ? tlsgen::Mode::kNonBlocking
                                                                         : tlsgen::Mode::kBlocking);
  if (!opened.ok()) {
    out.step = "open";
    out.status = opened.status();
    return out;
  }
  sock = opened.value();
  g_traced_stack = &dtls;
  g_traced_socket = sock;
  const bool offer = o.resume && (index > 0 || stale);
  if (offer) {
    const tlsgen::Status offered = saved.empty() ? tlsgen::Status(tlsgen::Code::kFailedPrecondition)
                                                 : dtls.offer_session(sock, saved);
    std::printf("TLSGEN_OFFER session=%u code=%s detail=%d\n", index, tlsgen::name(offered.code()),
                static_cast<int>(offered.detail()));
  }
  tlsgen::Status st;
  do {
    st = dtls.connect(sock, o.host.c_str(), static_cast<std::uint16_t>(stale ? o.stale_offer_port : o.port));
  } while (st.code() == tlsgen::Code::kWouldBlock);
  if (!st.ok()) {
    out.step = "connect";
    out.status = st;
    return out;
  }
  if (offer) {
    std::printf("%s session=%u resumed=%d\n", stale ? "TLSGEN_STALE_OFFER" : "TLSGEN_RESUMED", index,
                dtls.resumed(sock) ? 1 : 0);
  }
  for (unsigned e = 0; e < o.exchanges; ++e) {
    const std::string sent = o.message + " " + std::to_string(index) + "." + std::to_string(e) + "\n";
    // A request whose reply is lost is sent again (the application's retransmission: DTLS does not repeat
    // application data), up to 8 times.
    bool answered = false;
    for (int attempt = 0; attempt < 8 && !answered; ++attempt) {
      const tlsgen::IoResult w = dtls.send(sock, bytes(sent));
      if (!w.ok()) {
        out.step = "send";
        out.status = w.status;
        return out;
      }
      std::array<std::byte, 2048> buf{};
      for (;;) {
        const tlsgen::IoResult r = dtls.receive_within(sock, buf, o.wait_ms / 8 + 1);
        if (r.status.code() == tlsgen::Code::kTimeout) break;  // send again
        if (!r.ok()) {
          out.step = "receive";
          out.status = r.status;
          return out;
        }
        const std::string got(reinterpret_cast<const char*>(buf.data()), r.size);
        if (reply_ok(o, sent, got)) {
          answered = true;
          break;
        }
        // Not this request's answer: the server's answer to an attempt sent again, or a record the session
        // should have dropped.
        ++out.strays;
      }
    }
    if (!answered) {
      out.step = "receive";
      out.status = tlsgen::Status(tlsgen::Code::kTimeout);
      return out;
    }
    ++out.exchanges;
  }
  if (o.resume && !stale) {
    // Exactly what tlsgen states the profile's saved sessions need: a larger one would not fit (kResourceExhausted).
    saved.assign(tlsgen::profile::kSavedSessionMaxBytes > 0 ? tlsgen::profile::kSavedSessionMaxBytes : 1, std::byte{0});
    const tlsgen::Result<std::size_t> n = dtls.save_session(sock, saved);
    saved.resize(n.ok() ? n.value() : 0);
    std::size_t ticket_bytes = 0;  // the server's ticket (what tls.resumption.ticket_max_bytes must cover)
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    const mbedtls_ssl_session* kept = dtls.native(sock)->MBEDTLS_PRIVATE(session);
    ticket_bytes = kept != nullptr && kept->MBEDTLS_PRIVATE(ticket) != nullptr ? kept->MBEDTLS_PRIVATE(ticket_len) : 0;
#endif
    std::printf("TLSGEN_SESSION session=%u code=%s detail=%d bytes=%zu ticket=%zu\n", index,
                tlsgen::name(n.status().code()), static_cast<int>(n.status().detail()), saved.size(), ticket_bytes);
  }
  if (o.send_size != 0) {
    const std::vector<std::byte> big(o.send_size, std::byte{'x'});
    const tlsgen::IoResult w = dtls.send(sock, big);
    std::printf("TLSGEN_SEND size=%zu code=%s detail=%d max_payload=%zu\n", o.send_size, tlsgen::name(w.status.code()),
                static_cast<int>(w.status.detail()), dtls.max_payload(sock));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: %s --port N [--host H] [--psk HEX --psk-identity ID] [--ca FILE] [--server-name N]\n"
                 "          [--client-cert FILE --client-key FILE] [--sessions K] [--exchanges E] [--message TEXT]\n"
                 "          [--expect-reply reverse|echo|any]\n"
                 "          [--nonblocking] [--heap-bytes N] [--wait-ms T] [--send-size N] [--resume] [--trace FILE]\n"
                 "          [--stale-offer-port N]\n",
                 argv[0]);
    return 2;
  }
  std::printf("TLSGEN_PROFILE name=%s heap=%zu model=%zu mtu=%zu\n", tlsgen::profile::kName,
              tlsgen::profile::kHeapBytes, tlsgen::profile::kHeapModelBytes, tlsgen::profile::kDtlsMtu);
  std::vector<std::byte> ca;
  if (!o.ca_file.empty() && !read_file(o.ca_file, ca)) {
    std::fprintf(stderr, "cannot read %s\n", o.ca_file.c_str());
    return 2;
  }
  std::vector<std::byte> own_chain;
  std::vector<std::byte> own_key;
  if (!o.client_cert_file.empty() &&
      (!read_file(o.client_cert_file, own_chain) || !read_file(o.client_key_file, own_key))) {
    std::fprintf(stderr, "cannot read %s or %s\n", o.client_cert_file.c_str(), o.client_key_file.c_str());
    return 2;
  }
  const std::vector<std::byte> psk = from_hex(o.psk_hex);
  std::size_t region = tlsgen::profile::kHeapBytes;
  if (o.heap_bytes != 0 && o.heap_bytes < region) region = o.heap_bytes;

  static tlsgen_test::HeapTrace trace;  // --trace
  trace.start(o.trace_file, traced_state);
  SteadyClock clock;
  tlsgen::PosixUdpStack udp(static_cast<int>(o.wait_ms));
  bool torn_down = false;
  std::size_t open_after = 0;
  {
    tlsgen::SslPlatform platform;
    tlsgen::Status st = region == tlsgen::profile::kHeapBytes ? platform.setup()
                                                              : platform.setup(tlsgen::glue::heap_region().first(region));
    if (st.ok()) st = platform.seed_rng(bytes(std::string("tlsgen dtls")));
    tlsgen::SslConfig config;
    if (st.ok()) st = platform.new_client_config(tlsgen::Transport::kDatagram, tlsgen::Preset::kProfile, config);
    if (st.ok() && !psk.empty()) st = config.psk(psk, bytes(o.psk_identity));
    if (st.ok() && !ca.empty()) st = config.ca_chain(ca);
    if (st.ok() && !own_chain.empty()) st = config.client_certificate(own_chain, own_key);
    if (st.ok() && !o.server_name.empty()) st = config.server_name(o.server_name.c_str());
    if (!st.ok()) {
      std::printf("TLSGEN_RESULT session=0 step=setup code=%s detail=%d\n", tlsgen::name(st.code()),
                  static_cast<int>(st.detail()));
    } else {
      std::array<tlsgen::DtlsSession, 1> slots;
      tlsgen::SslUdpStack dtls(config, udp, clock, slots);
      std::vector<std::byte> saved;  // --resume: the last session's saved bytes
      const unsigned total = o.sessions + (o.stale_offer_port != 0 ? 1u : 0u);
      for (unsigned i = 0; i < total; ++i) {
        const bool stale = i == o.sessions;
        if (stale && saved.empty()) break;  // nothing was saved to offer
        tlsgen::Socket sock = tlsgen::kInvalidSocket;
        const Outcome out = run_session(o, dtls, i, sock, saved, stale);
        const tlsgen::DtlsStats stats = dtls.stats(sock);
        const tlsgen::Status transport = dtls.transport_status(sock);
        std::printf("%s session=%u step=%s code=%s detail=%d suite=%s version=%s handshake_ms=%u sent=%u "
                    "received=%u empty=%u oversize=%u cookies=%u exchanges=%u strays=%u transport=%s/%d\n",
                    stale ? "TLSGEN_STALE_RESULT" : "TLSGEN_RESULT", i, out.step, tlsgen::name(out.status.code()),
                    static_cast<int>(out.status.detail()),
                    dtls.ciphersuite(sock), dtls.protocol(sock), stats.handshake_ms, stats.datagrams_sent,
                    stats.datagrams_received, stats.empty_dropped, stats.oversize_dropped, stats.hello_verify_requests,
                    out.exchanges, out.strays,
                    tlsgen::name(transport.code()), static_cast<int>(transport.detail()));
        std::fflush(stdout);
        if (sock != tlsgen::kInvalidSocket) (void)dtls.close(sock);
        g_traced_stack = nullptr;
      }
      open_after = dtls.open_count();
      std::fill(saved.begin(), saved.end(), std::byte{0});  // it holds the session's master secret
    }
    config.deinit();
    torn_down = platform.deinit().ok();
  }
  const tlsgen::HeapStats stats = tlsgen::glue::heap().stats();
  std::printf("TLSGEN_HEAP peak=%zu peak_payload=%zu failed=%zu in_use_after=%zu live_blocks_after=%zu region=%zu "
              "generated=%zu\n",
              stats.high_water, stats.peak_in_use, stats.failed, stats.in_use, stats.live_blocks, region,
              tlsgen::profile::kHeapBytes);
  std::printf("TLSGEN_SOCKETS open_after=%zu\n", udp.open_count() + open_after);
  trace.finish();
  const bool clean = torn_down && stats.in_use == 0 && stats.live_blocks == 0 && udp.open_count() == 0 && open_after == 0;
  return clean ? 0 : 3;
}
