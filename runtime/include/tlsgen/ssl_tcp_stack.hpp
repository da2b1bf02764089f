// SslTcpStack: TLS over any TcpStack, offering the same TcpStack interface back.
//
// Application code uses a secure and a plain stack the same way (the seed's SslTcpStack over
// embedded-nal): open(mode), connect(host, port) -- TCP connect plus the whole TLS handshake --,
// write, read, close (close_notify, then the transport socket is closed).
//
//   std::array<tlsgen::SslSession, 2> sessions;           // caller storage, one slot per session
//   tlsgen::SslTcpStack tls(config, posix_stack, sessions);
//   auto s = tls.open(tlsgen::Mode::kBlocking);
//   Status st = tls.connect(s.value(), "example.org", 443);
//
// Sessions: a fixed number, each a caller-provided SslSession slot holding the mbedtls_ssl_context
// and the transport socket. mbedTLS allocates the record buffers from the glue's heap when connect()
// starts and frees them in close(). The handle is the slot index.
//
// Results (in addition to the TcpStack contract):
//   - Status{Code::kTls, <mbedTLS code>} for every TLS failure, e.g. MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
//     (then verify_result() has the MBEDTLS_X509_BADCERT_* flags), MBEDTLS_ERR_SSL_CONN_EOF when the
//     peer closes during the handshake. Status{Code::kResourceExhausted, <mbedTLS code>} instead when
//     the heap refused an allocation during the call (mbedTLS's own code may then be misleading, e.g.
//     a verify failure): the profile's heap is too small for this peer.
//     A failure is sticky: later calls on that handle return it until close(). A handshake that has
//     failed with a fatal alert fails at once, even while the alert still waits for the transport.
//   - kWouldBlock (Mode::kNonBlocking) when mbedTLS wants to read or write: call the same function
//     again. After write() returned kWouldBlock or kTimeout, call write() again with the same bytes (at
//     least as many): mbedTLS has already encrypted them into a record. The retry finishes sending that
//     record, or -- when mbedTLS flushed it meanwhile, e.g. while a read() answered a TLS 1.2
//     HelloRequest -- returns Ok with the record's length without sending anything again.
//   - kTimeout (Mode::kBlocking) when the transport's own deadline passed; retryable.
//   - read() skips zero-length application data records (legal in TLS 1.2 and 1.3; mbedTLS returns 0
//     for them); more than three in a row end the session with mbedTLS's own
//     Status{kTls, MBEDTLS_ERR_SSL_INVALID_MAC} ("possible DoS attack").
//   - read(): kTlsCleanClose (kClosed, detail 0) after the peer's close_notify; kTlsTruncatedClose
//     (kClosed, detail MBEDTLS_ERR_SSL_CONN_EOF) when the transport ended (EOF or reset) without one:
//     the data may have been cut short, so a reply without its own length must be treated as
//     incomplete. Later reads and writes return the same status again.
//   - transport_status() gives the last non-ok transport result the TLS layer saw (errno and such).
// Translation of transport results to mbedTLS's BIO codes happens in one place (ssl_tcp_stack.cpp):
//   kWouldBlock -> MBEDTLS_ERR_SSL_WANT_READ / _WANT_WRITE, kTimeout -> MBEDTLS_ERR_SSL_TIMEOUT,
//   kClosed -> 0 on receive (mbedTLS then reports MBEDTLS_ERR_SSL_CONN_EOF) and
//   MBEDTLS_ERR_SSL_CONN_EOF on send, any other error -> MBEDTLS_ERR_NET_RECV_FAILED / _SEND_FAILED.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "tlsgen/clock.hpp"
#include "tlsgen/offered_session_id.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/status.hpp"
#include "tlsgen/tcp_stack.hpp"

namespace tlsgen {

// How a session's incoming stream ended (read() results, see above). mbedTLS reports the truncation
// as MBEDTLS_ERR_SSL_CONN_EOF (-0x7280) inside the handshake, and 0 from mbedtls_ssl_read().
inline constexpr Status kTlsCleanClose = Status(Code::kClosed, 0);
inline constexpr Status kTlsTruncatedClose = Status(Code::kClosed, MBEDTLS_ERR_SSL_CONN_EOF);

// Deadlines (set_deadlines): the handshake's passed (sticky, like any failed handshake), or one
// read()'s passed (retryable: the part of a record already received is kept).
inline constexpr Status kHandshakeDeadlineExpired = Status(Code::kTimeout, 1);
inline constexpr Status kReadDeadlineExpired = Status(Code::kTimeout, 2);

// Storage for one TLS session; only SslTcpStack reads or writes it.
class SslSession {
 public:
  SslSession() = default;
  SslSession(const SslSession&) = delete;
  SslSession& operator=(const SslSession&) = delete;

