// SslUdpStack: DTLS 1.2 over any UdpStack, offering the same UdpStack interface back (the datagram
// counterpart of SslTcpStack, for profiles with tls.transport: datagram).
//
//   std::array<tlsgen::DtlsSession, 1> sessions;            // caller storage, one slot per session
//   tlsgen::SslUdpStack dtls(config, udp_stack, clock, sessions);
//   auto s = dtls.open(tlsgen::Mode::kBlocking);
//   Status st = dtls.connect(s.value(), "192.0.2.1", 5684);  // UDP peer + the whole DTLS handshake
//   dtls.send(s.value(), request);  dtls.receive(s.value(), reply);  dtls.close(s.value());
//
// One application datagram is one DTLS record: send() encrypts `datagram` into one record in one datagram, and
// receive() delivers one record's payload. Boundaries are kept, as UdpStack promises.
//
// The handshake (connect()):
//   - The server's HelloVerifyRequest cookie is answered by mbedTLS (a second ClientHello carrying it).
//   - Retransmission: mbedTLS's timer runs on `clock` (mbedtls_ssl_set_timer_cb). A flight unanswered for the
//     profile's handshake_timeout_min_ms is sent again, the timeout doubling up to handshake_timeout_max_ms;
//     after that connect() fails with Status{kTls, MBEDTLS_ERR_SSL_TIMEOUT} (sticky). In Mode::kBlocking,
//     connect() waits on the transport with receive_within() until the timer's deadline; in Mode::kNonBlocking
//     it returns kWouldBlock and retransmits on a later call once the timer has expired (call it again).
//   - Datagrams are at most the profile's MTU (tls.dtls.mtu; mbedtls_ssl_set_mtu): handshake messages are
//     fragmented to fit; the server's are reassembled within MBEDTLS_SSL_DTLS_MAX_BUFFERING heap bytes.
// Records: duplicates and replays are dropped (mbedTLS's anti-replay window), and so are records that do not
// decrypt, datagrams that hold no record (garbage), empty datagrams and datagrams larger than the receive
// buffer (counted in stats()); none of these ends the session. A send the transport holds up because its receive
// side is full (the ESP8266 modem's ring) drops queued datagrams until it goes through (stats().congestion_dropped).
//
// Results (in addition to the UdpStack contract):
//   - Status{Code::kTls, <mbedTLS code>} for every DTLS failure; Status{Code::kResourceExhausted, <mbedTLS
//     code>} instead when the heap refused an allocation during the call. A failure is sticky until close().
//   - send(): kInvalidArgument, detail the largest payload, for a datagram larger than one record can carry
//     within the MTU (never split); kWouldBlock / kTimeout as the transport says (send the same bytes again).
//   - receive(): one record's payload; a record larger than `buffer` is dropped and reported (kResourceExhausted,
//     detail its length), never cut. kTimeout (Mode::kBlocking: nothing within the transport's own timeout;
//     retryable), kWouldBlock (Mode::kNonBlocking). kTlsCleanClose (kClosed, 0) after the peer's close_notify.
//     receive_within() waits at most `wait_ms` instead.
//   - transport_status() gives the last non-ok transport result the DTLS layer saw (a peer's "port
//     unreachable": kUnavailable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "tlsgen/clock.hpp"
#include "tlsgen/offered_session_id.hpp"
#include "tlsgen/ssl_config.hpp"
#include "tlsgen/status.hpp"
#include "tlsgen/udp_stack.hpp"

namespace tlsgen {

class SslUdpStack;

// What one session's transport saw: datagrams sent (retransmissions included) and received, and those the
// session dropped before mbedTLS saw them.
struct DtlsStats {
  std::uint32_t datagrams_sent = 0;
  std::uint32_t datagrams_received = 0;
  std::uint32_t empty_dropped = 0;     // zero-length datagrams
  std::uint32_t oversize_dropped = 0;  // larger than the receive buffer (the transport dropped them)
  std::uint32_t congestion_dropped = 0;  // taken out unread so that a send the full receive side held up could go
  std::uint32_t hello_verify_requests = 0;  // the server's cookie challenges the handshake answered
  std::uint32_t handshake_ms = 0;      // connect()'s handshake, first ClientHello to Finished, on the clock
};

// Storage for one DTLS session; only SslUdpStack reads or writes it.
class DtlsSession {
 public:
  DtlsSession() = default;
  DtlsSession(const DtlsSession&) = delete;
  DtlsSession& operator=(const DtlsSession&) = delete;

 private:
  friend class SslUdpStack;
  enum class State : std::uint8_t { kFree, kOpen, kHandshaking, kConnected, kPeerClosed, kFailed };

