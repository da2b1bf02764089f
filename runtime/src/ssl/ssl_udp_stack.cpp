// SslUdpStack: DTLS 1.2 over a UdpStack (contract in ssl_udp_stack.hpp).
//
// Transport results become mbedTLS's BIO codes in one place (bio_send, bio_recv_timeout):
//   kWouldBlock -> MBEDTLS_ERR_SSL_WANT_READ / _WANT_WRITE, kTimeout -> MBEDTLS_ERR_SSL_TIMEOUT (mbedTLS then
//   retransmits during a handshake, or reports a read timeout after it), an empty or oversized datagram -> not
//   passed on (the next one is waited for), any other error -> MBEDTLS_ERR_NET_RECV_FAILED / _SEND_FAILED with the
//   transport's status kept for transport_status() and connect()'s result.
#include "tlsgen/ssl_udp_stack.hpp"

#include <array>
#include <climits>

#include "mbedtls/net_sockets.h"  // MBEDTLS_ERR_NET_* codes only (no MBEDTLS_NET_C needed)
#include "mbedtls/platform_time.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509.h"
#include "mbedtls_status.hpp"
#include "saved_session.hpp"
#include "session_setup.hpp"
#include "tlsgen_profile.hpp"

namespace tlsgen {
namespace {

bool is_want(int ret) { return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE; }

int clamp_to_int(std::size_t n) { return n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n); }

}  // namespace

SslUdpStack::~SslUdpStack() {
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    if (sessions_[i].state_ != DtlsSession::State::kFree && sessions_[i].owner_ == this) {
      (void)close(static_cast<Socket>(i));
    }
  }
}

DtlsSession* SslUdpStack::session(Socket socket) {
  if (socket < 0 || static_cast<std::size_t>(socket) >= sessions_.size()) {
    return nullptr;
  }
  DtlsSession& s = sessions_[static_cast<std::size_t>(socket)];
  return s.state_ == DtlsSession::State::kFree || s.owner_ != this ? nullptr : &s;
}

const DtlsSession* SslUdpStack::session(Socket socket) const {
  return const_cast<SslUdpStack*>(this)->session(socket);
}

Result<Socket> SslUdpStack::open(Mode mode) {
  if (!profile::kDatagram) {
    return Status(Code::kFailedPrecondition);  // the profile is not a DTLS profile (tls.transport: stream)
  }
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    DtlsSession& s = sessions_[i];
    if (s.state_ != DtlsSession::State::kFree) {
      continue;
    }
    const Result<Socket> inner = transport_.open(mode);
    if (!inner.ok()) {
      return inner.status();
    }
    s.owner_ = this;
    s.inner_ = inner.value();
    s.state_ = DtlsSession::State::kOpen;
    s.mode_ = mode;
    s.ssl_initialized_ = false;
    s.error_ = Status::Ok();
    s.transport_status_ = Status::Ok();
    s.timer_fin_ms_ = 0;
    s.read_wait_ms_ = kAsTheModeSays;
    s.stats_ = DtlsStats{};
    s.offered_ = {};
    s.offer_applied_ = false;
    s.offered_id_ = {};
    s.established_ms_ = 0;
    return static_cast<Socket>(i);
  }
  return Status(Code::kResourceExhausted);
}

Status SslUdpStack::fail(DtlsSession& s, int mbedtls_error) {
  s.state_ = DtlsSession::State::kFailed;
  // A transport failure underneath (a peer's "port unreachable", a dead modem link) says more than mbedTLS's
  // MBEDTLS_ERR_NET_* code for it.
  const bool transport = mbedtls_error == MBEDTLS_ERR_NET_RECV_FAILED || mbedtls_error == MBEDTLS_ERR_NET_SEND_FAILED;
  s.error_ = transport && !s.transport_status_.ok() ? s.transport_status_
                                                    : detail::mbedtls_status(mbedtls_error, s.heap_failures_);
  return s.error_;
}

