// tlsgen on a Cortex-M4 whose network is an ESP8266 AT modem on UART0 (QEMU mps2-an386).
//
// The application flow is the seed's: set up the platform over the generated static heap, seed the
// RNG from the profile's entropy (an NV seed provisioned by the build and rewritten each boot), make
// a client configuration from the profile, wrap the modem's TcpStack in SslTcpStack, connect, send
// an HTTP GET, print the reply, tear everything down. It prints, over semihosting, lines the test
// driver (tests/qemu/run_qemu.py) checks:
//   TLSGEN_RESULT step=<...> code=<Code> detail=<int> suite=<name> version=<TLSv1.2|TLSv1.3>
//   TLSGEN_HEAP peak=<high-water> peak_payload=<n> peak_blocks=<n> failed=<n> in_use_after=<n>
//               live_blocks_after=<n> region=<n> generated=<kHeapBytes> calls=<calloc and free calls>
//   TLSGEN_CYCLES handshake_instructions=<n> waiting_instructions=<n> total_ticks=<n>
// Credentials are the device's provisioned files, read over semihosting: ca.der (ca.pem), psk.bin,
// psk_identity.txt, and with tls.client_certificate client.der + client-key.der (client.pem + client-key.pem). Arguments (QEMU -append): port=<n> name=<server name> heap=<bytes, 0: all>
// io_timeout=<ms, the modem's blocking I/O timeout; 0: its default>.
// Built with TLSGEN_DEMO_RESUME (the qemu_esp8266_resume_* targets, profiles with tls.resumption), it then saves
// the session (SslTcpStack or, over DTLS, SslUdpStack::save_session after the reply was read, so that a TLS 1.3
// ticket has come; into a store of tlsgen_profile.hpp's kSavedSessionMaxBytes), reconnects offering it and prints,
// for that second handshake:
//   TLSGEN_RESUMED code=<Code> detail=<int> resumed=<0|1> saved_bytes=<n> ticket=<the server's ticket bytes>
//                  handshake_instructions=<n>
// (a separate build, so that the reference firmware's image, which tlsgen.flash's figures come from, does
// not carry the resumption code). With stale_port=<n>, a third session then offers the same saved session to
// the server on that port, another process whose ticket key is not the first one's, so the handshake is a full one
// while mbedTLS holds the offered ticket (the heap model's "session ticket" line):
//   TLSGEN_STALE_OFFER code=<Code> detail=<int> resumed=<0|1>
// A reply that ends without the server's close_notify (the transport closed first) is reported as
// step=read code=kClosed detail=MBEDTLS_ERR_SSL_CONN_EOF: it may have been cut short.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#if defined(TLSGEN_FIRMWARE_TRACE)
// Heap-model calibration builds (tools/sweep/runner.py --calibrate): every allocation and free is written
// to trace.raw in QEMU's working directory with the handshake state mbedTLS was in (a private field).
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#endif
#include "board.hpp"
#include "mbedtls/platform.h"
#include "modem_uart.hpp"
#include "tlsgen/esp8266_at.hpp"
#include "tlsgen/format.hpp"
#include "tlsgen/glue.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/ssl_tcp_stack.hpp"
#include "tlsgen/ssl_udp_stack.hpp"
#include "tlsgen_profile.hpp"

