# SPDX-License-Identifier: MIT
# CPACK_PRE_BUILD_SCRIPTS hook: runs on the staging tree before the .deb is assembled.
# Strips the ELF files like dh_strip (debug symbols, .comment, .note).
# Compresses man pages and the Debian changelog with gzip -9n (no name/timestamp: reproducible).
set(_root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${_root}")
  message(FATAL_ERROR "deb-prebuild: staging directory '${_root}' not found")
endif()
file(GLOB_RECURSE _files LIST_DIRECTORIES false
     "${_root}/usr/share/man/*" "${_root}/usr/share/doc/jpki-pkcs11/changelog")
foreach(f IN LISTS _files)
  if(f MATCHES "\\.gz$")
    continue()
  endif()
  execute_process(COMMAND gzip -9nf "${f}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-prebuild: gzip ${f} failed")
  endif()
endforeach()

find_program(_strip NAMES strip REQUIRED)
file(GLOB _elf LIST_DIRECTORIES false "${_root}/usr/bin/*" "${_root}/usr/lib/*/pkcs11/*.so")
foreach(f IN LISTS _elf)
  file(READ "${f}" _magic LIMIT 4 HEX)
  if(NOT _magic STREQUAL "7f454c46")      # not ELF (scripts)
    continue()
  endif()
  if(f MATCHES "\\.so$")
    set(_args --strip-unneeded)
  else()
    set(_args "")
  endif()
  execute_process(COMMAND ${_strip} --remove-section=.comment --remove-section=.note ${_args} "${f}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-prebuild: strip ${f} failed")
  endif()
endforeach()
