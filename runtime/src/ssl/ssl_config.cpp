// SslConfig: a client mbedtls_ssl_config narrowed to the profile, plus the seed's setters.
#include "tlsgen/ssl_config.hpp"

#include <array>
#include <initializer_list>
#include <cstring>
#include <string_view>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/debug.h"
#include "mbedtls/ecp.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/rsa.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "external_key.hpp"
#include "mbedtls_status.hpp"
#include "tlsgen_profile.hpp"

namespace tlsgen {
namespace {

// The largest RFC 6066 max_fragment_length code whose length fits both record buffers: mbedTLS
// accepts only codes up to min(MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN), and a
// peer must not send records larger than the input buffer. 0 (MBEDTLS_SSL_MAX_FRAG_LEN_NONE) when
// the buffers hold full 16 KiB records or are smaller than the smallest code (512).
constexpr unsigned char max_fragment_code(std::size_t in_len, std::size_t out_len) {
  const std::size_t limit = in_len < out_len ? in_len : out_len;
  if (limit >= 16384) {
    return 0;
  }
  unsigned char code = 0;
  std::size_t length = 512;
  for (unsigned char c = 1; c <= 4; ++c, length *= 2) {
    if (length <= limit) {
      code = c;
    }
  }
  return code;
}
static_assert(max_fragment_code(2048, 1024) == 2);
static_assert(max_fragment_code(4096, 4096) == 4);
static_assert(max_fragment_code(16384, 1024) == 2);
static_assert(max_fragment_code(16384, 16384) == 0);

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// The encoded length of the DER SEQUENCE at the start of `der` (header included); 0 if it is not one
// with a definite length of at most 4 length bytes.
std::size_t der_length(std::span<const std::byte> der) {
  if (der.size() < 2 || der[0] != std::byte{0x30}) {
    return 0;
  }
  const auto first = std::to_integer<std::size_t>(der[1]);
  if (first < 0x80) {
    return 2 + first;
  }
  const std::size_t count = first & 0x7Fu;
  if (count == 0 || count > 4 || der.size() < 2 + count) {
    return 0;
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < count; ++i) {
    length = (length << 8) | std::to_integer<std::size_t>(der[2 + i]);
  }
  return 2 + count + length;
}

// Parses PEM or DER certificates into `chain` (mbedtls_x509_crt_parse's result: 0, a negative mbedTLS
// code, or how many certificates failed).
int parse_certificates(mbedtls_x509_crt* chain, std::span<const std::byte> pem_or_der) {
  // PEM as mbedTLS recognises it (mbedtls_x509_crt_parse): NUL-terminated and holding a PEM header.
  constexpr std::string_view kPemHeader = "-----BEGIN CERTIFICATE-----";
  const auto* text = reinterpret_cast<const char*>(pem_or_der.data());
  const bool pem = pem_or_der.back() == std::byte{0} &&
                   std::string_view(text, pem_or_der.size()).find(kPemHeader) != std::string_view::npos;
  if (pem) {
    return mbedtls_x509_crt_parse(chain, reinterpret_cast<const unsigned char*>(pem_or_der.data()), pem_or_der.size());
  }
  // DER: one certificate per mbedtls_x509_crt_parse_der() call, so several certificates back to back are
  // split at each certificate's outer SEQUENCE length. A buffer that does not split exactly is refused.
  int ret = 0;
  std::span<const std::byte> rest = pem_or_der;
  while (ret == 0 && !rest.empty()) {
    const std::size_t length = der_length(rest);
    if (length == 0 || length > rest.size()) {
      return MBEDTLS_ERR_X509_INVALID_FORMAT;
    }
    ret = mbedtls_x509_crt_parse_der(chain, reinterpret_cast<const unsigned char*>(rest.data()), length);
    rest = rest.subspan(length);
  }
  return ret;
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// mbedTLS caches a value in an RSA key's context at its first public-key operation (the Montgomery constant RN,
// mbedtls_rsa_public -> mbedtls_mpi_exp_mod, library/rsa.c), kept as long as the key. For a CA key that first
// operation is the first session's certificate check: the block then lands wherever that session's buffers left
// room and stays there, splitting the heap for every later session (sweep h9998-0034: a 392-byte block at offset
// 46,560 of a 60 KB heap, 8.4 KB of holes at the resumed session's ClientHello, allocation failure). One public
// operation per RSA CA key here puts it beside the chain instead (from `first` on: the certificates a call added).
// 0 or mbedTLS's error.
int cache_ca_key_values(mbedtls_x509_crt* first) {
#if defined(MBEDTLS_RSA_C) && !defined(MBEDTLS_USE_PSA_CRYPTO)  // (with USE_PSA, PSA checks with a copy of the key)
  for (mbedtls_x509_crt* crt = first; crt != nullptr && crt->raw.p != nullptr; crt = crt->next) {
    if (mbedtls_pk_get_type(&crt->pk) != MBEDTLS_PK_RSA) continue;
    mbedtls_rsa_context* rsa = mbedtls_pk_rsa(crt->pk);
    const std::size_t len = mbedtls_rsa_get_len(rsa);
    auto* buf = static_cast<unsigned char*>(mbedtls_calloc(2, len));
    if (buf == nullptr) return MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED;
    buf[len - 1] = 2;  // the input 2, below any modulus
    const int ret = mbedtls_rsa_public(rsa, buf, buf + len);
    mbedtls_free(buf);
    if (ret != 0) return ret;
  }
#else
  (void)first;
#endif
  return 0;
}
#endif

// The X.509 verification profile that matches tls.signature_algorithms: the chain may be signed only
// with the listed hashes and signature schemes, its EC keys must be on the profile's curves, and RSA
// keys have at least 2048 bits (mbedTLS's default profile). Without it mbedTLS would verify against its
// default profile, which accepts chains the profile never declared.
constexpr std::uint32_t flag(int id) { return id > 0 ? (1u << (static_cast<unsigned>(id) - 1u)) : 0u; }

constexpr int md_of(std::uint16_t sig_alg) {
  // TLS 1.2 layout (hash << 8 | signature), which the ECDSA and PKCS#1 v1.5 codes share with TLS 1.3;
  // RSA-PSS (0x0804..0x0806) names its hash in the low byte.
  const unsigned hash = (sig_alg >> 8) == 0x08 ? (sig_alg & 0xFFu) : (sig_alg >> 8);
  return hash == 4 ? MBEDTLS_MD_SHA256 : hash == 5 ? MBEDTLS_MD_SHA384 : hash == 6 ? MBEDTLS_MD_SHA512 : 0;
}

// mbedTLS checks both the signature's scheme (a child's sig_pk) and every key's type (an EC key is
// MBEDTLS_PK_ECKEY) against allowed_pks: a scheme allows its signer's key type too. The generator makes
// certificate_keys and the schemes' key types the same set.
constexpr std::uint32_t pks_of(std::uint16_t sig_alg) {
  if ((sig_alg >> 8) == 0x08) {
    return flag(MBEDTLS_PK_RSASSA_PSS) | flag(MBEDTLS_PK_RSA);
  }
  return (sig_alg & 0xFFu) == 3   ? flag(MBEDTLS_PK_ECDSA) | flag(MBEDTLS_PK_ECKEY)
         : (sig_alg & 0xFFu) == 1 ? flag(MBEDTLS_PK_RSA)
                                  : 0u;
}

constexpr int curve_of(std::uint16_t group) {
  return group == 0x0017 ? MBEDTLS_ECP_DP_SECP256R1 : group == 0x0018 ? MBEDTLS_ECP_DP_SECP384R1
       : group == 0x0019 ? MBEDTLS_ECP_DP_SECP521R1 : 0;
}

constexpr mbedtls_x509_crt_profile cert_profile() {
  std::uint32_t mds = 0;
  std::uint32_t pks = 0;
  std::uint32_t curves = 0;
  for (const std::uint16_t* a = profile::kSignatureAlgorithms; *a != 0; ++a) {
    mds |= flag(md_of(*a));
    pks |= pks_of(*a);
  }
  for (const std::uint16_t* g = profile::kGroups; *g != 0; ++g) {
    curves |= flag(curve_of(*g));
  }
  return mbedtls_x509_crt_profile{mds, pks, curves, 2048};
}
constexpr mbedtls_x509_crt_profile kCertProfile = cert_profile();
static_assert(profile::kSignatureAlgorithms[0] == 0 || (kCertProfile.allowed_mds != 0 && kCertProfile.allowed_pks != 0),
              "tls.signature_algorithms names a hash or scheme this runtime does not map");
#endif

}  // namespace

SslConfig::~SslConfig() { deinit(); }

Status SslConfig::init(SslPlatform& platform, Transport transport, Preset preset) {
  if (platform_ != nullptr) {
    return Status(Code::kFailedPrecondition);  // already initialised: deinit() first
  }
  if (!platform.is_seeded()) {
    return Status(Code::kFailedPrecondition);  // SslPlatform::seed_rng() first
  }
  int transport_code = MBEDTLS_SSL_TRANSPORT_STREAM;
  if (transport == Transport::kDatagram) {
#if defined(MBEDTLS_SSL_PROTO_DTLS)
    transport_code = MBEDTLS_SSL_TRANSPORT_DATAGRAM;
#else
    return Status(Code::kInvalidArgument);  // DTLS is not compiled into this profile
#endif
  }
  const int preset_code = preset == Preset::kSuiteB ? MBEDTLS_SSL_PRESET_SUITEB : MBEDTLS_SSL_PRESET_DEFAULT;

  mbedtls_ssl_config_init(&conf_);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_x509_crt_init(&ca_);
  mbedtls_x509_crt_init(&own_cert_);
  mbedtls_pk_init(&own_key_);
  detail::external_key_free(&external_);
#endif
  has_own_cert_ = false;
  const int ret = mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, transport_code, preset_code);
  if (ret != 0) {
    mbedtls_ssl_config_free(&conf_);
    return Status::Tls(ret);
  }
#if defined(MBEDTLS_CTR_DRBG_C)
  mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, platform.drbg());
#endif
  platform_ = &platform;
  ++platform.live_configs_;
  server_name_ = nullptr;