  mbedtls_ssl_context ssl_{};
  SslUdpStack* owner_ = nullptr;
  Socket inner_ = kInvalidSocket;
  State state_ = State::kFree;
  Mode mode_ = Mode::kBlocking;
  bool ssl_initialized_ = false;
  Status error_;             // sticky failure
  Status transport_status_;  // last non-ok transport result seen by the BIO
  std::size_t heap_failures_ = 0;
  // mbedTLS's timer (mbedtls_ssl_set_timer_cb): an intermediate and a final delay from timer_start_ms_.
  std::uint32_t timer_start_ms_ = 0;
  std::uint32_t timer_int_ms_ = 0;
  std::uint32_t timer_fin_ms_ = 0;  // 0: cancelled
  std::uint32_t handshake_start_ms_ = 0;
  std::uint32_t read_wait_ms_ = 0;  // after the handshake: how long one receive waits (kAsTheModeSays: the mode)
  DtlsStats stats_;
  std::span<const std::byte> offered_;  // offer_session(): the caller's saved session, applied by connect()
  bool offer_applied_ = false;          // connect() put it into the handshake
  detail::OfferedId offered_id_;        // the session ID the (last) ClientHello carried
  std::int64_t established_ms_ = 0;     // mbedtls_ms_time() when the handshake ended (a ticket's age)
};

class SslUdpStack final : public UdpStack {
 public:
  SslUdpStack(SslConfig& config, UdpStack& transport, Clock& clock, std::span<DtlsSession> sessions)
      : config_(config), transport_(transport), clock_(clock), sessions_(sessions) {}
  ~SslUdpStack();  // closes every session still open
  SslUdpStack(const SslUdpStack&) = delete;
  SslUdpStack& operator=(const SslUdpStack&) = delete;

  Result<Socket> open(Mode mode) override;
  Status connect(Socket socket, const char* host, std::uint16_t port) override;
  IoResult send(Socket socket, std::span<const std::byte> datagram) override;
  IoResult receive(Socket socket, std::span<std::byte> buffer) override;
  IoResult receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) override;
  Status close(Socket socket) override;

  // MBEDTLS_X509_BADCERT_* flags of the peer certificate check (0: verified); 0xFFFFFFFF for an unknown handle
  // or before the handshake.
  std::uint32_t verify_result(Socket socket) const;
  // Negotiated cipher suite and protocol names ("?" before the handshake or for a bad handle).
  const char* ciphersuite(Socket socket) const;
  const char* protocol(Socket socket) const;
  // The largest datagram payload send() takes now (0 before the handshake or for a bad handle).
  std::size_t max_payload(Socket socket) const;
  DtlsStats stats(Socket socket) const;
  // Session resumption (tls.resumption.tls12: session_id and/or ticket; DTLS is TLS 1.2 only): an abbreviated
  // handshake, no key exchange and no certificate check. The same bytes and results as SslTcpStack's
  // save_session() / offer_session() / resumed() (ssl_tcp_stack.hpp; a session saved by one stack is offered by
  // the other only within the same profile's build, and a DTLS session resumes only over DTLS): save after
  // connect() succeeded, offer between open() and connect() (the bytes must stay unchanged until connect()
  // returns; a ticket past its lifetime is not offered), resumed() after connect(). A server that does not
  // resume runs the full handshake. With a HelloVerifyRequest the second ClientHello offers the session again.
  Result<std::size_t> save_session(Socket socket, std::span<std::byte> out) const;
  Status offer_session(Socket socket, std::span<const std::byte> saved);
  bool resumed(Socket socket) const;
  Status transport_status(Socket socket) const;
  mbedtls_ssl_context* native(Socket socket);
  std::size_t open_count() const;

 private:
  static constexpr std::uint32_t kAsTheModeSays = 0xFFFFFFFFu;
  static constexpr std::size_t kMaxDrained = 64;  // datagrams one send may drop to get through (bio_send)

  DtlsSession* session(Socket socket);
  const DtlsSession* session(Socket socket) const;
  Status start_dtls(DtlsSession& s, const char* host);
  Status handshake(DtlsSession& s);
  Status fail(DtlsSession& s, int mbedtls_error);
  IoResult receive_record(DtlsSession& s, std::span<std::byte> buffer, std::uint32_t wait_ms);

  static int bio_send(void* ctx, const unsigned char* buf, std::size_t len);
  static int bio_recv_timeout(void* ctx, unsigned char* buf, std::size_t len, std::uint32_t timeout_ms);
  static void timer_set(void* ctx, std::uint32_t int_ms, std::uint32_t fin_ms);
  static int timer_get(void* ctx);

  SslConfig& config_;
  UdpStack& transport_;
  Clock& clock_;
  std::span<DtlsSession> sessions_;
};

}  // namespace tlsgen
