# Board layer for QEMU mps2-an386 (Cortex-M4): include() this from a Cortex-M build, then link
# firmware with tlsgen_board_mps2_an386. Adds a provisioned NV seed (random bytes made at build time)
# to every image that links it.
include_guard(GLOBAL)
set(TLSGEN_BOARD_DIR "${CMAKE_CURRENT_LIST_DIR}")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/board")
add_custom_command(
  OUTPUT "${CMAKE_BINARY_DIR}/board/nv_seed_provisioned.c"
  COMMAND ${TLSGEN_PYTHON} "${TLSGEN_BOARD_DIR}/provision_nv_seed.py" "${CMAKE_BINARY_DIR}/board/nv_seed_provisioned.c"
  DEPENDS "${TLSGEN_BOARD_DIR}/provision_nv_seed.py"
  COMMENT "provisioning a random NV seed into the image")
add_library(tlsgen_board_mps2_an386 STATIC "${TLSGEN_BOARD_DIR}/board.cpp" "${TLSGEN_BOARD_DIR}/hardware_poll.cpp"
            "${TLSGEN_BOARD_DIR}/time.cpp" "${CMAKE_BINARY_DIR}/board/nv_seed_provisioned.c")
target_include_directories(tlsgen_board_mps2_an386 PUBLIC "${TLSGEN_BOARD_DIR}")
target_link_libraries(tlsgen_board_mps2_an386 PUBLIC tlsgen_runtime_core)
target_compile_options(tlsgen_board_mps2_an386 PRIVATE -Wall -Wextra -Werror)
target_link_options(tlsgen_board_mps2_an386 PUBLIC -T "${TLSGEN_BOARD_DIR}/linker.ld" -nostartfiles
                    -specs=nosys.specs)  # nano.specs and --gc-sections come from the toolchain file