  if (preset == Preset::kProfile) {
    const Status applied = apply_profile();
    if (!applied.ok()) {
      deinit();
      return applied;
    }
  }
  return Status::Ok();
}

Status SslConfig::apply_profile() {
  // Cipher suites and groups: the generated lists are 0-terminated arrays with static storage,
  // as mbedTLS requires (it keeps the pointers).
  mbedtls_ssl_conf_ciphersuites(&conf_, profile::kCipherSuites);
  if (profile::kGroups[0] != 0) {
    mbedtls_ssl_conf_groups(&conf_, profile::kGroups);
  }

  // Protocol versions.
  static_assert(profile::kTls12 || profile::kTls13, "a profile enables at least one TLS version");
#if defined(MBEDTLS_SSL_PROTO_TLS1_2)
  constexpr mbedtls_ssl_protocol_version kMin =
      profile::kTls12 ? MBEDTLS_SSL_VERSION_TLS1_2 : MBEDTLS_SSL_VERSION_TLS1_3;
#else
  constexpr mbedtls_ssl_protocol_version kMin = MBEDTLS_SSL_VERSION_TLS1_3;
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
  constexpr mbedtls_ssl_protocol_version kMax =
      profile::kTls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2;
#else
  constexpr mbedtls_ssl_protocol_version kMax = MBEDTLS_SSL_VERSION_TLS1_2;
#endif
  mbedtls_ssl_conf_min_tls_version(&conf_, kMin);
  mbedtls_ssl_conf_max_tls_version(&conf_, kMax);

#if defined(MBEDTLS_SSL_PROTO_DTLS)
  // DTLS retransmission: the first timeout of a flight and the largest (tls.dtls), for sessions of either transport
  // (mbedTLS reads them only in datagram ones).
  if constexpr (profile::kDatagram) {
    mbedtls_ssl_conf_handshake_timeout(&conf_, profile::kDtlsHandshakeTimeoutMinMs, profile::kDtlsHandshakeTimeoutMaxMs);
  }
#endif

  // Certificate verification as the profile says (certificate-less profiles keep mbedTLS's default),
  // and what the chain and the server's handshake signature may be signed with (tls.signature_algorithms).
  if constexpr (profile::kUsesCertificates) {
    const Status st = authmode(static_cast<Verify>(profile::kVerifyMode));
    if (!st.ok()) {
      return st;
    }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
    mbedtls_ssl_conf_sig_algs(&conf_, profile::kSignatureAlgorithms);
    mbedtls_ssl_conf_cert_profile(&conf_, &kCertProfile);
#endif
  }

  // ALPN: the profile's list, in its order (an application may replace it with alpn()).
  if constexpr (profile::kAlpnProtocols[0] != nullptr) {
    const Status st = alpn(profile::kAlpnProtocols);
    if (!st.ok()) {
      return st;
    }
  }

  // Resumption (tls.resumption): a TLS 1.2 ticket only when the profile resumes by one (the ClientHello asks
  // for none otherwise); TLS 1.3 tickets kept (mbedTLS's default drops them) and the PSK modes offered with
  // them, beside the full (EC)DHE handshake a rejected ticket falls back to.
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
  mbedtls_ssl_conf_session_tickets(&conf_, profile::kResumeTicket12 ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                                    : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
  mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
      &conf_, profile::kResumePskEphemeral || profile::kResumePskKe
                  ? MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED
                  : MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_DISABLED);
#endif
#endif
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
  mbedtls_ssl_conf_tls13_key_exchange_modes(
      &conf_, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL |
                  (profile::kResumePskEphemeral ? MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL : 0) |
                  (profile::kResumePskKe ? MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK : 0));
#endif

#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
  // Ask the server for records that fit the profile's buffers (RFC 6066).
  constexpr unsigned char kMfl = max_fragment_code(profile::kInContentLen, profile::kOutContentLen);
  if constexpr (kMfl != 0) {
    const int ret = mbedtls_ssl_conf_max_frag_len(&conf_, kMfl);
    if (ret != 0) {
      return Status::Tls(ret);
    }
  }
#endif

#if defined(MBEDTLS_DEBUG_C)
  if constexpr (profile::kDebugLevel > 0) {
    mbedtls_debug_set_threshold(profile::kDebugLevel);
  }
#endif
  return Status::Ok();
}

