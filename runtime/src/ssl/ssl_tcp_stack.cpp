// SslTcpStack: TLS sessions in caller-provided slots over any TcpStack.
//
// The only place where transport results become mbedTLS BIO codes is bio_send/bio_recv below, and
// the only place where mbedTLS codes become tlsgen Status values is to_status().
#include "tlsgen/ssl_tcp_stack.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

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

std::size_t clamp_to_int(std::size_t len) {
  return len > static_cast<std::size_t>(INT_MAX) ? static_cast<std::size_t>(INT_MAX) : len;
}

// Bytes of an encrypted record still waiting in mbedTLS's output buffer (ssl->out_left). mbedTLS 3.6
// has no accessor for it; MBEDTLS_PRIVATE() is its own spelling for reaching a private field.
static_assert(MBEDTLS_VERSION_MAJOR == 3, "out_left is read as a private field of mbedTLS 3.x");
std::size_t unsent_output(const mbedtls_ssl_context& ssl) { return ssl.MBEDTLS_PRIVATE(out_left); }

// The error of a fatal alert mbedTLS has pended (its TLS 1.3 code does: MBEDTLS_SSL_PEND_FATAL_ALERT
// sets it and the alert is sent from the next handshake step), 0 if none. Once set, the handshake has
// failed, whether or not the alert got out: 3.6.6 sends an interrupted alert again after flushing it
// (ssl_prepare_handshake_step, then mbedtls_ssl_handle_pending_alert), so a transport that takes only
// every other write keeps it sending alerts forever; and after any other transport result (a timeout)
// it drops the pending alert and carries on with the handshake as if nothing had failed.
int pended_alert_reason(const mbedtls_ssl_context& ssl) { return ssl.MBEDTLS_PRIVATE(alert_reason); }

}  // namespace

// ---- transport -> mbedTLS (BIO callbacks) ----------------------------------------------------

// A deadline of the current operation that has passed: the BIO makes no more transport calls, and
// mbedTLS gets MBEDTLS_ERR_SSL_TIMEOUT, from which it resumes later (a partial record is kept).
bool SslTcpStack::deadline_passed(SslSession& s) {
  if (!s.deadline_armed_ || s.clock_ == nullptr) return false;
  if (s.clock_->now_ms() - s.deadline_start_ms_ < s.deadline_budget_ms_) return false;
  s.deadline_hit_ = true;
  return true;
}

void SslTcpStack::arm_deadline(SslSession& s, std::uint32_t start_ms, std::uint32_t budget_ms) {
  s.deadline_armed_ = budget_ms != 0 && s.clock_ != nullptr;
  s.deadline_hit_ = false;
  s.deadline_start_ms_ = start_ms;
  s.deadline_budget_ms_ = budget_ms;
}

int SslTcpStack::bio_send(void* ctx, const unsigned char* buf, std::size_t len) {
  SslSession& s = *static_cast<SslSession*>(ctx);
  if (deadline_passed(s)) return MBEDTLS_ERR_SSL_TIMEOUT;
  const IoResult r = s.transport_->write(
      s.inner_, std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf), clamp_to_int(len)));
  if (r.ok()) {
    if (r.size == 0 && len != 0) {  // a transport that accepts nothing without saying why
      s.transport_would_block_ = true;
      return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    return static_cast<int>(r.size);
  }
  s.transport_status_ = r.status;
  switch (r.status.code()) {
    case Code::kWouldBlock:
      s.transport_would_block_ = true;
      return MBEDTLS_ERR_SSL_WANT_WRITE;
    case Code::kTimeout:
      return MBEDTLS_ERR_SSL_TIMEOUT;
    case Code::kClosed:
      return MBEDTLS_ERR_SSL_CONN_EOF;  // nothing can be sent to a peer that is gone
    default:
      return MBEDTLS_ERR_NET_SEND_FAILED;
  }
}

