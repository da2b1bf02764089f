// Internal to SslTcpStack and SslUdpStack (their session slots hold one): the session ID a resuming ClientHello
// carried. Not an interface of its own.
#pragma once

#include <array>
#include <cstddef>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"

namespace tlsgen::detail {

// The session ID a ClientHello carries while the handshake waits for the ServerHello (the saved one, or with a
// ticket the random one mbedTLS made, RFC 5077 3.4): what a resuming server echoes. Taken by the stacks' BIO.
struct OfferedId {
  std::array<unsigned char, 32> id{};
  std::size_t len = 0;
  bool taken = false;

  void take(const mbedtls_ssl_context& ssl);
  // RFC 5246 7.4.1.3, RFC 5077 3.4: a server resumes by echoing the offered session ID (a full handshake gets a
  // new one, or none).
  bool echoed_by(const mbedtls_ssl_context& ssl) const;
};

}  // namespace tlsgen::detail
