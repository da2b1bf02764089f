// Handshake-cost anchor: the same TLS client session as examples/qemu-esp8266 (ESP8266 modem in
// QEMU, openssl s_server, one GET), on mbedTLS built with a stock configuration
// (config-ccm-psk-tls1_2.h or config-suite-b.h, adapted to bare metal only by stock_user_config.h).
// Raw mbedTLS API, allocations from a tlsgen::Heap over a 64 KB static region (so the peak is
// measured like tlsgen's), handshake instructions counted with TIMER0 minus modem waiting.
// Prints the TLSGEN_* lines tests/qemu/run_qemu.py reads. Entropy: a fixed pattern (this program
// measures cost; it is never a device).
#include <cstdlib>
#include <cstring>

#include "board.hpp"
#include "modem_uart.hpp"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif
#if defined(MBEDTLS_X509_CRT_PARSE_C)
#include "mbedtls/x509_crt.h"
#endif
#include "tlsgen/esp8266_at.hpp"
#include "tlsgen/heap.hpp"

namespace {
alignas(8) std::byte g_region[64 * 1024];
tlsgen::Heap g_heap;
void* heap_calloc(std::size_t n, std::size_t s) { return g_heap.calloc(n, s); }
void heap_free(void* p) { g_heap.free(p); }

struct Bio {
  tlsgen::Esp8266AtStack* modem;
  tlsgen::Socket socket;
};
int bio_send(void* ctx, const unsigned char* buf, std::size_t len) {
  auto* b = static_cast<Bio*>(ctx);
  const auto r = b->modem->write(b->socket, std::as_bytes(std::span(buf, len)));
  return r.ok() ? static_cast<int>(r.size) : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}
int bio_recv(void* ctx, unsigned char* buf, std::size_t len) {
  auto* b = static_cast<Bio*>(ctx);
  const auto r = b->modem->read(b->socket, std::as_writable_bytes(std::span(buf, len)));
  if (r.ok()) return static_cast<int>(r.size);
  return r.status.code() == tlsgen::Code::kClosed ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}
}  // namespace

extern "C" int mbedtls_hardware_poll(void*, unsigned char* out, std::size_t len, std::size_t* olen) {
  for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<unsigned char>(i * 13 + 7);
  *olen = len;
  return 0;
}