 private:
  friend class SslTcpStack;
  enum class State : std::uint8_t { kFree, kOpen, kTcpConnecting, kHandshaking, kConnected, kPeerClosed, kFailed };

  mbedtls_ssl_context ssl_{};
  TcpStack* transport_ = nullptr;
  Socket inner_ = kInvalidSocket;
  State state_ = State::kFree;
  Mode mode_ = Mode::kBlocking;
  bool ssl_initialized_ = false;
  bool transport_would_block_ = false;  // set by the BIO during one call into mbedTLS
  bool transport_eof_ = false;          // set by the BIO when the transport said kClosed (one read() call)
  Status error_;                        // sticky TLS failure
  Status transport_status_;             // last non-ok transport result seen by the BIO
  std::size_t pending_write_ = 0;       // caller bytes in the record mbedTLS still holds (out_left != 0)
  std::size_t heap_failures_ = 0;       // the heap's failed-allocation count before the current call
  std::uint32_t handshake_budget_ms_ = 0;  // set_deadlines(): 0 = none
  std::uint32_t read_budget_ms_ = 0;
  std::uint32_t handshake_start_ms_ = 0;   // when connect() first started the handshake
  bool handshake_started_ = false;
  bool deadline_armed_ = false;            // the BIO refuses transport calls after deadline_ms_
  bool deadline_hit_ = false;              // ... and did, during the current call
  std::uint32_t deadline_start_ms_ = 0;
  std::uint32_t deadline_budget_ms_ = 0;
  Clock* clock_ = nullptr;
  std::span<const std::byte> offered_;  // offer_session(): the caller's saved session, applied by connect()
  bool offer_applied_ = false;          // connect() put it into the handshake
  detail::OfferedId offered_id_;        // the session ID the ClientHello carried (taken at the first read)
  std::int64_t established_ms_ = 0;     // mbedtls_ms_time() when the handshake ended (a TLS 1.2 ticket's age)
  bool psk_only_offer_ = false;         // the ClientHello offered a TLS 1.3 ticket by psk_ke alone (no key share)
};

// A profile that resumes TLS 1.3 by psk_ke alone (tls.resumption.tls13: [psk_ke]): its resumed ClientHello offers
// psk_ke without a key share, so that no ECDHE key is made; a server that rejects the ticket then cannot run a
// full handshake on that connection, and connect() runs one on a new connection by itself.
#if defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED) && \
    !defined(MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED) && defined(MBEDTLS_SSL_SESSION_TICKETS)
#define TLSGEN_RESUME_PSK_KE_ONLY 1
#endif

class SslTcpStack final : public TcpStack {
 public:
  SslTcpStack(SslConfig& config, TcpStack& transport, std::span<SslSession> sessions)
      : config_(config), transport_(transport), sessions_(sessions) {}
  ~SslTcpStack();  // closes every session still open
  SslTcpStack(const SslTcpStack&) = delete;
  SslTcpStack& operator=(const SslTcpStack&) = delete;

  Result<Socket> open(Mode mode) override;
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult write(Socket socket, std::span<const std::byte> data) override;
  IoResult read(Socket socket, std::span<std::byte> buffer) override;
  Status close(Socket socket) override;