namespace {

// The application's buffers, scaled to the RAM there is: a 16 KB-RAM part (the microbit's nRF51) cannot give
// the modem's receive ring 4 KB, nor can a part whose target.ram_bytes the heap and the stack mostly take
// (kRamLeftBytes: what the profile leaves for the application; the generator refuses a profile that leaves
// less than the small form below needs, tlsgen.ram.reference_app_ram()). The ring can be much smaller than a
// +IPD frame (the modem streams a frame into it under flow control: docs/runtime/esp8266.md); the reply is
// read and printed in smaller pieces. The part is the board the image is linked for, or the profile's
// target.ram_bytes when it says less.
constexpr std::size_t kPartRamBytes = tlsgen::profile::kRamBytes != 0 && tlsgen::profile::kRamBytes < board::kRamBytes
                                          ? tlsgen::profile::kRamBytes
                                          : board::kRamBytes;
// The device's provisioned CA certificates, read into RAM: ca.pem when the profile parses PEM (base64 takes
// 4/3 of the DER bytes, plus a header and footer per certificate and a newline every 64 characters), else ca.der.
constexpr std::size_t kPemBytes =
    tlsgen::profile::kPem ? tlsgen::profile::kCaChainBytes * 3 / 2 + 80 * tlsgen::profile::kCaChainCerts + 1 : 0;
constexpr std::size_t kCaFileBytes = kPemBytes > tlsgen::profile::kCaChainBytes ? kPemBytes : tlsgen::profile::kCaChainBytes;
// The device's own certificate chain and key (tls.client_certificate), read into the same buffer once the CA
// file is parsed: client.pem + client-key.pem, or client.der + client-key.der. A key file is at most 4.5 bytes
// per modulus byte + 80 (RSA, PKCS#8) or 4 per field byte + 64 (EC); PEM as for the CA file. tlsgen.ram's
// client_files_bytes() is the same rule.
constexpr std::size_t pem_or_der(std::size_t der, std::size_t certs) {
  return tlsgen::profile::kPem ? der * 3 / 2 + 80 * certs + 1 : der;
}
constexpr std::size_t kClientKeyDerBytes = tlsgen::profile::kClientKeyRsa
                                               ? static_cast<std::size_t>(tlsgen::profile::kClientKeyBits) / 8 * 9 / 2 + 80
                                               : static_cast<std::size_t>(tlsgen::profile::kClientKeyBits) / 8 * 4 + 64;
constexpr std::size_t kClientChainFileBytes =
    tlsgen::profile::kClientCertificate ? pem_or_der(tlsgen::profile::kClientChainBytes, tlsgen::profile::kClientChainCerts) : 0;
constexpr std::size_t kClientFilesBytes =
    tlsgen::profile::kClientCertificate ? kClientChainFileBytes + pem_or_der(kClientKeyDerBytes, 1) : 0;
constexpr std::size_t kCredentialBytes = kCaFileBytes > kClientFilesBytes ? kCaFileBytes : kClientFilesBytes;
// The buffers' two forms (small: a part short of RAM), and the large form's own static data: ring, reply + its
// text, credentials (or the CA file), PSK identity 64, the board's command line 256 and clock 12, and the bench's
// allocator timing 32 (kAllocTiming).
// TLS 1.3 servers send their NewSessionTickets (OpenSSL and GnuTLS: two) right after the handshake, while the device
// writes its request, and with a client certificate each ticket carries the device's chain (GnuTLS 3.7: 2,667 bytes
// for a 2,400-byte chain): the ring holds both records, or the modem's prompt for the request waits behind them
// (Esp8266AtStack's kRxBlockedDetail) and the write fails.
constexpr std::size_t kTicketRecordBytes =
    tlsgen::profile::kTls13 && tlsgen::profile::kClientCertificate
        ? tlsgen::profile::kClientChainBytes + 8 * tlsgen::profile::kClientChainCerts + 320 + 80
        : 0;
constexpr std::size_t kLargeRingBytes = 2 * kTicketRecordBytes > 4096 ? (2 * kTicketRecordBytes + 1023) / 1024 * 1024 : 4096;
constexpr std::size_t kLargeReplyBytes = 1024, kLargeMinFileBytes = 512;
constexpr std::size_t kLargeAppBytes = kLargeRingBytes + 2 * kLargeReplyBytes + 1 +
                                       (kCredentialBytes > kLargeMinFileBytes ? kCredentialBytes : kLargeMinFileBytes) + 64 +
                                       256 + 12 + 32;
constexpr bool kSmallRam = kPartRamBytes <= 32 * 1024 ||
                           (tlsgen::profile::kRamLeftBytes != 0 && tlsgen::profile::kRamLeftBytes < kLargeAppBytes);
constexpr std::size_t kModemRingBytes = kSmallRam ? 512 : kLargeRingBytes;
constexpr std::size_t kReplyBytes = kSmallRam ? 128 : kLargeReplyBytes;
constexpr std::size_t kMinFileBytes = kSmallRam ? 64 : kLargeMinFileBytes;  // psk.bin (and the credentials, when larger)
constexpr std::size_t kFileBytes = kCredentialBytes > kMinFileBytes ? kCredentialBytes : kMinFileBytes;
#if defined(TLSGEN_DEMO_RESUME)
constexpr std::size_t kShownBytes = 4096;
#else
constexpr std::size_t kShownBytes = 512;
#endif

#if defined(TLSGEN_FIRMWARE_TRACE)
struct Trace {
  int handle = -1;
  tlsgen::SslTcpStack* stack = nullptr;
  tlsgen::Socket socket = tlsgen::kInvalidSocket;
  char buffer[2048];
  std::size_t used = 0;

