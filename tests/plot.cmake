# Command-line tests of `clscale plot` (the library is tested by test_plot_*).
set(CLS_PLOT_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
function(cls_plot_cli name code pattern)
  add_test(NAME cli_plot_${name} COMMAND ${CLS_PLOT_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> plot ${ARGN})
  set_tests_properties(cli_plot_${name} PROPERTIES TIMEOUT 300)
endfunction()
cls_plot_cli(help 0 "usage: clscale plot" --help)
cls_plot_cli(no_args 2 "usage: clscale plot")
cls_plot_cli(no_dir 1 "run directory" /no/such/dir)
cls_plot_cli(bad_kind 2 "unknown --kind" . --kind foo)
cls_plot_cli(bad_dpi 2 "dpi" . --dpi -3)
cls_plot_cli(empty_dir 1 "is it a run directory" ${CMAKE_CURRENT_SOURCE_DIR}/cli)

# The solved tasks' figures from real tiny sweeps (the contract's rf-small,
# 0.5 s, and zipf-small, 0.1 s): the task's own kinds by default, another
# task's kind refused with exit 2 and nothing written.
set(CLS_PLOT_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/plot)
add_test(NAME cli_plot_rf_sweep
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/plot_solved.sh $<TARGET_FILE:clscale> ${CLS_PLOT_DATA}/rf-small.json
                 plot-rf-small rf-loss-n rf-loss-t rf-double-descent -- zipf-error)
add_test(NAME cli_plot_zipf_sweep
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/plot_solved.sh $<TARGET_FILE:clscale> ${CLS_PLOT_DATA}/zipf-small.json
                 plot-zipf-small zipf-error -- rf-loss-n)
set_tests_properties(cli_plot_rf_sweep cli_plot_zipf_sweep PROPERTIES ENVIRONMENT "${CLS_CLI_ENV}" TIMEOUT 300)
# Bad input: no finished point, a summary without a key the figures need, a
# kind of another task; a message, exit 1 (2 for the kind), no PNG.
cls_plot_cli(rf_no_finished 1 "skipped rf-loss-n: needs finished points" ${CLS_PLOT_DATA}/rf-failed -o plot-rf-failed)
cls_plot_cli(rf_missing_key 1 "has no numeric field \"ridge\"" ${CLS_PLOT_DATA}/rf-noridge -o plot-rf-noridge)
cls_plot_cli(rf_wrong_kind 2 "--kind zipf-error is a figure of task \"zipf\".*choose one of rf-loss-n"
             ${CLS_PLOT_DATA}/rf-noridge -o plot-rf-noridge --kind zipf-error)
# A figure asked for by name that the sweep cannot support (one ridge, N < T
# only) fails the command even when another is drawn.
cls_plot_cli(rf_explicit_kind 1 "skipped rf-double-descent: needs at least two ridges" ${CLS_PLOT_DATA}/rf-oneridge
             -o plot-rf-oneridge --kind rf-loss-n,rf-double-descent)
add_test(NAME cli_plot_bad_inputs_write_nothing
         COMMAND sh -c "test ! -e plot-rf-failed && test ! -e plot-rf-noridge")
set_tests_properties(cli_plot_bad_inputs_write_nothing PROPERTIES DEPENDS
                     "cli_plot_rf_no_finished;cli_plot_rf_missing_key;cli_plot_rf_wrong_kind")
