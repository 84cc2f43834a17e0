# Command-line tests of `clscale`: exit codes (0 ok, 1 failure, 2 bad usage)
# and the messages a user sees.
set(CLS_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_CLI_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")

function(cls_cli_test name code pattern)
  add_test(NAME cli_${name} COMMAND ${CLS_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> ${ARGN})
  set_tests_properties(cli_${name} PROPERTIES ENVIRONMENT "${CLS_CLI_ENV}" TIMEOUT 600)
endfunction()

cls_cli_test(help 0 "devices" --help)
cls_cli_test(no_command 2 "usage: clscale")
cls_cli_test(unknown_command 2 "unknown command 'frobnicate'" frobnicate)
cls_cli_test(version 0 "clscale [0-9]" --version)
cls_cli_test(devices 0 "^\\* [0-9]+:[0-9]+" devices)
cls_cli_test(devices_params 0 "nvidia-gpu.*" devices --params)
cls_cli_test(devices_implementations 0 "^  [^ ]+\\.icd -> " devices)
cls_cli_test(devices_param_reason 0 "parameter set [a-z-]+: [a-z]" devices)
cls_cli_test(devices_by_type 0 "selector 'cpu'" devices --device cpu)
cls_cli_test(devices_no_match 1 "no device matches 'no-such-gpu'.*" devices --device no-such-gpu)
cls_cli_test(devices_bad_index 1 "not of the form P:D" devices --device 0:x)
cls_cli_test(devices_bad_arg 2 "unknown argument '--frob'" devices --frob)
# Device parameters are checked before any build (issue 14): bad usage, exit 2,
# with the parameter's range and the sets that define it.
foreach(v abc 0 -64 3 999999999)
  cls_cli_test(devices_bad_params_${v} 2 "MM_TM=${v} .*MM_TM takes a power of two from 4 to 256.*defined by the sets cpu"
               devices --params)
  set_tests_properties(cli_devices_bad_params_${v} PROPERTIES ENVIRONMENT "${CLS_CLI_ENV};CLSCALE_PARAMS=MM_TM=${v}")
endforeach()
cls_cli_test(devices_garbage_params 2 "malformed device parameter 'garbage'" devices --params)
set_tests_properties(cli_devices_garbage_params PROPERTIES ENVIRONMENT "${CLS_CLI_ENV};CLSCALE_PARAMS=garbage")
cls_cli_test(devices_unknown_param 2 "unknown device parameter 'MM_FOO'; the known ones are: MM_LOCAL" devices)
set_tests_properties(cli_devices_unknown_param PROPERTIES ENVIRONMENT "${CLS_CLI_ENV};CLSCALE_PARAMS=MM_FOO=1")
cls_cli_test(devices_override_only_param 2 "MM_ADIRECT takes an integer from 0 to 2.*an override only" devices)
set_tests_properties(cli_devices_override_only_param PROPERTIES ENVIRONMENT "${CLS_CLI_ENV};CLSCALE_PARAMS=MM_ADIRECT=3")
cls_cli_test(devices_help 0 "usage: clscale devices" devices --help)
cls_cli_test(bench_help 0 "usage: clscale bench" bench --help)
cls_cli_test(bench_bad_reps 2 "--reps wants" bench --reps 0)
cls_cli_test(bench_bad_arg 2 "unknown or incomplete argument '--frob'" bench --frob)
cls_cli_test(bench_missing_value 2 "--json needs a value" bench --json)
# A known option without its value says so, in every command (issue 14).
cls_cli_test(devices_missing_value 2 "--device needs a value" devices --device)
cls_cli_test(bench_unwritable_json 1 "cannot write" bench --json /proc/no/such/dir/bench.json)
cls_cli_test(bench_only_solve 0 "SPD solve GFLOP/s" bench --only solve --quick --reps 3)
cls_cli_test(bench_only_models 0 "gpt +width +32 +8 models +[0-9]+ samples/s" bench --only models --quick --reps 3)
cls_cli_test(bench_bad_device 1 "no device matches" bench --device no-such-gpu)
cls_cli_test(bench_bad_backend_env 1 "unknown matmul backend 'cublas'" bench --quick)
set_tests_properties(cli_bench_bad_backend_env PROPERTIES ENVIRONMENT "${CLS_CLI_ENV};CLSCALE_MATMUL_BACKEND=cublas")

# The whole benchmark on small shapes, with its JSON checked for every part.
add_test(NAME cli_bench_quick
         COMMAND sh -c "${CLS_EXPECT} 0 'softmax_fwd' $<TARGET_FILE:clscale> bench --quick --reps 3 --json bench-quick.json && grep -q '\"ratio_to_clblast\"' bench-quick.json && grep -q '\"ratio_to_copy\"' bench-quick.json && grep -q '\"cold_seconds\"' bench-quick.json && grep -q '\"fma_gflops\"' bench-quick.json && grep -q '\"host_us\"' bench-quick.json && grep -q '\"load\"' bench-quick.json && grep -q '\"samples_per_second\"' bench-quick.json")
set_tests_properties(cli_bench_quick PROPERTIES ENVIRONMENT "${CLS_CLI_ENV}" TIMEOUT 900)

# The muP coordinate check, through to its figure.
cls_cli_test(coordcheck_help 0 "usage: clscale coordcheck" coordcheck --help)
cls_cli_test(coordcheck_no_out 2 "give the run directory" coordcheck)
cls_cli_test(coordcheck_bad_widths 2 "widths must ascend" coordcheck -o coordcheck-bad --widths 64,32)
cls_cli_test(coordcheck_bad_model 2 "bad value 'bert'" coordcheck -o coordcheck-bad --model bert)
cls_cli_test(coordcheck_unwritable 1 "cannot create" coordcheck -o /proc/no/such/dir)
add_test(NAME cli_coordcheck_plot
         COMMAND sh -c "$<TARGET_FILE:clscale> coordcheck -o coordcheck-run --widths 16,32,64 --depth 1 --steps 2 && grep -q '^mup,logits,64,2,' coordcheck-run/coord_check.csv && $<TARGET_FILE:clscale> plot coordcheck-run --kind coord-check && test -s coordcheck-run/plots/coord-check.png")
set_tests_properties(cli_coordcheck_plot PROPERTIES ENVIRONMENT "${CLS_CLI_ENV}" TIMEOUT 600)

# tools/bench/vs-torch.sh: its bad arguments, and one short round (PyTorch
# rows only where python3 has torch; clscale's row and median always).
add_test(NAME cli_vs_torch_bad_rounds COMMAND ${CLS_EXPECT} 2 "positive integers"
         ${PROJECT_SOURCE_DIR}/tools/bench/vs-torch.sh --rounds x)
add_test(NAME cli_vs_torch_no_clscale COMMAND ${CLS_EXPECT} 2 "no clscale at"
         ${PROJECT_SOURCE_DIR}/tools/bench/vs-torch.sh --clscale /no/such/clscale)
add_test(NAME cli_vs_torch_round COMMAND ${CLS_EXPECT} 0 "median clscale +[0-9]+ tokens/s"
         ${PROJECT_SOURCE_DIR}/tools/bench/vs-torch.sh --rounds 1 --steps 3 --clscale $<TARGET_FILE:clscale>
         -- --matmul-backend own --eval-batches 1)
set_tests_properties(cli_vs_torch_bad_rounds cli_vs_torch_no_clscale cli_vs_torch_round
                     PROPERTIES ENVIRONMENT "${CLS_CLI_ENV}" LABELS cli)
