// SslConfig: one mbedTLS client configuration (mbedtls_ssl_config) plus the CA chain it trusts.
//
// Made by SslPlatform::new_client_config() from the profile (the preset), then adjusted with the
// seed's setters: authmode, ca_chain, psk, server_name, alpn, debug. Setters that need a feature
// the profile did not compile in return kFailedPrecondition (e.g. psk() without a PSK key exchange,
// ca_chain() without MBEDTLS_X509_CRT_PARSE_C, alpn() without MBEDTLS_SSL_ALPN); malformed input is
// kInvalidArgument or Status{kTls, <mbedTLS code>}. Every setter is for before the first session
// (SslTcpStack) uses the configuration: mbedTLS reads the configuration during handshakes.
//
// Memory: the contexts live in this object; what mbedTLS copies (parsed CA certificates, the PSK)
// comes from the glue's heap and goes back in deinit(). Pointers given to server_name() and
// alpn() are kept, not copied: they must outlive the configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/status.hpp"

namespace tlsgen {

// mbedTLS's MBEDTLS_SSL_VERIFY_NONE / _OPTIONAL / _REQUIRED.
enum class Verify : std::uint8_t { kNone = 0, kOptional = 1, kRequired = 2 };

// mbedTLS's debug callback shape (mbedtls_ssl_conf_dbg): context, level, file, line, message.
using DebugFn = void (*)(void* context, int level, const char* file, int line, const char* message);

class SslConfig {
 public:
  SslConfig() = default;
  ~SslConfig();  // deinit() if still initialised
  SslConfig(const SslConfig&) = delete;
  SslConfig& operator=(const SslConfig&) = delete;

  // Usually called through SslPlatform::new_client_config().
  Status init(SslPlatform& platform, Transport transport, Preset preset);

  Status authmode(Verify verify);

  // Trusted CA certificates: PEM (the span must include the terminating NUL, as mbedTLS requires)
  // or DER (one or more certificates back to back); may be called more than once to add certificates.
  // The C-string overload is for PEM.
  // All or nothing: when any certificate of the input fails to parse (kInvalidArgument, detail: how
  // many failed; or the parse error), the whole CA chain is dropped, including certificates earlier
  // calls added, and the configuration trusts no CA until a later call succeeds.
  Status ca_chain(std::span<const std::byte> pem_or_der);
  Status ca_chain(const char* pem);

  // Pre-shared key and its identity (copied by mbedTLS). Length limits: MBEDTLS_PSK_MAX_LEN.
  Status psk(std::span<const std::byte> key, std::span<const std::byte> identity);

  // Name sent as SNI and checked against the server certificate for every session of this config.
  // When not set, SslTcpStack::connect() uses its `host` argument. nullptr clears it.
  Status server_name(const char* name);
  const char* server_name() const { return server_name_; }

  // ALPN protocol names, a nullptr-terminated list that must outlive the configuration.
  Status alpn(const char* const* protocols);

  // mbedTLS's debug output at `level` (0..4) and below. Needs MBEDTLS_DEBUG_C.
  Status debug(DebugFn callback, void* context, int level);

  // Frees the CA chain and the configuration. Sessions using it must be closed first.
  void deinit();

  bool initialized() const { return platform_ != nullptr; }
  mbedtls_ssl_config* native() { return &conf_; }
  const mbedtls_ssl_config* native() const { return &conf_; }

 private:
  Status apply_profile();

  mbedtls_ssl_config conf_{};
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_x509_crt ca_{};
#endif
  SslPlatform* platform_ = nullptr;
  const char* server_name_ = nullptr;
};

}  // namespace tlsgen