int SslTcpStack::bio_recv(void* ctx, unsigned char* buf, std::size_t len) {
  SslSession& s = *static_cast<SslSession*>(ctx);
  if (s.offer_applied_ && !s.offered_id_.taken) {
    // The first read of a handshake comes after the ClientHello went out: the session ID it carried is what a
    // resuming server echoes.
    s.offered_id_.take(s.ssl_);
  }
  if (deadline_passed(s)) return MBEDTLS_ERR_SSL_TIMEOUT;
  const IoResult r =
      s.transport_->read(s.inner_, std::span<std::byte>(reinterpret_cast<std::byte*>(buf), clamp_to_int(len)));
  if (r.ok()) {
    if (r.size == 0) {
      s.transport_would_block_ = true;
      return MBEDTLS_ERR_SSL_WANT_READ;
    }
    return static_cast<int>(r.size);
  }
  s.transport_status_ = r.status;
  switch (r.status.code()) {
    case Code::kWouldBlock:
      s.transport_would_block_ = true;
      return MBEDTLS_ERR_SSL_WANT_READ;
    case Code::kTimeout:
      return MBEDTLS_ERR_SSL_TIMEOUT;
    case Code::kClosed:
      s.transport_eof_ = true;  // tells read() a 0 from mbedtls_ssl_read() is the end, not an empty record
      return 0;  // EOF: mbedTLS turns it into MBEDTLS_ERR_SSL_CONN_EOF (or 0 from mbedtls_ssl_read)
    default:
      return MBEDTLS_ERR_NET_RECV_FAILED;
  }
}

// ---- sessions ----------------------------------------------------------------------------------

SslTcpStack::~SslTcpStack() {
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    if (sessions_[i].state_ != SslSession::State::kFree) {
      (void)close(static_cast<Socket>(i));
    }
  }
}

SslSession* SslTcpStack::session(Socket socket) {
  if (socket < 0 || static_cast<std::size_t>(socket) >= sessions_.size()) {
    return nullptr;
  }
  SslSession& s = sessions_[static_cast<std::size_t>(socket)];
  return s.state_ == SslSession::State::kFree ? nullptr : &s;
}

const SslSession* SslTcpStack::session(Socket socket) const {
  if (socket < 0 || static_cast<std::size_t>(socket) >= sessions_.size()) {
    return nullptr;
  }
  const SslSession& s = sessions_[static_cast<std::size_t>(socket)];
  return s.state_ == SslSession::State::kFree ? nullptr : &s;
}

std::size_t SslTcpStack::open_count() const {
  std::size_t n = 0;
  for (const SslSession& s : sessions_) {
    n += s.state_ == SslSession::State::kFree ? 0U : 1U;
  }
  return n;
}

Result<Socket> SslTcpStack::open(Mode mode) {
  if (!config_.initialized()) {
    return Status(Code::kFailedPrecondition);
  }
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    SslSession& s = sessions_[i];
    if (s.state_ != SslSession::State::kFree) {
      continue;
    }
    const Result<Socket> inner = transport_.open(mode);
    if (!inner.ok()) {
      return inner.status();
    }
    s.transport_ = &transport_;
    s.inner_ = inner.value();
    s.state_ = SslSession::State::kOpen;
    s.mode_ = mode;
    s.ssl_initialized_ = false;
    s.transport_would_block_ = false;
    s.error_ = Status::Ok();
    s.transport_status_ = Status::Ok();
    s.pending_write_ = 0;
    s.handshake_budget_ms_ = s.read_budget_ms_ = 0;
    s.handshake_started_ = s.deadline_armed_ = s.deadline_hit_ = false;
    s.clock_ = nullptr;
    s.offered_ = {};
    s.offer_applied_ = false;
    s.offered_id_ = {};
    s.established_ms_ = 0;
    s.psk_only_offer_ = false;
    return static_cast<Socket>(i);
  }
  return Status(Code::kResourceExhausted);
}

Status SslTcpStack::fail(SslSession& s, int mbedtls_error) {
  s.state_ = SslSession::State::kFailed;
  s.error_ = detail::mbedtls_status(mbedtls_error, s.heap_failures_);
  return s.error_;
}

