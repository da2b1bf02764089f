# The Cortex-M cores a profile's target.cpu names, and the compiler flags each one builds with.
#
# A build tree with the arm-none-eabi toolchain (cmake/toolchain-arm-none-eabi.cmake) builds every core:
# the toolchain file names no -mcpu, and each target gets its core's flags from one place, this table,
# through an INTERFACE library per core:
#
#   tlsgen_cpu_target(<cpu> <out_var>)   defines (once) and names the INTERFACE library tlsgen_cpu_<id>
#                                        whose compile and link options are <cpu>'s flags below
#   tlsgen_cpu_flags(<cpu> <out_var>)    the flags themselves, as a list
#
# tlsgen_add_library() links a profile's mbedTLS and glue to its target.cpu's library (and so does
# every program that links them); the runtime's libraries and the boards link theirs. A host build
# (no cross compiler) has no per-core flags: tlsgen_cpu_target() names an empty library there.
#
# TLSGEN_CPU names the core of this tree's unsuffixed runtime libraries (tlsgen::runtime_core,
# tlsgen::runtime_esp8266) and of a host-target profile compiled by a cross build: the core of a
# single-core firmware project. Other cores' runtime libraries are tlsgen_runtime_<component>_<id>
# (tlsgen_runtime_target()).
include_guard(GLOBAL)

# Float ABI: hard where the core has an FPU (M4: FPv4-SP; M7 and M33: FPv5, single precision, which
# every M7 and M33 with an FPU has), soft where it has none. tlsgen and mbedTLS use no floating point:
# the ABI only has to agree between the objects of one image and newlib's multilib.
set(TLSGEN_CPU_FLAGS_cortex-m0plus -mcpu=cortex-m0plus -mthumb -mfloat-abi=soft
    CACHE INTERNAL "ARMv6-M: Thumb-1 (+ a few Thumb-2 system instructions), no FPU, no unaligned access")
set(TLSGEN_CPU_FLAGS_cortex-m3 -mcpu=cortex-m3 -mthumb -mfloat-abi=soft
    CACHE INTERNAL "ARMv7-M: Thumb-2, UMULL, no DSP extension, no FPU")
set(TLSGEN_CPU_FLAGS_cortex-m4 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
    CACHE INTERNAL "ARMv7E-M: DSP extension (UMAAL), FPv4-SP")
set(TLSGEN_CPU_FLAGS_cortex-m7 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16
    CACHE INTERNAL "ARMv7E-M: DSP extension (UMAAL), FPv5 (single precision: every M7 with an FPU has it)")
set(TLSGEN_CPU_FLAGS_cortex-m33 -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16
    CACHE INTERNAL "ARMv8-M Mainline: DSP extension (UMAAL), FPv5-SP; TrustZone not used")
set(TLSGEN_CPUS cortex-m0plus cortex-m3 cortex-m4 cortex-m7 cortex-m33 CACHE INTERNAL "the Cortex-M cores of the schema")

if(CMAKE_CROSSCOMPILING)
  set(TLSGEN_CPU "cortex-m4" CACHE STRING
      "Core of the unsuffixed runtime libraries (tlsgen::runtime_core, tlsgen::runtime_esp8266) in a cross build")
  set_property(CACHE TLSGEN_CPU PROPERTY STRINGS ${TLSGEN_CPUS})
  if(NOT TLSGEN_CPU IN_LIST TLSGEN_CPUS)
    string(REPLACE ";" ", " _tlsgen_cpus "${TLSGEN_CPUS}")
    message(FATAL_ERROR "TLSGEN_CPU=${TLSGEN_CPU} is not a Cortex-M core tlsgen knows (allowed: ${_tlsgen_cpus})")
  endif()
endif()

function(tlsgen_cpu_flags cpu out)
  if(NOT DEFINED TLSGEN_CPU_FLAGS_${cpu})
    string(REPLACE ";" ", " cpus "${TLSGEN_CPUS}")
    message(FATAL_ERROR "tlsgen: no compiler flags for CPU '${cpu}' (known: ${cpus})")
  endif()
  set(${out} ${TLSGEN_CPU_FLAGS_${cpu}} PARENT_SCOPE)
endfunction()

# The core a cross build compiles a profile for: its target.cpu, or TLSGEN_CPU for a host-target profile
# (compiled, not run). Empty in a host build.
function(tlsgen_cpu_for_profile_cpu cpu out)
  if(NOT CMAKE_CROSSCOMPILING)
    set(${out} "" PARENT_SCOPE)
  elseif(cpu IN_LIST TLSGEN_CPUS)
    set(${out} "${cpu}" PARENT_SCOPE)
  else()
    set(${out} "${TLSGEN_CPU}" PARENT_SCOPE)
  endif()
endfunction()

function(tlsgen_cpu_target cpu out)
  if(NOT CMAKE_CROSSCOMPILING OR cpu STREQUAL "" OR cpu STREQUAL "host")
    if(NOT TARGET tlsgen_cpu_none)
      add_library(tlsgen_cpu_none INTERFACE)
    endif()
    set(${out} tlsgen_cpu_none PARENT_SCOPE)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "${cpu}" id)
  if(NOT TARGET tlsgen_cpu_${id})
    tlsgen_cpu_flags(${cpu} flags)
    add_library(tlsgen_cpu_${id} INTERFACE)
    target_compile_options(tlsgen_cpu_${id} INTERFACE ${flags})
    target_link_options(tlsgen_cpu_${id} INTERFACE ${flags})
    set_property(TARGET tlsgen_cpu_${id} PROPERTY TLSGEN_CPU "${cpu}")
  endif()
  set(${out} tlsgen_cpu_${id} PARENT_SCOPE)
endfunction()
