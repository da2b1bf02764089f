# tlsgen's QEMU Cortex-M boards, one per core of the schema, and the one place that maps a profile's
# target.cpu to its board, its QEMU machine and (through the board library) its compiler flags.
#
#   tlsgen_board_for_cpu(<cpu> <out_board_lib> <out_qemu_machine>)
#       <cpu>: a profile's target.cpu (cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33).
#       Sets <out_board_lib> to the board library (defined on first use) and <out_qemu_machine> to the
#       `qemu-system-arm -M` value. The board library carries the core's compiler and link flags
#       (INTERFACE, cmake/TlsgenCpu.cmake), its linker script and the runtime core for that core, so a
#       firmware that links it and a tlsgen_add_library() of a profile for that core gets everything right:
#
#         tlsgen_board_for_cpu(cortex-m7 board machine)           # board = tlsgen_board_mps2_an500
#         tlsgen_add_library(tls PROFILE p.yaml HOOKS ${board})
#         tlsgen_runtime_target(esp8266 cortex-m7 esp)            # tlsgen_runtime_esp8266_cortex_m7
#         add_executable(fw main.cpp)
#         target_link_libraries(fw PRIVATE tls ${esp} ${board})
#         # run: qemu-system-arm -M ${machine} ... (tests/qemu/run_qemu.py --machine ${machine})
#
#   tlsgen_board(<machine> <out_board_lib>)   the same by machine name
#
# Board table (QEMU 7.2): cortex-m0plus -> microbit (nRF51, a Cortex-M0: ARMv6-M like the M0+, which QEMU
# does not model), cortex-m3 -> mps2-an385, cortex-m4 -> mps2-an386, cortex-m7 -> mps2-an500,
# cortex-m33 -> mps2-an505. Every board adds a provisioned NV seed (random bytes made at build time) to
# the images that link it. Cross builds only (arm-none-eabi toolchain).
include_guard(GLOBAL)
set(TLSGEN_BOARDS_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "tlsgen's boards/")

set(TLSGEN_BOARD_cortex-m0plus microbit CACHE INTERNAL "")
set(TLSGEN_BOARD_cortex-m3 mps2-an385 CACHE INTERNAL "")
set(TLSGEN_BOARD_cortex-m4 mps2-an386 CACHE INTERNAL "")
set(TLSGEN_BOARD_cortex-m7 mps2-an500 CACHE INTERNAL "")
set(TLSGEN_BOARD_cortex-m33 mps2-an505 CACHE INTERNAL "")
# board -> "<core the image is built for>;<peripheral driver in boards/common>[;<QEMU machine>]" (the QEMU
# machine is the board's name unless given)
set(TLSGEN_BOARD_INFO_microbit "cortex-m0plus;nrf51" CACHE INTERNAL "")
set(TLSGEN_BOARD_INFO_mps2-an385 "cortex-m3;cmsdk" CACHE INTERNAL "")
set(TLSGEN_BOARD_INFO_mps2-an386 "cortex-m4;cmsdk" CACHE INTERNAL "")
set(TLSGEN_BOARD_INFO_mps2-an500 "cortex-m7;cmsdk" CACHE INTERNAL "")
set(TLSGEN_BOARD_INFO_mps2-an505 "cortex-m33;cmsdk" CACHE INTERNAL "")
# Not a core's default board: an ARMv6-M (cortex-m0plus) image on the mps2-an385, for M0+ profiles larger
# than the microbit's 16 KB (the profile sweep). Its QEMU machine is mps2-an385.
set(TLSGEN_BOARD_INFO_mps2-an385-armv6m "cortex-m0plus;cmsdk;mps2-an385" CACHE INTERNAL "")

function(tlsgen_board machine out_lib)
  if(NOT CMAKE_CROSSCOMPILING)
    message(FATAL_ERROR "tlsgen_board(${machine}): the QEMU boards need the arm-none-eabi toolchain")
  endif()
  if(NOT DEFINED TLSGEN_BOARD_INFO_${machine})
    message(FATAL_ERROR "tlsgen_board(${machine}): no such board (boards/boards.cmake)")
  endif()
  string(MAKE_C_IDENTIFIER "${machine}" id)
  set(lib tlsgen_board_${id})
  if(NOT TARGET ${lib})
    list(GET TLSGEN_BOARD_INFO_${machine} 0 cpu)
    list(GET TLSGEN_BOARD_INFO_${machine} 1 driver)
    set(common "${TLSGEN_BOARDS_DIR}/common")
    set(seed "${CMAKE_BINARY_DIR}/board/nv_seed_provisioned.c")
    if(NOT TARGET tlsgen_board_nv_seed)
      file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/board")
      add_custom_command(OUTPUT "${seed}"
        COMMAND ${TLSGEN_PYTHON} "${common}/provision_nv_seed.py" "${seed}"
        DEPENDS "${common}/provision_nv_seed.py"
        COMMENT "provisioning a random NV seed into the image")
      add_custom_target(tlsgen_board_nv_seed DEPENDS "${seed}")
    endif()
    add_library(${lib} STATIC "${common}/board.cpp" "${common}/${driver}.cpp" "${common}/hardware_poll.cpp"
                "${common}/time.cpp" "${seed}")
    add_dependencies(${lib} tlsgen_board_nv_seed)
    target_include_directories(${lib} PUBLIC "${TLSGEN_BOARDS_DIR}/${machine}" "${common}")
    tlsgen_cpu_target(${cpu} cpu_lib)
    tlsgen_runtime_target(core ${cpu} runtime_core)
    target_link_libraries(${lib} PUBLIC ${cpu_lib} ${runtime_core})
    target_compile_options(${lib} PRIVATE -Wall -Wextra -Werror)
    # nano.specs and --gc-sections come from the toolchain file; -L: the board's linker.ld INCLUDEs sections.ld.
    target_link_options(${lib} PUBLIC -T "${TLSGEN_BOARDS_DIR}/${machine}/linker.ld" "-L${common}" -nostartfiles
                        -specs=nosys.specs)
    set_property(TARGET ${lib} PROPERTY TLSGEN_CPU "${cpu}")
    set(qemu_machine ${machine})
    list(LENGTH TLSGEN_BOARD_INFO_${machine} n)
    if(n GREATER 2)
      list(GET TLSGEN_BOARD_INFO_${machine} 2 qemu_machine)
    endif()
    set_property(TARGET ${lib} PROPERTY TLSGEN_QEMU_MACHINE "${qemu_machine}")
    set_property(TARGET ${lib} APPEND PROPERTY INTERFACE_LINK_DEPENDS
                 "${TLSGEN_BOARDS_DIR}/${machine}/linker.ld" "${common}/sections.ld")
  endif()
  set(${out_lib} ${lib} PARENT_SCOPE)
endfunction()

function(tlsgen_board_for_cpu cpu out_lib out_machine)
  if(NOT DEFINED TLSGEN_BOARD_${cpu})
    string(REPLACE ";" ", " cpus "${TLSGEN_CPUS}")
    message(FATAL_ERROR "tlsgen_board_for_cpu(${cpu}): no QEMU board for that core (boards for: ${cpus})")
  endif()
  set(machine ${TLSGEN_BOARD_${cpu}})
  tlsgen_board(${machine} lib)
  set(${out_lib} ${lib} PARENT_SCOPE)
  set(${out_machine} ${machine} PARENT_SCOPE)
endfunction()
