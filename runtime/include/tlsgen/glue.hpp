// Entry points of the generated glue (tlsgen_glue.cpp, one per profile).
//
// The glue owns the profile's static heap (tlsgen::profile::kHeapBytes, from the generated
// tlsgen_profile.hpp) and registers mbedTLS's platform hooks: calloc/free over tlsgen::Heap,
// snprintf/vsnprintf over tlsgen's va_list walker, and the entropy/time hooks the profile names.
// Call install() once before any other mbedTLS call (SslPlatform::setup does it for you).
#pragma once

#include <cstddef>
#include <span>

#include "tlsgen/heap.hpp"
#include "tlsgen/status.hpp"

namespace tlsgen::glue {

// Registers every hook over the generated static heap. Idempotent: a second call re-initialises
// the heap and is only allowed while no block is live (else kFailedPrecondition).
Status install();

// The same over a caller-given region instead of the static heap: the sizing proofs run a session
// in a sub-span of heap_region() to show where the generated size stops being enough.
Status install(std::span<std::byte> region);

// The allocator mbedTLS uses once installed (statistics: heap().stats()).
Heap& heap();

// The generated static heap array, kHeapBytes long.
std::span<std::byte> heap_region();

// Adds the profile's entropy sources that mbedTLS does not add by itself to `entropy`
// (an mbedtls_entropy_context*). Returns the mbedTLS error code, 0 on success.
int add_entropy_sources(void* entropy);

}  // namespace tlsgen::glue

// Board hooks the glue calls when the profile asks for them (the board or application defines them):
//   platform.entropy: [nv_seed]  -> tlsgen_board_nv_seed_read / _write (persist MBEDTLS_ENTROPY_BLOCK_SIZE bytes)
//   platform.entropy: [hardware] -> mbedtls_hardware_poll (mbedTLS's own MBEDTLS_ENTROPY_HARDWARE_ALT hook)
//   platform.time: ms_clock or calendar, bare metal
//                                -> mbedtls_ms_time (mbedTLS's MBEDTLS_PLATFORM_MS_TIME_ALT hook; on a host
//                                   mbedTLS reads the OS clock itself)
//   platform.time: calendar, bare metal
//                                -> tlsgen_board_time (seconds since 1970-01-01 UTC: certificate dates)
//   platform.debug.level > 0     -> tlsgen_board_log (mbedtls_printf's text: a debug build's self-checks)
extern "C" {
int tlsgen_board_nv_seed_read(unsigned char* buf, std::size_t len);   // 0 on success, -1 on failure
int tlsgen_board_nv_seed_write(unsigned char* buf, std::size_t len);  // 0 on success, -1 on failure
void tlsgen_board_log(const char* text, std::size_t len);             // not NUL-terminated
long long tlsgen_board_time(void);                                     // seconds since the epoch, UTC
}
