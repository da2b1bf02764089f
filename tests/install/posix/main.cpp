// A plain TCP user of tlsgen's runtime: PosixTcpStack alone, no TLS profile. Connecting to a port
// nothing listens on must fail cleanly with kUnavailable (ECONNREFUSED), and the handle must close.
#include <cstdio>

#include "tlsgen/posix_tcp_stack.hpp"

int main() {
  tlsgen::PosixTcpStack tcp(2000);
  auto socket = tcp.open(tlsgen::Mode::kBlocking);
  if (!socket.ok()) return 1;
  const tlsgen::Status st = tcp.connect(socket.value(), "127.0.0.1", 1);
  const bool refused = st.code() == tlsgen::Code::kUnavailable;
  const bool closed = tcp.close(socket.value()).ok() && tcp.open_count() == 0;
  std::printf("plain_tcp: connect to 127.0.0.1:1 -> %s (detail %d), closed %s\n", refused ? "kUnavailable" : "other",
              static_cast<int>(st.detail()), closed ? "yes" : "no");
  return refused && closed ? 0 : 1;
}
