# tlsgen's CMake integration.
#
#   tlsgen_add_library(<name> PROFILE <profile.yaml> [OUTPUT_DIR <dir>] [STRICT] [HOOKS <libraries>...])
#
# HOOKS: libraries that define the board hooks the profile asks for (mbedtls_hardware_poll,
# tlsgen_board_nv_seed_read/_write, mbedtls_ms_time, tlsgen_board_time, tlsgen_board_log: see
# runtime/include/tlsgen/glue.hpp). They are linked after mbedTLS, so that mbedTLS's references to them
# resolve from a static library too.
#
# runs the generator at build time (again whenever the profile, a template or a generator source
# changes), builds mbedTLS with the generated config (one mbedTLS library per profile, cached in
# the build tree), and defines <name>: a static library carrying the generated glue, the per-profile
# runtime (SslPlatform, SslConfig, SslTcpStack) and the include directories, linked to mbedTLS and
# the core runtime. Works the same for host and arm-none-eabi toolchains, and the same whether this
# file comes from find_package(tlsgen), add_subdirectory(<tlsgen>) or FetchContent.
#
# STRICT (or -DTLSGEN_STRICT=ON for every library, e.g. in release builds) makes the build fail on any
# insecure opt-in of the profile (tlsgen generate --strict). Without it the generator still prints
# each insecure opt-in on every run.
#
# Everything the functions below read is a cache entry or a global, never a variable of the scope
# that included this file: a parent project calling tlsgen_add_library() after add_subdirectory()
# sees the same values.
include_guard(GLOBAL)