Status SslConfig::authmode(Verify verify) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  int mode = MBEDTLS_SSL_VERIFY_NONE;
  switch (verify) {
    case Verify::kNone:
      mode = MBEDTLS_SSL_VERIFY_NONE;
      break;
    case Verify::kOptional:
      mode = MBEDTLS_SSL_VERIFY_OPTIONAL;
      break;
    case Verify::kRequired:
      mode = MBEDTLS_SSL_VERIFY_REQUIRED;
      break;
    default:
      return Status(Code::kInvalidArgument);
  }
  mbedtls_ssl_conf_authmode(&conf_, mode);
  return Status::Ok();
}

Status SslConfig::ca_chain(const char* pem) {
  if (pem == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  return ca_chain(std::span<const std::byte>(reinterpret_cast<const std::byte*>(pem), std::strlen(pem) + 1));
}

Status SslConfig::ca_chain(std::span<const std::byte> pem_or_der) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (pem_or_der.empty() || pem_or_der.data() == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  // mbedtls_x509_crt_parse returns the number of certificates it could not parse when some were
  // good, and keeps the good ones in ca_: any non-zero result is an error here, a CA list is not
  // something to accept partially. On error the whole chain goes (also what earlier calls added)
  // and the configuration trusts no CA until a call succeeds: never a partly parsed trust store.
  const std::size_t failures = detail::heap_failures();
  mbedtls_x509_crt* last = nullptr;  // the chain's last certificate before this call (null: none yet)
  for (mbedtls_x509_crt* crt = &ca_; crt != nullptr && crt->raw.p != nullptr; crt = crt->next) last = crt;
  int ret = parse_certificates(&ca_, pem_or_der);
  if (ret == 0) ret = cache_ca_key_values(last != nullptr ? last->next : &ca_);
  if (ret != 0) {
    mbedtls_ssl_conf_ca_chain(&conf_, nullptr, nullptr);
    mbedtls_x509_crt_free(&ca_);
    mbedtls_x509_crt_init(&ca_);
    return ret < 0 ? detail::mbedtls_status(ret, failures) : Status(Code::kInvalidArgument, ret);
  }
  mbedtls_ssl_conf_ca_chain(&conf_, &ca_, nullptr);
  return Status::Ok();
#else
  return Status(Code::kFailedPrecondition);  // no X.509 in this profile (e.g. PSK only)
#endif
}

Status SslConfig::client_certificate(const char* chain_pem, const char* key_pem) {
  if (chain_pem == nullptr || key_pem == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  return client_certificate(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(chain_pem), std::strlen(chain_pem) + 1),
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(key_pem), std::strlen(key_pem) + 1));
}

