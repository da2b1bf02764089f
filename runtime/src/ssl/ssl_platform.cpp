// SslPlatform: heap (through the generated glue), entropy pool, CTR-DRBG and PSA of one profile.
#include "tlsgen/ssl_platform.hpp"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform_util.h"
#include "mbedtls_status.hpp"
#include "tlsgen/glue.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen_profile.hpp"

#if defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

namespace tlsgen {

SslPlatform::~SslPlatform() {
  if (setup_) {
    (void)deinit();
  }
}

Status SslPlatform::setup() {
  if (setup_) {
    return Status(Code::kFailedPrecondition);
  }
  const Status installed = glue::install();
  return installed.ok() ? setup_common() : installed;
}

Status SslPlatform::setup(std::span<std::byte> heap_region) {
  if (setup_) {
    return Status(Code::kFailedPrecondition);
  }
  if (heap_region.empty() || heap_region.data() == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  const Status installed = glue::install(heap_region);
  return installed.ok() ? setup_common() : installed;
}

Status SslPlatform::setup_common() {
#if defined(MBEDTLS_ENTROPY_C) && defined(MBEDTLS_CTR_DRBG_C)
  // mbedtls_entropy_init() adds the sources mbedTLS knows from the config (platform entropy,
  // MBEDTLS_ENTROPY_HARDWARE_ALT, the NV seed); the glue adds whatever else the profile names.
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  const int ret = glue::add_entropy_sources(&entropy_);
  if (ret != 0) {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
    return Status::Tls(ret);
  }
  // The heap's header key (issue 12): from the entropy pool, while the heap is still empty. A pool
  // that cannot deliver yet (e.g. a source short of entropy) leaves the position-derived default.
  unsigned char secret[8] = {};
  if (mbedtls_entropy_func(&entropy_, secret, sizeof secret) == 0) {
    std::uint64_t key = 0;
    for (const unsigned char b : secret) key = key << 8 | b;
    (void)glue::heap().set_secret(key);
    mbedtls_platform_zeroize(secret, sizeof secret);
  }
  setup_ = true;
  seeded_ = false;
  psa_ = false;
  live_configs_ = 0;
  return Status::Ok();
#else
  return Status(Code::kFailedPrecondition);  // the profile compiled out the entropy pool or the DRBG
#endif
}

Status SslPlatform::add_entropy_source(EntropySourceFn source, void* data, std::size_t threshold,
                                       bool strong) {
  if (!setup_ || seeded_) {
    return Status(Code::kFailedPrecondition);
  }
  if (source == nullptr) {
    return Status(Code::kInvalidArgument);
  }
#if defined(MBEDTLS_ENTROPY_C)
  const int ret = mbedtls_entropy_add_source(
      &entropy_, source, data, threshold,
      strong ? MBEDTLS_ENTROPY_SOURCE_STRONG : MBEDTLS_ENTROPY_SOURCE_WEAK);
  return ret == 0 ? Status::Ok() : Status::Tls(ret);
#else
  (void)data;
  (void)threshold;
  (void)strong;
  return Status(Code::kFailedPrecondition);
#endif
}

Status SslPlatform::seed_rng(std::span<const std::byte> personalization) {
  if (!setup_ || seeded_) {
    return Status(Code::kFailedPrecondition);
  }
  [[maybe_unused]] const std::size_t failures = detail::heap_failures();
#if defined(MBEDTLS_CTR_DRBG_C) && defined(MBEDTLS_ENTROPY_C)
  const int ret = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                        reinterpret_cast<const unsigned char*>(personalization.data()),
                                        personalization.size());
  if (ret != 0) {
    return detail::mbedtls_status(ret, failures);
  }
#else
  (void)personalization;
  return Status(Code::kFailedPrecondition);
#endif
  if constexpr (profile::kUsesPsa) {
#if defined(MBEDTLS_PSA_CRYPTO_C)
    const psa_status_t psa = psa_crypto_init();
    if (psa != PSA_SUCCESS) {
      return detail::mbedtls_status(static_cast<int>(psa), failures);  // PSA_ERROR_* are negative ints too
    }
    psa_ = true;
#else
    return Status(Code::kFailedPrecondition);  // the profile says PSA but the config lacks it
#endif
  }
  seeded_ = true;
  return Status::Ok();
}

Status SslPlatform::new_client_config(Transport transport, Preset preset, SslConfig& config) {
  return config.init(*this, transport, preset);
}

int SslPlatform::random(std::span<std::byte> output) {
  if (!seeded_) {
    return -1;
  }
#if defined(MBEDTLS_CTR_DRBG_C)
  return mbedtls_ctr_drbg_random(&drbg_, reinterpret_cast<unsigned char*>(output.data()), output.size());
#else
  return -1;
#endif
}

Status SslPlatform::deinit() {
  if (!setup_) {
    return Status(Code::kFailedPrecondition);
  }
  if (live_configs_ != 0) {
    return Status(Code::kFailedPrecondition);  // free every SslConfig (and its sessions) first
  }
#if defined(MBEDTLS_CTR_DRBG_C) && defined(MBEDTLS_ENTROPY_C)
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
#endif
#if defined(MBEDTLS_PSA_CRYPTO_C)
  if (psa_) {
    mbedtls_psa_crypto_free();
  }
#endif
  setup_ = false;
  seeded_ = false;
  psa_ = false;
  return Status::Ok();
}

}  // namespace tlsgen
