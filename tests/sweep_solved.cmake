# Command-line tests of the solved tasks as sweeps (`task: rf`, `task: zipf`;
# src/train/task_rf.c, task_zipf.c, solve.c): every bad parameter the issue
# names is refused with exit code 2 before anything runs, and so is a point
# that does not fit in memory; grids over task fields and variants run; the
# same seed gives the same numbers in a re-run, in another process, in shards
# (one a Slurm array task) and after a SIGKILL and a resume, under both
# matmul backends. Uses lib.sh and the helpers of sweep.cmake.
set(CLS_SOLVED_DIR ${PROJECT_BINARY_DIR}/sweep-solved)
set(CLS_SOLVED_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-solved)
file(MAKE_DIRECTORY ${CLS_SOLVED_DIR})

# A grid over N (widths), T (budgets_tokens) and two ridges that crosses N = T; two seeds.
file(WRITE ${CLS_SOLVED_DIR}/rf.json [=[
{"name": "rf-grid", "task": "rf", "widths": [24, 48, 96], "budgets_tokens": [48, 96], "latent": 256,
 "alpha": 1.0, "ridge": [1e-4, 1e-1], "noise": 0.01, "test_samples": 64, "seeds": [1, 2]}
]=])
# Five sources as variants, two seeds; the learning curve at up to 8 sizes.
file(WRITE ${CLS_SOLVED_DIR}/zipf.json [=[
{"name": "zipf-sources", "task": "zipf", "vocab": 20000, "beta": 1.5, "budgets_tokens": [20000], "seeds": [1, 2],
 "evals": 8,
 "variants": [{"source": "real"}, {"source": "cut", "cut": 100}, {"source": "narrowed", "beta_narrow": 2.5},
              {"source": "fitted", "fit_samples": 5000}, {"source": "cut", "cut": 100, "real_fraction": 0.25}]}
]=])
# Six points of about 0.2 s each: long enough to be killed in the middle of one.
file(WRITE ${CLS_SOLVED_DIR}/zipf_slow.ini [=[
task = zipf
vocab = 3000000
beta = 1.3
budgets_tokens = 3000000
seeds = 1, 2, 3, 4, 5, 6
evals = 30
]=])

