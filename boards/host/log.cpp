// platform.debug.level > 0 on a host: mbedtls_printf's text (the glue's printf hook) to stderr.
#include <cstddef>
#include <cstdio>

extern "C" void tlsgen_board_log(const char* text, std::size_t len) { std::fwrite(text, 1, len, stderr); }