// mbedTLS context for a session: record buffers come from the heap here.
Status SslTcpStack::start_tls(SslSession& s, const char* host) {
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
  const mbedtls_ssl_config* conf = config_.native();
#if defined(TLSGEN_RESUME_PSK_KE_ONLY)
  s.psk_only_offer_ = offer && ret == 0 && saved.MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3;
  if (s.psk_only_offer_) {
    psk_only_conf_ = *config_.native();
    mbedtls_ssl_conf_tls13_key_exchange_modes(&psk_only_conf_, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK);
    conf = &psk_only_conf_;
  }
#endif
  mbedtls_ssl_init(&s.ssl_);
  s.ssl_initialized_ = true;
  if (ret != 0) {
    return fail(s, ret);
  }
  ret = detail::setup_session(s.ssl_, conf, config_, host);
  if (ret != 0) {
    return fail(s, ret);
  }
  mbedtls_ssl_set_bio(&s.ssl_, &s, bio_send, bio_recv, nullptr);
  if (offer) {
    ret = mbedtls_ssl_set_session(&s.ssl_, &saved);
    if (ret != 0) {
      return fail(s, ret);
    }
    s.offer_applied_ = true;
  }
  return Status::Ok();
}

// A handshake that offered a TLS 1.3 ticket by psk_ke alone failed (the server did not take the ticket, and the
// ClientHello had no key share for a full handshake): the session starts over on a new transport connection,
// offering nothing. The handshake deadline keeps counting from the first attempt.
Status SslTcpStack::restart_without_offer(SslSession& s) {
  if (s.ssl_initialized_) {
    mbedtls_ssl_free(&s.ssl_);
    s.ssl_initialized_ = false;
  }
  (void)transport_.close(s.inner_);
  s.inner_ = kInvalidSocket;
  const Result<Socket> inner = transport_.open(s.mode_);
  if (!inner.ok()) {
    s.error_ = inner.status();
    s.transport_status_ = inner.status();
    return s.error_;  // state stays kFailed; close() frees the slot
  }
  s.inner_ = inner.value();
  s.state_ = SslSession::State::kOpen;
  s.error_ = Status::Ok();
  s.transport_status_ = Status::Ok();
  s.pending_write_ = 0;
  s.offer_applied_ = s.psk_only_offer_ = false;
  s.offered_id_ = {};
  return Status::Ok();
}

Status SslTcpStack::handshake(SslSession& s) {
  if (!s.handshake_started_) {
    s.handshake_started_ = true;
    s.handshake_start_ms_ = s.clock_ != nullptr ? s.clock_->now_ms() : 0;
  }
  arm_deadline(s, s.handshake_start_ms_, s.handshake_budget_ms_);
  for (;;) {
    s.transport_would_block_ = false;
    s.heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_handshake(&s.ssl_);
    if (ret == 0) {
      s.deadline_armed_ = false;
      s.state_ = SslSession::State::kConnected;
#if defined(MBEDTLS_HAVE_TIME)
      s.established_ms_ = static_cast<std::int64_t>(mbedtls_ms_time());  // a TLS 1.2 ticket came in this handshake
#endif
      return Status::Ok();
    }
    if ((is_want(ret) || ret == MBEDTLS_ERR_SSL_TIMEOUT) && pended_alert_reason(s.ssl_) != 0) {
      // Failed already; only the alert is still on its way. It is best effort, like close_notify: the
      // session fails now with the alert's reason, and close() drops the unsent record.
      s.deadline_armed_ = false;
      return fail(s, pended_alert_reason(s.ssl_));
    }
    if (s.deadline_hit_ || (s.deadline_armed_ && deadline_passed(s))) {
      s.deadline_armed_ = false;
      s.state_ = SslSession::State::kFailed;  // the whole handshake had its time: over, like a failure
      s.error_ = kHandshakeDeadlineExpired;
      return s.error_;
    }
    if (is_want(ret)) {
      // Blocking transports wait themselves; mbedTLS may still ask to be called again (it did not
      // touch the transport in that case), so only a transport that would block ends the loop.
      if (s.mode_ == Mode::kNonBlocking || s.transport_would_block_) {
        return Status(Code::kWouldBlock);
      }
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
      return Status(Code::kTimeout, ret);
    }
    return fail(s, ret);
  }
}

