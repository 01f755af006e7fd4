# SPDX-License-Identifier: MIT
# Used by run.sh as CMAKE_PROJECT_INCLUDE while tests/CMakeLists.txt does not list `fuzz`: defines
# the fuzz targets at the end of the top-level directory, after every library target exists.
function(jpki_fuzz_late_add)
  if(NOT TARGET fuzz_card)
    include(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/targets.cmake)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL jpki_fuzz_late_add)
