/* MBEDTLS_USER_CONFIG_FILE for mbedTLS's stock configs in the footprint bench: the smallest change
 * that lets them build as a bare-metal TLS client, applied identically to each (the brief's
 * measured anchors were built the same way: client only, no SSL_SRV_C). */
#undef MBEDTLS_SSL_SRV_C          /* a client does not link the server */
#undef MBEDTLS_NET_C              /* no BSD sockets on bare metal */
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_FS_IO              /* no file system */
#undef MBEDTLS_PSA_ITS_FILE_C     /* needs FS_IO */
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#undef MBEDTLS_HAVE_TIME_DATE     /* no wall clock on the board (like time: none in the profiles) */
#undef MBEDTLS_HAVE_TIME          /* no mbedtls_ms_time() on bare metal without a board clock */
#define MBEDTLS_NO_PLATFORM_ENTROPY   /* no /dev/urandom */
#define MBEDTLS_ENTROPY_HARDWARE_ALT  /* the board's TRNG (board_hooks.c), as for tlsgen's profiles */
