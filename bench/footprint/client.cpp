// The minimal TLS client whose footprint bench/footprint measures: the same program for every
// configuration (tlsgen profiles and mbedTLS's stock configs). It references everything a real
// client links: entropy + CTR_DRBG, the TLS client handshake, record I/O, PSK or X.509 chain
// verification, PSA init for TLS 1.3. The transport callbacks are stubs (nothing runs here: the
// image is measured, not executed; QEMU runs the real demo in examples/qemu-esp8266). A DTLS profile's client
// (TLSGEN_FOOTPRINT_DATAGRAM, from tls.transport: datagram) runs over datagrams with the retransmission timer.
#include <cstddef>
#include <cstdint>

#include "mbedtls/build_info.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/ssl.h"
#if defined(MBEDTLS_X509_CRT_PARSE_C)
#include "mbedtls/x509_crt.h"
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif
#if defined(TLSGEN_CONFIG_FINGERPRINT)
#include "tlsgen/glue.hpp"
#endif

namespace {

volatile std::size_t g_sink;
const unsigned char* volatile g_ca_der = nullptr;  // a real firmware embeds its CA here
volatile std::size_t g_ca_der_len = 0;

int send_cb(void*, const unsigned char*, std::size_t len) {
  g_sink = g_sink + len;
  return static_cast<int>(len);
}

int recv_cb(void*, unsigned char* buf, std::size_t len) {
  if (len > 0) buf[0] = static_cast<unsigned char>(g_sink);
  return MBEDTLS_ERR_SSL_WANT_READ;
}
#if defined(TLSGEN_FOOTPRINT_DATAGRAM)
// A DTLS profile (tls.transport: datagram): the client runs over datagrams, with the retransmission timer.
int recv_timeout_cb(void* ctx, unsigned char* buf, std::size_t len, std::uint32_t) { return recv_cb(ctx, buf, len); }
volatile std::uint32_t g_timer;
void timer_set(void*, std::uint32_t, std::uint32_t fin_ms) { g_timer = fin_ms; }
int timer_get(void*) { return g_timer == 0 ? -1 : 0; }
#endif

}  // namespace

int main() {
#if defined(TLSGEN_CONFIG_FINGERPRINT)
  if (!tlsgen::glue::install().ok()) return 1;
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
  if (psa_crypto_init() != PSA_SUCCESS) return 1;
#endif
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_ssl_config_init(&conf);
  mbedtls_ssl_init(&ssl);
  int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0);
#if defined(TLSGEN_FOOTPRINT_DATAGRAM)
  constexpr int kTransport = MBEDTLS_SSL_TRANSPORT_DATAGRAM;
#else
  constexpr int kTransport = MBEDTLS_SSL_TRANSPORT_STREAM;
#endif
  if (ret == 0) ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, kTransport, MBEDTLS_SSL_PRESET_DEFAULT);
  mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
#if defined(MBEDTLS_SSL_HANDSHAKE_WITH_PSK_ENABLED)
  static const unsigned char psk[16] = {1};
  static const unsigned char identity[] = "device";
  if (ret == 0) ret = mbedtls_ssl_conf_psk(&conf, psk, sizeof psk, identity, sizeof identity - 1);
#endif
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_x509_crt ca;
  mbedtls_x509_crt_init(&ca);
  if (ret == 0) ret = mbedtls_x509_crt_parse_der(&ca, g_ca_der, g_ca_der_len);
  mbedtls_ssl_conf_ca_chain(&conf, &ca, nullptr);
  mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
#endif
  if (ret == 0) ret = mbedtls_ssl_setup(&ssl, &conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  if (ret == 0) ret = mbedtls_ssl_set_hostname(&ssl, "device.example");
#endif
#if defined(TLSGEN_FOOTPRINT_DATAGRAM)
  mbedtls_ssl_set_bio(&ssl, nullptr, send_cb, nullptr, recv_timeout_cb);
  mbedtls_ssl_set_timer_cb(&ssl, nullptr, timer_set, timer_get);
  mbedtls_ssl_set_mtu(&ssl, 1024);
#else
  mbedtls_ssl_set_bio(&ssl, nullptr, send_cb, recv_cb, nullptr);
#endif
  if (ret == 0) ret = mbedtls_ssl_handshake(&ssl);
  static const unsigned char request[] = "GET / HTTP/1.0\r\n\r\n";
  if (ret == 0) ret = mbedtls_ssl_write(&ssl, request, sizeof request - 1);
  unsigned char reply[256];
  if (ret >= 0) ret = mbedtls_ssl_read(&ssl, reply, sizeof reply);
  if (ret >= 0) ret = mbedtls_ssl_close_notify(&ssl);
  mbedtls_ssl_free(&ssl);
  mbedtls_ssl_config_free(&conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_x509_crt_free(&ca);
#endif
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  return ret < 0 ? 1 : 0;
}
