/* Tiny mbedTLS config for the allocator bench: only mbedTLS's memory_buffer_alloc. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
