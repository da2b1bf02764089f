// Internal to runtime/src/ssl: a saved session's bytes, shared by SslTcpStack and SslUdpStack (their
// save_session() / offer_session() / resumed(), documented in ssl_tcp_stack.hpp and ssl_udp_stack.hpp).
//
// A saved session is framed so that a corrupted copy (flash wear, a torn write) is refused before mbedTLS reads
// it: "TGS2", when its ticket came (int64 ms of mbedtls_ms_time(), little-endian; 0 without a ticket), the
// ticket's lifetime (uint32 s; 0: none stated), mbedTLS's serialised session, then the CRC-32 (IEEE 802.3) of all
// that. It detects accidents, not an attacker who can rewrite the store (who could then also read its secret).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "tlsgen/offered_session_id.hpp"
#include "tlsgen/status.hpp"

namespace tlsgen::detail {

// save_session() of both stacks: writes the session in force on `ssl` (null: an unknown handle, kInvalidArgument)
// into `out`, framed, as far as the profile resumes it (profile::kResume*): its length; kFailedPrecondition before
// the handshake (`connected` false) or when the session has nothing the profile resumes by; kResourceExhausted
// (detail: the bytes needed) when `out` is too small. `established_ms`: mbedtls_ms_time() when the handshake ended
// (a TLS 1.2 ticket's age counts from it).
Result<std::size_t> save_session(const mbedtls_ssl_context* ssl, bool connected, std::int64_t established_ms,
                                 std::span<std::byte> out);

// offer_session() of both stacks: `slot` (the session's offer, read by connect()) := `saved` when connect() may
// offer it, else empty. kInvalidArgument for an unknown handle (`known` false), empty bytes, or (detail mbedTLS's
// code) a corrupted copy or one this build cannot resume; kFailedPrecondition unless between open() and connect()
// (`open`), or (detail its age in s, -1: the clock restarted) for a ticket past its lifetime; kResourceExhausted
// when the heap could not hold the check's copy.
Status offer_session(bool known, bool open, std::span<const std::byte> saved, std::span<const std::byte>& slot);

// Loads bytes offer_session() took into `session`: 0 or mbedTLS's error.
int load_offer(mbedtls_ssl_session& session, std::span<const std::byte> saved);

}  // namespace tlsgen::detail
