// Internal to runtime/src/ssl: what SslTcpStack and SslUdpStack do alike to a new session's mbedTLS context.
#pragma once

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "tlsgen/ssl_config.hpp"

namespace tlsgen::detail {

// mbedtls_ssl_setup() on `conf` (the record buffers come from the heap here), then SNI and the name the server's
// certificate must carry: the configured server name, else the host connected to. 0 or mbedTLS's error.
inline int setup_session(mbedtls_ssl_context& ssl, const mbedtls_ssl_config* conf, const SslConfig& config,
                         const char* host) {
  int ret = mbedtls_ssl_setup(&ssl, conf);
#if defined(MBEDTLS_X509_CRT_PARSE_C)
  if (ret == 0) {
    ret = mbedtls_ssl_set_hostname(&ssl, config.server_name() != nullptr ? config.server_name() : host);
  }
#else
  (void)config;
  (void)host;
#endif
  return ret;
}

}  // namespace tlsgen::detail