Status SslTcpStack::connect(Socket socket, const char* host, std::uint16_t port) {
  SslSession* s = session(socket);
  if (s == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  switch (s->state_) {
    case SslSession::State::kOpen: {
      if (host == nullptr || port == 0) {
        return Status(Code::kInvalidArgument);
      }
      const Status tls = start_tls(*s, host);
      if (!tls.ok()) {
        return tls;
      }
      s->state_ = SslSession::State::kTcpConnecting;
      [[fallthrough]];
    }
    case SslSession::State::kTcpConnecting: {
      const Status tcp = transport_.connect(s->inner_, host, port);
      if (!tcp.ok()) {
        if (tcp.code() != Code::kWouldBlock && tcp.code() != Code::kTimeout) {
          s->state_ = SslSession::State::kFailed;
          s->error_ = tcp;
          s->transport_status_ = tcp;
        }
        return tcp;
      }
      s->state_ = SslSession::State::kHandshaking;
      [[fallthrough]];
    }
    case SslSession::State::kHandshaking: {
      const Status hs = handshake(*s);
      if (!s->psk_only_offer_ || s->state_ != SslSession::State::kFailed || hs == kHandshakeDeadlineExpired ||
          hs.code() == Code::kResourceExhausted) {
        return hs;
      }
      const Status again = restart_without_offer(*s);
      if (!again.ok()) {
        return again;
      }
      return connect(socket, host, port);  // once: nothing is offered now
    }
    case SslSession::State::kFailed:
      return s->error_;
    case SslSession::State::kConnected:
    case SslSession::State::kPeerClosed:
    case SslSession::State::kFree:
      break;
  }
  return Status(Code::kFailedPrecondition);
}

// ---- data ------------------------------------------------------------------------------------

IoResult SslTcpStack::write(Socket socket, std::span<const std::byte> data) {
  SslSession* s = session(socket);
  if (s == nullptr || (data.data() == nullptr && !data.empty())) {
    return {Status(Code::kInvalidArgument), 0};
  }
  switch (s->state_) {
    case SslSession::State::kConnected:
      break;
    case SslSession::State::kFailed:
      return {s->error_, 0};
    case SslSession::State::kPeerClosed:
      return {s->error_, 0};  // how the peer's side ended: kTlsCleanClose or kTlsTruncatedClose
    default:
      return {Status(Code::kFailedPrecondition), 0};
  }
  if (data.empty()) {
    return {Status::Ok(), 0};
  }
  // A record from an earlier call that returned kWouldBlock/kTimeout holds the first pending_write_
  // bytes of `data`, already encrypted.
  std::size_t len = data.size();
  if (s->pending_write_ != 0) {
    if (data.size() < s->pending_write_) {
      return {Status(Code::kInvalidArgument), 0};
    }
    if (unsent_output(s->ssl_) == 0) {
      // The record has gone out meanwhile: mbedTLS flushes a pending record whenever it sends
      // something else (mbedtls_ssl_send_alert_message() starts with mbedtls_ssl_flush_output() when
      // out_left != 0; a TLS 1.2 read() refusing a HelloRequest goes through it). Calling
      // mbedtls_ssl_write() now would encrypt the same bytes into a second record: the write is done.
      const std::size_t done = s->pending_write_;
      s->pending_write_ = 0;
      return {Status::Ok(), done};
    }
    // Still unsent: mbedTLS must be called with the same length again and only finishes that record.
    len = s->pending_write_;
  }
  s->deadline_armed_ = false;  // writes: the transport's own timeout per call (not a deadline)
  for (;;) {
    s->transport_would_block_ = false;
    s->heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_write(&s->ssl_, reinterpret_cast<const unsigned char*>(data.data()), len);
    if (ret >= 0) {
      s->pending_write_ = 0;
      return {Status::Ok(), static_cast<std::size_t>(ret)};
    }
    if (is_want(ret) || ret == MBEDTLS_ERR_SSL_TIMEOUT) {
      // Only a record left in the output buffer is pending (out_left != 0); a want without one
      // queued nothing, and the next call simply starts over with the caller's bytes.
      if (s->pending_write_ == 0 && unsent_output(s->ssl_) != 0) {
        const int max_payload = mbedtls_ssl_get_max_out_record_payload(&s->ssl_);
        s->pending_write_ = (max_payload > 0 && len > static_cast<std::size_t>(max_payload))
                                ? static_cast<std::size_t>(max_payload)
                                : len;
        len = s->pending_write_;
      }
      if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        return {Status(Code::kTimeout, ret), 0};
      }
      if (s->mode_ == Mode::kNonBlocking || s->transport_would_block_) {
        return {Status(Code::kWouldBlock), 0};
      }
      continue;
    }
    return {fail(*s, ret), 0};
  }
}