int main() {
  char port_text[8] = "4433", name[64] = "tlsgen.test";
  board::cmdline_arg("port", port_text, sizeof port_text);
  board::cmdline_arg("name", name, sizeof name);
  (void)g_heap.init(g_region);
  mbedtls_platform_set_calloc_free(heap_calloc, heap_free);

  int ret = 0;
  const char* step = "done";
#if defined(MBEDTLS_PSA_CRYPTO_C)
  if (psa_crypto_init() != PSA_SUCCESS) ret = -1;  // TLS 1.3 in 3.6 runs on PSA
#endif
  std::uint32_t ticks = 0, wait = 0;
  {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
#endif
    static std::byte file[2048];
    ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0);
    if (ret == 0) ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                                    MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    const long n = board::host_read_file("ca.der", file);
    if (ret == 0) ret = n > 0 ? mbedtls_x509_crt_parse_der(&ca, reinterpret_cast<unsigned char*>(file), static_cast<std::size_t>(n)) : -1;
    mbedtls_ssl_conf_ca_chain(&conf, &ca, nullptr);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
#else
    static std::byte identity[64];
    const long k = board::host_read_file("psk.bin", file);
    const long i = board::host_read_file("psk_identity.txt", identity);
    if (ret == 0) ret = (k > 0 && i > 0) ? mbedtls_ssl_conf_psk(&conf, reinterpret_cast<unsigned char*>(file),
                                                                   static_cast<std::size_t>(k),
                                                                   reinterpret_cast<unsigned char*>(identity),
                                                                   static_cast<std::size_t>(i)) : -1;
#endif
    if (ret == 0) ret = mbedtls_ssl_setup(&ssl, &conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    if (ret == 0) ret = mbedtls_ssl_set_hostname(&ssl, name);
#endif
    if (ret != 0) step = "setup";
    board::ModemUart uart;
    static std::byte rx[4096];
    tlsgen::Esp8266AtStack modem(uart, rx);
    Bio bio{&modem, tlsgen::kInvalidSocket};
    mbedtls_ssl_set_bio(&ssl, &bio, bio_send, bio_recv, nullptr);
    if (ret == 0) {
      const auto s = modem.init();
      const auto sock = modem.open(tlsgen::Mode::kBlocking);
      bio.socket = sock.value();
      // Timed like SslTcpStack::connect() in examples/qemu-esp8266: TCP connect through the modem
      // (AT+CIPSTART) plus the TLS handshake, modem waiting excluded.
      const std::uint32_t t0 = board::timer_ticks(), w0 = uart.waiting_ticks;
      if (!s.ok() || !sock.ok() ||
          !modem.connect(bio.socket, "127.0.0.1", static_cast<std::uint16_t>(std::atoi(port_text))).ok()) {
        ret = -1;
        step = "modem";
      } else {
        ret = mbedtls_ssl_handshake(&ssl);
        if (ret != 0) step = "handshake";
      }
      ticks = board::timer_ticks() - t0;
      wait = uart.waiting_ticks - w0;
    }
    if (ret == 0) {
      static const unsigned char req[] = "GET / HTTP/1.0\r\n\r\n";
      ret = mbedtls_ssl_write(&ssl, req, sizeof req - 1);
      ret = ret > 0 ? 0 : ret;
      static unsigned char reply[1024];
      std::size_t total = 0;
      bool first = true;
      while (ret == 0) {
        const int r = mbedtls_ssl_read(&ssl, reply, sizeof reply - 1);
        if (r == MBEDTLS_ERR_SSL_WANT_READ) continue;
        if (r <= 0) {
          if (r != 0 && r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) board::host_printf("read: -0x%04x\n", -r);
          break;
        }
        if (first) {
          reply[r < 200 ? r : 200] = '\0';
          board::host_write(reinterpret_cast<char*>(reply));
          board::host_write("\n");
          first = false;
        }
        total += static_cast<std::size_t>(r);
      }
      board::host_printf("---- %u bytes ----\n", static_cast<unsigned>(total));
      (void)mbedtls_ssl_close_notify(&ssl);
    }
    if (bio.socket != tlsgen::kInvalidSocket) (void)modem.close(bio.socket);
    board::host_printf("TLSGEN_RESULT step=%s code=%s detail=%d suite=%s\n", step, ret == 0 ? "kOk" : "kTls", ret,
                       ret == 0 ? mbedtls_ssl_get_ciphersuite(&ssl) : "-");
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_x509_crt_free(&ca);
#endif
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
#if defined(MBEDTLS_PSA_CRYPTO_C)
  mbedtls_psa_crypto_free();
#endif
  board::host_printf("TLSGEN_CYCLES handshake_instructions=%lu waiting_instructions=%lu total_ticks=%lu\n",
                     static_cast<unsigned long>(ticks - wait) * board::kInstructionsPerTick,
                     static_cast<unsigned long>(wait) * board::kInstructionsPerTick, static_cast<unsigned long>(ticks));
  const auto st = g_heap.stats();
  board::host_printf("TLSGEN_HEAP peak=%u peak_payload=%u peak_blocks=%u failed=%u in_use_after=%u "
                     "live_blocks_after=%u region=%u generated=0 calls=%u\n",
                     static_cast<unsigned>(st.high_water), static_cast<unsigned>(st.peak_in_use),
                     static_cast<unsigned>(st.peak_live_blocks), static_cast<unsigned>(st.failed),
                     static_cast<unsigned>(st.in_use), static_cast<unsigned>(st.live_blocks),
                     static_cast<unsigned>(st.capacity), static_cast<unsigned>(st.allocations + st.frees));
  return ret == 0 ? 0 : 1;
}
