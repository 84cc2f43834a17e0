# Command-line tests of `clscale sweep` (the spec, plan, run directory and
# runner are tested by test_sweep_spec and test_sweep_run): exit codes and
# messages; a real end-to-end sweep that `clscale fit` and `clscale plot`
# read; a sweep killed with SIGKILL mid-point and re-run; shards 0/2 and 1/2
# (one of them a Slurm array task) against the unsharded sweep; two workers.
# Every run pins the matmul backend so that runs in different processes use
# the same kernels and their losses can be compared bit for bit.
set(CLS_SWEEP_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
# One point at a time unless a test asks for more (--per-device's auto measures
# before every sweep: the tests' sweeps are too small for it to pay).
set(CLS_SWEEP_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_SWEEP_DIR ${PROJECT_BINARY_DIR}/sweep-cli)
set(CLS_SWEEP_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-sweep)
file(MAKE_DIRECTORY ${CLS_SWEEP_DIR})

# Tiny emulators: an IsoFLOP design of 3 budgets x 5 sizes (about 10 s).
file(WRITE ${CLS_SWEEP_DIR}/tiny.json [=[
{"name": "tiny", "task": "spectra", "mode": "isoflop", "widths": [8, 12, 16, 24, 32], "depth": 1, "heads": 2,
 "budgets_flops": [2e8, 6e8, 2e9], "batch": 4, "pixels": 32, "n_train": 64, "n_test": 16, "n_pixels": 400,
 "param": "mup", "base_width": 16, "lr": 0.01, "evals": 6, "eval_batches": 2}
]=])
# Tiny GPTs on gcd: 3 rates of one shape (one group side by side), with
# the task's outcome tables.
file(WRITE ${CLS_SWEEP_DIR}/gcd_side.json [=[
{"name": "gcd-side", "task": "gcd", "model": "gpt", "mode": "curves", "base": 10, "bound": 30, "context": 9,
 "eval_pairs": 32, "widths": [16], "depth": 1, "heads": 2, "budgets_steps": [12], "seeds": [1],
 "lrs": [0.003, 0.01, 0.03], "batch": 8, "param": "mup", "base_width": 16, "evals": 3, "eval_batches": 2}
]=])
# The same kind of sweep as INI, smaller (6 points), checkpointing every 10 steps: for kill/resume and shards.
file(WRITE ${CLS_SWEEP_DIR}/small.ini [=[
# two budgets x three sizes
name = small
task = spectra
mode = isoflop
widths = 8, 16, 24
depth = 1
heads = 2
budgets_flops = 4e8, 1.2e9

[data]
batch = 4
pixels = 32
n_train = 64
n_test = 16
n_pixels = 400

[training]
param = mup
base_width = 16
lr = 0.01
evals = 8
eval_batches = 2
checkpoint_steps = 10
]=])
file(WRITE ${CLS_SWEEP_DIR}/other.ini [=[
name = small
task = spectra
mode = isoflop
widths = 8, 16, 24
depth = 1
heads = 2
budgets_flops = 4e8, 1.3e9
batch = 4
pixels = 32
n_train = 64
n_test = 16
n_pixels = 400
]=])
file(WRITE ${CLS_SWEEP_DIR}/single.ini [=[
name = single
task = spectra
mode = curves
models = 8x1x2
budgets_steps = 20
batch = 2
pixels = 16
n_train = 16
n_test = 4
n_pixels = 200
evals = 3
eval_batches = 1
]=])
file(WRITE ${CLS_SWEEP_DIR}/malformed.json "{\"task\": \"spectra\",\n \"mode\": \"isoflop\"\n \"widths\": [8]}\n")
file(WRITE ${CLS_SWEEP_DIR}/unknown_task.json "{\"task\": \"speech\", \"mode\": \"isoflop\"}\n")
file(WRITE ${CLS_SWEEP_DIR}/empty_grid.ini "task = spectra\nmode = isoflop\nwidths = []\ndepth = 1\nbudgets_flops = 1e9\n")
file(WRITE ${CLS_SWEEP_DIR}/empty.json "")

function(cls_sweep_cli name code pattern)
  add_test(NAME cli_sweep_${name} COMMAND ${CLS_SWEEP_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> sweep
                                          ${ARGN})
  set_tests_properties(cli_sweep_${name} PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
endfunction()

# Bad usage and bad specs: exit 2, before any device work.
cls_sweep_cli(help 0 "usage: clscale sweep" --help)
cls_sweep_cli(no_args 2 "usage: clscale sweep")
cls_sweep_cli(unknown_option 2 "unknown option '--frob'" ${CLS_SWEEP_DIR}/tiny.json --frob 3)
cls_sweep_cli(two_specs 2 "one spec file" ${CLS_SWEEP_DIR}/tiny.json ${CLS_SWEEP_DIR}/small.ini)
cls_sweep_cli(bad_shard 2 "--shard '2/2': write I/N" ${CLS_SWEEP_DIR}/tiny.json --shard 2/2)
cls_sweep_cli(bad_shard_text 2 "--shard 'x': write I/N" ${CLS_SWEEP_DIR}/tiny.json --shard x)
cls_sweep_cli(both_devices 2 "not both" ${CLS_SWEEP_DIR}/tiny.json --device cpu --devices all)
cls_sweep_cli(malformed 2 "malformed.json:3:2: not valid JSON" ${CLS_SWEEP_DIR}/malformed.json)
cls_sweep_cli(empty_spec 2 "the spec is empty" ${CLS_SWEEP_DIR}/empty.json)
cls_sweep_cli(unknown_task 2 "no task 'speech' with model 'gpt' in this build: use one of"
              ${CLS_SWEEP_DIR}/unknown_task.json)
cls_sweep_cli(empty_grid 2 "'widths' is empty: the grid would have no points" ${CLS_SWEEP_DIR}/empty_grid.ini)
# A grid over the limits is refused before any calibration (10,000 widths
# used to be accepted and --dry-run calibrated every shape), with the limit
# and how to lift it; CLSCALE_MAX_POINTS lowers the limit here too.
set(CLS_SWEEP_WIDE "")
foreach(w RANGE 8 10000 8)
  string(APPEND CLS_SWEEP_WIDE ",${w}")
endforeach()
string(SUBSTRING "${CLS_SWEEP_WIDE}" 1 -1 CLS_SWEEP_WIDE)
file(WRITE ${CLS_SWEEP_DIR}/huge_grid.ini "task = spectra\nmode = curves\nwidths = ${CLS_SWEEP_WIDE}\ndepth = 1\nheads = 1\nbudgets_steps = 2\n")
cls_sweep_cli(huge_grid 2 "1250 model sizes \\(limit 1000\\).*CLSCALE_MAX_POINTS=N to lift" --dry-run
              ${CLS_SWEEP_DIR}/huge_grid.ini)
add_test(NAME cli_sweep_grid_limit_env COMMAND ${CLS_SWEEP_EXPECT} 2 "limit 1 points.*CLSCALE_MAX_POINTS" $<TARGET_FILE:clscale>
                                               sweep --dry-run ${CLS_SWEEP_DIR}/tiny.json)
set_tests_properties(cli_sweep_grid_limit_env PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV};CLSCALE_MAX_POINTS=1")
add_test(NAME cli_sweep_bad_slurm COMMAND ${CLS_SWEEP_EXPECT} 2 "SLURM_ARRAY_TASK_COUNT=\\(unset\\)" env
                                          SLURM_ARRAY_TASK_ID=3 $<TARGET_FILE:clscale> sweep ${CLS_SWEEP_DIR}/tiny.json)
# Failures: exit 1.
cls_sweep_cli(missing_spec 1 "cannot open the spec '/no/such/spec.json'" /no/such/spec.json)
cls_sweep_cli(bad_device 1 "no device matches" ${CLS_SWEEP_DIR}/tiny.json --device no-such-gpu --out
              ${CLS_SWEEP_TMP}/x)
cls_sweep_cli(unwritable_out 1 "tiny.json.*(is not a folder|cannot create folder)" ${CLS_SWEEP_DIR}/tiny.json --out
              ${CLS_SWEEP_DIR}/tiny.json/run)
# A single point runs (and says that a fit needs more); the plan of a dry run.
cls_sweep_cli(single_point 0 "a single point" ${CLS_SWEEP_DIR}/single.ini --out ${CLS_SWEEP_TMP}/single
              --matmul-backend own)
cls_sweep_cli(dry_run 0 "c2e9_w32_d1_s1 +32 +1 +1.38e\\+04 +6.88e\\+04 .* 131 " ${CLS_SWEEP_DIR}/tiny.json --dry-run
              --matmul-backend own)
# The groups that train side by side: w16 is in all three budgets' windows; with
# auto, each group's decision comes with its measured step times.
cls_sweep_cli(dry_run_groups 0 "w16 d1 h2, 3 models: together [(]--side-by-side on[)]
    c2e8_w16_d1_s1 c6e8_w16_d1_s1 c2e9_w16_d1_s1" ${CLS_SWEEP_DIR}/tiny.json --dry-run --matmul-backend own
              --side-by-side on)
cls_sweep_cli(dry_run_groups_auto 0 "w16 d1 h2, 3 models: (together|alone, saves under a tenth) [(]a step: 1 model [0-9.]+ ms, 3 models"
              ${CLS_SWEEP_DIR}/tiny.json --dry-run --matmul-backend own)
cls_sweep_cli(dry_run_groups_off 0 "estimated" ${CLS_SWEEP_DIR}/tiny.json --dry-run --matmul-backend own
              --side-by-side off)
# Points at once on one device: bad counts; auto's measurement in the plan.
cls_sweep_cli(bad_per_device 2 "--per-device '9': give auto or a count from 1 to 8" ${CLS_SWEEP_DIR}/tiny.json
              --per-device 9)
cls_sweep_cli(bad_per_device_zero 2 "--per-device '0': give auto" ${CLS_SWEEP_DIR}/tiny.json --per-device 0)
cls_sweep_cli(bad_per_device_text 2 "--per-device 'two': give auto" ${CLS_SWEEP_DIR}/tiny.json --per-device two)
cls_sweep_cli(empty_per_device 2 "--per-device needs a value" ${CLS_SWEEP_DIR}/tiny.json --per-device=)
add_test(NAME cli_sweep_bad_per_device_env COMMAND ${CLS_SWEEP_EXPECT} 2
                                           "CLSCALE_PER_DEVICE='12': give auto or a count from 1 to 8"
                                           $<TARGET_FILE:clscale> sweep ${CLS_SWEEP_DIR}/tiny.json)
set_tests_properties(cli_sweep_bad_per_device_env PROPERTIES ENVIRONMENT "CLSCALE_PER_DEVICE=12")
cls_sweep_cli(dry_run_per_device_auto 0 "points at once on the device [(]--per-device auto, measured here on its heaviest shape, w[0-9]+ d1 h2[^)]*[)]: [12] [(]a step alone [0-9.]+ ms, each of two at once [0-9.]+ ms: two at once take [0-9]+% of"
              ${CLS_SWEEP_DIR}/tiny.json --dry-run --matmul-backend own --per-device auto)
# Where auto chose two, the plan's estimate with two at once follows.
cls_sweep_cli(dry_run_per_device_estimate 0 "estimated [0-9ms.]+ with two at once [(]the heaviest shape's [0-9]+%; others may differ[)]|the device [(][^)]*[)]: 1 [(]a step alone"
              ${CLS_SWEEP_DIR}/tiny.json --dry-run --matmul-backend own --per-device auto)
# A task without models side by side (train/models.h) is not measured.
file(WRITE ${CLS_SWEEP_DIR}/linreg.json
     "{\"name\": \"lin\", \"task\": \"linreg\", \"mode\": \"curves\", \"widths\": [4, 8], \"depth\": 1, \"budgets_steps\": [5]}\n")
cls_sweep_cli(dry_run_per_device_unmeasured 0 "points at once on the device: 1 [(]--per-device auto times the linreg task's steps through its models side by side, which it has not"
              ${CLS_SWEEP_DIR}/linreg.json --dry-run --matmul-backend own --per-device auto)
cls_sweep_cli(bad_side_by_side 2 "--side-by-side 'maybe': give auto, on or off" ${CLS_SWEEP_DIR}/tiny.json
              --side-by-side maybe)

# Lists "id status final_eval_loss" of a run directory's points, sorted.
file(WRITE ${CLS_SWEEP_DIR}/lib.sh [=[
points() {
  for f in "$1"/points/*.json; do
    printf '%s %s %s\n' "$(basename "$f" .json)" \
      "$(sed -n 's/.*"status":[[:space:]]*"\([a-z]*\)".*/\1/p' "$f")" \
      "$(sed -n 's/.*"final_eval_loss":[[:space:]]*\([^,]*\),*$/\1/p' "$f")"
  done | sort
}
# Same points, same statuses, same final losses; and the same loss curves (seconds apart).
same_results() {
  points "$1" > "$1.points"
  points "$2" > "$2.points"
  cmp "$1.points" "$2.points" || { echo "points differ:"; diff "$1.points" "$2.points"; return 1; }
  for f in "$1"/points/*.csv; do
    b=$(basename "$f")
    cut -d, -f1-7 "$f" > "$1.csv"
    cut -d, -f1-7 "$2/points/$b" > "$2.csv" || return 1
    cmp -s "$1.csv" "$2.csv" || { echo "curve $b differs"; diff "$1.csv" "$2.csv"; return 1; }
  done
  n=$(wc -l < "$1.points")
  echo "same $n points, statuses, final losses and curves in $1 and $2"
}
no_leftovers() {
  if find "$1" -name '*.tmp.*' | grep -q .; then echo "temporary files left in $1:"; find "$1" -name '*.tmp.*'; return 1; fi
}
]=])

# The end-to-end sweep: a complete run directory, then fit (when it is there) and plot.
file(WRITE ${CLS_SWEEP_DIR}/end_to_end.sh [=[
set -eu
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"
"$expect" 0 "15 of 15 points finished" "$clscale" sweep "$spec" --out "$dir" "$@"
test -s "$dir/manifest.json"
for f in '"spec":' '"clscale_version":' '"device":' '"seeds":' '"n_points":	15'; do
  grep -qF "$f" "$dir/manifest.json" || { echo "manifest.json lacks $f"; exit 1; }
done
ids=$(sed -n 's/.*"id":[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/manifest.json")
[ "$(echo "$ids" | wc -l)" -eq 15 ] || { echo "manifest lists $(echo "$ids" | wc -l) points"; exit 1; }
for id in $ids; do
  j="$dir/points/$id.json"; c="$dir/points/$id.csv"
  grep -qF '"status":	"ok"' "$j" || { echo "$id not ok"; exit 1; }
  for f in '"n_params":' '"n_params_embed":' '"tokens":' '"flops":' '"flops_6nd":' '"budget_flops":' \
           '"train_examples":	64' '"train_tokens":	25600' '"examples_seen":' '"epochs":' '"final_eval_loss":' \
           '"sweep":	"tiny"' '"sweep_mode":	"isoflop"'; do
    grep -qF "$f" "$j" || { echo "$j lacks $f"; exit 1; }
  done
  head -1 "$c" | grep -qx 'step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds'
done
[ "$(ls "$dir/points" | wc -l)" -eq 30 ] || { echo "points/ holds other files:"; ls "$dir/points"; exit 1; }
no_leftovers "$dir"
if [ -n "$(ls "$dir/checkpoints" 2>/dev/null)" ]; then echo "finished points left checkpoints"; exit 1; fi
# A re-run has nothing to do.
"$expect" 0 "15 finished before, 0 to run" "$clscale" sweep "$spec" --out "$dir" "$@"
# The fit, once `clscale fit` exists; then the figures.
if "$clscale" fit "$dir" > "$dir.fit.log" 2>&1; then
  test -s "$dir/fit.json" || { echo "clscale fit wrote no fit.json"; exit 1; }
elif grep -q "not available" "$dir.fit.log"; then
  echo "clscale fit is not in this build yet: skipped"
else
  cat "$dir.fit.log"; exit 1
fi
"$expect" 0 "isoflop.png" "$clscale" plot "$dir"
test -s "$dir/plots/loss-flops.png"
]=])

# SIGKILL after the first point finished, in the middle of a later one (after its
# first checkpoint); the re-run resumes it and ends with the uninterrupted sweep's results.
file(WRITE ${CLS_SWEEP_DIR}/kill.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }
"$clscale" sweep "$spec" --out "$dir/run" --quiet "$@" > "$dir/killed.log" 2>&1 &
pid=$!
victim=
# Wait (with no time limit of our own) for a point that is running and checkpointed, after one finished.
while [ -z "$victim" ]; do
  kill -0 $pid 2>/dev/null || { echo "the sweep ended before it could be killed"; cat "$dir/killed.log"; exit 1; }
  if grep -qlF '"status":	"ok"' "$dir"/run/points/*.json 2>/dev/null; then
    for c in "$dir"/run/checkpoints/*.ckpt; do
      [ -f "$c" ] || continue
      id=$(basename "$c" .ckpt)
      grep -qF '"status":	"running"' "$dir/run/points/$id.json" 2>/dev/null && victim=$id
    done
  fi
  [ -n "$victim" ] || sleep 0.02
done
kill -9 $pid
wait $pid 2>/dev/null
echo "killed the sweep during $victim"
grep -qF '"status":	"running"' "$dir/run/points/$victim.json" || { echo "$victim was not running"; exit 1; }
# Every file there is whole: summaries end with '}', CSV rows have 8 fields.
for f in "$dir"/run/points/*.json; do tail -c 3 "$f" | grep -q '}' || { echo "$f is cut"; exit 1; }; done
for f in "$dir"/run/points/*.csv; do
  awk -F, 'NF != 8 { exit 1 }' "$f" || { echo "$f has a cut row"; exit 1; }
done
# A leftover of a write the kill interrupted: the re-run removes it.
: > "$dir/run/points/$victim.csv.tmp.999999"
"$expect" 0 "resuming $victim from its checkpoint" "$clscale" sweep "$spec" --out "$dir/run" "$@" || exit 1
grep -q "resumed_from_step" "$dir/run/points/$victim.json" || { echo "$victim did not resume"; exit 1; }
same_results "$dir/ref" "$dir/run" || exit 1
no_leftovers "$dir/run" || exit 1
[ "$(ls "$dir/run/points" | wc -l)" -eq "$(ls "$dir/ref/points" | wc -l)" ] || { echo "point files differ"; exit 1; }
]=])

# Shards 0/2 (--shard) and 1/2 (a Slurm array task) at once into one folder equal the
# unsharded sweep; two workers on the default device too; another spec is refused there.
file(WRITE ${CLS_SWEEP_DIR}/shards.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; other=$5; shift 5
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }
"$clscale" sweep "$spec" --out "$dir/sharded" --shard 0/2 "$@" > "$dir/shard0.log" 2>&1 &
p0=$!
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 "$clscale" sweep "$spec" --out "$dir/sharded" "$@" > "$dir/shard1.log" 2>&1 &
p1=$!
wait $p0; r0=$?
wait $p1; r1=$?
cat "$dir/shard0.log" "$dir/shard1.log"
[ $r0 -eq 0 ] && [ $r1 -eq 0 ] || { echo "shard exit codes $r0 $r1"; exit 1; }
grep -q "(shard 0/2)" "$dir/shard0.log" && grep -q "(shard 1/2)" "$dir/shard1.log" || exit 1
same_results "$dir/ref" "$dir/sharded" || exit 1
no_leftovers "$dir/sharded" || exit 1
"$expect" 0 "3 finished before, 0 to run" "$clscale" sweep "$spec" --out "$dir/sharded" --shard 1/2 "$@" || exit 1
"$expect" 2 "belongs to another sweep .*'budgets' is" "$clscale" sweep "$other" --out "$dir/sharded" "$@" || exit 1
"$expect" 0 "on .*, .* [(]a worker each[)]" "$clscale" sweep "$spec" --out "$dir/two" --devices default,default \
  "$@" || exit 1
same_results "$dir/ref" "$dir/two" || exit 1
]=])

# Two points at a time on the one device against one at a time: the same files
# (seconds apart); killed while two run (the runner's workers, as with --devices
# default,default), resumed.
file(WRITE ${CLS_SWEEP_DIR}/per_device.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/one" --quiet --per-device 1 "$@" || { echo "sweep one at a time failed"; exit 1; }
"$expect" 0 "points at once on each device: 2 [(]--per-device 2[)]" "$clscale" sweep "$spec" --out "$dir/two" \
  --per-device 2 "$@" || exit 1
same_results "$dir/one" "$dir/two" || exit 1
no_leftovers "$dir/two" || exit 1
[ "$(ls "$dir/two/points" | wc -l)" -eq "$(ls "$dir/one/points" | wc -l)" ] || { echo "point files differ"; exit 1; }
]=])
add_test(NAME cli_sweep_per_device COMMAND sh ${CLS_SWEEP_DIR}/per_device.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                           ${CLS_SWEEP_TMP}/per-device ${CLS_SWEEP_DIR}/small.ini --matmul-backend own
                                           --side-by-side off)
add_test(NAME cli_sweep_kill_per_device COMMAND sh ${CLS_SWEEP_DIR}/kill.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                                ${CLS_SWEEP_TMP}/kill-per-device ${CLS_SWEEP_DIR}/small.ini
                                                --matmul-backend own --side-by-side off --per-device 2)
set_tests_properties(cli_sweep_per_device cli_sweep_kill_per_device PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
# auto's measurement failing (an injected allocation failure, core/fault.h, at the
# first and the last allocation it makes: those a plan with auto makes beyond
# one with --per-device 1, which come last): the plan says why and takes 1.
file(WRITE ${CLS_SWEEP_DIR}/per_device_fail.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
rm -rf "$dir"; mkdir -p "$dir"
CLSCALE_FAIL_LOG="$dir/one.log" "$clscale" sweep "$spec" --dry-run --per-device 1 "$@" > "$dir/one.out" 2>&1 ||
  { cat "$dir/one.out"; echo "the plan with --per-device 1 failed"; exit 1; }
CLSCALE_FAIL_LOG="$dir/auto.log" "$clscale" sweep "$spec" --dry-run --per-device auto "$@" > "$dir/auto.out" 2>&1 ||
  { cat "$dir/auto.out"; echo "the plan with auto failed"; exit 1; }
a=$(grep -c '^alloc ' "$dir/one.log"); b=$(grep -c '^alloc ' "$dir/auto.log")
[ "$b" -gt "$a" ] || { echo "auto's plan made no allocation of its own ($a and $b)"; exit 1; }
for k in $((a + 1)) "$b"; do
  CLSCALE_FAIL="alloc:$k" "$expect" 0 \
    "points at once on the device [(][^)]*[)]: 1 [(]the measurement failed: .*injected by CLSCALE_FAIL=alloc:$k" \
    "$clscale" sweep "$spec" --dry-run --per-device auto "$@" || exit 1
done
]=])
add_test(NAME cli_sweep_per_device_fail COMMAND sh ${CLS_SWEEP_DIR}/per_device_fail.sh $<TARGET_FILE:clscale>
                                                ${CLS_SWEEP_EXPECT} ${CLS_SWEEP_TMP}/per-device-fail
                                                ${CLS_SWEEP_DIR}/small.ini --matmul-backend own --side-by-side off)
set_tests_properties(cli_sweep_per_device_fail PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")

# Every group side by side against every point alone: the same files (seconds apart).
file(WRITE ${CLS_SWEEP_DIR}/side.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/alone" --quiet --side-by-side off "$@" || { echo "sweep alone failed"; exit 1; }
"$expect" 0 "w16 d1 h2, 3 models: together" "$clscale" sweep "$spec" --out "$dir/side" --side-by-side on "$@" || exit 1
same_results "$dir/alone" "$dir/side" || exit 1
no_leftovers "$dir/side" || exit 1
[ "$(ls "$dir/side/points" | wc -l)" -eq "$(ls "$dir/alone/points" | wc -l)" ] || { echo "point files differ"; exit 1; }
]=])
add_test(NAME cli_sweep_side_by_side COMMAND sh ${CLS_SWEEP_DIR}/side.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                              ${CLS_SWEEP_TMP}/side ${CLS_SWEEP_DIR}/tiny.json --matmul-backend own)
# Killed while groups train (every point of a shape in one group): resumed as groups.
add_test(NAME cli_sweep_kill_side_by_side COMMAND sh ${CLS_SWEEP_DIR}/kill.sh $<TARGET_FILE:clscale>
                                                   ${CLS_SWEEP_EXPECT} ${CLS_SWEEP_TMP}/kill-side
                                                   ${CLS_SWEEP_DIR}/small.ini --matmul-backend own --side-by-side on)
# The GPT's runs side by side (gcd, whose members' outcome tables the group makes).
add_test(NAME cli_sweep_side_by_side_gpt COMMAND sh ${CLS_SWEEP_DIR}/side.sh $<TARGET_FILE:clscale>
                                                  ${CLS_SWEEP_EXPECT} ${CLS_SWEEP_TMP}/side-gpt
                                                  ${CLS_SWEEP_DIR}/gcd_side.json --matmul-backend own)
set_tests_properties(cli_sweep_side_by_side cli_sweep_kill_side_by_side cli_sweep_side_by_side_gpt
                     PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
add_test(NAME cli_sweep_end_to_end COMMAND sh ${CLS_SWEEP_DIR}/end_to_end.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                           ${CLS_SWEEP_TMP}/e2e ${CLS_SWEEP_DIR}/tiny.json --matmul-backend own)
add_test(NAME cli_sweep_kill COMMAND sh ${CLS_SWEEP_DIR}/kill.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                     ${CLS_SWEEP_TMP}/kill ${CLS_SWEEP_DIR}/small.ini --matmul-backend own
                                     --side-by-side off)
add_test(NAME cli_sweep_shards COMMAND sh ${CLS_SWEEP_DIR}/shards.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                       ${CLS_SWEEP_TMP}/shards ${CLS_SWEEP_DIR}/small.ini ${CLS_SWEEP_DIR}/other.ini
                                       --matmul-backend own)
set_tests_properties(cli_sweep_end_to_end cli_sweep_kill cli_sweep_shards PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
# An empty value is a missing one.
cls_sweep_cli(empty_out 2 "--out needs a value" ${CLS_SWEEP_DIR}/tiny.json --out=)
