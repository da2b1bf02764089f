# cmake -P script: install, then build examples/cmake-minimal with find_package(tlsgen), then run it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message("${out}")
endfunction()
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
set(src "${WORK_DIR}/cmake-minimal")
file(COPY "${SOURCE_DIR}/examples/cmake-minimal/" DESTINATION "${src}")  # outside the tlsgen tree
run(${CMAKE_COMMAND} -G Ninja -S "${src}" -B "${WORK_DIR}/build" "-Dtlsgen_DIR=${prefix}/lib/cmake/tlsgen"
    "-DTLSGEN_MBEDTLS_SOURCE=${MBEDTLS_SOURCE}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/minimal")
