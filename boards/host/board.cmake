# Board layer for a host (Linux) build: the hooks a profile may ask the board for, each in its own
# object so an archive member is linked only where nothing else defines the hook (the generated glue
# defines mbedtls_hardware_poll itself for test_static entropy; a program may define its own log).
#   entropy: [hardware]  -> mbedtls_hardware_poll   (getrandom(2): the host's TRNG stand-in)
#   entropy: [nv_seed]   -> tlsgen_board_nv_seed_read / _write (a file: $TLSGEN_NV_SEED_FILE or nv_seed.bin)
#   debug.level > 0      -> tlsgen_board_log         (stderr)
#   time: ms_clock/calendar on a host needs no hook: mbedTLS reads the OS clock itself.
include_guard(GLOBAL)
set(TLSGEN_HOST_BOARD_DIR "${CMAKE_CURRENT_LIST_DIR}")
add_library(tlsgen_board_host STATIC "${TLSGEN_HOST_BOARD_DIR}/hardware_poll.cpp"
            "${TLSGEN_HOST_BOARD_DIR}/nv_seed.cpp" "${TLSGEN_HOST_BOARD_DIR}/log.cpp")
target_compile_options(tlsgen_board_host PRIVATE -Wall -Wextra -Werror)
