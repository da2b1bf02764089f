// Saved sessions (saved_session.hpp): the frame, and what the profile resumes.
#include "saved_session.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "mbedtls/platform_time.h"
#include "mbedtls/platform_util.h"
#include "mbedtls_status.hpp"
#include "tlsgen_profile.hpp"

namespace tlsgen::detail {
namespace {

constexpr std::array<std::byte, 4> kSessionMagic{std::byte{'T'}, std::byte{'G'}, std::byte{'S'}, std::byte{'2'}};
constexpr std::size_t kSessionHeader = kSessionMagic.size() + 8 + 4;
constexpr std::size_t kSessionFraming = kSessionHeader + 4;

std::uint32_t crc32(std::span<const std::byte> data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::byte b : data) {
    crc ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

std::uint64_t get_le(std::span<const std::byte> p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    v |= std::to_integer<std::uint64_t>(p[k]) << (8 * k);
  }
  return v;
}

// A framed saved session, once its frame and CRC checked out.
struct FramedSession {
  std::span<const std::byte> body;  // mbedTLS's serialised session; empty when the frame or its CRC is wrong
  std::int64_t ticket_ms = 0;
  std::uint32_t lifetime_s = 0;
};

void put_le(std::span<std::byte> p, std::uint64_t v, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    p[k] = static_cast<std::byte>((v >> (8 * k)) & 0xFFu);
  }
}

// The age of a saved ticket in seconds when it may no longer be offered (past its lifetime: RFC 5077 3.3, RFC
// 8446 4.6.1), -1 when the clock now reads earlier than when it was saved (a restarted ms clock cannot tell its
// age), 0 when it may be offered (or has no lifetime to respect).
std::int32_t ticket_expired(const FramedSession& f) {
#if defined(MBEDTLS_HAVE_TIME)
  if (f.lifetime_s == 0) {
    return 0;
  }
  const std::int64_t age_ms = static_cast<std::int64_t>(mbedtls_ms_time()) - f.ticket_ms;
  if (age_ms < 0) {
    return -1;
  }
  if (age_ms > static_cast<std::int64_t>(f.lifetime_s) * 1000) {
    const std::int64_t age_s = age_ms / 1000;
    return age_s > INT32_MAX ? INT32_MAX : static_cast<std::int32_t>(age_s);
  }
#else
  (void)f;  // no clock: the profile keeps no ticket (tlsgen refuses tickets with platform.time none)
#endif
  return 0;
}

FramedSession unframe_session(std::span<const std::byte> saved) {
  if (saved.size() <= kSessionFraming || !std::equal(kSessionMagic.begin(), kSessionMagic.end(), saved.begin())) {
    return {};
  }
  const std::size_t end = saved.size() - 4;
  if (crc32(saved.first(end)) != static_cast<std::uint32_t>(get_le(saved.subspan(end), 4))) {
    return {};
  }
  return {saved.subspan(kSessionHeader, end - kSessionHeader),
          static_cast<std::int64_t>(get_le(saved.subspan(kSessionMagic.size()), 8)),
          static_cast<std::uint32_t>(get_le(saved.subspan(kSessionMagic.size() + 8), 4))};
}

}  // namespace

Result<std::size_t> save_session(const mbedtls_ssl_context* context, bool connected, std::int64_t established_ms,
                                 std::span<std::byte> out) {
  if (context == nullptr || (out.data() == nullptr && !out.empty())) {
    return Status(Code::kInvalidArgument);
  }
  if (!connected) {
    return Status(Code::kFailedPrecondition);
  }
  const mbedtls_ssl_context& ssl = *context;
  // The session in force, saved as it is (mbedtls_ssl_get_session() would copy it into the heap first,
  // and works once per connection).
  const mbedtls_ssl_session* current = ssl.MBEDTLS_PRIVATE(session);
  if (current == nullptr) {
    return Status(Code::kFailedPrecondition);
  }
  std::int64_t ticket_ms = 0;
  std::uint32_t lifetime_s = 0;
  bool has_ticket = false;
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
  has_ticket = current->MBEDTLS_PRIVATE(ticket) != nullptr && current->MBEDTLS_PRIVATE(ticket_len) != 0;
  if (has_ticket) {
    lifetime_s = current->MBEDTLS_PRIVATE(ticket_lifetime);
  }
#endif
  const bool tls12 = mbedtls_ssl_get_version_number(&ssl) == MBEDTLS_SSL_VERSION_TLS1_2;
  if (tls12) {
    const bool by_ticket = profile::kResumeTicket12 && has_ticket;
    const bool by_id = profile::kResumeSessionId && current->MBEDTLS_PRIVATE(id_len) != 0;
    if (!by_ticket && !by_id) {
      return Status(Code::kFailedPrecondition);  // nothing the profile resumes a TLS 1.2 session by
    }
    if (!by_ticket) {
      lifetime_s = 0;  // resumed by its ID: the server's cache decides how long
    }
    ticket_ms = by_ticket ? established_ms : 0;
  } else {
    if (!(profile::kResumePskEphemeral || profile::kResumePskKe) || !has_ticket) {
      return Status(Code::kFailedPrecondition);  // no TLS 1.3 mode in the profile, or no ticket (yet)
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_HAVE_TIME)
    ticket_ms = static_cast<std::int64_t>(current->MBEDTLS_PRIVATE(ticket_reception_time));
#endif
  }
  std::size_t needed = 0;
  const std::span<std::byte> body =
      out.size() > kSessionFraming ? out.subspan(kSessionHeader, out.size() - kSessionFraming) : std::span<std::byte>();
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) && defined(MBEDTLS_X509_CRT_PARSE_C)
  // A TLS 1.2 session is saved without the server's certificate, which mbedTLS keeps in it when the profile has
  // TLS 1.3 (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) and would write whole: a resumed handshake has no use for it (no
  // Certificate message, no key exchange; the verify result is saved), and loading an offered session parses it
  // into the heap twice (mbedtls_ssl_session_load, then mbedtls_ssl_set_session's copy) at connect() and holds a
  // copy until the handshake is over or a rejected offer's new Certificate replaces it (sweep h10119-0183: a
  // 6,800-byte certificate, out of heap at connect). The saved session is that much smaller too. mbedTLS writes a
  // session without a certificate with a 0 length, and loads it back as none. A shallow copy, zeroised after: it
  // holds the master secret; nothing it points to is freed or changed.
  mbedtls_ssl_session without_cert = *current;
  without_cert.MBEDTLS_PRIVATE(peer_cert) = nullptr;
  if (tls12) {
    current = &without_cert;
  }
