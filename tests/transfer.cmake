# Learning-rate transfer (issue 17): the transfer keys of a sweep spec, the
# fit and the figure. Bad parameters exit 2 before any device work; a small
# transfer sweep (two widths x 7 rates x SP/muP, 28 emulator points of 100
# steps: about 15 s of CPU) must show muP's optimal rate moving less with
# width than SP's.
set(CLS_TR_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_TR_DIR ${PROJECT_BINARY_DIR}/transfer-cli)
set(CLS_TR_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
file(MAKE_DIRECTORY ${CLS_TR_DIR})

set(CLS_TR_BASE "\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16, 32], \"depth\": 1, \"budgets_steps\": [5]")
file(WRITE ${CLS_TR_DIR}/empty_lrs.json "{${CLS_TR_BASE}, \"param\": [\"sp\", \"mup\"], \"lrs\": []}\n")
file(WRITE ${CLS_TR_DIR}/zero_lr.json "{${CLS_TR_BASE}, \"param\": [\"sp\", \"mup\"], \"lrs\": [0.01, 0]}\n")
file(WRITE ${CLS_TR_DIR}/neg_lr.json "{${CLS_TR_BASE}, \"lrs\": [0.01, -0.001, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/head_dim.json "{${CLS_TR_BASE}, \"head_dim\": [4, 5], \"lrs\": [0.01, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/bad_param.json "{${CLS_TR_BASE}, \"param\": [\"sp\", \"ntk\"], \"lrs\": [0.01, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/mup_base.json
     "{${CLS_TR_BASE}, \"head_dim\": 2, \"param\": [\"sp\", \"mup\"], \"base_width\": 8, \"lrs\": [0.01, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/gpt_tokens.json
     "{\"task\": \"text\", \"mode\": \"curves\", \"widths\": [32], \"depth\": 1, \"budgets_steps\": [5], \"label_tokens\": [8, 16], \"lrs\": [0.01, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/linreg_heads.json
     "{\"task\": \"linreg\", \"mode\": \"curves\", \"widths\": [32], \"depth\": 1, \"budgets_steps\": [5], \"head_dim\": [4, 8], \"lrs\": [0.01, 0.1]}\n")
file(WRITE ${CLS_TR_DIR}/rf_param.json
     "{\"task\": \"rf\", \"widths\": [16], \"budgets_tokens\": [64], \"param\": [\"sp\", \"mup\"]}\n")

function(cls_transfer_bad name pattern spec)
  add_test(NAME cli_transfer_${name} COMMAND ${CLS_TR_EXPECT} 2 "${pattern}" $<TARGET_FILE:clscale> sweep --dry-run
                                             ${CLS_TR_DIR}/${spec})
  set_tests_properties(cli_transfer_${name} PROPERTIES ENVIRONMENT "${CLS_TR_ENV}")
endfunction()
cls_transfer_bad(empty_lrs "'lrs' is empty" empty_lrs.json)
cls_transfer_bad(zero_lr "'lrs' wants positive learning rates \\(found 0\\)" zero_lr.json)
cls_transfer_bad(negative_lr "'lrs' wants positive learning rates \\(found -0.001\\)" neg_lr.json)
cls_transfer_bad(head_dim_divides "width 16 is not a multiple of head_dim 5" head_dim.json)
cls_transfer_bad(bad_param "param 'ntk': use \"sp\", \"mup\" or \"mup-depth\"" bad_param.json)
cls_transfer_bad(mup_base_width "heads 16, param mup: muP needs a base width" mup_base.json)
cls_transfer_bad(gpt_label_tokens "'label_tokens' is a setting of the spectra task, not of \"text\"" gpt_tokens.json)
cls_transfer_bad(linreg_head_dim "the linear model has no attention heads" linreg_heads.json)
cls_transfer_bad(rf_param_list "solved exactly: it has no parametrisation to vary" rf_param.json)

# The small transfer sweep, its fit and its figure.
file(WRITE ${CLS_TR_DIR}/small.json [=[
{"name": "transfer-small", "task": "spectra", "mode": "curves", "widths": [8, 32], "depth": 2, "head_dim": 4,
 "budgets_steps": [100], "batch": 8, "pixels": 32, "n_train": 1024, "n_test": 128, "n_pixels": 400,
 "param": ["sp", "mup"], "base_width": 16,
 "lrs": [0.0009765625, 0.001953125, 0.00390625, 0.0078125, 0.015625, 0.03125, 0.0625],
 "evals": 2, "eval_batches": 16}
]=])
add_test(NAME cli_transfer_small COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/transfer.sh $<TARGET_FILE:clscale>
                                         ${CLS_TR_DIR}/small.json ${PROJECT_BINARY_DIR}/test-tmp/transfer-small)
set_tests_properties(cli_transfer_small PROPERTIES ENVIRONMENT "${CLS_TR_ENV}" TIMEOUT 600)
add_test(NAME cli_transfer_fit_lr_transfer_with_csv
         COMMAND ${CLS_TR_EXPECT} 2 "--lr-transfer fits a run directory alone" $<TARGET_FILE:clscale> fit --csv
                 ${CLS_TR_DIR}/small.json --lr-transfer)

# Every transfer preset plans (a spec that the parser has come to refuse, or a
# grid that changed without its docs, shows here, not only in a long run).
function(cls_transfer_preset name points)
  add_test(NAME cli_transfer_preset_${name}
           COMMAND ${CLS_TR_EXPECT} 0 "over ${points} points" $<TARGET_FILE:clscale> sweep --dry-run
                   ${PROJECT_SOURCE_DIR}/sweeps/transfer-${name}.json --out ${PROJECT_BINARY_DIR}/test-tmp/transfer-preset-${name})
  set_tests_properties(cli_transfer_preset_${name} PROPERTIES ENVIRONMENT "${CLS_TR_ENV}")
endfunction()
cls_transfer_preset(width 72)
cls_transfer_preset(width-gpt 108)
cls_transfer_preset(depth 72)
cls_transfer_preset(tokens 64)
cls_transfer_preset(headdim 64)
cls_transfer_preset(default-rate 14)