IoResult SslTcpStack::read(Socket socket, std::span<std::byte> buffer) {
  SslSession* s = session(socket);
  if (s == nullptr || buffer.empty() || buffer.data() == nullptr) {
    return {Status(Code::kInvalidArgument), 0};
  }
  switch (s->state_) {
    case SslSession::State::kConnected:
      break;
    case SslSession::State::kFailed:
      return {s->error_, 0};
    case SslSession::State::kPeerClosed:
      return {s->error_, 0};  // kTlsCleanClose or kTlsTruncatedClose, again
    default:
      return {Status(Code::kFailedPrecondition), 0};
  }
  arm_deadline(*s, s->clock_ != nullptr ? s->clock_->now_ms() : 0, s->read_budget_ms_);
  for (;;) {
    if (s->deadline_hit_) {
      s->deadline_armed_ = false;
      return {kReadDeadlineExpired, 0};  // retryable: mbedTLS keeps what it has of the record
    }
    s->transport_would_block_ = false;
    s->transport_eof_ = false;
    s->heap_failures_ = detail::heap_failures();
    const int ret = mbedtls_ssl_read(&s->ssl_, reinterpret_cast<unsigned char*>(buffer.data()),
                                     clamp_to_int(buffer.size()));
    if (ret > 0) {
      s->deadline_armed_ = false;
      return {Status::Ok(), static_cast<std::size_t>(ret)};
    }
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT && s->deadline_hit_) {
      continue;  // reported at the top of the loop
    }
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      s->state_ = SslSession::State::kPeerClosed;
      s->error_ = kTlsCleanClose;
      return {s->error_, 0};
    }
    if (ret == 0 && !s->transport_eof_) {
      // A zero-length application data record (legal in TLS 1.2 and 1.3): mbedtls_ssl_read() skips
      // one and returns 0 for the next (ssl_msg.c, "OpenSSL sends empty messages"). Not the end of
      // the stream: read on. Bounded: mbedTLS fails the fourth empty record in a row itself
      // (MBEDTLS_ERR_SSL_INVALID_MAC, "possible DoS attack"), so this loops at most twice per call.
      continue;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
      // The transport ended (EOF or reset) without close_notify: mbedtls_ssl_read() turns
      // MBEDTLS_ERR_SSL_CONN_EOF into 0, at a record boundary or inside a record alike.
      s->state_ = SslSession::State::kPeerClosed;
      s->error_ = kTlsTruncatedClose;
      return {s->error_, 0};
    }
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
      continue;  // TLS 1.3 ticket signalled (only with ticket support compiled in): not data, read on
    }
    if (is_want(ret)) {
      if (s->mode_ == Mode::kNonBlocking || s->transport_would_block_) {
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

Status SslTcpStack::close(Socket socket) {
  SslSession* s = session(socket);
  if (s == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  // close_notify: best effort, one attempt (a non-blocking transport that cannot take the alert now
  // loses it). Also after the peer's own close_notify, which TLS asks us to answer.
  const bool clean_peer_close = s->state_ == SslSession::State::kPeerClosed && s->error_ == kTlsCleanClose;
  s->deadline_armed_ = false;
  if ((s->state_ == SslSession::State::kConnected || clean_peer_close) && s->pending_write_ == 0) {
    (void)mbedtls_ssl_close_notify(&s->ssl_);
  }
  if (s->ssl_initialized_) {
    mbedtls_ssl_free(&s->ssl_);  // record buffers, handshake state and peer certificate go back
    s->ssl_initialized_ = false;
    config_.end_of_session();
  }
  const Status closed = transport_.close(s->inner_);
  s->inner_ = kInvalidSocket;
  s->transport_ = nullptr;
  s->state_ = SslSession::State::kFree;
  s->error_ = Status::Ok();
  s->transport_status_ = Status::Ok();
  s->pending_write_ = 0;
  return closed;
}

// ---- introspection -------------------------------------------------------------------------

std::uint32_t SslTcpStack::verify_result(Socket socket) const {
  const SslSession* s = session(socket);
  if (s == nullptr || !s->ssl_initialized_) {
    return 0xFFFFFFFFU;
  }
  return mbedtls_ssl_get_verify_result(&s->ssl_);
}

const char* SslTcpStack::ciphersuite(Socket socket) const {
  const SslSession* s = session(socket);
  if (s == nullptr || (s->state_ != SslSession::State::kConnected && s->state_ != SslSession::State::kPeerClosed)) {
    return "?";
  }
  return mbedtls_ssl_get_ciphersuite(&s->ssl_);
}

const char* SslTcpStack::protocol(Socket socket) const {
  const SslSession* s = session(socket);
  if (s == nullptr || (s->state_ != SslSession::State::kConnected && s->state_ != SslSession::State::kPeerClosed)) {
    return "?";
  }
  return mbedtls_ssl_get_version(&s->ssl_);
}

const char* SslTcpStack::alpn_protocol(Socket socket) const {
#if defined(MBEDTLS_SSL_ALPN)
  const SslSession* s = session(socket);
  if (s == nullptr || (s->state_ != SslSession::State::kConnected && s->state_ != SslSession::State::kPeerClosed)) {
    return nullptr;
  }
  return mbedtls_ssl_get_alpn_protocol(&s->ssl_);
#else
  (void)socket;
  return nullptr;
#endif
}

Status SslTcpStack::set_deadlines(Socket socket, Clock* clock, std::uint32_t handshake_ms, std::uint32_t read_ms) {
  SslSession* s = session(socket);
  if (s == nullptr || clock == nullptr) {
    return Status(Code::kInvalidArgument);
  }
  s->clock_ = clock;
  s->handshake_budget_ms_ = handshake_ms;
  s->read_budget_ms_ = read_ms;
  return Status::Ok();
}

Result<std::size_t> SslTcpStack::save_session(Socket socket, std::span<std::byte> out) const {
  const SslSession* s = session(socket);
  return detail::save_session(s == nullptr ? nullptr : &s->ssl_,
                              s != nullptr && (s->state_ == SslSession::State::kConnected ||
                                               s->state_ == SslSession::State::kPeerClosed),
                              s == nullptr ? 0 : s->established_ms_, out);
}

Status SslTcpStack::offer_session(Socket socket, std::span<const std::byte> saved) {
  SslSession* s = session(socket);
  std::span<const std::byte> unused;
  return detail::offer_session(s != nullptr, s != nullptr && s->state_ == SslSession::State::kOpen, saved,
                               s != nullptr ? s->offered_ : unused);
}

bool SslTcpStack::resumed(Socket socket) const {
  const SslSession* s = session(socket);
  if (s == nullptr || !s->offer_applied_ ||
      (s->state_ != SslSession::State::kConnected && s->state_ != SslSession::State::kPeerClosed)) {
    return false;
  }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_X509_CRT_PARSE_C)
  if (mbedtls_ssl_get_version_number(&s->ssl_) == MBEDTLS_SSL_VERSION_TLS1_3) {
    // A TLS 1.3 handshake authenticated by the server's certificate (the only kind without the resumption PSK:
    // tlsgen's TLS 1.3 has no external PSK) keeps it (MBEDTLS_SSL_KEEP_PEER_CERTIFICATE, which TLS 1.3
    // requires); a resumed one received none, and a saved TLS 1.3 session carries none.
    return mbedtls_ssl_get_peer_cert(&s->ssl_) == nullptr;
  }
#endif
  return s->offered_id_.echoed_by(s->ssl_);
}

Status SslTcpStack::transport_status(Socket socket) const {
  const SslSession* s = session(socket);
  return s == nullptr ? Status(Code::kInvalidArgument) : s->transport_status_;
}

mbedtls_ssl_context* SslTcpStack::native(Socket socket) {
  SslSession* s = session(socket);
  return (s == nullptr || !s->ssl_initialized_) ? nullptr : &s->ssl_;
}

}  // namespace tlsgen