  void flush() {
    if (handle >= 0 && used > 0) board::host_write_handle(handle, std::as_bytes(std::span(buffer, used)));
    used = 0;
  }
  static void observe(void* context, const void* pointer, std::size_t request, std::size_t) {
    auto* t = static_cast<Trace*>(context);
    const mbedtls_ssl_context* ssl = t->stack != nullptr ? t->stack->native(t->socket) : nullptr;
    char line[48];
    const int n = tlsgen::snprintf(line, sizeof line, "%c,%lx,%lu,%d\n", request != 0 ? 'a' : 'f',
                                   static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(pointer)),
                                   static_cast<unsigned long>(request), ssl != nullptr ? ssl->MBEDTLS_PRIVATE(state) : -1);
    if (n <= 0) return;
    if (t->used + static_cast<std::size_t>(n) > sizeof t->buffer) t->flush();
    std::memcpy(t->buffer + t->used, line, static_cast<std::size_t>(n));
    t->used += static_cast<std::size_t>(n);
  }
};
Trace g_trace;
#endif


// The allocator's own instructions, measured in place (`alloc_timing=1`, bench/handshake): mbedTLS's calloc and free
// go through these wrappers, which add up the board timer's ticks spent in tlsgen::Heap (its call and return
// included); the first handshake's share of them is kept in `handshake`. Each interval also holds part of the two
// timer reads around it: `empty` is that part, measured on 256 empty intervals. The wrappers cost instructions of
// their own, so the bench takes the handshake's instructions from a run without them.
// Not in the small form (its RAM is counted to the byte: tlsgen.ram), nor in the resume firmware (bench/handshake
// times the first form's handshake; the resume images' flash is compared between profiles, issue 14).
#if defined(TLSGEN_DEMO_RESUME)
constexpr bool kAllocTiming = false;
#else
constexpr bool kAllocTiming = !kSmallRam;
#endif

struct AllocTiming {
  tlsgen::Heap* heap = nullptr;
  std::uint32_t ticks = 0;      // in calloc and free, all along
  std::uint32_t calls = 0;
  std::uint32_t handshake = 0;        // ticks in calloc and free during the first handshake (while it runs:
                                      // `ticks` at its start)
  std::uint32_t handshake_calls = 0;  // the same for the calls
  std::uint32_t empty = 0;      // ticks of 256 empty intervals
  bool counted = false;         // the first handshake's figures are in
};
AllocTiming g_alloc_timing;

void* timed_calloc(std::size_t count, std::size_t size) {
  const std::uint32_t t0 = board::timer_ticks();
  void* p = g_alloc_timing.heap->calloc(count, size);
  g_alloc_timing.ticks += board::timer_ticks() - t0;
  ++g_alloc_timing.calls;
  return p;
}

void timed_free(void* pointer) {
  const std::uint32_t t0 = board::timer_ticks();
  g_alloc_timing.heap->free(pointer);
  g_alloc_timing.ticks += board::timer_ticks() - t0;
  ++g_alloc_timing.calls;
}

void start_alloc_timing() {
  if constexpr (!kAllocTiming) return;
  for (int i = 0; i < 256; ++i) {
    const std::uint32_t t0 = board::timer_ticks();
    asm volatile("" ::: "memory");
    g_alloc_timing.empty += board::timer_ticks() - t0;
  }
  g_alloc_timing.heap = &tlsgen::glue::heap();
  mbedtls_platform_set_calloc_free(timed_calloc, timed_free);
}

