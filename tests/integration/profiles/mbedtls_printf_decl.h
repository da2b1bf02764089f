/* Forced include (-include) for the mbedTLS build of the test-only debug profile host-debug-alpn.
 *
 * With MBEDTLS_DEBUG_C, mbedTLS 3.6.6's ssl_tls.c calls mbedtls_printf() (in
 * ssl_check_no_sig_alg_duplication()); with the generated MBEDTLS_PLATFORM_NO_STD_FUNCTIONS that is
 * libc's printf, declared nowhere (platform.h then includes no <stdio.h>). GCC hides the implicit
 * declaration because the macro comes from a system header; clang stops on it. A prototype alone,
 * not <stdio.h>: a forced <stdio.h> would come before the feature macros some mbedTLS sources define
 * first (entropy_poll.c's _GNU_SOURCE). To go once the generator gives debug profiles a printf hook. */
int printf(const char *format, ...);