# Bad parameters: exit 2, a message naming the field, nothing run.
set(rf_ok "\"task\": \"rf\", \"widths\": [16], \"budgets_tokens\": [64]")
set(zipf_ok "\"task\": \"zipf\", \"vocab\": 1000, \"budgets_tokens\": [100]")
function(cls_solved_bad name pattern text)
  file(WRITE ${CLS_SOLVED_DIR}/bad_${name}.json "{${text}}\n")
  add_test(NAME cli_solved_bad_${name}
           COMMAND ${CLS_SWEEP_EXPECT} 2 "${pattern}" $<TARGET_FILE:clscale> sweep ${CLS_SOLVED_DIR}/bad_${name}.json
                   --out ${CLS_SOLVED_TMP}/bad_${name})
  set_tests_properties(cli_solved_bad_${name} PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
endfunction()
cls_solved_bad(alpha_zero "'alpha' wants a number in \\(0, 100\\]" "${rf_ok}, \"alpha\": 0")
cls_solved_bad(alpha_negative_in_list "'alpha' \\(a list\\) wants a number in \\(0" "${rf_ok}, \"alpha\": [1, -0.5]")
cls_solved_bad(ridge_negative "'ridge' wants a number in \\[0" "${rf_ok}, \"ridge\": -1e-3")
cls_solved_bad(noise_negative "'noise' wants a number in \\[0" "${rf_ok}, \"noise\": -1")
cls_solved_bad(latent_zero "'latent' wants a whole number from 1" "${rf_ok}, \"latent\": 0")
cls_solved_bad(features_zero "'widths' wants whole numbers >= 1 \\(found 0\\)"
               "\"task\": \"rf\", \"widths\": [0, 16], \"budgets_tokens\": [64]")
cls_solved_bad(samples_zero "'budgets_tokens' wants positive tokens \\(found 0\\)"
               "\"task\": \"rf\", \"widths\": [16], \"budgets_tokens\": [0]")
cls_solved_bad(samples_fraction "training-set sizes T: whole numbers >= 1 \\(found 64.5\\)"
               "\"task\": \"rf\", \"widths\": [16], \"budgets_tokens\": [64.5]")
cls_solved_bad(flops_budget "solved, not trained: give its training-set sizes T as 'budgets_tokens'"
               "\"task\": \"rf\", \"widths\": [16], \"budgets_flops\": [1e9]")
cls_solved_bad(rf_lr "no optimizer and no learning rate" "${rf_ok}, \"lr\": 0.01")
cls_solved_bad(rf_isoflop "mode 'isoflop': the rf task is solved" "${rf_ok}, \"mode\": \"isoflop\"")
cls_solved_bad(beta_one "'beta' wants a number in \\(1, 100\\]" "${zipf_ok}, \"beta\": 1")
cls_solved_bad(beta_in_variant "'beta' \\(variant 2\\) wants a number in \\(1"
               "${zipf_ok}, \"variants\": [{\"beta\": 2}, {\"beta\": 0.9}]")
cls_solved_bad(narrow_not_thinner "beta_narrow is 1.5; it must be finite and > beta = 1.5"
               "${zipf_ok}, \"source\": \"narrowed\", \"beta_narrow\": 1.5")
cls_solved_bad(cut_zero "'cut' wants a whole number from 1" "${zipf_ok}, \"source\": \"cut\", \"cut\": 0")
cls_solved_bad(cut_missing "source=cut: source cut needs cut" "${zipf_ok}, \"variants\": [{\"source\": \"cut\"}]")
cls_solved_bad(cut_beyond_vocab "cut is 5000; it must lie in \\[1, vocab = 1000\\]"
               "${zipf_ok}, \"source\": \"cut\", \"cut\": 5000")
cls_solved_bad(mix_above_one "'real_fraction' wants a number in \\[0, 1\\]" "${zipf_ok}, \"real_fraction\": 1.5")
cls_solved_bad(mix_negative "'real_fraction' \\(a list\\) wants a number in \\[0, 1\\]"
               "${zipf_ok}, \"real_fraction\": [0.5, -0.1]")
cls_solved_bad(vocab_zero "'vocab' wants a whole number from 1"
               "\"task\": \"zipf\", \"vocab\": 0, \"budgets_tokens\": [100]")
cls_solved_bad(unknown_source "source 'mixed': use real, cut, narrowed or fitted" "${zipf_ok}, \"source\": \"mixed\"")
cls_solved_bad(zipf_widths "the memoriser model of the zipf task has no size" "${zipf_ok}, \"widths\": [4]")
cls_solved_bad(variant_not_a_field "'variants' entry 1: 'lr' is not a setting of the zipf task"
               "${zipf_ok}, \"variants\": [{\"lr\": 1}]")
# NaN anywhere (INI has no JSON rule against it): a value, a list entry, a variant's value.
file(WRITE ${CLS_SOLVED_DIR}/bad_nan_alpha.ini "task = rf\nwidths = 16\nbudgets_tokens = 64\nalpha = nan\n")
file(WRITE ${CLS_SOLVED_DIR}/bad_nan_ridge.ini "task = rf\nwidths = 16\nbudgets_tokens = 64\nridge = 1e-3, nan\n")
file(WRITE ${CLS_SOLVED_DIR}/bad_nan_beta.ini "task = zipf\nbudgets_tokens = 64\nbeta = nan\n")
file(WRITE ${CLS_SOLVED_DIR}/bad_inf_mix.ini "task = zipf\nbudgets_tokens = 64\nreal_fraction = inf\n")
foreach(case nan_alpha:alpha nan_ridge:ridge nan_beta:beta inf_mix:real_fraction)
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 key)
  add_test(NAME cli_solved_bad_${name}
           COMMAND ${CLS_SWEEP_EXPECT} 2 "'${key}'.* wants a number" $<TARGET_FILE:clscale> sweep
                   ${CLS_SOLVED_DIR}/bad_${name}.ini --out ${CLS_SOLVED_TMP}/bad_${name})
  set_tests_properties(cli_solved_bad_${name} PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
endforeach()
# Too large for memory: named, with its size, before anything runs (no run directory made).
cls_solved_bad(rf_too_large "point t200000_w16_d1_s1 needs [0-9.]+ GB of device memory and the device has"
               "\"task\": \"rf\", \"widths\": [16, 200000], \"latent\": 100000, \"budgets_tokens\": [200000]")
cls_solved_bad(zipf_too_large "point t100_s1 needs [0-9.]+ GB of host memory and the host has"
               "\"task\": \"zipf\", \"vocab\": 4000000000, \"budgets_tokens\": [100]")
set_tests_properties(cli_solved_bad_rf_too_large cli_solved_bad_zipf_too_large PROPERTIES
                     FAIL_REGULAR_EXPRESSION "finished")

# The dry run of a solved sweep: one line per point with its N, T and memory.
add_test(NAME cli_solved_dry_run
         COMMAND ${CLS_SWEEP_EXPECT} 0 "t96_w48_d1_s2_ridge0.1 +48 +96 +[0-9.]+ MB" $<TARGET_FILE:clscale> sweep
                 ${CLS_SOLVED_DIR}/rf.json --dry-run)

# Same seed, same numbers.
file(WRITE ${CLS_SOLVED_DIR}/same.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; n=$5; shift 5
. "$(dirname "$0")/../sweep-cli/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$expect" 0 "$n of $n points finished" "$clscale" sweep "$spec" --out "$dir/ref" "$@" || exit 1
no_leftovers "$dir/ref" || exit 1
"$expect" 0 "$n finished before, 0 to run" "$clscale" sweep "$spec" --out "$dir/ref" "$@" || exit 1
"$clscale" sweep "$spec" --out "$dir/again" --quiet "$@" || { echo "second sweep failed"; exit 1; }
same_results "$dir/ref" "$dir/again" || exit 1
"$clscale" sweep "$spec" --out "$dir/sharded" --shard 0/2 --quiet "$@" &
p0=$!
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 "$clscale" sweep "$spec" --out "$dir/sharded" --quiet "$@" &
p1=$!
wait $p0 && wait $p1 || { echo "a shard failed"; exit 1; }
same_results "$dir/ref" "$dir/sharded" || exit 1
# Half of it, then the rest in a later run.
"$clscale" sweep "$spec" --out "$dir/resumed" --shard 1/2 --quiet "$@" || exit 1
"$expect" 0 "finished before" "$clscale" sweep "$spec" --out "$dir/resumed" "$@" || exit 1
same_results "$dir/ref" "$dir/resumed" || exit 1
]=])
foreach(backend own clblast)
  add_test(NAME cli_solved_rf_same_${backend}
           COMMAND sh ${CLS_SOLVED_DIR}/same.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                   ${CLS_SOLVED_TMP}/rf_${backend} ${CLS_SOLVED_DIR}/rf.json 24 --matmul-backend ${backend})
  set_tests_properties(cli_solved_rf_same_${backend} PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
endforeach()
add_test(NAME cli_solved_zipf_same COMMAND sh ${CLS_SOLVED_DIR}/same.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                           ${CLS_SOLVED_TMP}/zipf ${CLS_SOLVED_DIR}/zipf.json 10)
set_tests_properties(cli_solved_zipf_same PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")

# SIGKILL while a point is being solved: the re-run solves it again and ends
# with the uninterrupted sweep's results; no file is left half-written.
file(WRITE ${CLS_SOLVED_DIR}/kill.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$0")/../sweep-cli/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }
"$clscale" sweep "$spec" --out "$dir/run" --quiet "$@" > "$dir/killed.log" 2>&1 &
pid=$!
victim=
while [ -z "$victim" ]; do
  kill -0 $pid 2>/dev/null || { echo "the sweep ended before it could be killed"; cat "$dir/killed.log"; exit 1; }
  if grep -qlF '"status":	"ok"' "$dir"/run/points/*.json 2>/dev/null; then
    victim=$(grep -lF '"status":	"running"' "$dir"/run/points/*.json 2>/dev/null | head -1)
  fi
  [ -n "$victim" ] || sleep 0.01
done
kill -9 $pid
wait $pid 2>/dev/null
echo "killed the sweep during $(basename "$victim" .json)"
for f in "$dir"/run/points/*.json; do tail -c 3 "$f" | grep -q '}' || { echo "$f is cut"; exit 1; }; done
"$expect" 0 "6 of 6 points finished" "$clscale" sweep "$spec" --out "$dir/run" "$@" || exit 1
same_results "$dir/ref" "$dir/run" || exit 1
no_leftovers "$dir/run" || exit 1
]=])
add_test(NAME cli_solved_kill COMMAND sh ${CLS_SOLVED_DIR}/kill.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                      ${CLS_SOLVED_TMP}/kill ${CLS_SOLVED_DIR}/zipf_slow.ini)
set_tests_properties(cli_solved_kill PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")

# The pipeline measures exponents right: sweep -> fit along an axis. With
# T >> N the loss falls as N^-alpha, with N >> T as T^-alpha; the fitted
# exponent (L = A X^-gamma, the mean over 8 seeds) lands within 0.05 of
# alpha and of the same law fitted to the theory, and every mean within 10%
# of the theory (about 25 s on two cores).
file(WRITE ${CLS_SOLVED_DIR}/exp_n1.json [=[
{"name": "exp-n1", "task": "rf", "widths": [16, 32, 64, 128, 256], "budgets_tokens": [4096], "latent": 2048,
 "alpha": 1.0, "ridge": 1e-6, "seeds": [7, 8, 9, 10, 11, 12, 13, 14]}
]=])
file(WRITE ${CLS_SOLVED_DIR}/exp_n05.json [=[
{"name": "exp-n05", "task": "rf", "widths": [8, 16, 32, 64, 128], "budgets_tokens": [2048], "latent": 2048,
 "alpha": 0.5, "ridge": 1e-6, "seeds": [7, 8, 9, 10, 11, 12, 13, 14]}
]=])
file(WRITE ${CLS_SOLVED_DIR}/exp_t1.json [=[
{"name": "exp-t1", "task": "rf", "widths": [2048], "budgets_tokens": [16, 32, 64, 128, 256], "latent": 2048,
 "alpha": 1.0, "ridge": 1e-6, "seeds": [7, 8, 9, 10, 11, 12, 13, 14]}
]=])
file(WRITE ${CLS_SOLVED_DIR}/exponent.sh [=[
set -u
clscale=$1; dir=$2; spec=$3; axis=$4; alpha=$5; shift 5
rm -rf "$dir"
"$clscale" sweep "$spec" --out "$dir" --quiet "$@" || { echo "sweep failed"; exit 1; }
"$clscale" fit "$dir" --axis "$axis" --axis-floor zero || { echo "fit failed"; exit 1; }
value() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([-0-9.eE+]*\),*$/\1/p" "$dir/fit.json" | head -1; }
g=$(value gamma); th=$(value fitted_gamma); dev=$(value max_rel_dev)
echo "gamma $g, theory-fit $th, alpha $alpha, worst |measured/theory - 1| $dev"
awk -v g="$g" -v t="$th" -v a="$alpha" -v d="$dev" 'BEGIN {
  if (g == "" || t == "" || d == "") { print "fit.json lacks gamma, fitted_gamma or max_rel_dev"; exit 1 }
  if (g - a > 0.05 || a - g > 0.05) { print "gamma is not within 0.05 of alpha"; exit 1 }
  if (g - t > 0.05 || t - g > 0.05) { print "gamma is not within 0.05 of the theory-fit"; exit 1 }
  if (d > 0.10) { print "a mean over seeds is more than 10% from the theory"; exit 1 }
}'
]=])
foreach(case n1:features:1.0 n05:features:0.5 t1:samples:1.0)
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 axis)
  list(GET parts 2 alpha)
  add_test(NAME cli_solved_rf_exponent_${name}
           COMMAND sh ${CLS_SOLVED_DIR}/exponent.sh $<TARGET_FILE:clscale> ${CLS_SOLVED_TMP}/exp_${name}
                   ${CLS_SOLVED_DIR}/exp_${name}.json ${axis} ${alpha} --matmul-backend own)
  set_tests_properties(cli_solved_rf_exponent_${name} PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
endforeach()

# The memoriser through the pipeline: along T (the learning curves, T >= 100)
# the fitted exponent of real data is within 0.02 of 1 - 1/beta for beta 1.5
# and 2.5; a tail cut at rank k = 1000 (beta 1.5: T = 10^6 sees every item
# it keeps) ends on the theory's floor, the real mass beyond k, within 2%.
file(WRITE ${CLS_SOLVED_DIR}/exp_zipf.json [=[
{"name": "exp-zipf", "task": "zipf", "vocab": 1000000, "beta": [1.5, 2.5], "budgets_tokens": [1000000],
 "seeds": [1, 2, 3, 4], "evals": 30, "variants": [{"source": "real"}, {"source": "cut", "cut": 1000}]}
]=])
file(WRITE ${CLS_SOLVED_DIR}/zipf_exponent.sh [=[
set -u
clscale=$1; dir=$2; spec=$3
rm -rf "$dir"
"$clscale" sweep "$spec" --out "$dir" --quiet || { echo "sweep failed"; exit 1; }
"$clscale" fit "$dir" --axis samples --where samples\>=100,source=real --axis-floor zero -o "$dir/real.json" || exit 1
"$clscale" fit "$dir" --axis samples --where source=cut -o "$dir/cut.json" || exit 1
values() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\([-0-9.eE+]*\),*$/\1/p" "$2"; }
# one line per group: beta, fitted gamma, 1 - 1/beta
values beta "$dir/real.json" > "$dir/b"; values gamma "$dir/real.json" > "$dir/g"; values exponent "$dir/real.json" > "$dir/e"
paste "$dir/b" "$dir/g" "$dir/e" | awk '
  { n++; printf "beta %s: gamma %s, 1 - 1/beta %s\n", $1, $2, $3
    if ($3 - (1 - 1 / $1) > 1e-12 || (1 - 1 / $1) - $3 > 1e-12) { print "the theory exponent is not 1 - 1/beta"; bad = 1 }
    if ($2 - $3 > 0.02 || $3 - $2 > 0.02) { print "gamma is not within 0.02 of 1 - 1/beta"; bad = 1 } }
  END { if (n != 2) { print n " groups, expected 2"; bad = 1 } exit bad }' || exit 1
# the cut's measured error at the largest T (mean over seeds) against the theory's floor
for beta in 1.5; do
  f=$(values floor "$dir/cut.json" | head -1)
  last=$(tr -d '\n\t ' < "$dir/cut.json" | sed 's/"groups":/\n/' | tail -1 |
         sed 's/"label"/\n"label"/g' | grep '"beta":'"$beta"',' | sed 's/.*"loss":\[\([^]]*\)\].*"theory".*/\1/' | tr ',' '\n' | tail -1)
  echo "beta $beta: floor $f, final error $last"
  awk -v f="$f" -v l="$last" 'BEGIN { if (f == "" || l == "" || !(f > 0)) exit 1; r = l / f - 1; if (r > 0.02 || r < -0.02) exit 1 }' ||
    { echo "the cut's final error is not within 2% of its floor"; exit 1; }
done
]=])
add_test(NAME cli_solved_zipf_exponent COMMAND sh ${CLS_SOLVED_DIR}/zipf_exponent.sh $<TARGET_FILE:clscale>
                                               ${CLS_SOLVED_TMP}/exp_zipf ${CLS_SOLVED_DIR}/exp_zipf.json)
set_tests_properties(cli_solved_zipf_exponent PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
