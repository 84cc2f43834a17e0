# Command-line tests of the gcd task (the task itself is tested by
# test_task_gcd, its data by test_data_gcd): bad parameters exit 2 with a
# clear message and run nothing, through `clscale train` and through a sweep
# spec; a tiny run writes its outcome table; the preset sweeps/gcd.json plans.
set(CLS_GCD_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_GCD_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_GCD_DIR ${PROJECT_BINARY_DIR}/gcd-cli)
set(CLS_GCD_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-gcd)
file(MAKE_DIRECTORY ${CLS_GCD_DIR})

function(cls_gcd_cli name code pattern)
  add_test(NAME cli_gcd_${name} COMMAND ${CLS_GCD_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> ${ARGN})
  set_tests_properties(cli_gcd_${name} PROPERTIES ENVIRONMENT "${CLS_GCD_ENV}")
endfunction()

set(CLS_GCD_TRAIN train --task gcd --out ${CLS_GCD_TMP}/bad --budget-steps 5)
cls_gcd_cli(train_base 2 "--base '1': wants a whole number >= 2" ${CLS_GCD_TRAIN} --base 1)
cls_gcd_cli(train_bound 2 "--bound '0': wants a whole number >= 1" ${CLS_GCD_TRAIN} --bound 0)
cls_gcd_cli(train_context 2 "take 34 tokens \\(33 positions\\), more than the context of 16: raise --context to 33"
            ${CLS_GCD_TRAIN} --bound 1000000000 --context 16)
cls_gcd_cli(train_eval_pairs 2 "--eval-pairs '0'" ${CLS_GCD_TRAIN} --eval-pairs 0)

# The same refusals from a sweep spec.
file(WRITE ${CLS_GCD_DIR}/base.json
     "{\"task\": \"gcd\", \"mode\": \"curves\", \"base\": 1, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_steps\": [5]}\n")
file(WRITE ${CLS_GCD_DIR}/context.json
     "{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 1000000000, \"context\": 16, \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_steps\": [5]}\n")
file(WRITE ${CLS_GCD_DIR}/bound.json
     "{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": [100, 0], \"widths\": [16], \"depth\": 1, \"heads\": 2, \"budgets_steps\": [5]}\n")
cls_gcd_cli(sweep_base 2 "'base' wants a whole number from 2" sweep ${CLS_GCD_DIR}/base.json --out ${CLS_GCD_TMP}/s1)
cls_gcd_cli(sweep_context 2 "more than the context of 16: raise context to 33 or lower bound" sweep ${CLS_GCD_DIR}/context.json
            --out ${CLS_GCD_TMP}/s2)
cls_gcd_cli(sweep_bound 2 "'bound' .*wants a whole number from 1" sweep ${CLS_GCD_DIR}/bound.json --out ${CLS_GCD_TMP}/s3)
cls_gcd_cli(preset_plans 0 "4 points" sweep ${PROJECT_SOURCE_DIR}/sweeps/gcd.json --dry-run --out ${CLS_GCD_TMP}/preset)

# A tiny run: its outcome table and the accuracy in its summary.
file(WRITE ${CLS_GCD_DIR}/run.sh [=[
set -eu
clscale=$1; expect=$2; dir=$3
rm -rf "$dir"
"$expect" 0 "run 'g' ok: 30/30 steps" "$clscale" train --task gcd --bound 50 --context 10 --width 16 --depth 1 \
  --heads 2 --batch 16 --eval-pairs 256 --out "$dir" --id g --budget-steps 30
head -1 "$dir/points/g.outcomes.csv" | grep -qx 'gcd,examples,correct,accuracy,loss,expected'
grep -q '^1,' "$dir/points/g.outcomes.csv"
grep -q '"eval_accuracy":' "$dir/points/g.json"
grep -q '"task":	"gcd"' "$dir/points/g.json"
]=])
add_test(NAME cli_gcd_run COMMAND sh ${CLS_GCD_DIR}/run.sh $<TARGET_FILE:clscale> ${CLS_GCD_EXPECT} ${CLS_GCD_TMP}/run)
set_tests_properties(cli_gcd_run PROPERTIES ENVIRONMENT "${CLS_GCD_ENV}")