set(TLSGEN_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." CACHE INTERNAL "tlsgen source root")
get_filename_component(TLSGEN_ROOT "${TLSGEN_ROOT}" ABSOLUTE)
include("${CMAKE_CURRENT_LIST_DIR}/TlsgenMbedtls.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/TlsgenCpu.cmake")

option(TLSGEN_STRICT "Reject insecure profile opt-ins in every tlsgen_add_library() (release builds)" OFF)

# The generator runs at build time, with this Python: it needs the packages of python-requirements.txt
# (pydantic, Jinja2, PyYAML), whichever way tlsgen is consumed -- installed, add_subdirectory(), FetchContent.
find_package(Python3 3.9 REQUIRED COMPONENTS Interpreter)
set(TLSGEN_PYTHON "${Python3_EXECUTABLE}" CACHE INTERNAL "the Python that runs the tlsgen generator")
set(_tlsgen_requirements "${TLSGEN_ROOT}/cmake/python-requirements.txt")
execute_process(COMMAND ${TLSGEN_PYTHON} "${TLSGEN_ROOT}/cmake/check_python.py" "${_tlsgen_requirements}"
                RESULT_VARIABLE _tlsgen_py_rc OUTPUT_VARIABLE _tlsgen_py_missing ERROR_VARIABLE _tlsgen_py_err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _tlsgen_py_rc EQUAL 0 OR _tlsgen_py_missing)
  if(NOT _tlsgen_py_rc EQUAL 0)
    set(_tlsgen_py_missing "(the check itself failed: ${_tlsgen_py_err})")
  endif()
  string(REPLACE "\n" "\n    " _tlsgen_py_missing "${_tlsgen_py_missing}")
  set(_tlsgen_checkout "")
  if(EXISTS "${TLSGEN_ROOT}/scripts/deps.sh" AND EXISTS "${TLSGEN_ROOT}/.git")
    set(_tlsgen_checkout "\nIn a tlsgen checkout, scripts/deps.sh installs these and everything else the tests need.")
  endif()
  message(FATAL_ERROR "tlsgen: the generator runs at build time with ${TLSGEN_PYTHON}, which lacks:\n"
    "    ${_tlsgen_py_missing}\n"
    "Install them for that Python:\n"
    "    \"${TLSGEN_PYTHON}\" -m pip install -r \"${_tlsgen_requirements}\"\n"
    "or configure with a Python that has them (a virtual environment, say): "
    "-DPython3_EXECUTABLE=/path/to/python${_tlsgen_checkout}")
endif()

# Warnings and code-generation flags for the runtime (stricter than for tests).
set(TLSGEN_RUNTIME_WARNINGS -Wall -Wextra -Werror -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wcast-align -Wformat=2 -Wnull-dereference -Wimplicit-fallthrough -Wundef
    CACHE INTERNAL "warnings for tlsgen's runtime (stricter than for tests)")
function(tlsgen_runtime_flags target)
  target_compile_options(${target} PRIVATE ${TLSGEN_RUNTIME_WARNINGS}
    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti> -ffunction-sections -fdata-sections)
  tlsgen_sanitize(${target})
endfunction()

function(tlsgen_sanitize target)
  if(TLSGEN_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
    # -fno-sanitize=vptr: the runtime has no RTTI, so UBSan's vptr check cannot link against it.
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize=vptr
                                             -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

# The runtime's libraries, defined as soon as this file is included (find_package(tlsgen),
# add_subdirectory(<tlsgen>) or FetchContent), for whatever toolchain the build uses:
#   tlsgen::runtime_core     Heap, vsnprintf walker, Status (every tlsgen library links it)
#   tlsgen::runtime_posix    PosixTcpStack, hosts only: a host program over BSD sockets links it
#   tlsgen::runtime_esp8266  Esp8266AtStack over a byte UART (any target)
# A program can link them with or without a tlsgen_add_library(). They need C++: a project that has not
# enabled CXX when it includes tlsgen gets them with its first tlsgen_add_library() instead.
# In a cross build these are for the core TLSGEN_CPU names (cmake/TlsgenCpu.cmake); another core's copy
# is tlsgen_runtime_<component>_<core id>, made on demand: tlsgen_runtime_target() names either.
function(_tlsgen_add_runtime)
  if(NOT TARGET tlsgen_runtime_core)
    set(_tlsgen_runtime_suffix "")
    tlsgen_cpu_target("${TLSGEN_CPU}" _tlsgen_runtime_cpu)
    add_subdirectory("${TLSGEN_ROOT}/runtime" "${CMAKE_BINARY_DIR}/_tlsgen_runtime")
  endif()
endfunction()

# tlsgen_runtime_target(<component> <cpu> <out_var>): the runtime library <component> (core, esp8266,
# posix) built for <cpu> (a profile's target.cpu): the unsuffixed library in a host build, for a host
# profile and for TLSGEN_CPU; tlsgen_runtime_<component>_<core id> (defined here on first use) otherwise.
function(tlsgen_runtime_target component cpu out)
  _tlsgen_add_runtime()
  tlsgen_cpu_for_profile_cpu("${cpu}" cpu)
  if(cpu STREQUAL "" OR cpu STREQUAL TLSGEN_CPU)
    set(${out} tlsgen_runtime_${component} PARENT_SCOPE)
    return()
  endif()
  string(MAKE_C_IDENTIFIER "${cpu}" id)
  if(NOT TARGET tlsgen_runtime_core_${id})
    set(_tlsgen_runtime_suffix "_${id}")
    tlsgen_cpu_target("${cpu}" _tlsgen_runtime_cpu)
    add_subdirectory("${TLSGEN_ROOT}/runtime" "${CMAKE_BINARY_DIR}/_tlsgen_runtime_${id}")
  endif()
  set(${out} tlsgen_runtime_${component}_${id} PARENT_SCOPE)
endfunction()

# The generator command: the in-tree package, so a build never runs a stale installed copy.
set(TLSGEN_GENERATOR_COMMAND
    ${CMAKE_COMMAND} -E env "PYTHONPATH=${TLSGEN_ROOT}/generator" ${TLSGEN_PYTHON} -m tlsgen
    CACHE INTERNAL "command that runs the tlsgen generator")
# What every generation depends on besides the profile: the generator's sources and the templates.
file(GLOB_RECURSE _tlsgen_generator_depends CONFIGURE_DEPENDS
     "${TLSGEN_ROOT}/generator/tlsgen/*.py" "${TLSGEN_ROOT}/templates/*.jinja")
set(TLSGEN_GENERATOR_DEPENDS "${_tlsgen_generator_depends}" CACHE INTERNAL "generator sources and templates")

# tlsgen_generate(<name> PROFILE <file.yaml> OUTPUT_DIR <dir> [STRICT]): only the generation step: the
# three files in <dir>, regenerated when the profile, a template or the generator changes, and a
# target <name>_generate that builds them. tlsgen_add_library() uses it; use it alone when you want
# the generated files without tlsgen's libraries.
function(tlsgen_generate name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "STRICT" "PROFILE;OUTPUT_DIR" "")
  get_filename_component(profile "${arg_PROFILE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(out "${arg_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  set(generated "${out}/mbedtls_config.h" "${out}/tlsgen_profile.hpp" "${out}/tlsgen_glue.cpp")
  set(strict)
  if(arg_STRICT OR TLSGEN_STRICT)
    set(strict --strict)
  endif()
  # --quiet keeps the build log short; insecure opt-ins are printed all the same. The generator leaves a
  # file whose content did not change untouched, and the stamp is the command's output: when a generator
  # or template edit changes nothing in this profile's files, nothing that includes them is rebuilt.
  set(stamp "${out}/.tlsgen-generated.stamp")
  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS ${generated}
    COMMAND ${TLSGEN_GENERATOR_COMMAND} generate "${profile}" -o "${out}" --quiet ${strict}
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS "${profile}" ${TLSGEN_GENERATOR_DEPENDS}
    COMMENT "tlsgen: generating ${name} from ${arg_PROFILE}"
    VERBATIM)
  add_custom_target(${name}_generate DEPENDS "${stamp}")
endfunction()

# tlsgen_profile_cpu(<profile.yaml> <out_var>): the profile's target.cpu (`host` when it has none or does
# not parse: the generator reports that at build time), read at configure time; the profile is a
# configure dependency. With boards/boards.cmake's tlsgen_board_for_cpu() it picks a firmware's board.
function(tlsgen_profile_cpu profile out)
  get_filename_component(profile "${profile}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${profile}")
  execute_process(COMMAND ${TLSGEN_PYTHON} "${TLSGEN_ROOT}/cmake/profile_fields.py" "${profile}" --cpu
    OUTPUT_VARIABLE cpu RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    set(cpu host)
  endif()
  set(${out} "${cpu}" PARENT_SCOPE)
endfunction()

function(tlsgen_add_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "STRICT" "PROFILE;OUTPUT_DIR" "HOOKS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tlsgen_add_library(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS} "
                        "(allowed: PROFILE <file.yaml> [OUTPUT_DIR <dir>] [STRICT] [HOOKS <libraries>...])")
  endif()
  if(NOT arg_PROFILE)
    message(FATAL_ERROR "tlsgen_add_library(${name}): PROFILE <file.yaml> is required")
  endif()
  get_filename_component(profile "${arg_PROFILE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${profile}")
    message(FATAL_ERROR "tlsgen_add_library(${name}): profile ${profile} does not exist")
  endif()
  if(arg_OUTPUT_DIR)
    get_filename_component(out "${arg_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  else()
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}_generated")
  endif()
  set(strict)
  if(arg_STRICT)
    set(strict STRICT)
  endif()
  tlsgen_generate(${name} PROFILE "${arg_PROFILE}" OUTPUT_DIR "${out}" ${strict})

  # The runtime, from source, for whatever toolchain this build uses (also when tlsgen was installed);
  # normally already there (end of this file).
  _tlsgen_add_runtime()

  # mbedTLS built with this profile's config.
  tlsgen_mbedtls_sources(mbedtls_src mbedtls_dir)
  # runtime/src/ecp: what mbedTLS's ECP hooks (MBEDTLS_ECP_INTERNAL_ALT) call, when the generated config
  # asks for them (tlsgen.resolve.ecc: x25519_ladder, p256_jacobian; each file is empty otherwise). In this
  # library, beside ecp.c that references them, so that link order cannot drop them.
  set(ecp_hooks "${TLSGEN_ROOT}/runtime/src/ecp/ecp_internal_alt.cpp"
                "${TLSGEN_ROOT}/runtime/src/ecp/curve25519_ladder.cpp"
                "${TLSGEN_ROOT}/runtime/src/ecp/p256_jacobian.cpp"
                "${TLSGEN_ROOT}/runtime/src/ecp/ecp_formulas.cpp")
  add_library(${name}_mbedtls STATIC ${mbedtls_src} "${out}/mbedtls_config.h" ${ecp_hooks})
  set_source_files_properties(${ecp_hooks} TARGET_DIRECTORY ${name}_mbedtls PROPERTIES
    INCLUDE_DIRECTORIES "${mbedtls_dir}/library"
    COMPILE_OPTIONS "${TLSGEN_RUNTIME_WARNINGS};-fno-exceptions;-fno-rtti")
  set_target_properties(${name}_mbedtls PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  add_dependencies(${name}_mbedtls ${name}_generate)
  target_include_directories(${name}_mbedtls SYSTEM PUBLIC "${out}" "${mbedtls_dir}/include")
  target_include_directories(${name}_mbedtls PRIVATE "${mbedtls_dir}/library" "${mbedtls_dir}/3rdparty/p256-m"
                             "${mbedtls_dir}/3rdparty/p256-m/p256-m")
  # Angle brackets: a quoted name would find mbedTLS's own include/mbedtls/mbedtls_config.h first.
  target_compile_definitions(${name}_mbedtls PUBLIC "MBEDTLS_CONFIG_FILE=<mbedtls_config.h>")
  target_compile_options(${name}_mbedtls PRIVATE -Wall -Wextra -Werror -ffunction-sections -fdata-sections)
  # What the build itself needs from the profile (cmake/profile_fields.py, one JSON object): `target.cpu` (in a
  # cross build, the core whose compiler flags the library and everything linking it get: cmake/TlsgenCpu.cmake),
  # the stack the image reserves (`target.stack_bytes`; without it, on a part whose ram_bytes is given, the stack
  # the sessions need: tlsgen.ram.reserved_stack) and the compiler options some of mbedTLS's objects get after the
  # toolchain's -Os (the resolver's tlsgen.resolve.tradeoffs.object_options: speed's -O2 on the public-key
  # arithmetic, p256-m's options). The profile is validated by the generator at build time; a profile edit re-runs
  # this configure step.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${profile}")
  execute_process(COMMAND ${TLSGEN_PYTHON} "${TLSGEN_ROOT}/cmake/profile_fields.py" "${profile}"
    OUTPUT_VARIABLE fields RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    set(fields [=[{"cpu": "host", "objects": [], "stack": 0}]=])
  endif()
  string(JSON profile_cpu GET "${fields}" cpu)
  string(JSON stack_bytes GET "${fields}" stack)
  string(JSON n_rules LENGTH "${fields}" objects)
  # Each rule's options go to a target property, TLSGEN_OPTIONS_<rule>; its sources read it through a generator
  # expression. A source property is per directory, not per target, so another profile built from the same
  # mbedTLS sources in this directory gets its own options (or none) from its own target.
  if(n_rules GREATER 0)
    math(EXPR last_rule "${n_rules} - 1")
    foreach(i RANGE ${last_rule})
      string(JSON rule GET "${fields}" objects ${i} rule)
      string(JSON rule_sources GET "${fields}" objects ${i} sources)
      string(JSON gcc_only GET "${fields}" objects ${i} gcc_only)
      string(JSON n_options LENGTH "${fields}" objects ${i} options)
      set(options "")
      math(EXPR last_option "${n_options} - 1")
      foreach(j RANGE ${last_option})
        string(JSON option GET "${fields}" objects ${i} options ${j})
        list(APPEND options "${option}")
      endforeach()
      set_property(TARGET ${name}_mbedtls PROPERTY TLSGEN_OPTIONS_${rule} "${options}")
      get_property(rule_done DIRECTORY PROPERTY TLSGEN_OPTIONS_${rule}_SOURCES)
      if(NOT rule_done)
        set(rule_src ${mbedtls_src})
        list(FILTER rule_src INCLUDE REGEX "${rule_sources}")
        set(rule_options "$<TARGET_PROPERTY:TLSGEN_OPTIONS_${rule}>")
        if(gcc_only)  # (clang, the sanitizer builds' compiler, does not take them)
          set(rule_options "$<$<C_COMPILER_ID:GNU>:${rule_options}>")
        endif()
        set_property(SOURCE ${rule_src} APPEND PROPERTY COMPILE_OPTIONS "${rule_options}")
        set_property(DIRECTORY PROPERTY TLSGEN_OPTIONS_${rule}_SOURCES ON)
      endif()
    endforeach()
  endif()
  tlsgen_cpu_for_profile_cpu("${profile_cpu}" cpu)
  tlsgen_cpu_target("${cpu}" cpu_lib)
  target_link_libraries(${name}_mbedtls PUBLIC ${cpu_lib})
  if(CMAKE_CROSSCOMPILING AND stack_bytes GREATER 0)
    # The boards' linker scripts reserve __stack_size bytes of stack (PROVIDE: the profile's figure wins).
    target_link_options(${name}_mbedtls INTERFACE "LINKER:--defsym=__stack_size=${stack_bytes}")
  endif()
  # A board whose core is not the profile's would give the image two sets of core flags (and, between a
  # hard-float and a soft-float core, objects that do not link): refuse it here, by name.
  foreach(hook ${arg_HOOKS})
    if(TARGET ${hook})
      get_property(hook_cpu TARGET ${hook} PROPERTY TLSGEN_CPU)
      if(cpu AND hook_cpu AND NOT hook_cpu STREQUAL cpu)
        message(FATAL_ERROR "tlsgen_add_library(${name}): ${arg_PROFILE} is for target.cpu ${cpu}, but HOOKS "
          "${hook} is a ${hook_cpu} board; pick the board for the profile's core (boards/boards.cmake: "
          "tlsgen_board_for_cpu(${cpu} <board library> <QEMU machine>))")
      endif()
    endif()
  endforeach()
  set_target_properties(${name}_mbedtls PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)
  if(arg_HOOKS)
    target_link_libraries(${name}_mbedtls PUBLIC ${arg_HOOKS})
  endif()
  tlsgen_sanitize(${name}_mbedtls)

  file(GLOB ssl_src CONFIGURE_DEPENDS "${TLSGEN_ROOT}/runtime/src/ssl/*.cpp")
  add_library(${name} STATIC "${out}/tlsgen_glue.cpp" ${ssl_src})
  add_dependencies(${name} ${name}_generate)
  target_include_directories(${name} PUBLIC "${out}")
  # runtime/src/ssl/external_key.cpp implements a key type the way mbedTLS's own do (library/pk_wrap.h).
  set_source_files_properties("${TLSGEN_ROOT}/runtime/src/ssl/external_key.cpp" TARGET_DIRECTORY ${name}
                              PROPERTIES INCLUDE_DIRECTORIES "${mbedtls_dir}/library")
  tlsgen_runtime_target(core "${cpu}" runtime_core)
  target_link_libraries(${name} PUBLIC ${name}_mbedtls ${runtime_core})
  tlsgen_runtime_flags(${name})
  set_property(TARGET ${name} PROPERTY TLSGEN_GENERATED_DIR "${out}")
  set_property(TARGET ${name} PROPERTY TLSGEN_PROFILE "${profile}")
  set_property(TARGET ${name} PROPERTY TLSGEN_CPU "${cpu}")
endfunction()

# tlsgen_check_ram(<executable> <tlsgen library>): after linking, fail the build when the image's static
# RAM (.data + .bss, which holds the generated heap) exceeds the profile's target.ram_bytes.
function(tlsgen_check_ram exe lib)
  get_property(out TARGET ${lib} PROPERTY TLSGEN_GENERATED_DIR)
  find_program(TLSGEN_SIZE_TOOL NAMES ${CMAKE_SIZE} arm-none-eabi-size size)
  add_custom_command(TARGET ${exe} POST_BUILD
    COMMAND ${TLSGEN_PYTHON} "${TLSGEN_ROOT}/cmake/check_ram.py" "${TLSGEN_SIZE_TOOL}" $<TARGET_FILE:${exe}>
            "${out}/tlsgen_profile.hpp"
    VERBATIM)
endfunction()

get_property(_tlsgen_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if(CXX IN_LIST _tlsgen_languages)
  _tlsgen_add_runtime()
endif()