Status SslUdpStack::start_dtls(DtlsSession& s, const char* host) {
  s.heap_failures_ = detail::heap_failures();
  // The saved session goes into the handshake (mbedtls_ssl_set_session copies it); the loaded copy is freed, and
  // zeroised by mbedTLS, before this returns.
  mbedtls_ssl_session saved;
  mbedtls_ssl_session_init(&saved);
  struct Wipe {
    mbedtls_ssl_session& session;
    ~Wipe() { mbedtls_ssl_session_free(&session); }
  } wipe{saved};
  const bool offer = !s.offered_.empty();
  int ret = 0;
  if (offer) {
    ret = detail::load_offer(saved, s.offered_);  // checked by offer_session()
    s.offered_ = {};
  }
  mbedtls_ssl_init(&s.ssl_);
  s.ssl_initialized_ = true;
  if (ret != 0) {
    return fail(s, ret);
  }
  ret = detail::setup_session(s.ssl_, config_.native(), config_, host);
  if (ret != 0) {
    return fail(s, ret);
  }
  mbedtls_ssl_set_bio(&s.ssl_, &s, bio_send, nullptr, bio_recv_timeout);
  mbedtls_ssl_set_timer_cb(&s.ssl_, &s, timer_set, timer_get);
#if defined(MBEDTLS_SSL_PROTO_DTLS)
  static_assert(profile::kDtlsMtu <= UINT16_MAX, "tls.dtls.mtu is at most 16384");
  mbedtls_ssl_set_mtu(&s.ssl_, static_cast<std::uint16_t>(profile::kDtlsMtu));
#endif
  if (offer) {
    ret = mbedtls_ssl_set_session(&s.ssl_, &saved);
    if (ret != 0) {
      return fail(s, ret);
    }
    s.offer_applied_ = true;
  }
  return Status::Ok();
}

Status SslUdpStack::connect(Socket socket, const char* host, std::uint16_t port) {
  DtlsSession* s = session(socket);
  if (s == nullptr || host == nullptr || port == 0) {
    return Status(Code::kInvalidArgument);
  }
  switch (s->state_) {
    case DtlsSession::State::kOpen: {
      const Status peer = transport_.connect(s->inner_, host, port);
      if (!peer.ok()) {
        return peer;  // nothing of DTLS has started: connect() may be called again
      }
      const Status started = start_dtls(*s, host);
      if (!started.ok()) {
        return started;
      }
      s->state_ = DtlsSession::State::kHandshaking;
      s->handshake_start_ms_ = clock_.now_ms();
      return handshake(*s);
    }
    case DtlsSession::State::kHandshaking:
      return handshake(*s);
    case DtlsSession::State::kFailed:
      return s->error_;
    default:
      return Status(Code::kFailedPrecondition);  // connected already
  }
}

Status SslUdpStack::handshake(DtlsSession& s) {
  for (;;) {
    s.heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_handshake(&s.ssl_);
    if (ret == 0) {
      s.state_ = DtlsSession::State::kConnected;
      s.stats_.handshake_ms = clock_.now_ms() - s.handshake_start_ms_;
#if defined(MBEDTLS_HAVE_TIME)
      s.established_ms_ = static_cast<std::int64_t>(mbedtls_ms_time());  // a ticket came in this handshake
#endif
      return Status::Ok();
    }
    if (is_want(ret)) {
      if (s.mode_ == Mode::kNonBlocking) {
        return Status(Code::kWouldBlock);
      }
      continue;  // blocking: a retransmission was sent, or the BIO passed over a datagram; wait on
    }
    return fail(s, ret);  // MBEDTLS_ERR_SSL_TIMEOUT: the last flight went unanswered up to the maximum timeout
  }
}

IoResult SslUdpStack::send(Socket socket, std::span<const std::byte> datagram) {
  DtlsSession* s = session(socket);
  if (s == nullptr || (datagram.data() == nullptr && !datagram.empty())) {
    return {Status(Code::kInvalidArgument), 0};
  }
  if (s->state_ == DtlsSession::State::kFailed) {
    return {s->error_, 0};
  }
  if (s->state_ != DtlsSession::State::kConnected) {
    return {Status(Code::kFailedPrecondition), 0};
  }
  const int max_payload = mbedtls_ssl_get_max_out_record_payload(&s->ssl_);
  if (max_payload < 0 || datagram.size() > static_cast<std::size_t>(max_payload)) {
    return {Status(Code::kInvalidArgument, max_payload), 0};  // never split
  }
  for (;;) {
    s->heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_write(&s->ssl_, reinterpret_cast<const unsigned char*>(datagram.data()),
                                      datagram.size());
    if (ret >= 0) {
      return {Status::Ok(), datagram.size()};
    }
    if (is_want(ret)) {
      if (s->mode_ == Mode::kNonBlocking) {
        return {Status(Code::kWouldBlock), 0};
      }
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
      return {Status(Code::kTimeout, ret), 0};
    }
    return {fail(*s, ret), 0};
  }
}

