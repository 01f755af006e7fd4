# SPDX-License-Identifier: MIT
# cmake -DMODULE=<libjpki-pkcs11.so> -DTESTCARD=<libjpki-pkcs11-testcard.so> -DNM=<nm> -P ...
# The shipped module exports exactly the PKCS#11 entry points; the test build adds only
# jpki_testcard_control.
function(exported_functions library out)
  execute_process(COMMAND ${NM} -D --defined-only ${library}
                  OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} -D ${library} failed")
  endif()
  string(REGEX MATCHALL "[^\n]+" lines "${text}")
  set(names "")
  foreach(line IN LISTS lines)
    # "<address> <type> <name>[@version]"; only code and data symbols count.
    if(line MATCHES "^[0-9a-fA-F]+ [TtDdBbRrVvWwi] ([^@ ]+)")
      list(APPEND names ${CMAKE_MATCH_1})
    endif()
  endforeach()
  list(SORT names)
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

exported_functions(${MODULE} shipped)
set(expected C_GetFunctionList C_GetInterface C_GetInterfaceList)
list(SORT expected)
if(NOT shipped STREQUAL expected)
  message(FATAL_ERROR "libjpki-pkcs11.so exports '${shipped}', expected '${expected}'")
endif()

exported_functions(${TESTCARD} testcard)
list(APPEND expected jpki_testcard_control)
list(SORT expected)
if(NOT testcard STREQUAL expected)
  message(FATAL_ERROR "the test build exports '${testcard}', expected '${expected}'")
endif()
message(STATUS "exports OK: ${shipped}")
