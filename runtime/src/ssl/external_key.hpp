// Internal to runtime/src/ssl: a pk context whose signatures come from the application (a key that never
// enters RAM: a secure element, a TPM), for SslConfig::client_certificate(chain, sign, context).
#pragma once

#include "mbedtls/build_info.h"
#include "mbedtls/pk.h"
#include "tlsgen/ssl_config.hpp"

namespace tlsgen::detail {

#if defined(MBEDTLS_X509_CRT_PARSE_C)
// Makes key->pk an ECDSA or RSA key (as `certified`, the leaf's public key, is) that signs through key->sign
// and verifies, reports its size and its type from `certified`, which it borrows (it must outlive the key).
// 0, or MBEDTLS_ERR_PK_TYPE_MISMATCH for a key type the hook does not take.
int external_key_setup(ExternalKey* key, mbedtls_pk_context* certified);

// Back to an empty key (nothing of it is on the heap).
void external_key_free(ExternalKey* key);
#endif

}  // namespace tlsgen::detail