Status SslConfig::client_certificate(std::span<const std::byte> chain_pem_or_der,
                                     std::span<const std::byte> key_pem_or_der) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (chain_pem_or_der.empty() || chain_pem_or_der.data() == nullptr || key_pem_or_der.empty() ||
      key_pem_or_der.data() == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  if constexpr (!profile::kClientCertificate) {
    return Status(Code::kFailedPrecondition);  // tls.client_certificate is not in the profile
  } else {
    drop_client_certificate();  // all or nothing: no earlier identity survives a failed call either
    const std::size_t failures = detail::heap_failures();
    Status st = load_client_chain(chain_pem_or_der);
    if (st.ok()) {
      // The key, PEM or DER (mbedtls_pk_parse_key tells them apart; PEM needs its terminating NUL counted).
      const int ret = mbedtls_pk_parse_key(&own_key_, reinterpret_cast<const unsigned char*>(key_pem_or_der.data()),
                                           key_pem_or_der.size(), nullptr, 0, mbedtls_ctr_drbg_random,
                                           platform_->drbg());
      st = ret == 0 ? Status::Ok() : detail::mbedtls_status(ret, failures);
    }
    if (st.ok()) {
      st = declared_key(&own_key_);  // of the profile's type and size (the heap's signing figures are for it)
    }
    if (st.ok()) {
      const int ret = mbedtls_pk_check_pair(&own_cert_.pk, &own_key_, mbedtls_ctr_drbg_random, platform_->drbg());
      // A mismatch is the caller's error; running out of heap during the check is not.
      st = ret == 0                                  ? install_client_key(&own_key_, failures)
           : detail::heap_failures() != failures     ? detail::mbedtls_status(ret, failures)
                                                     : Status(Code::kInvalidArgument, ret);
    }
    if (!st.ok()) {
      drop_client_certificate();
    }
    return st;
  }
#else
  return Status(Code::kFailedPrecondition);  // no X.509 in this profile (e.g. PSK only)
#endif
}