IoResult SslUdpStack::receive(Socket socket, std::span<std::byte> buffer) {
  DtlsSession* s = session(socket);
  if (s == nullptr) {
    return {Status(Code::kInvalidArgument), 0};
  }
  return receive_record(*s, buffer, kAsTheModeSays);
}

IoResult SslUdpStack::receive_within(Socket socket, std::span<std::byte> buffer, std::uint32_t wait_ms) {
  DtlsSession* s = session(socket);
  if (s == nullptr) {
    return {Status(Code::kInvalidArgument), 0};
  }
  return receive_record(*s, buffer, wait_ms == kAsTheModeSays ? wait_ms - 1 : wait_ms);
}

IoResult SslUdpStack::receive_record(DtlsSession& s, std::span<std::byte> buffer, std::uint32_t wait_ms) {
  if (buffer.data() == nullptr && !buffer.empty()) {
    return {Status(Code::kInvalidArgument), 0};
  }
  switch (s.state_) {
    case DtlsSession::State::kConnected:
      break;
    case DtlsSession::State::kFailed:
    case DtlsSession::State::kPeerClosed:
      return {s.error_, 0};
    default:
      return {Status(Code::kFailedPrecondition), 0};
  }
  s.read_wait_ms_ = wait_ms;
  const std::uint32_t start = clock_.now_ms();
  for (;;) {
    s.heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_read(&s.ssl_, reinterpret_cast<unsigned char*>(buffer.data()),
                                     buffer.size());
    if (ret >= 0) {
      const std::size_t left = mbedtls_ssl_get_bytes_avail(&s.ssl_);
      if (left == 0) {
        return {Status::Ok(), static_cast<std::size_t>(ret)};
      }
      // The record was larger than `buffer`: drop the rest of it, and all of it for the caller (never cut).
      std::array<unsigned char, 64> scratch{};
      while (mbedtls_ssl_get_bytes_avail(&s.ssl_) != 0) {
        if (mbedtls_ssl_read(&s.ssl_, scratch.data(), scratch.size()) <= 0) {
          break;
        }
      }
      const std::size_t length = static_cast<std::size_t>(ret) + left;
      return {Status(Code::kResourceExhausted, length > INT32_MAX ? -1 : static_cast<std::int32_t>(length)), 0};
    }
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      s.state_ = DtlsSession::State::kPeerClosed;
      s.error_ = Status(Code::kClosed, 0);
      return {s.error_, 0};
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
      return {Status(Code::kTimeout), 0};  // retryable
    }
    if (is_want(ret)) {
      // Nothing for the application yet: in Mode::kNonBlocking (or a wait of 0) say so; otherwise something the
      // session passed over (a retransmitted server Finished, an alert) used part of the wait.
      const bool bounded = wait_ms != kAsTheModeSays;
      if ((!bounded && s.mode_ == Mode::kNonBlocking) || (bounded && clock_.now_ms() - start >= wait_ms)) {
        return {Status(bounded ? Code::kTimeout : Code::kWouldBlock), 0};
      }
      if (bounded) {
        s.read_wait_ms_ = wait_ms - (clock_.now_ms() - start);
      }
      continue;
    }
    return {fail(s, ret), 0};
  }
}