// Around a handshake: the allocator's ticks and calls in it (the first handshake's are kept). Kept in
// g_alloc_timing, not on the stack: the session's stack peak is measured in the same firmware.
void alloc_window_open() {
  if (!kAllocTiming || g_alloc_timing.counted) return;
  g_alloc_timing.handshake = g_alloc_timing.ticks;
  g_alloc_timing.handshake_calls = g_alloc_timing.calls;
}

void alloc_window_close() {
  if (!kAllocTiming || g_alloc_timing.heap == nullptr || g_alloc_timing.counted) return;
  g_alloc_timing.handshake = g_alloc_timing.ticks - g_alloc_timing.handshake;
  g_alloc_timing.handshake_calls = g_alloc_timing.calls - g_alloc_timing.handshake_calls;
  g_alloc_timing.counted = true;
}

// The board's millisecond clock (the modem driver's) for DTLS's retransmission timer.
class UartClock final : public tlsgen::Clock {
 public:
  explicit UartClock(board::ModemUart& uart) : uart_(uart) {}
  std::uint32_t now_ms() override { return uart_.now_ms(); }

 private:
  board::ModemUart& uart_;
};

// DTLS profiles: request/response datagrams after the handshake.
constexpr unsigned kDtlsExchanges = 3;

int report(const char* step, tlsgen::Status s, const char* suite, const char* version) {
  board::host_printf("TLSGEN_RESULT step=%s code=%s detail=%ld suite=%s version=%s\n", step, tlsgen::name(s.code()),
                     static_cast<long>(s.detail()), suite, version);
  return s.ok() ? 0 : 1;
}

}  // namespace

