/* MBEDTLS_USER_CONFIG_FILE for the stock-config handshake firmware: the bench's bare-metal
 * adaptation (../footprint/stock_baremetal.h) plus the platform memory hooks, so the stock configs
 * allocate from the same tlsgen::Heap and their peak is measured the same way. */
#include "stock_baremetal.h"
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
