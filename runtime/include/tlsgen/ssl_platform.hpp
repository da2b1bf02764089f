// SslPlatform: the process-wide mbedTLS state of one profile (heap, entropy, RNG, PSA).
//
// The seed (drogue-tls) reads
//     let mut platform = SslPlatform::setup(heap_start, HEAP_SIZE).unwrap();
//     platform.entropy_context_mut().add_source(StaticEntropySource);
//     platform.seed_rng().unwrap();
//     let mut config = platform.new_client_config(Transport::Stream, Preset::Default).unwrap();
// and the same steps in tlsgen are
//     tlsgen::SslPlatform platform;
//     Status s = platform.setup();            // the profile's static heap, or setup(region)
//     s = platform.seed_rng();                // the profile's entropy sources are already added
//     tlsgen::SslConfig config;
//     s = platform.new_client_config(tlsgen::Transport::kStream, tlsgen::Preset::kProfile, config);
//     ...                                     // sessions (SslTcpStack), then in reverse order:
//     config.deinit();  platform.deinit();    // the heap is back to zero bytes in use
//
// Every call returns a Status; mbedTLS failures are Status{Code::kTls, <mbedTLS code>}. The platform
// owns no memory of its own: the contexts are members (caller storage) and everything mbedTLS
// allocates comes from the tlsgen::Heap the generated glue installs. Not copyable, not movable
// (mbedTLS keeps pointers to the contexts). One SslPlatform per process: the glue's hooks are global.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "tlsgen/status.hpp"

namespace tlsgen {

class SslConfig;

// mbedTLS's MBEDTLS_SSL_TRANSPORT_STREAM / _DATAGRAM.
enum class Transport : std::uint8_t { kStream, kDatagram };

// Which defaults a client configuration starts from.
//   kProfile  mbedTLS's default preset, then narrowed to the profile: its cipher suites, groups,
//             protocol versions, verify mode and record size (the profile is the preset).
//   kDefault  mbedTLS's MBEDTLS_SSL_PRESET_DEFAULT only (every suite compiled in).
//   kSuiteB   mbedTLS's MBEDTLS_SSL_PRESET_SUITEB only.
enum class Preset : std::uint8_t { kProfile, kDefault, kSuiteB };

// An entropy source in mbedTLS's shape (mbedtls_entropy_f_source_ptr).
using EntropySourceFn = int (*)(void* data, unsigned char* output, std::size_t len, std::size_t* olen);

class SslPlatform {
 public:
  SslPlatform() = default;
  ~SslPlatform();  // deinit() if still set up (its Status is lost: call deinit() to check it)
  SslPlatform(const SslPlatform&) = delete;
  SslPlatform& operator=(const SslPlatform&) = delete;

  // Installs the generated glue over the profile's static heap (or over `heap_region`), initialises
  // the entropy pool with the profile's sources and the CTR-DRBG context. kFailedPrecondition when
  // already set up or the profile lacks MBEDTLS_ENTROPY_C / MBEDTLS_CTR_DRBG_C.
  Status setup();
  Status setup(std::span<std::byte> heap_region);

  // Adds one more entropy source (the seed's entropy_context_mut().add_source()). `strong`: the
  // source counts toward the entropy threshold (MBEDTLS_ENTROPY_SOURCE_STRONG). Before seed_rng().
  Status add_entropy_source(EntropySourceFn source, void* data, std::size_t threshold, bool strong);

  // Seeds the CTR-DRBG from the entropy pool (optional personalisation string), and when the profile
  // uses PSA (tlsgen::profile::kUsesPsa) runs psa_crypto_init(). Required before new_client_config().
  Status seed_rng(std::span<const std::byte> personalization = {});

  // Builds a client configuration into `config` (caller storage), bound to this platform's RNG.
  // kInvalidArgument for a transport the profile does not compile in (DTLS), kFailedPrecondition
  // before seed_rng() or when `config` is already initialised.
  Status new_client_config(Transport transport, Preset preset, SslConfig& config);

  // Frees the RNG, the entropy pool and PSA (mbedtls_psa_crypto_free). kFailedPrecondition (and
  // nothing freed) while a configuration made by this platform is still initialised.
  // Afterwards tlsgen::glue::heap().stats().in_use is 0 when every session was closed.
  Status deinit();

  bool is_setup() const { return setup_; }
  bool is_seeded() const { return seeded_; }

  // The RNG for mbedtls_ssl_conf_rng and friends (valid after seed_rng()).
  int random(std::span<std::byte> output);
  mbedtls_ctr_drbg_context* drbg() { return &drbg_; }
  mbedtls_entropy_context* entropy() { return &entropy_; }

 private:
  friend class SslConfig;

  Status setup_common();

  mbedtls_entropy_context entropy_{};
  mbedtls_ctr_drbg_context drbg_{};
  bool setup_ = false;
  bool seeded_ = false;
  bool psa_ = false;
  std::size_t live_configs_ = 0;
};

}  // namespace tlsgen