Status SslConfig::client_certificate(std::span<const std::byte> chain_pem_or_der, SignFn sign, void* context) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (chain_pem_or_der.empty() || chain_pem_or_der.data() == nullptr || sign == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  if constexpr (!profile::kClientCertificate) {
    return Status(Code::kFailedPrecondition);
  } else {
    drop_client_certificate();
    const std::size_t failures = detail::heap_failures();
    Status st = load_client_chain(chain_pem_or_der);
    if (st.ok() && profile::kTls13 && mbedtls_pk_get_type(&own_cert_.pk) == MBEDTLS_PK_RSA) {
      st = Status(Code::kFailedPrecondition);  // TLS 1.3's RSA-PSS is made from the key's numbers
    }
    if (st.ok()) {
      external_.sign = sign;
      external_.context = context;
      const int ret = detail::external_key_setup(&external_, &own_cert_.pk);
      st = ret == 0 ? Status::Ok() : Status(Code::kInvalidArgument, ret);
    }
    if (st.ok()) {
      // Once, here: a signature over a random digest, verified with the leaf's public key. The digest is of a
      // hash the profile compiles in (a SHA-384-only profile has no SHA-256).
#if defined(MBEDTLS_MD_CAN_SHA256)
      constexpr mbedtls_md_type_t kCheckMd = MBEDTLS_MD_SHA256;
      std::array<unsigned char, 32> digest{};
#else
      constexpr mbedtls_md_type_t kCheckMd = MBEDTLS_MD_SHA384;
      std::array<unsigned char, 48> digest{};
#endif
      std::array<unsigned char, MBEDTLS_PK_SIGNATURE_MAX_SIZE> sig{};
      std::size_t len = 0;
      int ret = mbedtls_ctr_drbg_random(platform_->drbg(), digest.data(), digest.size());
      if (ret == 0) {
        ret = mbedtls_pk_sign(&external_.pk, kCheckMd, digest.data(), digest.size(), sig.data(), sig.size(), &len,
                              mbedtls_ctr_drbg_random, platform_->drbg());
      }
      if (ret == 0) {
        ret = mbedtls_pk_verify(&own_cert_.pk, kCheckMd, digest.data(), digest.size(), sig.data(), len);
      }
      st = ret != 0 ? Status(Code::kInvalidArgument, ret) : declared_key(&external_.pk);
      if (st.ok()) {
        st = install_client_key(&external_.pk, failures);
      }
    }
    if (!st.ok()) {
      drop_client_certificate();
    }
    return st;
  }
#else
  (void)context;
  return Status(Code::kFailedPrecondition);
#endif
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
Status SslConfig::load_client_chain(std::span<const std::byte> chain_pem_or_der) {
  const std::size_t failures = detail::heap_failures();
  const int ret = parse_certificates(&own_cert_, chain_pem_or_der);
  if (ret != 0) {
    return ret < 0 ? detail::mbedtls_status(ret, failures) : Status(Code::kInvalidArgument, ret);
  }
  std::size_t der_bytes = 0;
  std::size_t certs = 0;
  for (const mbedtls_x509_crt* c = &own_cert_; c != nullptr && c->raw.p != nullptr; c = c->next) {
    der_bytes += c->raw.len;
    ++certs;
  }
  if (der_bytes > profile::kClientChainBytes || certs > profile::kClientChainCerts) {
    return Status(Code::kResourceExhausted, static_cast<int>(der_bytes));
  }
  return Status::Ok();
}

// The key (in RAM, or the external one standing for it) is of the profile's type and size (kInvalidArgument,
// detail: its bits).
Status SslConfig::declared_key(const mbedtls_pk_context* key) const {
  const auto bits = static_cast<int>(mbedtls_pk_get_bitlen(key));
  const bool rsa = mbedtls_pk_can_do(key, MBEDTLS_PK_RSA) != 0;
  const bool ec = mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA) != 0;
  const bool as_declared = profile::kClientKeyRsa ? (rsa && bits >= 2048 && bits <= profile::kClientKeyBits)
                                                  : (ec && bits == profile::kClientKeyBits);
  return as_declared ? Status::Ok() : Status(Code::kInvalidArgument, bits);
}

