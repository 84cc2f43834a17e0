# Fuzzing the parsers (issue 14): one target per input a user or a run
# directory hands clscale (tests/fuzz/<target>.c), its seed corpus and saved
# findings in tests/fuzz/<target>/.
#
# - Every build: fuzz_replay_<target> (label replay) feeds every file of the
#   corpus through the parser with the target's checks, so that a finding,
#   once saved there and fixed, stays fixed without libFuzzer.
# - With CLSCALE_FUZZ (clang, the sanitized build tools/run-tests.sh makes):
#   fuzz_<target> (label fuzz) runs libFuzzer on it for a bounded time
#   (CLSCALE_FUZZ_SECONDS, default 12 s each: eight targets fit the suite's
#   time budget). A finding fails the test and says where it was saved.
set(CLS_FUZZ_SRC ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(CLS_FUZZ_TARGETS spec_json spec_ini csv summary manifest fitjson checkpoint claim)
set(CLS_FUZZ_SECONDS 12)

if(CLSCALE_FUZZ)
  # Coverage for the layers that hold the parsers (the device, ops and
  # model layers are reached by none of them): libFuzzer is guided by it.
  foreach(layer core rundir fit sweep train)
    target_compile_options(cls_${layer} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
endif()

foreach(t ${CLS_FUZZ_TARGETS})
  set(src ${CLS_FUZZ_SRC}/${t}.c)
  set(defs "")
  if(t MATCHES "^spec_(json|ini)$")
    set(src ${CLS_FUZZ_SRC}/spec.c)
    set(defs "FUZZ_SPEC_NAME=\"spec.${CMAKE_MATCH_1}\"")
  endif()

  add_executable(fuzz_replay_${t} ${src} ${CLS_FUZZ_SRC}/fuzz_common.c ${CLS_FUZZ_SRC}/replay.c)
  target_compile_definitions(fuzz_replay_${t} PRIVATE ${defs})
  target_include_directories(fuzz_replay_${t} PRIVATE ${CLS_FUZZ_SRC})
  target_link_libraries(fuzz_replay_${t} PRIVATE cls_sweep cls_fit)
  add_test(NAME fuzz_replay_${t} COMMAND fuzz_replay_${t} ${CLS_FUZZ_SRC}/${t})
  set_tests_properties(fuzz_replay_${t} PROPERTIES LABELS replay ENVIRONMENT
                                                  "TMPDIR=${PROJECT_BINARY_DIR}/test-tmp" TIMEOUT 120)

  if(CLSCALE_FUZZ)
    add_executable(fuzz_${t} ${src} ${CLS_FUZZ_SRC}/fuzz_common.c)
    target_compile_definitions(fuzz_${t} PRIVATE ${defs})
    target_include_directories(fuzz_${t} PRIVATE ${CLS_FUZZ_SRC})
    target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${t} PRIVATE cls_sweep cls_fit)
    add_test(NAME fuzz_${t} COMMAND sh ${CLS_FUZZ_SRC}/run.sh $<TARGET_FILE:fuzz_${t}> ${CLS_FUZZ_SRC}/${t}
                                    ${PROJECT_BINARY_DIR}/fuzz/${t} ${CLS_FUZZ_SECONDS})
    set_tests_properties(fuzz_${t} PROPERTIES LABELS fuzz ENVIRONMENT "TMPDIR=${PROJECT_BINARY_DIR}/test-tmp"
                                              TIMEOUT 300)
  endif()
endforeach()
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/test-tmp)
