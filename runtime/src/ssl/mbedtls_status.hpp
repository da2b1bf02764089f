// Internal to runtime/src/ssl: mbedTLS results -> tlsgen Status, in one place.
//
// Every mbedTLS failure becomes Status{Code::kTls, <mbedTLS code>}, except when the heap refused an
// allocation during the call: then it is Status{Code::kResourceExhausted, <mbedTLS code>}. mbedTLS
// does not always say "out of memory" itself when it runs out: an allocation failure inside
// certificate verification comes back as MBEDTLS_ERR_X509_CERT_VERIFY_FAILED/NOT_TRUSTED, and one
// inside the TLS 1.2 Finished computation as a peer's decrypt_error alert (3.6.6 ignores that PRF
// result). Counting the heap's failed allocations around the call gives the true cause.
#pragma once

#include <cstddef>

#include "mbedtls/build_info.h"
#include "tlsgen/glue.hpp"
#include "tlsgen/status.hpp"

namespace tlsgen::detail {

// Failed allocations the glue's heap has counted so far (HeapStats::failed).
inline std::size_t heap_failures() { return glue::heap().stats().failed; }

// mbedTLS's own out-of-memory codes (and PSA's): out of heap even when the count is not telling
// (e.g. an allocation that failed in an earlier call and is only reported now).
inline bool is_alloc_failure(int ret) {
  switch (ret) {
    case -0x7F00:  // MBEDTLS_ERR_SSL_ALLOC_FAILED
    case -0x0010:  // MBEDTLS_ERR_MPI_ALLOC_FAILED
    case -0x4D80:  // MBEDTLS_ERR_ECP_ALLOC_FAILED
    case -0x2880:  // MBEDTLS_ERR_X509_ALLOC_FAILED
    case -0x3F80:  // MBEDTLS_ERR_PK_ALLOC_FAILED
    case -0x6180:  // MBEDTLS_ERR_CIPHER_ALLOC_FAILED
    case -0x5180:  // MBEDTLS_ERR_MD_ALLOC_FAILED
    case -0x006A:  // MBEDTLS_ERR_ASN1_ALLOC_FAILED
    case -141:     // PSA_ERROR_INSUFFICIENT_MEMORY
      return true;
    default:
      return false;
  }
}

// Status for a failed mbedTLS call; `failures_before` is heap_failures() taken before the call.
inline Status mbedtls_status(int ret, std::size_t failures_before) {
  if (heap_failures() != failures_before || is_alloc_failure(ret)) {
    return Status(Code::kResourceExhausted, ret);
  }
  return Status::Tls(ret);
}

}  // namespace tlsgen::detail
