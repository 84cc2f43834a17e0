# Command-line tests of `clscale fit` (the library is tested by test_fit*):
# usage errors exit 2, bad inputs exit 1 with a message naming the problem,
# and a synthetic run directory goes through fit and plot end to end.
set(CLS_FIT_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_FIT_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/fit)
function(cls_fit_cli name code pattern)
  add_test(NAME cli_fit_${name} COMMAND ${CLS_FIT_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> fit ${ARGN})
  set_tests_properties(cli_fit_${name} PROPERTIES TIMEOUT 300)
endfunction()
cls_fit_cli(help 0 "usage: clscale fit" --help)
cls_fit_cli(no_args 2 "RUN_DIR \\(or --csv FILE\\) is missing")
cls_fit_cli(two_inputs 2 "not both" ${CLS_FIT_DATA}/single_run --csv ${CLS_FIT_DATA}/good.csv)
cls_fit_cli(bad_option 2 "unknown or incomplete argument '--frobnicate'" . --frobnicate)
cls_fit_cli(bad_delta 2 "--delta wants" . --delta -1)
cls_fit_cli(bad_bootstrap 2 "--bootstrap wants" . --bootstrap many)
cls_fit_cli(bad_starts 2 "--starts wants" . --starts 0)
cls_fit_cli(bad_ci 2 "--ci wants" . --ci 95)
cls_fit_cli(bad_loss 2 "--loss wants eval or train" . --loss test)
cls_fit_cli(missing_dir 1 "run directory /no/such/dir" /no/such/dir)
cls_fit_cli(not_a_rundir 1 "has no points/ folder" ${CMAKE_CURRENT_SOURCE_DIR}/cli)
cls_fit_cli(no_points 1 "holds no <id>.json run summaries" ${CLS_FIT_DATA}/no_points)
cls_fit_cli(all_unusable 1 "none of the 2 runs" ${CLS_FIT_DATA}/diverged)
cls_fit_cli(negative_loss_rundir 1 "\"final_eval_loss\" is -0.5; it must be a finite number >= 0" ${CLS_FIT_DATA}/neg_loss)
cls_fit_cli(malformed_json 1 "a.json is not valid JSON" ${CLS_FIT_DATA}/bad_json)
cls_fit_cli(single_run 1 "no fit is possible with 1 run:.*" ${CLS_FIT_DATA}/single_run)
# The collapse fits need a sweep with generations (tests/generations.cmake runs one).
cls_fit_cli(collapse_no_generations 2 "--collapse: the points have no generation and real_fraction"
            ${CLS_FIT_DATA}/axis_toy --collapse -o ${CMAKE_CURRENT_BINARY_DIR}/collapse_no_generations.json)
cls_fit_cli(collapse_csv 2 "--where and --collapse need a run directory" --csv ${CLS_FIT_DATA}/good.csv --collapse)
cls_fit_cli(csv_missing 1 "cannot open" --csv ${CLS_FIT_DATA}/no_such.csv)
cls_fit_cli(csv_empty 1 "is empty" --csv ${CLS_FIT_DATA}/empty.csv)
cls_fit_cli(csv_header_only 1 "no data rows" --csv ${CLS_FIT_DATA}/header_only.csv)
cls_fit_cli(csv_missing_column 1 "missing: loss" --csv ${CLS_FIT_DATA}/missing_col.csv)
cls_fit_cli(csv_truncated 1 "truncated" --csv ${CLS_FIT_DATA}/truncated.csv)
cls_fit_cli(csv_text 1 "line 3: D = 'abc' is not a positive finite number" --csv ${CLS_FIT_DATA}/text.csv)
cls_fit_cli(csv_nan 1 "line 3: loss = 'nan' is not a positive finite number" --csv ${CLS_FIT_DATA}/nan.csv)
cls_fit_cli(csv_inf 1 "line 3: loss = 'inf' is not a positive finite number" --csv ${CLS_FIT_DATA}/inf.csv)
cls_fit_cli(csv_negative 1 "line 3: loss = '-2.5' is not a positive finite number" --csv ${CLS_FIT_DATA}/negative.csv)
cls_fit_cli(csv_single 1 "parametric: needs at least 5 runs" --csv ${CLS_FIT_DATA}/single.csv)
cls_fit_cli(csv_good 0 "10x compute -> model x" --csv ${CLS_FIT_DATA}/good.csv --bootstrap 50 --starts 300 -o
            ${CMAKE_CURRENT_BINARY_DIR}/fit-good.json)
cls_fit_cli(unwritable_output 1 "cannot write" --csv ${CLS_FIT_DATA}/good.csv --bootstrap 0 --starts 10 -o
            /no/such/dir/fit.json)
# The backtest (--holdout-top): the largest budget of good.csv predicted from the others; a hold-out
# that leaves fewer than 2 budgets, and one with --axis, are refused.
cls_fit_cli(holdout_good 0 "of [0-9]+ inside their 95% prediction interval" --csv ${CLS_FIT_DATA}/good.csv
            --holdout-top 1 --bootstrap 50 --starts 300 -o ${CMAKE_CURRENT_BINARY_DIR}/fit-holdout.json)
cls_fit_cli(holdout_too_many 2 "leaves 0 of the [0-9]+ budgets to fit.*hold out at most" --csv ${CLS_FIT_DATA}/good.csv
            --holdout-top 50 --bootstrap 0 --starts 10 -o ${CMAKE_CURRENT_BINARY_DIR}/fit-holdout-bad.json)
cls_fit_cli(holdout_axis 2 "--holdout-top backtests the Chinchilla fits" ${CLS_FIT_DATA}/axis_toy --axis width
            --holdout-top 1)
cls_fit_cli(holdout_zero 2 "--holdout-top wants" --csv ${CLS_FIT_DATA}/good.csv --holdout-top 0)
# A CSV with epochs (runs of the data-constrained law, R*_D = 15.4) gives R*_D back; epochs must be positive.
cls_fit_cli(csv_epochs 0 "R\\*_D +15\\.[34]" --csv ${CLS_FIT_DATA}/repeats.csv --bootstrap 20 --starts 100 -o
            ${CMAKE_CURRENT_BINARY_DIR}/fit-repeats-csv.json)
cls_fit_cli(csv_bad_epochs 1 "line 3: epochs = '0' is not a positive finite number" --csv ${CLS_FIT_DATA}/bad_epochs.csv)
cls_fit_cli(isoflop_space_bad 2 "--isoflop-space wants logloss or loss" --csv ${CLS_FIT_DATA}/good.csv --isoflop-space lin)
cls_fit_cli(isoflop_resample_bad 2 "--isoflop-resample wants runs or residuals" --csv ${CLS_FIT_DATA}/good.csv
            --isoflop-resample points)
cls_fit_cli(fix_e_bad 2 "--fix-E wants a positive loss" --csv ${CLS_FIT_DATA}/good.csv --fix-E -1)
cls_fit_cli(fix_e_good 0 "E +1\\.7 +\\[1\\.7, 1\\.7\\]" --csv ${CLS_FIT_DATA}/good.csv --fix-E 1.7 --isoflop-space loss
            --bootstrap 20 --starts 100 -o ${CMAKE_CURRENT_BINARY_DIR}/fit-fix-e.json)
add_test(NAME cli_fit_e2e_plot COMMAND ${CLS_FIT_DATA}/e2e.sh $<TARGET_FILE:clscale>
                                       ${CMAKE_CURRENT_BINARY_DIR}/fit-e2e-rundir)
set_tests_properties(cli_fit_e2e_plot PROPERTIES TIMEOUT 300)

# Power laws along an axis (--axis): a toy run directory (L = 0.1 + 2*w^-0.7,
# two seeds), bad axes and bad inputs exit 2, and real rf and zipf sweeps
# fitted with their default axes by tests/data/fit/axis.sh.
cls_fit_cli(axis_good 0 "all +10 +5 +1 \\.\\. 16 .*0\\.70" ${CLS_FIT_DATA}/axis_toy --axis width --bootstrap 50 -o
            ${CMAKE_CURRENT_BINARY_DIR}/fit-axis-toy.json)
cls_fit_cli(axis_floor_zero 0 "L = A\\*width\\^-gamma" ${CLS_FIT_DATA}/axis_toy --axis width,n_params --axis-floor
            zero --bootstrap 20 -o ${CMAKE_CURRENT_BINARY_DIR}/fit-axis-zero.json)
cls_fit_cli(axis_toy_default 0 "isoflop" ${CLS_FIT_DATA}/axis_toy --bootstrap 10 --starts 20 -o
            ${CMAKE_CURRENT_BINARY_DIR}/fit-axis-default.json)
cls_fit_cli(axis_unknown 2 "unknown axis 'depth'.*: flops, n_params, noise, ridge, tokens, width" ${CLS_FIT_DATA}/axis_toy
            --axis depth)
cls_fit_cli(axis_result 2 "'final_eval_loss' is a result" ${CLS_FIT_DATA}/axis_toy --axis final_eval_loss)
cls_fit_cli(axis_zero_value 2 "has ridge = 0; a power law in X needs every X positive" ${CLS_FIT_DATA}/axis_toy
            --axis ridge)
cls_fit_cli(axis_null_value 2 "has noise = null" ${CLS_FIT_DATA}/axis_toy --axis width,noise)
cls_fit_cli(axis_empty_name 2 "--axis wants" ${CLS_FIT_DATA}/axis_toy --axis width,,ridge)
cls_fit_cli(axis_nan_loss 2 "b.json: status ok but final_eval_loss is null" ${CLS_FIT_DATA}/diverged --axis width)
cls_fit_cli(axis_unfinished 2 "none of the 2 points .* is finished" ${CLS_FIT_DATA}/axis_unfinished --axis width)
cls_fit_cli(axis_no_points 2 "holds no <id>.json" ${CLS_FIT_DATA}/no_points --axis width)
cls_fit_cli(axis_csv 2 "--axis, --axis-floor, --where and --collapse need a run directory" --csv ${CLS_FIT_DATA}/good.csv --axis N)
# --where keeps the points that meet every condition (and says how many it left out).
cls_fit_cli(where_good 0 "all +6 +3 +4 \\.\\. 16" ${CLS_FIT_DATA}/axis_toy --axis width
            --where "width>=4,seed<=2" --bootstrap 10 -o ${CMAKE_CURRENT_BINARY_DIR}/fit-where.json)
cls_fit_cli(where_text 0 "all +10 +5" ${CLS_FIT_DATA}/axis_toy --axis width --where task=toy --bootstrap 10 -o
            ${CMAKE_CURRENT_BINARY_DIR}/fit-where-text.json)
cls_fit_cli(where_no_op 2 "--where 'width': write KEY<=V" ${CLS_FIT_DATA}/axis_toy --axis width --where width)
cls_fit_cli(where_no_value 2 "--where 'width<=': no value after '<='" ${CLS_FIT_DATA}/axis_toy --axis width --where
            "width<=")
cls_fit_cli(where_text_order 2 "'<' compares with a number, not 'abc'" ${CLS_FIT_DATA}/axis_toy --axis width --where
            "width<abc")
cls_fit_cli(where_text_number 2 "'task' is a text \\('toy'\\), not a number" ${CLS_FIT_DATA}/axis_toy --axis width
            --where task=3)
cls_fit_cli(where_number_text 2 "'width' is a number, not a text" ${CLS_FIT_DATA}/axis_toy --axis width --where
            width=big)
cls_fit_cli(where_unknown_key 2 "no point has the key 'depth'" ${CLS_FIT_DATA}/axis_toy --axis width --where depth=1)
cls_fit_cli(where_nothing_left 2 "no point is left" ${CLS_FIT_DATA}/axis_toy --axis width --where "width>100")
cls_fit_cli(where_no_axis 2 "name an axis with --axis" ${CLS_FIT_DATA}/axis_toy --where "width>1")
cls_fit_cli(axis_bad_floor 2 "--axis-floor wants free or zero" ${CLS_FIT_DATA}/axis_toy --axis-floor none)
cls_fit_cli(axis_train_loss 2 "--axis fits the final eval loss" ${CLS_FIT_DATA}/axis_toy --axis width --loss train)
add_test(NAME cli_fit_axis_sweeps COMMAND ${CLS_FIT_DATA}/axis.sh $<TARGET_FILE:clscale>
                                          ${CMAKE_CURRENT_BINARY_DIR}/fit-axis-sweeps)
set_tests_properties(cli_fit_axis_sweeps PROPERTIES TIMEOUT 300 ENVIRONMENT
                                                    "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")

# Bounded cost: 200,000 rows (distinct budgets, sizes of every budget) fit in
# seconds. The grouping and the distinct-size checks were quadratic (10^5
# rows: ~30 s with one start and no bootstrap; 10^6: minutes); the timeout
# catches a return of that. One start, no bootstrap: the parametric fit's
# cost is linear in the rows times its starts, and is not what this checks.
add_test(NAME cli_fit_large_csv
         COMMAND sh -c "awk 'BEGIN { srand(1); print \"N,D,loss\"; for (i = 0; i < 200000; i++) { n = 10^(6 + 3 * rand()); d = 10^(8 + 3 * rand()); printf \"%.6g,%.6g,%.6g\\n\", n, d, 1.7 + 400 / n^0.34 + 410 / d^0.28 } }' > large.csv && \"$1\" fit --csv large.csv --starts 1 --bootstrap 0 -o large.fit.json > /dev/null"
                 sh $<TARGET_FILE:clscale>
         WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
set_tests_properties(cli_fit_large_csv PROPERTIES TIMEOUT 60)

# The data-constrained law end to end: R*_D back from a synthetic run
# directory of repeated data, its figure, and the plan under it with the
# unique data fixed (tests/data/fit/repeats.sh).
add_test(NAME cli_fit_repeats COMMAND ${CLS_FIT_DATA}/repeats.sh $<TARGET_FILE:clscale>
                                      ${CMAKE_CURRENT_BINARY_DIR}/fit-repeats-rundir
                                      ${PROJECT_SOURCE_DIR}/sweeps/emulator-repeats.json)
set_tests_properties(cli_fit_repeats PROPERTIES TIMEOUT 300)
