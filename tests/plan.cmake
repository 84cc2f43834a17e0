# `clscale plan` from the command line (the library is tested by
# test_fit_plan): a synthetic fitted run directory planned three ways, and
# its bad inputs (tests/data/fit/plan.sh).
add_test(NAME cli_plan COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/data/fit/plan.sh $<TARGET_FILE:clscale>
                               ${CMAKE_CURRENT_BINARY_DIR}/plan-rundir ${PROJECT_SOURCE_DIR}/sweeps/emulator-default.json)
set_tests_properties(cli_plan PROPERTIES TIMEOUT 300)