int main() {
  char port_text[8] = "4433", name[64] = "tlsgen.test", heap_text[12] = "0", timeout_text[12] = "0";
  char stale_text[8] = "0", timing_text[4] = "0";
  board::cmdline_arg("port", port_text, sizeof port_text);
  board::cmdline_arg("alloc_timing", timing_text, sizeof timing_text);
  board::cmdline_arg("stale_port", stale_text, sizeof stale_text);
  board::cmdline_arg("name", name, sizeof name);
  board::cmdline_arg("heap", heap_text, sizeof heap_text);
  board::cmdline_arg("io_timeout", timeout_text, sizeof timeout_text);
  auto port = static_cast<std::uint16_t>(std::atoi(port_text));  // the stale offer's session changes it
  [[maybe_unused]] const auto stale_port = static_cast<std::uint16_t>(std::atoi(stale_text));
  const auto heap_limit = static_cast<std::size_t>(std::atol(heap_text));
  const auto io_timeout_ms = static_cast<std::uint32_t>(std::atol(timeout_text));
  board::host_printf("tlsgen %s on %s: heap %u bytes, server 127.0.0.1:%u (%s)\n", tlsgen::profile::kName,
                     board::kName, static_cast<unsigned>(tlsgen::profile::kHeapBytes), port, name);

  int rc = 0;
  const char* step = "done";
  tlsgen::Status status;
  const char* suite = "-";
  const char* version = "-";
  std::uint32_t handshake_ticks = 0, handshake_wait = 0;
  {
    tlsgen::SslPlatform platform;
    std::span<std::byte> region = tlsgen::glue::heap_region();
    if (heap_limit != 0 && heap_limit < region.size()) region = region.first(heap_limit);
#if defined(TLSGEN_FIRMWARE_TRACE)
    g_trace.handle = board::host_open_write("trace.raw");
    tlsgen::glue::heap().set_observer(&Trace::observe, &g_trace);
#endif
    status = platform.setup(region);
    if (status.ok() && timing_text[0] == '1') start_alloc_timing();
    if (status.ok()) status = platform.seed_rng();
    tlsgen::SslConfig config;
    constexpr tlsgen::Transport kTransport =
        tlsgen::profile::kDatagram ? tlsgen::Transport::kDatagram : tlsgen::Transport::kStream;
    if (status.ok()) status = platform.new_client_config(kTransport, tlsgen::Preset::kProfile, config);
    if (!status.ok()) step = "setup";

    static std::byte file[kFileBytes];  // the CA file, then the client certificate and key, or psk.bin
    if (status.ok() && tlsgen::profile::kUsesCertificates) {
      if (tlsgen::profile::kVerifyMode != 0) {
        long n = -1;
        if (tlsgen::profile::kPem) {
          n = board::host_read_file("ca.pem", std::span(file).first(sizeof file - 1));
          if (n > 0) file[n++] = std::byte{0};  // mbedTLS parses PEM with its terminating NUL
        }
        if (n <= 0) n = board::host_read_file("ca.der", file);
        status = n > 0 ? config.ca_chain(std::span(file, static_cast<std::size_t>(n))) : tlsgen::Status(tlsgen::Code::kUnavailable);
      }
      if (status.ok()) status = config.server_name(name);
      if (status.ok() && tlsgen::profile::kClientCertificate) {
        // The device's chain and key (mutual TLS): PEM with their terminating NULs, or DER.
        const auto read = [](const char* pem_name, const char* der_name, std::span<std::byte> room) -> long {
          if (tlsgen::profile::kPem) {
            long n = board::host_read_file(pem_name, room.first(room.size() - 1));
            if (n > 0) {
              room[static_cast<std::size_t>(n++)] = std::byte{0};
              return n;
            }
          }
          return board::host_read_file(der_name, room);
        };
        const std::span<std::byte> all(file);
        const long c = read("client.pem", "client.der", all.first(kClientChainFileBytes));
        const long k = c > 0 ? read("client-key.pem", "client-key.der", all.subspan(static_cast<std::size_t>(c))) : -1;
        status = c > 0 && k > 0 ? config.client_certificate(all.first(static_cast<std::size_t>(c)),
                                                            all.subspan(static_cast<std::size_t>(c), static_cast<std::size_t>(k)))
                                : tlsgen::Status(tlsgen::Code::kUnavailable);
        std::memset(file, 0, sizeof file);  // the key's copy in RAM: mbedTLS holds its own parsed copy now
      }
      if (!status.ok()) step = "credentials";
    }
    if (status.ok() && tlsgen::profile::kUsesPsk) {
      static std::byte identity[64];
      const long k = board::host_read_file("psk.bin", file);
      const long i = board::host_read_file("psk_identity.txt", identity);
      status = k > 0 && i > 0 ? config.psk(std::span(file, static_cast<std::size_t>(k)),
                                           std::span(identity, static_cast<std::size_t>(i)))
                              : tlsgen::Status(tlsgen::Code::kUnavailable);
      if (!status.ok()) step = "credentials";
    }

    board::ModemUart uart;
    static std::byte modem_rx[kModemRingBytes];
    tlsgen::Esp8266Options modem_options;
    if (io_timeout_ms != 0) modem_options.io_timeout_ms = io_timeout_ms;
    tlsgen::Esp8266AtStack modem(uart, modem_rx, 1, modem_options);
    if (status.ok()) {
      status = modem.init();
      if (!status.ok()) step = "modem";
    }
#if defined(TLSGEN_DEMO_RESUME)
    // After the first session (over TLS or DTLS alike): save it into a store of the size tlsgen states for the profile
    // (kSavedSessionMaxBytes), close, and connect again offering it: the resumed handshake's cost next to the full
    // one's. `reopen` opens `socket` again, `run_session(ticks, wait)` runs a session on it.
    static std::byte store[tlsgen::profile::kSavedSessionMaxBytes > 0 ? tlsgen::profile::kSavedSessionMaxBytes : 1];
    const auto resume = [&](auto& stack, tlsgen::Socket& socket, auto&& reopen, auto&& run_session) {
      const tlsgen::Result<std::size_t> saved = stack.save_session(socket, store);
      unsigned ticket = 0;  // the server's ticket (tls.resumption.ticket_max_bytes must cover it)
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
      const mbedtls_ssl_context* ssl = stack.native(socket);
      const mbedtls_ssl_session* kept = ssl != nullptr ? ssl->MBEDTLS_PRIVATE(session) : nullptr;
      ticket = kept != nullptr && kept->MBEDTLS_PRIVATE(ticket) != nullptr
                   ? static_cast<unsigned>(kept->MBEDTLS_PRIVATE(ticket_len)) : 0u;
#endif
      (void)stack.close(socket);
      socket = tlsgen::kInvalidSocket;
      // Nothing to save (kFailedPrecondition: the server gave no session ID or ticket the profile resumes by), or a
      // session larger than the store (kResourceExhausted: a ticket above tls.resumption.ticket_max_bytes), is the
      // TLSGEN_RESUMED line's to report, not the first session's failure; anything else fails the run.
      const bool nothing_to_save = saved.status().code() == tlsgen::Code::kFailedPrecondition ||
                                   saved.status().code() == tlsgen::Code::kResourceExhausted;
      status = saved.status();
      std::uint32_t resumed_ticks = 0, resumed_wait = 0;
      bool resumed = false;
      reopen();
      if (status.ok()) status = stack.offer_session(socket, std::span(store, saved.value()));
      if (status.ok()) {
        run_session(resumed_ticks, resumed_wait);
        resumed = stack.resumed(socket);
      } else if (!nothing_to_save) {
        step = "resume";
      }
      board::host_printf("TLSGEN_RESUMED code=%s detail=%ld resumed=%d saved_bytes=%u ticket=%u "
                         "handshake_instructions=%llu\n",
                         tlsgen::name(status.code()), static_cast<long>(status.detail()), resumed ? 1 : 0,
                         static_cast<unsigned>(saved.ok() ? saved.value() : 0), ticket,
                         static_cast<unsigned long long>(board::instructions(resumed_ticks - resumed_wait)));
      if (stale_port != 0 && status.ok() && saved.ok()) {
        (void)stack.close(socket);
        socket = tlsgen::kInvalidSocket;
        port = stale_port;
        reopen();
        if (status.ok()) status = stack.offer_session(socket, std::span(store, saved.value()));
        bool again = false;
        if (status.ok()) {
          std::uint32_t ticks = 0, wait = 0;
          run_session(ticks, wait);
          again = stack.resumed(socket);
        } else {
          step = "stale_offer";
        }
        board::host_printf("TLSGEN_STALE_OFFER code=%s detail=%ld resumed=%d\n", tlsgen::name(status.code()),
                           static_cast<long>(status.detail()), again ? 1 : 0);
      }
      std::memset(store, 0, sizeof store);  // it held the session's master secret or resumption key
      if (nothing_to_save) status = tlsgen::Status::Ok();
    };
#endif
    if constexpr (tlsgen::profile::kDatagram) {
      // DTLS (tls.transport: datagram): the modem's UDP link, SslUdpStack with its retransmission timer on the
      // board's millisecond clock; the handshake (timed), then kDtlsExchanges request/response datagrams: the
      // server (tests/qemu/run_qemu.py: openssl s_server -dtls1_2) answers each request line reversed, or (the
      // sweep's gnutls-serv --udp --echo) returns it.
      tlsgen::Esp8266AtUdp udp(modem);
      UartClock clock(uart);
      std::array<tlsgen::DtlsSession, 1> sessions;
      tlsgen::SslUdpStack dtls(config, udp, clock, sessions);
      tlsgen::Socket sock = tlsgen::kInvalidSocket;
      const auto open_socket = [&] {
        if (!status.ok()) return;
        const auto opened = dtls.open(tlsgen::Mode::kBlocking);
        status = opened.status();
        sock = opened.value();
        if (!status.ok()) step = "open";
      };
      // One session on `sock`: the modem's UDP link + the DTLS handshake (timed), the request/response exchanges.
      const auto run = [&](std::uint32_t& ticks, std::uint32_t& wait) {
        unsigned answered = 0;
        if (status.ok()) {
          alloc_window_open();
          const std::uint32_t t0 = board::timer_ticks(), w0 = uart.waiting_ticks;
          status = dtls.connect(sock, "127.0.0.1", port);
          ticks = board::timer_ticks() - t0;
          alloc_window_close();
          wait = uart.waiting_ticks - w0;
          suite = dtls.ciphersuite(sock);
          version = dtls.protocol(sock);
          if (!status.ok()) step = "connect";
        }
        board::host_write("---- reply ----\n");
        for (unsigned e = 0; status.ok() && e < kDtlsExchanges; ++e) {
          static char request[40];
          static char expected[40];
          const int n = tlsgen::snprintf(request, sizeof request, "tlsgen dtls ping %u\n", e);
          for (int i = 0; i < n - 1; ++i) expected[i] = request[n - 2 - i];  // the line reversed, newline kept
          expected[n - 1] = '\n';
          static std::byte reply[kReplyBytes];
          bool ok = false;
          // DTLS does not repeat application data: a request or reply the link lost is sent again (4 tries).
          for (int attempt = 0; attempt < 4 && status.ok() && !ok; ++attempt) {
            const tlsgen::IoResult w = dtls.send(sock, std::as_bytes(std::span(request, static_cast<std::size_t>(n))));
            status = w.status;
            if (!status.ok()) step = "send";
            while (status.ok()) {
              const tlsgen::IoResult r = dtls.receive_within(sock, reply, 5000);
              if (r.status.code() == tlsgen::Code::kTimeout) break;
              status = r.status;
              if (!status.ok()) {
                step = "receive";
                break;
              }
              // s_server (run_qemu.py, the sweep) answers the line reversed; gnutls-serv --udp --echo (the sweep)
              // returns it as it is.
              if (r.size == static_cast<std::size_t>(n) &&
                  (std::memcmp(reply, expected, r.size) == 0 || std::memcmp(reply, request, r.size) == 0)) {
                static char text[kReplyBytes + 1];
                std::memcpy(text, reply, r.size);
                text[r.size] = '\0';
                board::host_write(text);
                ok = true;
                break;
              }
            }
          }
          if (status.ok() && !ok) {
            status = tlsgen::Status(tlsgen::Code::kTimeout);
            step = "receive";
          }
          answered += ok ? 1 : 0;
        }
        const tlsgen::DtlsStats st = dtls.stats(sock);
        board::host_printf("TLSGEN_DTLS exchanges=%u answered=%u datagrams_sent=%lu datagrams_received=%lu empty=%lu "
                           "oversize=%lu congestion=%lu cookies=%lu\n",
                           kDtlsExchanges, answered, static_cast<unsigned long>(st.datagrams_sent),
                           static_cast<unsigned long>(st.datagrams_received), static_cast<unsigned long>(st.empty_dropped),
                           static_cast<unsigned long>(st.oversize_dropped), static_cast<unsigned long>(st.congestion_dropped),
                           static_cast<unsigned long>(st.hello_verify_requests));
      };
      open_socket();
      run(handshake_ticks, handshake_wait);
#if defined(TLSGEN_DEMO_RESUME)
      if (status.ok()) resume(dtls, sock, open_socket, run);
#endif
      if (sock != tlsgen::kInvalidSocket) (void)dtls.close(sock);
    } else {
      std::array<tlsgen::SslSession, 1> sessions;
      tlsgen::SslTcpStack tls(config, modem, sessions);
      tlsgen::Socket socket = tlsgen::kInvalidSocket;
      if (status.ok()) {
        const auto opened = tls.open(tlsgen::Mode::kBlocking);
        status = opened.status();
        socket = opened.value();
        if (!status.ok()) step = "open";
      }
#if defined(TLSGEN_FIRMWARE_TRACE)
      g_trace.stack = &tls;
      g_trace.socket = socket;
#endif
      // One session on `socket`: TCP connect through the modem + TLS handshake (timed), GET, the reply read
      // to the server's close_notify.
      const auto run = [&](tlsgen::Socket sock, std::uint32_t& ticks, std::uint32_t& wait) {
        if (status.ok()) {
          alloc_window_open();
          const std::uint32_t t0 = board::timer_ticks(), w0 = uart.waiting_ticks;
          status = tls.connect(sock, "127.0.0.1", port);  // TCP connect through the modem + TLS handshake
          ticks = board::timer_ticks() - t0;
          alloc_window_close();
          wait = uart.waiting_ticks - w0;
          suite = tls.ciphersuite(sock);
          version = tls.protocol(sock);
          if (!status.ok()) step = "connect";
        }
        if (status.ok()) {
          static const char request[] = "GET / HTTP/1.0\r\nHost: tlsgen.test\r\n\r\n";
          std::span<const std::byte> rest = std::as_bytes(std::span(request, sizeof request - 1));
          while (status.ok() && !rest.empty()) {
            const tlsgen::IoResult w = tls.write(sock, rest);
            status = w.status;
            rest = rest.subspan(w.size);
          }
          if (!status.ok()) step = "write";
        }
        if (status.ok()) {
          static std::byte reply[kReplyBytes];
          std::size_t shown = 0, total = 0;
          board::host_write("---- reply ----\n");
          for (;;) {
            const tlsgen::IoResult r = tls.read(sock, reply);
            if (r.size > 0) {
              total += r.size;
              // Print the start of the reply (status line and headers): its first 512 bytes (the resume build:
              // all of it, for s_server's "Reused," line far down its page).
              // Static, like reply: a frame here sits under every TLS call of the loop (the stack need
              // tlsgen states, kStackNeedBytes, is measured with this firmware).
              static char text[kReplyBytes + 1];
              const std::size_t room = kShownBytes - shown;
              const std::size_t n = r.size < room ? r.size : room;
              if (n > 0) {
                std::memcpy(text, reply, n);
                text[n] = '\0';
                board::host_write(text);
                shown += n;
              }
            }
            if (!r.status.ok()) {
              if (r.status != tlsgen::kTlsCleanClose) {  // an error, or a close without close_notify
                status = r.status;
                step = "read";
              }
              break;
            }
          }
          board::host_printf("\n---- %u bytes ----\n", static_cast<unsigned>(total));
        }
      };
      if (status.ok()) run(socket, handshake_ticks, handshake_wait);
#if defined(TLSGEN_DEMO_RESUME)
      if (status.ok()) {
        resume(
            tls, socket,
            [&] {
              if (!status.ok()) return;
              const auto opened = tls.open(tlsgen::Mode::kBlocking);
              status = opened.status();
              socket = opened.value();
            },
            [&](std::uint32_t& ticks, std::uint32_t& wait) { run(socket, ticks, wait); });
      }
#endif
      if (socket != tlsgen::kInvalidSocket) (void)tls.close(socket);
    }
    config.deinit();
    const tlsgen::Status down = platform.deinit();
    if (status.ok() && !down.ok()) {
      status = down;
      step = "teardown";
    }
#if defined(TLSGEN_FIRMWARE_TRACE)
    g_trace.stack = nullptr;
#endif
    rc = report(step, status, suite, version);
    if (kAllocTiming && g_alloc_timing.heap != nullptr) {
      board::host_printf("TLSGEN_ALLOC handshake_ticks=%lu handshake_calls=%lu ticks=%lu calls=%lu empty_ticks_256=%lu\n",
                         static_cast<unsigned long>(g_alloc_timing.handshake), static_cast<unsigned long>(g_alloc_timing.handshake_calls),
                         static_cast<unsigned long>(g_alloc_timing.ticks), static_cast<unsigned long>(g_alloc_timing.calls),
                         static_cast<unsigned long>(g_alloc_timing.empty));
    }
    board::host_printf("TLSGEN_CYCLES handshake_instructions=%llu waiting_instructions=%llu total_ticks=%lu\n",
                       static_cast<unsigned long long>(board::instructions(handshake_ticks - handshake_wait)),
                       static_cast<unsigned long long>(board::instructions(handshake_wait)),
                       static_cast<unsigned long>(handshake_ticks));
  }
#if defined(TLSGEN_FIRMWARE_TRACE)
  tlsgen::glue::heap().set_observer(nullptr, nullptr);
  g_trace.flush();
  board::host_close(g_trace.handle);
#endif
  const tlsgen::HeapStats stats = tlsgen::glue::heap().stats();
  board::host_printf(
      "TLSGEN_HEAP peak=%u peak_payload=%u peak_blocks=%u failed=%u in_use_after=%u live_blocks_after=%u "
      "region=%u generated=%u calls=%u\n",
      static_cast<unsigned>(stats.high_water), static_cast<unsigned>(stats.peak_in_use),
      static_cast<unsigned>(stats.peak_live_blocks), static_cast<unsigned>(stats.failed),
      static_cast<unsigned>(stats.in_use), static_cast<unsigned>(stats.live_blocks),
      static_cast<unsigned>(stats.capacity), static_cast<unsigned>(tlsgen::profile::kHeapBytes),
      static_cast<unsigned>(stats.allocations + stats.frees));
  board::host_printf("TLSGEN_STACK peak=%u size=%u\n", static_cast<unsigned>(board::stack_peak()),
                     static_cast<unsigned>(board::stack_size()));
  return rc;
}
