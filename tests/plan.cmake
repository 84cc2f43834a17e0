# `clscale plan` from the command line (the library is tested by
# test_fit_plan): a synthetic fitted run directory planned three ways, and
# its bad inputs (tests/data/fit/plan.sh).
add_test(NAME cli_plan COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/data/fit/plan.sh $<TARGET_FILE:clscale>
                               ${CMAKE_CURRENT_BINARY_DIR}/plan-rundir ${PROJECT_SOURCE_DIR}/sweeps/emulator-default.json)
set_tests_properties(cli_plan PROPERTIES TIMEOUT 300)

# The repeated-data preset (n_train at fixed compute) plans: 3 sizes x 2 budgets x 6 n_train.
add_test(NAME cli_preset_repeats_plans
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh 0 "over 36 points" $<TARGET_FILE:clscale> sweep
                 ${PROJECT_SOURCE_DIR}/sweeps/emulator-repeats.json --dry-run --out
                 ${PROJECT_BINARY_DIR}/test-tmp/preset-repeats)
set_tests_properties(cli_preset_repeats_plans PROPERTIES TIMEOUT 300 ENVIRONMENT
                     "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
