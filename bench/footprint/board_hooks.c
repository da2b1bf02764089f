/* Entropy, NV-seed and clock hooks for the footprint client: the same for every configuration measured.
 * (The image is measured, not run: a real board reads its TRNG / flash / timer here.) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int tlsgen_board_nv_seed_read(unsigned char *buf, size_t len);
int tlsgen_board_nv_seed_write(unsigned char *buf, size_t len);

int64_t mbedtls_ms_time(void);

static volatile unsigned char trng_register;
static volatile uint32_t timer_register;
static unsigned char nv_seed_store[64];

/* Weak: a profile with test_static entropy gets its (insecure) poll from the generated glue. */
__attribute__((weak)) int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    (void) data;
    for (size_t i = 0; i < len; i++) {
        output[i] = trng_register;
    }
    *olen = len;
    return 0;
}

int tlsgen_board_nv_seed_read(unsigned char *buf, size_t len)
{
    if (len > sizeof(nv_seed_store)) {
        return -1;
    }
    memcpy(buf, nv_seed_store, len);
    return 0;
}

int tlsgen_board_nv_seed_write(unsigned char *buf, size_t len)
{
    if (len > sizeof(nv_seed_store)) {
        return -1;
    }
    memcpy(nv_seed_store, buf, len);
    return 0;
}

/* platform.time ms_clock / calendar on bare metal: the board's millisecond clock (MBEDTLS_PLATFORM_MS_TIME_ALT).
 * Weak, like the poll above; only the profiles with a clock reference it. */
__attribute__((weak)) int64_t mbedtls_ms_time(void)
{
    return (int64_t) timer_register;
}
