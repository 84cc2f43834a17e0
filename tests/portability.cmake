# tests/portability.cmake - the vendor portability gate (docs/portability.md).
#
# Every cl/*.cl is compiled as OpenCL C 1.2 with clang-15 (+ libclc-15) for
# the AMD, NVIDIA and SPIR-V (Intel) targets, with the -D parameter sets the
# library's own device table gives each vendor. One ctest per kernel file and
# target, named portability_<kernel>_<target>; a target whose toolchain is
# not installed is reported as skipped, never as passed.
#
#   cmake --build BUILD --target portability     build, then run the gate
#   ctest --test-dir BUILD -R portability        the same, from ctest
#
# Included from tests/CMakeLists.txt (included from the top level), so
# PROJECT_SOURCE_DIR is the repository root.

# Prints the library's -D string for a parameter set, so the gate never
# works from a copy of the table.
add_executable(cls_print_defines ${PROJECT_SOURCE_DIR}/tools/portability/print_defines.c)
target_link_libraries(cls_print_defines PRIVATE clscale_static)

set(CLS_PORT_CHECK ${PROJECT_SOURCE_DIR}/tools/portability/check.sh)
set(CLS_PORT_OUT ${PROJECT_BINARY_DIR}/portability)

# Which device-table sets each target is compiled with. spir64 stands for
# Intel GPUs and every other SPIR-V consumer, so it also takes the sets with
# no vendor compiler of their own (cpu, generic-gpu): every set is compiled
# somewhere, and portability_sets_covered fails when a new set is added to
# the table without being added here.
set(CLS_PORT_TARGETS gfx906 gfx90a gfx1030 sm_70 sm_80 spir64)
set(CLS_PORT_SETS_gfx906 amd-gpu)
set(CLS_PORT_SETS_gfx90a amd-gpu)
set(CLS_PORT_SETS_gfx1030 amd-gpu)
set(CLS_PORT_SETS_sm_70 nvidia-gpu)
set(CLS_PORT_SETS_sm_80 nvidia-gpu)
set(CLS_PORT_SETS_spir64 intel-gpu cpu generic-gpu)

# Exit code 77 of check.sh: a missing toolchain, shown by ctest as skipped.
set(CLS_PORT_PROPERTIES LABELS portability SKIP_RETURN_CODE 77 TIMEOUT 900)

# New kernels are picked up at the next build (CONFIGURE_DEPENDS).
file(GLOB CLS_PORT_KERNELS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/cl/*.cl)
set(CLS_PORT_ALL_SETS "")
foreach(target ${CLS_PORT_TARGETS})
  string(REPLACE ";" " " sets "${CLS_PORT_SETS_${target}}")
  list(APPEND CLS_PORT_ALL_SETS ${CLS_PORT_SETS_${target}})
  foreach(kernel ${CLS_PORT_KERNELS})
    get_filename_component(name ${kernel} NAME_WE)
    add_test(NAME portability_${name}_${target}
             COMMAND bash ${CLS_PORT_CHECK} --defines-tool $<TARGET_FILE:cls_print_defines> --sets "${sets}"
                     --out ${CLS_PORT_OUT} ${target} ${kernel})
    set_tests_properties(portability_${name}_${target} PROPERTIES ${CLS_PORT_PROPERTIES})
  endforeach()
endforeach()

# Every set of the device table is compiled by some target above.
list(REMOVE_DUPLICATES CLS_PORT_ALL_SETS)
string(REPLACE ";" " " CLS_PORT_ALL_SETS "${CLS_PORT_ALL_SETS}")
add_test(NAME portability_sets_covered
         COMMAND bash ${CLS_PORT_CHECK} --defines-tool $<TARGET_FILE:cls_print_defines> --coverage
                 "${CLS_PORT_ALL_SETS}")
set_tests_properties(portability_sets_covered PROPERTIES LABELS portability TIMEOUT 900)

# Self-tests: the gate can fail. Each tests/data/portability/*.cl is a
# deliberately non-portable kernel whose first lines say, as
#   expect-reject: TARGET SET REGEX
# which target and set must reject it, with a message matching REGEX.
file(GLOB CLS_PORT_BAD CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/data/portability/*.cl)
foreach(bad ${CLS_PORT_BAD})
  get_filename_component(name ${bad} NAME_WE)
  file(STRINGS ${bad} expect REGEX "expect-reject: " LIMIT_COUNT 1)
  if(NOT expect MATCHES "expect-reject: ([^ ]+) ([^ ]+) (.+)$")
    message(FATAL_ERROR "${bad}: no 'expect-reject: TARGET SET REGEX' line")
  endif()
  set(target ${CMAKE_MATCH_1})
  set(set ${CMAKE_MATCH_2})
  string(REGEX REPLACE " *\\*/ *$" "" regex "${CMAKE_MATCH_3}")
  add_test(NAME portability_selftest_${name}
           COMMAND bash ${CLS_PORT_CHECK} --defines-tool $<TARGET_FILE:cls_print_defines> --sets ${set} --out
                   ${CLS_PORT_OUT}/selftest --expect-reject "${regex}" ${target} ${bad})
  set_tests_properties(portability_selftest_${name} PROPERTIES ${CLS_PORT_PROPERTIES})
endforeach()

# ... and a missing toolchain is reported as skipped (exit 77), not passed.
add_test(NAME portability_selftest_missing_toolchain
         COMMAND bash -c "CLS_CLANG=/nonexistent/clang-15 bash \"$0\" --defines-tool \"$1\" spir64 \"$2\"; test $? -eq 77"
                 ${CLS_PORT_CHECK} $<TARGET_FILE:cls_print_defines> ${PROJECT_SOURCE_DIR}/cl/peak.cl)
set_tests_properties(portability_selftest_missing_toolchain PROPERTIES LABELS portability TIMEOUT 900)

# The gate as a build target: builds what it needs, then runs every
# portability test in parallel.
cmake_host_system_information(RESULT CLS_PORT_JOBS QUERY NUMBER_OF_LOGICAL_CORES)
add_custom_target(
  portability
  COMMAND ${CMAKE_CTEST_COMMAND} -R "^portability_" -j${CLS_PORT_JOBS} --output-on-failure
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  DEPENDS cls_print_defines
  COMMENT "Portability gate: every cl/*.cl for AMD, NVIDIA and SPIR-V (docs/portability.md)"
  USES_TERMINAL
  VERBATIM)
