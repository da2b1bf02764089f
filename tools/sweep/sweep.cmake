# Build pieces of the profile sweep (tools/sweep): one test program per sampled profile, through the same
# one-call integration any user has (tlsgen_add_library). Included by the sweep's generated build trees
# and by tests/sweep (the fixed CI list).
include_guard(GLOBAL)
set(TLSGEN_SWEEP_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." CACHE INTERNAL "")

# Host: tests/integration's client for <profile>, with the host board hooks.
# A DTLS profile (tls.transport: datagram) gets tests/integration's DTLS client instead.
function(tlsgen_sweep_host_client id profile out_dir)
  tlsgen_add_library(sweep_${id} PROFILE "${profile}" OUTPUT_DIR "${out_dir}" HOOKS tlsgen_board_host)
  set(client tls_client.cpp)
  file(STRINGS "${profile}" datagram_line REGEX "transport: *datagram")
  if(datagram_line)
    set(client dtls_client.cpp)
  endif()
  add_executable(sweep_client_${id} "${TLSGEN_SWEEP_ROOT}/tests/integration/${client}")
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

# Cortex-M: the examples/qemu-esp8266 firmware for <profile>, on the QEMU board of its target.cpu
# (boards/boards.cmake: microbit, mps2-an385/an386/an500/an505), or on [board] when given (the runner
# gives mps2-an385-armv6m for a cortex-m0plus profile too large for the microbit). The QEMU machine is
# the firmware's TLSGEN_QEMU_MACHINE property (the runner's --machine).
function(tlsgen_sweep_firmware id profile out_dir)
  include("${TLSGEN_SWEEP_ROOT}/boards/boards.cmake")
  tlsgen_profile_cpu("${profile}" cpu)
  if(ARGC GREATER 3)
    tlsgen_board(${ARGV3} board)
  else()
    tlsgen_board_for_cpu(${cpu} board machine)
  endif()
  get_target_property(machine ${board} TLSGEN_QEMU_MACHINE)
  tlsgen_runtime_target(esp8266 ${cpu} esp8266)
  tlsgen_add_library(sweep_${id} PROFILE "${profile}" OUTPUT_DIR "${out_dir}" HOOKS ${board})
  add_executable(sweep_fw_${id} "${TLSGEN_SWEEP_ROOT}/examples/qemu-esp8266/main.cpp")
  target_link_libraries(sweep_fw_${id} PRIVATE sweep_${id} ${esp8266} ${board})
  target_compile_options(sweep_fw_${id} PRIVATE -Wall -Wextra -Werror)
  set_property(TARGET sweep_fw_${id} PROPERTY TLSGEN_QEMU_MACHINE ${machine})
  # The link map: what each library puts in flash (bench/footprint/flash_fit.py fits tlsgen.flash from it).
  target_link_options(sweep_fw_${id} PRIVATE "LINKER:-Map=$<TARGET_FILE:sweep_fw_${id}>.map")
  if(TLSGEN_SWEEP_TRACE)
    target_compile_definitions(sweep_fw_${id} PRIVATE TLSGEN_FIRMWARE_TRACE)
  endif()
  tlsgen_check_ram(sweep_fw_${id} sweep_${id})
  # The same firmware reconnecting with its saved session (TLSGEN_DEMO_RESUME), which the runner runs for the
  # sessions of a profile with tls.resumption; the reference image above stays the one tlsgen.flash is fitted on.
  add_executable(sweep_fw_resume_${id} "${TLSGEN_SWEEP_ROOT}/examples/qemu-esp8266/main.cpp")
  target_compile_definitions(sweep_fw_resume_${id} PRIVATE TLSGEN_DEMO_RESUME=1)
  target_link_libraries(sweep_fw_resume_${id} PRIVATE sweep_${id} ${esp8266} ${board})
  target_compile_options(sweep_fw_resume_${id} PRIVATE -Wall -Wextra -Werror)
  set_property(TARGET sweep_fw_resume_${id} PROPERTY TLSGEN_QEMU_MACHINE ${machine})
endfunction()
