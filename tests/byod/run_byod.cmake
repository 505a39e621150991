# run_byod.cmake - configure, build and test examples/byod against this iosim build.
file(REMOVE_RECURSE "${BINARY}")
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE};-B;${BINARY};-G;${GENERATOR};-Diosim_DIR=${IOSIM_DIR}"
    "${CMAKE_COMMAND};--build;${BINARY}"
    "${CMAKE_CTEST_COMMAND};--test-dir;${BINARY};--output-on-failure")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "byod step failed (${rc}): ${step}")
  endif()
endforeach()
execute_process(COMMAND "${IOSIM_DIR}/bin/iosim" exec --no-trace -d "${BINARY}/counter.sys" "${BINARY}/counter_client.exe"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "counter: 3 \\(4 bytes\\)")
  message(FATAL_ERROR "the out-of-tree app did not run as expected (exit ${rc})")
endif()