// The chain and the key, given to mbedTLS.
Status SslConfig::install_client_key(mbedtls_pk_context* key, std::size_t failures) {
  const int ret = mbedtls_ssl_conf_own_cert(&conf_, &own_cert_, key);
  if (ret != 0) {
    return detail::mbedtls_status(ret, failures);
  }
  has_own_cert_ = true;
  return Status::Ok();
}
#endif

void SslConfig::end_of_session() {
#if defined(MBEDTLS_X509_CRT_PARSE_C) && defined(MBEDTLS_RSA_C) && !defined(MBEDTLS_RSA_ALT)
  if (has_own_cert_ && mbedtls_pk_get_type(&own_key_) == MBEDTLS_PK_RSA) {
    mbedtls_rsa_context* rsa = mbedtls_pk_rsa(own_key_);
    for (mbedtls_mpi* cached : {&rsa->MBEDTLS_PRIVATE(Vi), &rsa->MBEDTLS_PRIVATE(Vf), &rsa->MBEDTLS_PRIVATE(RN)
#if !defined(MBEDTLS_RSA_NO_CRT)
                                , &rsa->MBEDTLS_PRIVATE(RP), &rsa->MBEDTLS_PRIVATE(RQ)
#endif
         }) {
      mbedtls_mpi_free(cached);  // zeroed first; mbedtls_mpi_free leaves it initialised (empty)
    }
  }
#endif
}

