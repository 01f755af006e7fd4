# SPDX-License-Identifier: MIT
# The fuzz targets; included by CMakeLists.txt here, or by late_add.cmake at the end of the top
# level (so paths come from this file's folder, and binaries go to <build>/tests/fuzz either way).
set(_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
add_library(jpki_fuzz_support STATIC ${_fuzz_dir}/fuzz_drivers.cpp)
target_include_directories(jpki_fuzz_support PUBLIC ${_fuzz_dir}
                                                    ${_fuzz_dir}/../../module)
target_link_libraries(jpki_fuzz_support PUBLIC
  jpki_module_core jpki_vcard_core jpki_apdu jpki_config jpki_common OpenSSL::Crypto
  PRIVATE jpki_warnings)

set(JPKI_FUZZ_TARGETS fuzz_card fuzz_cert fuzz_attrs fuzz_stack)
foreach(t IN LISTS JPKI_FUZZ_TARGETS)
  add_executable(${t} ${_fuzz_dir}/${t}.cpp)
  target_link_libraries(${t} PRIVATE jpki_fuzz_support jpki_warnings)
  target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link)
  target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  # Every seed must run clean (a quick regression check; run.sh does the timed fuzzing).
  add_test(NAME ${t}_seeds COMMAND ${t} -runs=0 ${_fuzz_dir}/corpus/${t})
  set_tests_properties(${t}_seeds PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()

add_executable(fuzz_seedgen ${_fuzz_dir}/fuzz_seedgen.cpp)
target_link_libraries(fuzz_seedgen PRIVATE jpki_fuzz_support jpki_warnings)
set_target_properties(${JPKI_FUZZ_TARGETS} fuzz_seedgen PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