Status SslUdpStack::close(Socket socket) {
  DtlsSession* s = session(socket);
  if (s == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  if (s->state_ == DtlsSession::State::kConnected) {
    // One close_notify datagram, best effort (UDP: nothing waits for it).
    s->read_wait_ms_ = 0;
    (void)mbedtls_ssl_close_notify(&s->ssl_);
  }
  if (s->ssl_initialized_) {
    mbedtls_ssl_free(&s->ssl_);
    s->ssl_initialized_ = false;
    config_.end_of_session();
  }
  const Status closed = transport_.close(s->inner_);
  s->inner_ = kInvalidSocket;
  s->state_ = DtlsSession::State::kFree;
  s->owner_ = nullptr;
  return closed;
}

std::uint32_t SslUdpStack::verify_result(Socket socket) const {
  const DtlsSession* s = session(socket);
  if (s == nullptr || !s->ssl_initialized_) {
    return 0xFFFFFFFFu;
  }
  return mbedtls_ssl_get_verify_result(&s->ssl_);
}

const char* SslUdpStack::ciphersuite(Socket socket) const {
  const DtlsSession* s = session(socket);
  return s == nullptr || s->state_ != DtlsSession::State::kConnected ? "?" : mbedtls_ssl_get_ciphersuite(&s->ssl_);
}

const char* SslUdpStack::protocol(Socket socket) const {
  const DtlsSession* s = session(socket);
  return s == nullptr || s->state_ != DtlsSession::State::kConnected ? "?" : mbedtls_ssl_get_version(&s->ssl_);
}

std::size_t SslUdpStack::max_payload(Socket socket) const {
  const DtlsSession* s = session(socket);
  if (s == nullptr || s->state_ != DtlsSession::State::kConnected) {
    return 0;
  }
  const int n = mbedtls_ssl_get_max_out_record_payload(&s->ssl_);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

DtlsStats SslUdpStack::stats(Socket socket) const {
  const DtlsSession* s = session(socket);
  return s == nullptr ? DtlsStats{} : s->stats_;
}

Result<std::size_t> SslUdpStack::save_session(Socket socket, std::span<std::byte> out) const {
  const DtlsSession* s = session(socket);
  return detail::save_session(s == nullptr ? nullptr : &s->ssl_,
                              s != nullptr && (s->state_ == DtlsSession::State::kConnected ||
                                               s->state_ == DtlsSession::State::kPeerClosed),
                              s == nullptr ? 0 : s->established_ms_, out);
}

Status SslUdpStack::offer_session(Socket socket, std::span<const std::byte> saved) {
  DtlsSession* s = session(socket);
  std::span<const std::byte> unused;
  return detail::offer_session(s != nullptr, s != nullptr && s->state_ == DtlsSession::State::kOpen, saved,
                               s != nullptr ? s->offered_ : unused);
}

bool SslUdpStack::resumed(Socket socket) const {
  const DtlsSession* s = session(socket);
  return s != nullptr && s->offer_applied_ &&
         (s->state_ == DtlsSession::State::kConnected || s->state_ == DtlsSession::State::kPeerClosed) &&
         s->offered_id_.echoed_by(s->ssl_);
}

Status SslUdpStack::transport_status(Socket socket) const {
  const DtlsSession* s = session(socket);
  return s == nullptr ? Status(Code::kInvalidArgument) : s->transport_status_;
}

mbedtls_ssl_context* SslUdpStack::native(Socket socket) {
  DtlsSession* s = session(socket);
  return s == nullptr || !s->ssl_initialized_ ? nullptr : &s->ssl_;
}

std::size_t SslUdpStack::open_count() const {
  std::size_t n = 0;
  for (const DtlsSession& s : sessions_) {
    n += s.state_ != DtlsSession::State::kFree && s.owner_ == this ? 1 : 0;
  }
  return n;
}

// ---- mbedTLS callbacks -------------------------------------------------------------------------------

// A send the transport holds up because its receive side is full (kResourceExhausted: the ESP8266 modem's answer
// waits behind datagrams nobody has read, Esp8266AtUdp's kRxBlockedDetail) is retried with the same datagram once
// one queued datagram has been taken out and dropped: to DTLS a lost datagram, which its retransmission recovers
// (sweep m9972-0166: the server's retransmitted flight filled the modem's ring while the client computed its own).
int SslUdpStack::bio_send(void* ctx, const unsigned char* buf, std::size_t len) {
  auto& s = *static_cast<DtlsSession*>(ctx);
  UdpStack& transport = s.owner_->transport_;
  IoResult r;
  for (std::size_t drained = 0;; ++drained) {
    r = transport.send(s.inner_, std::span(reinterpret_cast<const std::byte*>(buf), len));
    if (r.status.code() != Code::kResourceExhausted || drained == kMaxDrained) {
      break;
    }
    std::array<std::byte, 1> scratch{};  // any datagram is larger: the transport drops it (never cut)
    const IoResult d = transport.receive_within(s.inner_, scratch, 0);
    if (d.status.code() != Code::kResourceExhausted && !d.ok()) {
      break;  // nothing queued to drop: the send stays refused
    }
    ++s.stats_.datagrams_received;
    ++s.stats_.congestion_dropped;
  }
  if (r.ok()) {
    ++s.stats_.datagrams_sent;
    return clamp_to_int(r.size);
  }
  if (r.status.code() == Code::kWouldBlock) {
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  s.transport_status_ = r.status;
  if (r.status.code() == Code::kTimeout) {
    return MBEDTLS_ERR_SSL_TIMEOUT;
  }
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

// mbedTLS passes its retransmission timeout during the handshake and the configuration's read timeout (0:
// none) after it. The wait used here: during the handshake, what is left of the timer (mbedTLS has armed it
// for the flight it sent; Mode::kNonBlocking does not wait, mbedTLS checks the timer on the next call); after
// it, the wait receive()/receive_within() asked for.
int SslUdpStack::bio_recv_timeout(void* ctx, unsigned char* buf, std::size_t len, std::uint32_t timeout_ms) {
  auto& s = *static_cast<DtlsSession*>(ctx);
  SslUdpStack& self = *s.owner_;
  const bool handshaking = s.state_ == DtlsSession::State::kHandshaking;
  if (s.offer_applied_ && handshaking && s.ssl_.MBEDTLS_PRIVATE(state) == MBEDTLS_SSL_SERVER_HELLO) {
    // A ClientHello went out and the ServerHello is awaited: the session ID it carried is what a resuming server
    // echoes (taken again after a HelloVerifyRequest, whose answer is a new ClientHello).
    s.offered_id_.take(s.ssl_);
  }
  std::uint32_t wait = 0;
  bool by_mode = false;
  if (handshaking) {
    if (s.mode_ == Mode::kBlocking) {
      const std::uint32_t elapsed = self.clock_.now_ms() - s.timer_start_ms_;
      wait = s.timer_fin_ms_ == 0 ? timeout_ms : (elapsed >= s.timer_fin_ms_ ? 0 : s.timer_fin_ms_ - elapsed);
    }
  } else if (s.read_wait_ms_ == kAsTheModeSays) {
    by_mode = true;
  } else {
    wait = s.read_wait_ms_;
  }
  const std::span<std::byte> into(reinterpret_cast<std::byte*>(buf), len);
  const std::uint32_t start = self.clock_.now_ms();
  for (;;) {
    const std::uint32_t spent = self.clock_.now_ms() - start;
    const IoResult r = by_mode ? self.transport_.receive(s.inner_, into)
                               : self.transport_.receive_within(s.inner_, into, spent >= wait ? 0 : wait - spent);
    if (r.ok()) {
      ++s.stats_.datagrams_received;
      if (r.size == 0) {
        ++s.stats_.empty_dropped;  // mbedTLS would take 0 for the end of the stream
        continue;
      }
      // A HelloVerifyRequest (RFC 6347 4.2.1): a plaintext handshake record (type 22, epoch 0) whose message is
      // of type 3; mbedTLS answers it with a ClientHello carrying the cookie. Counted for stats() only.
      if (handshaking && r.size > 13 && buf[0] == 22 && buf[3] == 0 && buf[4] == 0 && buf[13] == 3) {
        ++s.stats_.hello_verify_requests;
      }
      return clamp_to_int(r.size);
    }
    switch (r.status.code()) {
      case Code::kResourceExhausted:  // larger than the receive buffer: the transport dropped it
        ++s.stats_.datagrams_received;
        ++s.stats_.oversize_dropped;
        continue;
      case Code::kWouldBlock:
        return MBEDTLS_ERR_SSL_WANT_READ;
      case Code::kTimeout:
        // During a handshake in Mode::kNonBlocking, "nothing yet" is a want: mbedTLS's timer decides when to
        // retransmit.
        return handshaking && s.mode_ == Mode::kNonBlocking ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_TIMEOUT;
      default:
        s.transport_status_ = r.status;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
  }
}

void SslUdpStack::timer_set(void* ctx, std::uint32_t int_ms, std::uint32_t fin_ms) {
  auto& s = *static_cast<DtlsSession*>(ctx);
  s.timer_start_ms_ = s.owner_->clock_.now_ms();
  s.timer_int_ms_ = int_ms;
  s.timer_fin_ms_ = fin_ms;
}

// mbedTLS's contract (mbedtls_ssl_get_timer_t): -1 cancelled, 0 no delay passed, 1 the intermediate one, 2 the
// final one.
int SslUdpStack::timer_get(void* ctx) {
  auto& s = *static_cast<DtlsSession*>(ctx);
  if (s.timer_fin_ms_ == 0) {
    return -1;
  }
  const std::uint32_t elapsed = s.owner_->clock_.now_ms() - s.timer_start_ms_;
  return elapsed >= s.timer_fin_ms_ ? 2 : elapsed >= s.timer_int_ms_ ? 1 : 0;
}

}  // namespace tlsgen
