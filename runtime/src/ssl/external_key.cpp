// A pk context for a key outside RAM: mbedTLS signs through a table of functions per key type
// (mbedtls_pk_info_t), which mbedTLS 3.6 keeps in library/pk_wrap.h; this one signs through the application's
// function and does everything else with the certificate's public key. The table's layout is mbedTLS 3.6's
// (the source is pinned by SHA-256: cmake/Tlsgen.cmake): a different mbedTLS fails to compile here, never at
// run time.
//
// What mbedTLS 3.6's client asks of its own key (library/ssl_tls12_client.c ssl_write_certificate_verify,
// ssl_tls13_generic.c ssl_tls13_write_certificate_verify_body): can_do (its type), get_bitlen (TLS 1.3 picks
// the scheme by it), and sign, through mbedtls_pk_sign_restartable -> sign_func. TLS 1.3's RSA-PSS does not
// go through sign_func (mbedtls_pk_sign_ext calls mbedtls_rsa_rsassa_pss_sign_ext on the key's numbers), so
// SslConfig refuses an external RSA key when TLS 1.3 is enabled.
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include "external_key.hpp"

#include <span>

#include "pk_wrap.h"  // mbedTLS's library/pk_wrap.h: mbedtls_pk_info_t

#if defined(MBEDTLS_X509_CRT_PARSE_C)
namespace tlsgen::detail {
namespace {

// mbedTLS hands the hooks the pk context: ExternalKey's first member, so the rest of it is at the same address.
ExternalKey* external(mbedtls_pk_context* pk) { return reinterpret_cast<ExternalKey*>(pk); }

// The certificate's public key, which the external context borrows as its pk_ctx, with its own key type's table.
mbedtls_pk_context as_public(mbedtls_pk_context* pk, const mbedtls_pk_info_t* info) {
  mbedtls_pk_context pub{};
  pub.pk_info = info;
  pub.pk_ctx = pk->pk_ctx;
  return pub;
}

std::size_t bitlen(const mbedtls_pk_info_t* info, mbedtls_pk_context* pk) {
  mbedtls_pk_context pub = as_public(pk, info);
  return info->get_bitlen(&pub);
}

int verify(const mbedtls_pk_info_t* info, mbedtls_pk_context* pk, mbedtls_md_type_t md, const unsigned char* hash,
           std::size_t hash_len, const unsigned char* sig, std::size_t sig_len) {
  mbedtls_pk_context pub = as_public(pk, info);
  return info->verify_func(&pub, md, hash, hash_len, sig, sig_len);
}

int sign(mbedtls_pk_context* pk, mbedtls_md_type_t md, const unsigned char* hash, std::size_t hash_len,
         unsigned char* sig, std::size_t sig_size, std::size_t* sig_len, int (*)(void*, unsigned char*, std::size_t),
         void*) {
  ExternalKey* key = external(pk);
  if (key->sign == nullptr || sig_len == nullptr) {
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
  }
  *sig_len = 0;
  const int ret = key->sign(key->context, md, std::as_bytes(std::span(hash, hash_len)),
                            std::as_writable_bytes(std::span(sig, sig_size)), sig_len);
  if (ret == 0 && (*sig_len == 0 || *sig_len > sig_size)) {
    return MBEDTLS_ERR_PK_BAD_INPUT_DATA;  // a signing function that claims more than it had room for
  }
  return ret > 0 ? MBEDTLS_ERR_PK_BAD_INPUT_DATA : ret;
}

void free_nothing(void*) {}  // the public key belongs to the certificate

constexpr mbedtls_pk_info_t make_info(mbedtls_pk_type_t type, const char* name, int (*can_do)(mbedtls_pk_type_t),
                                      std::size_t (*get_bitlen)(mbedtls_pk_context*),
                                      int (*verify_func)(mbedtls_pk_context*, mbedtls_md_type_t, const unsigned char*,
                                                         std::size_t, const unsigned char*, std::size_t)) {
  mbedtls_pk_info_t info{};
  info.type = type;
  info.name = name;
  info.get_bitlen = get_bitlen;
  info.can_do = can_do;
  info.verify_func = verify_func;
  info.sign_func = sign;
  info.ctx_free_func = free_nothing;
  return info;
}

#if defined(MBEDTLS_PK_HAVE_ECC_KEYS)
const mbedtls_pk_info_t kExternalEc = make_info(
    MBEDTLS_PK_ECKEY, "EC (external)",
    [](mbedtls_pk_type_t t) -> int { return t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA; },
    [](mbedtls_pk_context* pk) -> std::size_t { return bitlen(&mbedtls_eckey_info, pk); },
    [](mbedtls_pk_context* pk, mbedtls_md_type_t md, const unsigned char* h, std::size_t hl, const unsigned char* s,
       std::size_t sl) -> int { return verify(&mbedtls_eckey_info, pk, md, h, hl, s, sl); });
#endif

#if defined(MBEDTLS_RSA_C)
const mbedtls_pk_info_t kExternalRsa = make_info(
    MBEDTLS_PK_RSA, "RSA (external)", [](mbedtls_pk_type_t t) -> int { return t == MBEDTLS_PK_RSA; },
    [](mbedtls_pk_context* pk) -> std::size_t { return bitlen(&mbedtls_rsa_info, pk); },
    [](mbedtls_pk_context* pk, mbedtls_md_type_t md, const unsigned char* h, std::size_t hl, const unsigned char* s,
       std::size_t sl) -> int { return verify(&mbedtls_rsa_info, pk, md, h, hl, s, sl); });
#endif

}  // namespace

int external_key_setup(ExternalKey* key, mbedtls_pk_context* certified) {
  const mbedtls_pk_type_t type = mbedtls_pk_get_type(certified);
  const mbedtls_pk_info_t* info = nullptr;
#if defined(MBEDTLS_PK_HAVE_ECC_KEYS)
  if (type == MBEDTLS_PK_ECKEY && certified->pk_info == &mbedtls_eckey_info) {
    info = &kExternalEc;
  }
#endif
#if defined(MBEDTLS_RSA_C)
  if (type == MBEDTLS_PK_RSA && certified->pk_info == &mbedtls_rsa_info) {
    info = &kExternalRsa;
  }
#endif
  if (info == nullptr) {
    return MBEDTLS_ERR_PK_TYPE_MISMATCH;
  }
  key->pk.pk_info = info;
  key->pk.pk_ctx = certified->pk_ctx;  // borrowed: an ECDSA or RSA public key, as mbedtls_pk_ec/rsa read it
  return 0;
}

void external_key_free(ExternalKey* key) {
  mbedtls_pk_init(&key->pk);  // nothing to free: the public key is the certificate's
  key->sign = nullptr;
  key->context = nullptr;
}

}  // namespace tlsgen::detail
#endif
