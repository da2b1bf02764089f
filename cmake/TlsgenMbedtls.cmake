# Where tlsgen gets mbedTLS 3.6 source. Never committed; always pinned by SHA-256.
#
#   TLSGEN_MBEDTLS_SOURCE   a directory holding an unpacked mbedTLS 3.6.x tree, or a local tarball
#                           (.tar.bz2/.tar.gz/.tgz). A tarball must match one of the pins below or
#                           TLSGEN_MBEDTLS_SHA256.
#   (unset)                 the tarball scripts/deps.sh fetched into <tlsgen>/.deps/ if present,
#                           else a download of the upstream release, pinned by its own hash, bounded
#                           by TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT seconds (default 300; no data for 60 s
#                           ends it too), after which configure fails naming TLSGEN_MBEDTLS_SOURCE.
#
# The download is file(DOWNLOAD), not FetchContent: FetchContent has no time limit by default and, when
# its download fails, stops with its own sub-build's error, which cannot say which variable to set. The
# FetchContent conventions still hold: FETCHCONTENT_SOURCE_DIR_TLSGEN_MBEDTLS (a directory) is used like
# TLSGEN_MBEDTLS_SOURCE, and FETCHCONTENT_FULLY_DISCONNECTED=ON fails at once instead of downloading.
include_guard(GLOBAL)

# Pins, one per source: the Debian orig tarball and the upstream release asset are distinct files.
set(TLSGEN_MBEDTLS_VERSION "3.6.6")
set(TLSGEN_MBEDTLS_DEBIAN_TARBALL "mbedtls_3.6.6.orig.tar.bz2")
set(TLSGEN_MBEDTLS_DEBIAN_SHA256 "8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a")
set(TLSGEN_MBEDTLS_UPSTREAM_URL
    "https://github.com/Mbed-TLS/mbedtls/releases/download/mbedtls-3.6.6/mbedtls-3.6.6.tar.bz2"
    CACHE STRING "where the upstream mbedTLS 3.6.6 release tarball is downloaded from (a mirror, say)")
set(TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT 300 CACHE STRING
    "seconds the mbedTLS download may take before configure fails (no data for 60 s also ends it)")
# The upstream asset's SHA-256, pinned on its own. It equals the Debian orig tarball's (Debian ships the
# release tarball unchanged under its own name): independently published pins of the same asset URL
# (Homebrew's mbedtls@3 formula and several projects' FetchContent declarations) give this value. A
# differing asset fails FetchContent loudly (hash mismatch).
set(TLSGEN_MBEDTLS_UPSTREAM_SHA256 "8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a"
    CACHE STRING "SHA-256 of the upstream mbedtls-3.6.6.tar.bz2 release asset")

set(TLSGEN_MBEDTLS_SOURCE "" CACHE STRING "mbedTLS 3.6 source: a directory or a local tarball (empty: default)")
set(TLSGEN_MBEDTLS_SHA256 "" CACHE STRING "SHA-256 of a TLSGEN_MBEDTLS_SOURCE tarball that is not one of the pins")

function(_tlsgen_mbedtls_check_tree dir)
  set(vh "${dir}/include/mbedtls/build_info.h")
  if(NOT EXISTS "${vh}")
    message(FATAL_ERROR "tlsgen: ${dir} is not an mbedTLS source tree (no include/mbedtls/build_info.h)")
  endif()
  file(STRINGS "${vh}" v REGEX "^#define MBEDTLS_VERSION_STRING ")
  if(NOT v MATCHES "\"3\\.6\\.[0-9]+\"")
    message(FATAL_ERROR "tlsgen: ${dir} holds ${v}; tlsgen targets mbedTLS 3.6.x LTS")
  endif()
endfunction()

function(_tlsgen_mbedtls_unpack tarball out_dir)
  file(SHA256 "${tarball}" got)
  set(allowed ${TLSGEN_MBEDTLS_DEBIAN_SHA256} ${TLSGEN_MBEDTLS_UPSTREAM_SHA256} ${TLSGEN_MBEDTLS_SHA256})
  if(NOT got IN_LIST allowed)
    message(FATAL_ERROR "tlsgen: ${tarball} has SHA-256 ${got}, which matches no pin "
      "(Debian ${TLSGEN_MBEDTLS_DEBIAN_SHA256}). Set TLSGEN_MBEDTLS_SHA256 to accept another tarball.")
  endif()
  set(dest "${CMAKE_BINARY_DIR}/_deps/mbedtls-${got}")
  if(NOT EXISTS "${dest}/.unpacked")
    file(REMOVE_RECURSE "${dest}")
    file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${dest}")
    file(TOUCH "${dest}/.unpacked")
  endif()
  file(GLOB top LIST_DIRECTORIES true "${dest}/mbedtls-*")
  list(LENGTH top n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "tlsgen: ${tarball} does not unpack to one mbedtls-* directory")
  endif()
  set(${out_dir} "${top}" PARENT_SCOPE)
endfunction()

