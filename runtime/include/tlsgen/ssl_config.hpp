// SslConfig: one mbedTLS client configuration (mbedtls_ssl_config) plus the CA chain it trusts.
//
// Made by SslPlatform::new_client_config() from the profile (the preset), then adjusted with the
// seed's setters: authmode, ca_chain, client_certificate, psk, server_name, alpn, debug. Setters that
// need a feature the profile did not compile in return kFailedPrecondition (e.g. psk() without a PSK
// key exchange, ca_chain() without MBEDTLS_X509_CRT_PARSE_C, alpn() without MBEDTLS_SSL_ALPN,
// client_certificate() without tls.client_certificate); malformed input is
// kInvalidArgument or Status{kTls, <mbedTLS code>}. Every setter is for before the first session
// (SslTcpStack) uses the configuration: mbedTLS reads the configuration during handshakes.
//
// Memory: the contexts live in this object; what mbedTLS copies (parsed CA certificates, the client
// certificate and its key, the PSK) comes from the glue's heap and goes back in deinit(). Pointers
// given to server_name() and alpn() are kept, not copied: they must outlive the configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "tlsgen/ssl_platform.hpp"
#include "tlsgen/status.hpp"

namespace tlsgen {

namespace detail {
// A key that signs through the application (SslConfig::client_certificate with a signing function): the pk
// context mbedTLS is given comes first, so the signing hook (runtime/src/ssl/external_key.cpp) finds the
// function from mbedTLS's pointer to it.
struct ExternalKey {
  mbedtls_pk_context pk;
  int (*sign)(void* context, mbedtls_md_type_t md, std::span<const std::byte> digest, std::span<std::byte> out,
              std::size_t* written);
  void* context;
};
}  // namespace detail

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

  // The device's own certificate chain (leaf first, then any intermediates) and the leaf's private key,
  // sent when a server asks for a client certificate (mutual TLS). Each is PEM (the span including the
  // terminating NUL) or DER; the C-string overload is for PEM. Needs tls.client_certificate in the
  // profile, which sizes the heap for it (else kFailedPrecondition).
  // All or nothing, like ca_chain(): on any error the configuration has no client certificate (also
  // not one an earlier call set), and:
  // - the chain does not parse: Status{kTls, mbedTLS code}, or kInvalidArgument (detail: how many
  //   certificates failed);
  // - the chain is larger than the profile declares (client_certificate.chain_bytes / chain_certs):
  //   kResourceExhausted, detail: its DER bytes (the heap and the output record are sized for the
  //   declared chain);
  // - the key does not parse (an encrypted key is not supported): Status{kTls, mbedTLS code};
  // - the key is not of the profile's client_certificate.key type and size: kInvalidArgument, detail:
  //   the key's size in bits;
  // - the key does not belong to the leaf certificate: kInvalidArgument, detail: the code of mbedTLS's
  //   pair check (mbedtls_pk_check_pair, negative).
  // The parsed key lives in this object (its numbers on the heap); deinit() and every failed call wipe
  // it (mbedTLS zeroes each number before freeing it). The caller's buffers are not kept: wipe them when
  // you no longer need them.
  Status client_certificate(std::span<const std::byte> chain_pem_or_der, std::span<const std::byte> key_pem_or_der);
  Status client_certificate(const char* chain_pem, const char* key_pem);

  // The same for a key that never enters RAM (a secure element, a TPM): the chain as above, and a signing
  // function that signs with the key the leaf certifies. mbedTLS calls it once per handshake that sends the
  // certificate, for CertificateVerify, with the digest to sign (`md`: its hash algorithm); it writes the
  // signature into `out` (ECDSA: DER-encoded (r, s); RSA: PKCS#1 v1.5), stores its length in `*written` and
  // returns 0, or a negative mbedTLS error code (the handshake then fails with it). `context` is passed
  // through. The call checks the function once: it signs a random digest and verifies the signature with the
  // leaf's public key (kInvalidArgument, detail: the verification's code, when the key is not the leaf's).
  // Not for RSA keys with TLS 1.3 enabled (kFailedPrecondition): mbedTLS 3.6 makes RSA-PSS signatures itself,
  // from the key's numbers. Other errors as above.
  using SignFn = decltype(detail::ExternalKey::sign);
  Status client_certificate(std::span<const std::byte> chain_pem_or_der, SignFn sign, void* context);
  bool has_client_certificate() const { return has_own_cert_; }

  // Called by SslTcpStack and SslUdpStack after each session's mbedTLS context is freed. mbedTLS's RSA context
  // keeps what its first private-key operation builds (the blinding pair Vi/Vf and the Montgomery constants
  // RN/RP/RQ, library/rsa.c: about 1.5 KB for RSA-3072), allocated during the first handshake's
  // CertificateVerify, at that handshake's top of the heap; kept, they split the heap under the next session's
  // record buffers (sweep m10114-0058: a resumed session's buffers went 9 KB above the first session's peak,
  // out of heap). Freed here (mbedTLS zeroes them), they are built again at the next private-key operation:
  // fresh blinding values each session, each session's heap laid out like the first. Nothing for other keys.
  // Safe while other sessions of this configuration are open: mbedTLS reads them only inside a private-key
  // operation, which runs within one call (the runtime is single-threaded, no MBEDTLS_THREADING_C).
  void end_of_session();

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
  void drop_client_certificate();

  mbedtls_x509_crt ca_{};
  Status load_client_chain(std::span<const std::byte> chain_pem_or_der);
  Status declared_key(const mbedtls_pk_context* key) const;
  Status install_client_key(mbedtls_pk_context* key, std::size_t failures);

  mbedtls_x509_crt own_cert_{};
  mbedtls_pk_context own_key_{};  // a key in RAM
  detail::ExternalKey external_{};  // or one that signs through the application
#endif
  bool has_own_cert_ = false;
  SslPlatform* platform_ = nullptr;
  const char* server_name_ = nullptr;
};

}  // namespace tlsgen