#endif
  const int ret =
      mbedtls_ssl_session_save(current, reinterpret_cast<unsigned char*>(body.data()), body.size(), &needed);
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) && defined(MBEDTLS_X509_CRT_PARSE_C)
  mbedtls_platform_zeroize(&without_cert, sizeof without_cert);
#endif
  if (ret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL) {
    return Status(Code::kResourceExhausted, static_cast<std::int32_t>(needed + kSessionFraming));
  }
  if (ret != 0) {
    return Status::Tls(ret);
  }
  std::copy(kSessionMagic.begin(), kSessionMagic.end(), out.begin());
  put_le(out.subspan(kSessionMagic.size()), static_cast<std::uint64_t>(ticket_ms), 8);
  put_le(out.subspan(kSessionMagic.size() + 8), lifetime_s, 4);
  const std::size_t framed = kSessionHeader + needed;
  put_le(out.subspan(framed), crc32(out.first(framed)), 4);
  return framed + 4;
}

namespace {

// offer_session()'s check of the caller's bytes, done there so that a bad blob is the caller's error rather than a
// failed connect() later.
Status check_offer(std::span<const std::byte> saved) {
  const std::size_t failures = heap_failures();
  mbedtls_ssl_session probe;
  mbedtls_ssl_session_init(&probe);
  const FramedSession framed = unframe_session(saved);
  int ret = framed.body.empty()
                ? MBEDTLS_ERR_SSL_BAD_INPUT_DATA
                : mbedtls_ssl_session_load(&probe, reinterpret_cast<const unsigned char*>(framed.body.data()),
                                           framed.body.size());
  if (ret == 0) {
    // save_session() writes only what the profile resumes: a TLS 1.2 session with its ID or ticket, a TLS 1.3
    // one with its ticket.
    const bool tls12 = probe.MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_2 &&
                       (profile::kResumeSessionId || profile::kResumeTicket12);
    const bool tls13 = probe.MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3 &&
                       (profile::kResumePskEphemeral || profile::kResumePskKe);
    if (!tls12 && !tls13) {
      ret = MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    }
  }
  mbedtls_ssl_session_free(&probe);
  if (ret != 0) {
    const Status st = mbedtls_status(ret, failures);
    return st.code() == Code::kResourceExhausted ? st : Status(Code::kInvalidArgument, ret);
  }
  const std::int32_t age = ticket_expired(framed);
  if (age != 0) {
    return Status(Code::kFailedPrecondition, age);  // not offered: connect() runs a full handshake
  }
  return Status::Ok();
}

}  // namespace

Status offer_session(bool known, bool open, std::span<const std::byte> saved, std::span<const std::byte>& slot) {
  if (!known || saved.empty() || saved.data() == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  if (!open) {
    return Status(Code::kFailedPrecondition);  // between open() and connect()
  }
  slot = {};
  const Status st = check_offer(saved);
  if (st.ok()) {
    slot = saved;
  }
  return st;
}

int load_offer(mbedtls_ssl_session& session, std::span<const std::byte> saved) {
  const std::span<const std::byte> blob = unframe_session(saved).body;
  return mbedtls_ssl_session_load(&session, reinterpret_cast<const unsigned char*>(blob.data()), blob.size());
}

void OfferedId::take(const mbedtls_ssl_context& ssl) {
  const mbedtls_ssl_session* offer = ssl.MBEDTLS_PRIVATE(session_negotiate);
  if (offer == nullptr) {
    return;
  }
  const std::size_t n = offer->MBEDTLS_PRIVATE(id_len);
  len = n <= id.size() ? n : 0;
  std::memcpy(id.data(), offer->MBEDTLS_PRIVATE(id), len);
  taken = true;
}

bool OfferedId::echoed_by(const mbedtls_ssl_context& ssl) const {
  if (!taken || len == 0) {
    return false;
  }
  const mbedtls_ssl_session* current = ssl.MBEDTLS_PRIVATE(session);
  return current != nullptr && current->MBEDTLS_PRIVATE(id_len) == len &&
         std::memcmp(current->MBEDTLS_PRIVATE(id), id.data(), len) == 0;
}

}  // namespace tlsgen::detail
