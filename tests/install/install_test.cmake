# cmake -P script: consume tlsgen from outside its tree, build examples/cmake-minimal's program, run it.
#   MODE=find_package      cmake --install into a scratch prefix, then find_package(tlsgen)
#   MODE=find_package_arm  the same package, configured with the arm-none-eabi toolchain: builds the
#                          Cortex-M profile's library (generated config + mbedTLS + glue + runtime)
#   MODE=add_subdirectory  a copy of tlsgen's sources, add_subdirectory()
#   MODE=fetchcontent      FetchContent from a tarball of tlsgen's sources (URL + SHA-256)
# Each mode also checks that editing a template re-runs the generator on the next build, and (host modes)
# that a program can link tlsgen::runtime_posix without any tlsgen_add_library() (tests/install/posix).
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_out "${out}${err}" PARENT_SCOPE)
endfunction()

# A copy of tlsgen's sources (what git tracks, plus new files it does not ignore), outside the tree.
function(copy_sources dest)
  execute_process(COMMAND git -C "${SOURCE_DIR}" ls-files --cached --others --exclude-standard
                  OUTPUT_VARIABLE files RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "git ls-files failed in ${SOURCE_DIR}")
  endif()
  string(REPLACE "\n" ";" files "${files}")
  foreach(f IN LISTS files)
    if(f AND EXISTS "${SOURCE_DIR}/${f}" AND NOT IS_DIRECTORY "${SOURCE_DIR}/${f}")
      get_filename_component(d "${dest}/${f}" DIRECTORY)
      file(COPY "${SOURCE_DIR}/${f}" DESTINATION "${d}")
    endif()
  endforeach()
endfunction()

set(example "${WORK_DIR}/cmake-minimal")
file(COPY "${SOURCE_DIR}/examples/cmake-minimal/" DESTINATION "${example}")
set(build "${WORK_DIR}/build")
set(common -G Ninja -B "${build}" "-DTLSGEN_MBEDTLS_SOURCE=${MBEDTLS_SOURCE}")
if(MODE MATCHES "^find_package")
  set(prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
  set(template_dir "${prefix}/share/tlsgen/templates")
  if(MODE STREQUAL "find_package_arm")
    # The same consumer, cross-compiled: the Cortex-M profile's library (no board to link a program).
    file(WRITE "${example}/CMakeLists.txt"
      "cmake_minimum_required(VERSION 3.25)\nproject(cmake_minimal_arm C CXX)\n"
      "find_package(tlsgen 0.1 REQUIRED)\n"
      "tlsgen_add_library(tls PROFILE \"${SOURCE_DIR}/profiles/m4-psk-ccm8.yaml\")\n")
    run(${CMAKE_COMMAND} ${common} -S "${example}" "-Dtlsgen_DIR=${prefix}/lib/cmake/tlsgen"
        "-DCMAKE_TOOLCHAIN_FILE=${prefix}/share/tlsgen/cmake/toolchain-arm-none-eabi.cmake")
    run(${CMAKE_COMMAND} --build "${build}" --target tls)
    file(GLOB_RECURSE objects "${build}/CMakeFiles/tls.dir/*tlsgen_glue.cpp.obj")
    execute_process(COMMAND arm-none-eabi-objdump -f ${objects} OUTPUT_VARIABLE arch)
    if(NOT objects OR NOT arch MATCHES "elf32-littlearm")
      message(FATAL_ERROR "the glue was not cross-compiled for Cortex-M: ${objects}\n${arch}")
    endif()
    message("cmake-minimal-arm: tlsgen_add_library built the Cortex-M library (glue: elf32-littlearm)")
    return()
  endif()
  run(${CMAKE_COMMAND} ${common} -S "${example}" "-Dtlsgen_DIR=${prefix}/lib/cmake/tlsgen")
elseif(MODE STREQUAL "add_subdirectory")
  copy_sources("${WORK_DIR}/tlsgen")
  set(template_dir "${WORK_DIR}/tlsgen/templates")
  run(${CMAKE_COMMAND} ${common} -S "${SOURCE_DIR}/tests/install/consumer" -DMODE=add_subdirectory
      "-DTLSGEN_DIR=${WORK_DIR}/tlsgen" "-DEXAMPLE_DIR=${example}")
elseif(MODE STREQUAL "fetchcontent")
  copy_sources("${WORK_DIR}/src/tlsgen-0.1.0")
  set(tarball "${WORK_DIR}/tlsgen-0.1.0.tar.gz")
  execute_process(COMMAND ${CMAKE_COMMAND} -E tar czf "${tarball}" tlsgen-0.1.0 WORKING_DIRECTORY "${WORK_DIR}/src"
                  RESULT_VARIABLE rc)
  file(SHA256 "${tarball}" sha)
  run(${CMAKE_COMMAND} ${common} -S "${SOURCE_DIR}/tests/install/consumer" -DMODE=fetchcontent
      "-DTLSGEN_TARBALL=${tarball}" "-DTLSGEN_TARBALL_SHA256=${sha}" "-DEXAMPLE_DIR=${example}")
  file(GLOB template_dir "${build}/_deps/tlsgen-src/templates")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
run(${CMAKE_COMMAND} --build "${build}")
run("${build}/minimal")
message("${run_out}")

# A program that links tlsgen::runtime_posix and has no profile: the target exists as soon as tlsgen is
# found or added (tests/install/posix), not only after a tlsgen_add_library().
set(posix_build "${WORK_DIR}/posix-build")
set(posix_args -G Ninja -B "${posix_build}" -S "${SOURCE_DIR}/tests/install/posix" -DMODE=${MODE})
if(MODE STREQUAL "find_package")
  list(APPEND posix_args "-Dtlsgen_DIR=${prefix}/lib/cmake/tlsgen")
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND posix_args "-DTLSGEN_DIR=${WORK_DIR}/tlsgen")
else()
  list(APPEND posix_args "-DTLSGEN_TARBALL=${tarball}" "-DTLSGEN_TARBALL_SHA256=${sha}")
endif()
run(${CMAKE_COMMAND} ${posix_args})
run(${CMAKE_COMMAND} --build "${posix_build}" --target plain_tcp)
run("${posix_build}/plain_tcp")
message("${MODE}: ${run_out}")

# The generator's inputs are dependencies: touching a template makes the next build regenerate.
file(TOUCH "${template_dir}/tlsgen_glue.cpp.jinja")
run(${CMAKE_COMMAND} --build "${build}")
if(NOT run_out MATCHES "tlsgen: generating tls")
  message(FATAL_ERROR "a touched template did not re-run the generator:\n${run_out}")
endif()
message("${MODE}: a touched template re-ran the generator")