  // MBEDTLS_X509_BADCERT_* flags of the peer certificate check (0: verified; after a failed
  // handshake: why it failed); 0xFFFFFFFF for an unknown handle or before the handshake.
  std::uint32_t verify_result(Socket socket) const;
  // Negotiated cipher suite and protocol names ("?" before the handshake or for a bad handle).
  const char* ciphersuite(Socket socket) const;
  const char* protocol(Socket socket) const;
  // The ALPN protocol the server selected, nullptr when none was (or MBEDTLS_SSL_ALPN is not in the
  // profile, or before the handshake). Points into the list given to SslConfig::alpn().
  const char* alpn_protocol(Socket socket) const;
  // Operation deadlines of one session, in ms of `clock` (0: none, the default). The transport's own
  // timeout bounds each transport call; these bound the whole operation, however many calls it takes
  // (a peer sending 1 byte every 2.5 s keeps every 3 s transport read busy and a read() going forever):
  //   handshake_ms  from the first connect() that starts the TLS handshake to its end, across the
  //                 kWouldBlock/kTimeout retries: then connect() fails with kHandshakeDeadlineExpired,
  //                 sticky.
  //   read_ms       per read() call: then it returns kReadDeadlineExpired; call read() again to go on.
  // Checked before every transport call, so a call can overrun by at most one transport timeout: keep
  // the transport's timeout at the precision the deadline needs. kInvalidArgument for an unknown
  // handle or a null clock. Set before connect() for the handshake; any time for reads.
  Status set_deadlines(Socket socket, Clock* clock, std::uint32_t handshake_ms, std::uint32_t read_ms);
  // Session resumption, as the profile's tls.resumption allows (profile::kResume*): TLS 1.2 by session ID
  // and/or ticket (an abbreviated handshake: no key exchange, no certificate check), TLS 1.3 by ticket
  // (psk_dhe_ke: a fresh (EC)DHE, no certificate; psk_ke: no (EC)DHE and no forward secrecy).
  //   save_session()   after connect() succeeded (TLS 1.3: after a read(), as the server's ticket comes
  //                    after the handshake): writes the session into `out` and returns its length: "TGS2",
  //                    when its ticket came (ms, mbedtls_ms_time()) and the ticket's lifetime (s), mbedTLS's
  //                    serialised session (mbedtls_ssl_session_save(): its master secret or resumption key
  //                    included, so keep the bytes as secret as a key, and wipe them when done), and a CRC-32
  //                    of all that, so that a corrupted copy is refused. kResourceExhausted (detail: the bytes
  //                    needed) when `out` is too small, nothing written; kFailedPrecondition before the
  //                    handshake, or when the session has nothing the profile resumes by (no session ID or
  //                    ticket the profile lists; TLS 1.3: no ticket yet, or no TLS 1.3 mode in the profile).
  //   offer_session()  between open() and connect(): connect() offers that session. The bytes are checked here
  //                    (kInvalidArgument, detail mbedTLS's code, for a corrupted blob (CRC) or one saved by
  //                    another build or configuration; nothing is kept then) and read again by connect(): they
  //                    must stay unchanged until it returns. A ticket older than its lifetime (or saved at a
  //                    later time than the clock now says: the ms clock restarted) is not offered:
  //                    kFailedPrecondition, detail the ticket's age in seconds (-1: clock restarted); drop the
  //                    stored copy. A server that does not resume an offered session (expired, unknown, another
  //                    server, a new ticket key) simply runs the full handshake; with tls13: [psk_ke] alone (its
  //                    ClientHello has no key share) connect() closes that connection and runs the full
  //                    handshake on a new one, from the same call.
  //   resumed()        after connect(): whether the server resumed the offered session.
  Result<std::size_t> save_session(Socket socket, std::span<std::byte> out) const;
  Status offer_session(Socket socket, std::span<const std::byte> saved);
  bool resumed(Socket socket) const;
  // Last non-ok result of the transport underneath this session (Ok if none).
  Status transport_status(Socket socket) const;
  // The mbedTLS context of a session, for anything this class does not wrap (nullptr if unknown).
  mbedtls_ssl_context* native(Socket socket);

  std::size_t open_count() const;

 private:
  SslSession* session(Socket socket);
  const SslSession* session(Socket socket) const;
  Status start_tls(SslSession& s, const char* host);
  Status handshake(SslSession& s);
  Status fail(SslSession& s, int mbedtls_error);

  static bool deadline_passed(SslSession& s);
  static void arm_deadline(SslSession& s, std::uint32_t start_ms, std::uint32_t budget_ms);
  static int bio_send(void* ctx, const unsigned char* buf, std::size_t len);
  static int bio_recv(void* ctx, unsigned char* buf, std::size_t len);

  Status restart_without_offer(SslSession& s);

  SslConfig& config_;
  TcpStack& transport_;
  std::span<SslSession> sessions_;
#if defined(TLSGEN_RESUME_PSK_KE_ONLY)
  // The configuration with psk_ke as its only TLS 1.3 key exchange, for a session that offers a saved ticket: a
  // copy of config_'s (its lists and keys shared, never freed here), made again before each such handshake.
  mbedtls_ssl_config psk_only_conf_{};
#endif
};

}  // namespace tlsgen