#if defined(MBEDTLS_X509_CRT_PARSE_C)
void SslConfig::drop_client_certificate() {
  // mbedtls_ssl_conf_own_cert(NULL) frees the configuration's list of (certificate, key) pairs.
  (void)mbedtls_ssl_conf_own_cert(&conf_, nullptr, nullptr);
  detail::external_key_free(&external_);  // before the chain whose public key it borrows
  mbedtls_x509_crt_free(&own_cert_);
  mbedtls_x509_crt_init(&own_cert_);
  mbedtls_pk_free(&own_key_);  // zeroes the key's numbers before they go back to the heap
  mbedtls_pk_init(&own_key_);
  has_own_cert_ = false;
}
#endif

Status SslConfig::psk(std::span<const std::byte> key, std::span<const std::byte> identity) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (key.empty() || identity.empty() || key.data() == nullptr || identity.data() == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_SSL_HANDSHAKE_WITH_PSK_ENABLED)
  if constexpr (!profile::kUsesPsk) {
    // PSK handshakes compiled in for TLS 1.3 resumption only: mbedTLS would offer this key as a TLS 1.3 external
    // PSK, which tlsgen profiles do not have.
    return Status(Code::kFailedPrecondition);
  }
  if (key.size() > MBEDTLS_PSK_MAX_LEN) {
    return Status(Code::kInvalidArgument);
  }
  const std::size_t failures = detail::heap_failures();
  const int ret = mbedtls_ssl_conf_psk(&conf_, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                                       reinterpret_cast<const unsigned char*>(identity.data()), identity.size());
  return ret == 0 ? Status::Ok() : detail::mbedtls_status(ret, failures);
#else
  return Status(Code::kFailedPrecondition);  // no PSK key exchange in this profile
#endif
}

Status SslConfig::server_name(const char* name) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  if (name != nullptr && (name[0] == '\0' || std::strlen(name) > MBEDTLS_SSL_MAX_HOST_NAME_LEN)) {
    return Status(Code::kInvalidArgument);
  }
  server_name_ = name;
  return Status::Ok();
#else
  // mbedTLS sets SNI and checks names only with X.509 (mbedtls_ssl_set_hostname).
  return name == nullptr ? Status::Ok() : Status(Code::kFailedPrecondition);
#endif
}

Status SslConfig::alpn(const char* const* protocols) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (protocols == nullptr || protocols[0] == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_SSL_ALPN)
  // mbedTLS's parameter is `const char**` for historical reasons; it never writes through it.
  const int ret = mbedtls_ssl_conf_alpn_protocols(&conf_, const_cast<const char**>(protocols));
  return ret == 0 ? Status::Ok() : Status::Tls(ret);
#else
  return Status(Code::kFailedPrecondition);  // MBEDTLS_SSL_ALPN is not in this profile
#endif
}

Status SslConfig::debug(DebugFn callback, void* context, int level) {
  if (platform_ == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  if (level < 0 || level > 4) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_DEBUG_C)
  mbedtls_ssl_conf_dbg(&conf_, callback, context);
  mbedtls_debug_set_threshold(level);
  return Status::Ok();
#else
  (void)callback;
  (void)context;
  return Status(Code::kFailedPrecondition);  // platform.debug.level 0 compiles MBEDTLS_DEBUG_C out
#endif
}

void SslConfig::deinit() {
  if (platform_ == nullptr) {
    return;
  }
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  drop_client_certificate();  // the device's chain and key (wiped), and mbedTLS's list of them
#endif
  mbedtls_ssl_config_free(&conf_);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_x509_crt_free(&ca_);
#endif
  --platform_->live_configs_;
  platform_ = nullptr;
  server_name_ = nullptr;
}

}  // namespace tlsgen
