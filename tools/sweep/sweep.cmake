# Build pieces of the profile sweep (tools/sweep): one test program per sampled profile, through the same
# one-call integration any user has (tlsgen_add_library). Included by the sweep's generated build trees
# and by tests/sweep (the fixed CI list).
include_guard(GLOBAL)
set(TLSGEN_SWEEP_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." CACHE INTERNAL "")

# Host: tests/integration's client for <profile>, with the host board hooks.
function(tlsgen_sweep_host_client id profile out_dir)
  tlsgen_add_library(sweep_${id} PROFILE "${profile}" OUTPUT_DIR "${out_dir}" HOOKS tlsgen_board_host)
  add_executable(sweep_client_${id} "${TLSGEN_SWEEP_ROOT}/tests/integration/tls_client.cpp")
  target_link_libraries(sweep_client_${id} PRIVATE sweep_${id} tlsgen_runtime_posix)
  target_compile_options(sweep_client_${id} PRIVATE -Wall -Wextra -Werror)
  if(COMMAND tlsgen_sanitize)
    tlsgen_sanitize(sweep_client_${id})
    if(TLSGEN_SANITIZE)
      target_compile_options(sweep_client_${id} PRIVATE -fno-sanitize=vptr)
    endif()
  endif()
endfunction()

option(TLSGEN_SWEEP_TRACE "Sweep firmware writes its heap trace (heap-model calibration)" OFF)

# Cortex-M (QEMU mps2-an386): the examples/qemu-esp8266 firmware for <profile>.
function(tlsgen_sweep_firmware id profile out_dir)
  tlsgen_add_library(sweep_${id} PROFILE "${profile}" OUTPUT_DIR "${out_dir}" HOOKS tlsgen_board_mps2_an386)
  add_executable(sweep_fw_${id} "${TLSGEN_SWEEP_ROOT}/examples/qemu-esp8266/main.cpp")
  target_link_libraries(sweep_fw_${id} PRIVATE sweep_${id} tlsgen_runtime_esp8266 tlsgen_board_mps2_an386)
  target_compile_options(sweep_fw_${id} PRIVATE -Wall -Wextra -Werror)
  if(TLSGEN_SWEEP_TRACE)
    target_compile_definitions(sweep_fw_${id} PRIVATE TLSGEN_FIRMWARE_TRACE)
  endif()
  tlsgen_check_ram(sweep_fw_${id} sweep_${id})
endfunction()