# The upstream release tarball into the build tree, within TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT seconds, or a
# configure error that says what to do instead. Sets <out_tarball>.
function(_tlsgen_mbedtls_download out_tarball)
  set(dest "${CMAKE_BINARY_DIR}/_deps/mbedtls-${TLSGEN_MBEDTLS_VERSION}.tar.bz2")
  string(CONCAT how "Give tlsgen the source instead: -DTLSGEN_MBEDTLS_SOURCE=<an mbedTLS "
         "${TLSGEN_MBEDTLS_VERSION} tarball or unpacked directory> (pinned by SHA-256; Debian's "
         "mbedtls_${TLSGEN_MBEDTLS_VERSION}.orig.tar.bz2 fits), or set TLSGEN_MBEDTLS_UPSTREAM_URL to a mirror "
         "of the release tarball.")
  if(EXISTS "${dest}")
    file(SHA256 "${dest}" have)
    if(have STREQUAL TLSGEN_MBEDTLS_UPSTREAM_SHA256)
      set(${out_tarball} "${dest}" PARENT_SCOPE)
      return()
    endif()
  endif()
  if(FETCHCONTENT_FULLY_DISCONNECTED)
    message(FATAL_ERROR "tlsgen: no mbedTLS source, and FETCHCONTENT_FULLY_DISCONNECTED forbids downloading "
                        "one. ${how}")
  endif()
  if(NOT TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "tlsgen: TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT is '${TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT}': "
                        "give a number of seconds")
  endif()
  set(inactivity 60)
  if(TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT LESS inactivity)
    set(inactivity ${TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT})
  endif()
  message(STATUS "tlsgen: no TLSGEN_MBEDTLS_SOURCE: downloading mbedTLS ${TLSGEN_MBEDTLS_VERSION} from "
                 "${TLSGEN_MBEDTLS_UPSTREAM_URL} (at most ${TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT} s)")
  # No EXPECTED_HASH here: on a failed transfer it adds its own error beside ours. The hash is checked
  # below, and again against every pin when the tarball is unpacked.
  file(DOWNLOAD "${TLSGEN_MBEDTLS_UPSTREAM_URL}" "${dest}.part"
       TIMEOUT ${TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT} INACTIVITY_TIMEOUT ${inactivity} STATUS status TLS_VERIFY ON)
  list(GET status 0 code)
  if(NOT code EQUAL 0)
    list(GET status 1 why)
    file(REMOVE "${dest}.part")
    message(FATAL_ERROR "tlsgen: could not download mbedTLS ${TLSGEN_MBEDTLS_VERSION} from "
      "${TLSGEN_MBEDTLS_UPSTREAM_URL} within ${TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT} s (${why}; "
      "TLSGEN_MBEDTLS_DOWNLOAD_TIMEOUT sets the limit). ${how}")
  endif()
  file(SHA256 "${dest}.part" got)
  if(NOT got STREQUAL TLSGEN_MBEDTLS_UPSTREAM_SHA256)
    file(REMOVE "${dest}.part")
    message(FATAL_ERROR "tlsgen: ${TLSGEN_MBEDTLS_UPSTREAM_URL} gave a file with SHA-256 ${got}, not the pinned "
                        "${TLSGEN_MBEDTLS_UPSTREAM_SHA256}. ${how}")
  endif()
  file(RENAME "${dest}.part" "${dest}")
  set(${out_tarball} "${dest}" PARENT_SCOPE)
endfunction()

# Sets TLSGEN_MBEDTLS_DIR (cached for the whole build) on first use.
function(tlsgen_mbedtls_resolve)
  # Re-resolve when the user changes TLSGEN_MBEDTLS_SOURCE in an existing build tree.
  if(TLSGEN_MBEDTLS_DIR_RESOLVED AND "${TLSGEN_MBEDTLS_RESOLVED_FROM}" STREQUAL "${TLSGEN_MBEDTLS_SOURCE}")
    return()
  endif()
  set(src "${TLSGEN_MBEDTLS_SOURCE}")
  if(NOT src AND FETCHCONTENT_SOURCE_DIR_TLSGEN_MBEDTLS)
    set(src "${FETCHCONTENT_SOURCE_DIR_TLSGEN_MBEDTLS}")
  endif()
  if(NOT src AND EXISTS "${TLSGEN_ROOT}/.deps/${TLSGEN_MBEDTLS_DEBIAN_TARBALL}")
    set(src "${TLSGEN_ROOT}/.deps/${TLSGEN_MBEDTLS_DEBIAN_TARBALL}")
  endif()
  if(src)
    get_filename_component(src "${src}" ABSOLUTE)
    if(IS_DIRECTORY "${src}")
      set(dir "${src}")
    elseif(EXISTS "${src}")
      _tlsgen_mbedtls_unpack("${src}" dir)
    else()
      message(FATAL_ERROR "tlsgen: TLSGEN_MBEDTLS_SOURCE=${src} does not exist")
    endif()
  else()
    _tlsgen_mbedtls_download(tarball)
    _tlsgen_mbedtls_unpack("${tarball}" dir)
  endif()
  _tlsgen_mbedtls_check_tree("${dir}")
  message(STATUS "tlsgen: mbedTLS source ${dir}")
  set(TLSGEN_MBEDTLS_DIR "${dir}" CACHE INTERNAL "")
  set(TLSGEN_MBEDTLS_DIR_RESOLVED TRUE CACHE INTERNAL "")
  set(TLSGEN_MBEDTLS_RESOLVED_FROM "${TLSGEN_MBEDTLS_SOURCE}" CACHE INTERNAL "")
endfunction()

# out_sources: mbedTLS's library/*.c; out_dir: the source tree.
function(tlsgen_mbedtls_sources out_sources out_dir)
  tlsgen_mbedtls_resolve()
  file(GLOB src "${TLSGEN_MBEDTLS_DIR}/library/*.c")
  # mbedTLS's bundled p256-m driver (tlsgen.resolve.ecc): compiled into every library, empty unless the
  # configuration defines MBEDTLS_PSA_P256M_DRIVER_ENABLED.
  list(APPEND src "${TLSGEN_MBEDTLS_DIR}/3rdparty/p256-m/p256-m_driver_entrypoints.c"
                  "${TLSGEN_MBEDTLS_DIR}/3rdparty/p256-m/p256-m/p256-m.c")
  set(${out_sources} ${src} PARENT_SCOPE)
  set(${out_dir} "${TLSGEN_MBEDTLS_DIR}" PARENT_SCOPE)
endfunction()
