// Test client for run_integration.py: one TLS session of the runtime against a real server.
//
// Builds the whole stack the way an application does (SslPlatform over the profile's static heap,
// SslConfig from the profile, SslTcpStack over PosixTcpStack), sends an HTTP GET, reads the reply to
// the end, tears everything down and prints parseable lines the driver checks:
//   TLSGEN_RESULT step=<open|connect|write|read|done> code=<Code> detail=<int> verify=0x<hex> ...
//   TLSGEN_REPLY bytes=<n> status_line=<first line of the reply>
//   TLSGEN_HEAP peak=<high-water bytes> peak_payload=<bytes> peak_blocks=<n> failed=<n> in_use_after=<bytes>
//               live_blocks_after=<n> region=<bytes> generated=<kHeapBytes>
//   TLSGEN_SOCKETS open_after=<n>
// Exit status: 0 when the program ran to the end and the teardown was clean (whatever the TLS
// outcome: the driver compares it with the case's expectation), 2 for bad arguments, 3 when the
// teardown left heap blocks or sockets behind.
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>
#include <sstream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mbedtls/build_info.h"
#if defined(MBEDTLS_ERROR_C)
#include "mbedtls/error.h"
#endif
#include "tlsgen/glue.hpp"
#include "tlsgen/posix_tcp_stack.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen_profile.hpp"

namespace {

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
    if (a == "--nonblocking") {
      o.nonblocking = true;
    } else if (a == "--flaky") {
      o.flaky = true;
      o.nonblocking = true;
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
    } else if (a == "--timeout-ms") {
      o.timeout_ms = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  return o.port != 0;
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
void run_session(const Options& o, tlsgen::SslConfig& config, tlsgen::PosixTcpStack& tcp) {
  std::array<tlsgen::SslSession, 1> sessions;
  FlakyStack flaky(tcp);
  tlsgen::TcpStack& transport = o.flaky ? static_cast<tlsgen::TcpStack&>(flaky) : tcp;
  tlsgen::SslTcpStack tls(config, transport, sessions);
  const tlsgen::Result<tlsgen::Socket> opened =
      tls.open(o.nonblocking ? tlsgen::Mode::kNonBlocking : tlsgen::Mode::kBlocking);
  if (!opened.ok()) {
    report("open", opened.status(), nullptr, tlsgen::kInvalidSocket);
    return;
  }
  const tlsgen::Socket sock = opened.value();
  tlsgen::Status st = retry(o, [&] { return tls.connect(sock, o.host.c_str(), o.port); });
  if (!st.ok()) {
    report("connect", st, &tls, sock);
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
  // The reply ends with the peer closing: kClosed is the normal end of an HTTP/1.0 reply.
  const tlsgen::Status outcome = end.code() == tlsgen::Code::kClosed ? tlsgen::Status() : end;
  report("done", outcome, &tls, sock);
  std::printf("TLSGEN_CLOSE detail=%d\n", static_cast<int>(end.detail()));
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
                 "          [--path P] [--heap-percent N | --heap-bytes N] [--timeout-ms T]\n",
                 argv[0]);
    return 2;
  }
  std::printf("TLSGEN_PROFILE name=%s heap=%zu in=%zu out=%zu\n", tlsgen::profile::kName,
              tlsgen::profile::kHeapBytes, tlsgen::profile::kInContentLen, tlsgen::profile::kOutContentLen);

  tlsgen::PosixTcpStack tcp(o.timeout_ms);
  std::string ca_pem;
  if (!o.ca_file.empty()) {
    std::ifstream in(o.ca_file);
    std::stringstream ss;
    ss << in.rdbuf();
    ca_pem = ss.str();
    if (ca_pem.empty()) {
      std::fprintf(stderr, "cannot read %s\n", o.ca_file.c_str());
      return 2;
    }
  }
  const std::vector<std::byte> psk = from_hex(o.psk_hex);

  std::size_t region = tlsgen::profile::kHeapBytes * (o.heap_percent < 100 ? o.heap_percent : 100U) / 100U;
  if (o.heap_bytes != 0 && o.heap_bytes < region) {
    region = o.heap_bytes;
  }
  // The heap-model calibration harness (bench/heap) records sessions: request sizes in call order.
  struct TraceEvent {
    const void* pointer;
    std::size_t request;
  };
  static std::vector<TraceEvent> trace;
  if (!o.trace_file.empty()) {
    trace.reserve(1 << 16);
    tlsgen::glue::heap().set_observer(
        [](void*, const void* pointer, std::size_t request, std::size_t) { trace.push_back({pointer, request}); },
        nullptr);
  }
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
      if (st.ok() && !ca_pem.empty()) st = config.ca_chain(ca_pem.c_str());
      if (st.ok() && !psk.empty()) st = config.psk(psk, bytes(o.psk_identity));
      if (st.ok() && !o.server_name.empty()) st = config.server_name(o.server_name.c_str());
      if (st.ok() && !o.verify.empty()) {
        st = config.authmode(o.verify == "none"       ? tlsgen::Verify::kNone
                             : o.verify == "optional" ? tlsgen::Verify::kOptional
                                                      : tlsgen::Verify::kRequired);
      }
      if (!st.ok()) {
        report("config", st, nullptr, tlsgen::kInvalidSocket);
      } else {
        run_session(o, config, tcp);
      }
      config.deinit();
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
  const bool clean = torn_down && stats.in_use == 0 && stats.live_blocks == 0 && tcp.open_count() == 0;
  if (!o.trace_file.empty()) {
    tlsgen::glue::heap().set_observer(nullptr, nullptr);
    std::ofstream out(o.trace_file);
    out << "op,size,id\n";
    std::vector<std::pair<const void*, std::pair<std::size_t, int>>> live;  // pointer -> (size, id)
    int next_id = 0;
    for (const TraceEvent& e : trace) {
      if (e.request != 0) {
        live.push_back({e.pointer, {e.request, ++next_id}});
        out << "a," << e.request << ',' << next_id << '\n';
      } else {
        for (auto it = live.begin(); it != live.end(); ++it) {
          if (it->first == e.pointer) {
            out << "f," << it->second.first << ',' << it->second.second << '\n';
            live.erase(it);
            break;
          }
        }
      }
    }
  }
  return clean ? 0 : 3;
}
