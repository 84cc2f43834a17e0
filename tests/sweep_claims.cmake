# Claims, work stealing and retries without Slurm (docs/sweep.md, "On a
# cluster"; the claim file itself is tested by test_claim): a worker
# stopped mid-point (SIGSTOP: alive, silent) leaves a claim that goes stale,
# which a second worker with a 2 s timeout takes over and finishes from the
# checkpoint; a worker killed mid-point (SIGKILL) leaves a claim a second
# worker on the same host takes over at once; both end with the losses of
# an uninterrupted run. Two workers on the same shard at once, and two
# shards that steal each other's points, never run a point twice; a corrupt
# or half-written claim is taken over with a warning; a point that keeps
# failing is tried max_retries + 1 times, then recorded with every error.
# Uses small.ini and lib.sh of sweep.cmake (included before this file).
set(CLS_CLAIMS_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-claims)

# Ids of the points a sweep's log says it finished ("[k/n] id status ...").
file(WRITE ${CLS_SWEEP_DIR}/claims_lib.sh [=[
ran() { sed -n 's/^\[[0-9]*\/[0-9]*\] \([^ ]*\) .*/\1/p' "$@"; }
# Waits (no limit of its own: ctest's timeout ends a hang) until the sweep
# writing $1 has a point running past its first checkpoint; echoes its id.
running_point() {
  while :; do
    for c in "$1"/checkpoints/*.ckpt; do
      [ -f "$c" ] || continue
      id=$(basename "$c" .ckpt)
      if [ -f "$1/claims/$id.claim" ] && grep -qF '"status":	"running"' "$1/points/$id.json" 2>/dev/null; then
        echo "$id"; return 0
      fi
    done
    sleep 0.02
  done
}
# Stops (SIGSTOP) the sweep $1 writing $2 while it holds the claim of a
# point that has a checkpoint (else lets it go on a little and stops it
# again); echoes that point's id.
stop_holding() {
  running_point "$2" > /dev/null
  while :; do
    sleep 0.1
    kill -STOP $1
    c=$(ls "$2/claims" | grep '\.claim$')
    id=${c%.claim}
    if [ -n "$c" ] && [ "$(echo "$c" | wc -l)" -eq 1 ] && [ -f "$2/checkpoints/$id.ckpt" ]; then
      echo "$id"; return 0
    fi
    kill -CONT $1
  done
}
]=])

file(WRITE ${CLS_SWEEP_DIR}/claims_takeover.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"; . "$(dirname "$spec")/claims_lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }

# A worker stopped mid-point: its claim goes stale after 2 s without heartbeat.
"$clscale" sweep "$spec" --out "$dir/stop" "$@" > "$dir/first.log" 2>&1 &
pid=$!
victim=$(stop_holding $pid "$dir/stop")
echo "stopped the first worker during $victim"
lines=$(wc -l < "$dir/first.log") # what it wrote before the stop
# --status (no device): the point is running, with where and its heartbeat; stale after the timeout.
"$expect" 3 "$victim +running +[^ ]+ pid $pid, (step [0-9]+/[0-9]+|starting), heartbeat" \
  "$clscale" sweep --status "$dir/stop" || exit 1
"$clscale" sweep --status "$dir/stop" --json > "$dir/status.json"; [ $? -eq 3 ] || exit 1
grep -q '"state":	"running"' "$dir/status.json" && grep -q "\"pid\":	$pid" "$dir/status.json" || { cat "$dir/status.json"; exit 1; }
"$expect" 0 "took over the stale claim of $victim \(host .*\): no heartbeat for [0-9]* s \(timeout 2 s\)" \
  "$clscale" sweep "$spec" --out "$dir/stop" --claim-timeout 2 "$@" > "$dir/second.log" 2>&1 \
  || { cat "$dir/second.log"; kill -9 $pid; exit 1; }
grep -q "is being trained by .* waiting for it" "$dir/second.log" || { echo "no wait for the live claim"; cat "$dir/second.log"; exit 1; }
grep -q "resuming $victim from its checkpoint" "$dir/second.log" || { echo "$victim not resumed"; exit 1; }
# The first worker, continued, finds its claim taken: it warns and finishes
# that point (the same numbers), or, when it was stopped inside a write
# whose temporary file the second removed as a leftover, sees the write
# fail, finds the claim not its own and looks at the point again (finished:
# or trained again, to the same numbers). Either way it takes nothing else.
kill -CONT $pid
wait $pid; r=$?
cat "$dir/first.log"
[ $r -eq 0 ] || { echo "the continued worker exited $r"; exit 1; }
grep -q "the claim of $victim was taken over by another process" "$dir/first.log" \
  || { echo "the continued worker did not notice the takeover"; exit 1; }
if grep -q "^$victim failed" "$dir/first.log"; then
  echo "the continued worker's write failed after the takeover; it looked at $victim again"
fi
tail -n +$((lines + 1)) "$dir/first.log" > "$dir/first.after.log"
[ "$(ran "$dir/first.after.log" | grep -v "^$victim\$" | wc -l)" -eq 0 ] || { echo "it ran other points after the stop"; exit 1; }
same_results "$dir/ref" "$dir/stop" || exit 1
[ -z "$(ls "$dir/stop/claims")" ] || { echo "claims left:"; ls "$dir/stop/claims"; exit 1; }

# A worker killed mid-point: on the same host its claim is dead at once.
"$clscale" sweep "$spec" --out "$dir/kill" "$@" > "$dir/killed.log" 2>&1 &
pid=$!
victim=$(stop_holding $pid "$dir/kill")
kill -9 $pid; wait $pid 2>/dev/null
echo "killed the first worker during $victim"
# Stale at once (its process is gone from this host), and after the timeout whatever the host.
"$expect" 3 "$victim +stale .*heartbeat .* ago \(the next worker takes it over\)" \
  "$clscale" sweep --status "$dir/kill" || exit 1
sleep 1.2
"$expect" 3 "$victim +stale .*heartbeat .* ago \(the next worker takes it over\)" \
  "$clscale" sweep --status "$dir/kill" --claim-timeout 1 || exit 1
"$expect" 0 "took over the stale claim of $victim .*no longer running on this host" \
  "$clscale" sweep "$spec" --out "$dir/kill" "$@" || exit 1
same_results "$dir/ref" "$dir/kill" || exit 1
no_leftovers "$dir/kill" || exit 1
]=])

file(WRITE ${CLS_SWEEP_DIR}/claims_concurrent.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
. "$(dirname "$spec")/lib.sh"; . "$(dirname "$spec")/claims_lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
"$clscale" sweep "$spec" --out "$dir/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }
# Two workers on the same (whole) sweep at once.
"$clscale" sweep "$spec" --out "$dir/same" "$@" > "$dir/a.log" 2>&1 & pa=$!
"$clscale" sweep "$spec" --out "$dir/same" "$@" > "$dir/b.log" 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
cat "$dir/a.log" "$dir/b.log"
[ $ra -eq 0 ] && [ $rb -eq 0 ] || { echo "exit codes $ra $rb"; exit 1; }
ran "$dir/a.log" "$dir/b.log" | sort > "$dir/ran"
ls "$dir/ref/points" | sed -n 's/\.json$//p' | sort > "$dir/all"
cmp "$dir/ran" "$dir/all" || { echo "points run (left) against the plan (right):"; diff "$dir/ran" "$dir/all"; exit 1; }
[ -n "$(ran "$dir/a.log")" ] && [ -n "$(ran "$dir/b.log")" ] \
  || { echo "one worker ran every point: no concurrency was tested"; exit 1; }
same_results "$dir/ref" "$dir/same" || exit 1
"$expect" 0 "totals: 6 done \(0 diverged\), 0 running, 0 stale, 0 failed \(0 to be retried\), 0 pending" \
  "$clscale" sweep --status "$dir/same" || exit 1
# --watch refreshes until SIGINT, then exits 0.
"$clscale" sweep --status "$dir/same" --watch --interval 0.2 > "$dir/watch.log" 2>&1 & pw=$!
sleep 1; kill -INT $pw; wait $pw; rw=$?
[ $rw -eq 0 ] && [ "$(grep -c '^totals:' "$dir/watch.log")" -ge 2 ] || { echo "--watch: exit $rw"; cat "$dir/watch.log"; exit 1; }
# Shard 0/2 alone: once its own points are done it takes shard 1's (work
# stealing), unless --no-steal.
"$clscale" sweep "$spec" --out "$dir/steal" --shard 0/2 "$@" > "$dir/steal.log" 2>&1 || { cat "$dir/steal.log"; exit 1; }
grep -q "then, while other shards' points are free, up to 3 of them" "$dir/steal.log" || { cat "$dir/steal.log"; exit 1; }
[ "$(ran "$dir/steal.log" | wc -l)" -eq 6 ] || { echo "shard 0/2 did not run all 6 points"; cat "$dir/steal.log"; exit 1; }
same_results "$dir/ref" "$dir/steal" || exit 1
"$clscale" sweep "$spec" --out "$dir/nosteal" --shard 0/2 --no-steal "$@" > "$dir/nosteal.log" 2>&1 || exit 1
[ "$(ran "$dir/nosteal.log" | wc -l)" -eq 3 ] || { echo "--no-steal ran other shards' points"; exit 1; }
# Corrupt and half-written claims of points not started: a warning, then run.
mkdir -p "$dir/corrupt/claims"
ids=$(cat "$dir/all")
set -- $ids "$@"
printf 'garbage\n' > "$dir/corrupt/claims/$1.claim"
printf 'clscale-claim 1\nid=%s\ntoken=0123' "$2" > "$dir/corrupt/claims/$2.claim"
shift 6
"$clscale" sweep "$spec" --out "$dir/corrupt" "$@" > "$dir/corrupt.log" 2>&1 || { cat "$dir/corrupt.log"; exit 1; }
[ "$(grep -c "is not a claim .*treated as stale and taken over" "$dir/corrupt.log")" -eq 2 ] \
  || { echo "expected two warnings"; cat "$dir/corrupt.log"; exit 1; }
same_results "$dir/ref" "$dir/corrupt" || exit 1
]=])

# A budget below one step fails every attempt: tried max_retries + 1 times,
# then recorded with each error and not tried by a re-run; a larger
# --max-retries tries again.
file(WRITE ${CLS_SWEEP_DIR}/tiny_budget.ini [=[
name = tiny_budget
task = spectra
mode = isoflop
widths = 8
depth = 1
heads = 2
budgets_flops = 1e3
batch = 2
pixels = 16
n_train = 16
n_test = 4
n_pixels = 200
]=])
file(WRITE ${CLS_SWEEP_DIR}/claims_retry.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; shift 4
rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
"$expect" 1 "1 point failed 2 times \(see points/ID.json 'errors', one per attempt\)" \
  "$clscale" sweep "$spec" --out "$dir" --max-retries 1 "$@" > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
grep -q "failed (attempt 1).*" "$dir.log" && grep -q "trying again" "$dir.log" || { cat "$dir.log"; exit 1; }
j=$(ls "$dir"/points/*.json)
grep -q '"attempts":	2' "$j" || { echo "attempts not 2"; cat "$j"; exit 1; }
[ "$(grep -c 'budget' "$j")" -ge 2 ] || { cat "$j"; exit 1; }
"$expect" 1 "0 to run \(and some failed too often before: not retried\)" \
  "$clscale" sweep "$spec" --out "$dir" --max-retries 1 "$@" || exit 1
grep -q '"attempts":	2' "$j" || { echo "a re-run tried it again"; exit 1; }
"$expect" 1 "failed 4 times" "$clscale" sweep "$spec" --out "$dir" --max-retries 3 "$@" || exit 1
grep -q '"attempts":	4' "$j" || { cat "$j"; exit 1; }
# The spec's max_retries (an operational key: the same manifest) when the option is not given.
sed 's/^name = tiny_budget$/name = tiny_budget\nmax_retries = 0\nclaim_timeout = 60/' "$spec" > "$dir.zero.ini"
"$expect" 1 "1 point failed 1 time " "$clscale" sweep "$dir.zero.ini" --out "$dir.zero" "$@" || exit 1
"$expect" 1 "0 to run \(and some failed too often before" "$clscale" sweep "$dir.zero.ini" --out "$dir" "$@" || exit 1
]=])

add_test(NAME cli_sweep_claims_takeover COMMAND sh ${CLS_SWEEP_DIR}/claims_takeover.sh $<TARGET_FILE:clscale>
                                                ${CLS_SWEEP_EXPECT} ${CLS_CLAIMS_TMP}/takeover ${CLS_SWEEP_DIR}/small.ini
                                                --matmul-backend own --side-by-side off)
add_test(NAME cli_sweep_claims_concurrent COMMAND sh ${CLS_SWEEP_DIR}/claims_concurrent.sh $<TARGET_FILE:clscale>
                                                  ${CLS_SWEEP_EXPECT} ${CLS_CLAIMS_TMP}/concurrent
                                                  ${CLS_SWEEP_DIR}/small.ini --matmul-backend own --side-by-side on)
add_test(NAME cli_sweep_claims_retry COMMAND sh ${CLS_SWEEP_DIR}/claims_retry.sh $<TARGET_FILE:clscale>
                                             ${CLS_SWEEP_EXPECT} ${CLS_CLAIMS_TMP}/retry ${CLS_SWEEP_DIR}/tiny_budget.ini
                                             --matmul-backend own)
set_tests_properties(cli_sweep_claims_takeover cli_sweep_claims_concurrent cli_sweep_claims_retry
                     PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}" TIMEOUT 300)
# --status's usage errors, and a folder that is no run directory.
cls_sweep_cli(status_json_alone 2 "--json and --watch go with --status" ${CLS_SWEEP_DIR}/tiny.json --json)
cls_sweep_cli(status_no_dir 1 "manifest.json.*is RUN_DIR the --out of a sweep" --status ${CLS_SWEEP_DIR}/nothing-here)
cls_sweep_cli(status_with_slurm 2 "--status only reads RUN_DIR" --status ${CLS_SWEEP_DIR} --slurm)

# --slurm without Slurm: a stand-in sbatch on PATH records its arguments.
# The argument vector is sbatch's (no shell: an option with a space stays
# one argument); a re-submission lists only the shards with points left;
# no sbatch on PATH is a clear error.
file(WRITE ${CLS_SWEEP_DIR}/fake-bin/sbatch "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$FAKE_SBATCH_LOG\"\necho '4242;cluster'\n")
file(CHMOD ${CLS_SWEEP_DIR}/fake-bin/sbatch PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
file(WRITE ${CLS_SWEEP_DIR}/submit.sh [=[
set -u
clscale=$1; expect=$2; dir=$3; spec=$4; fake=$5; shift 5
. "$(dirname "$spec")/lib.sh"
rm -rf "$dir"; mkdir -p "$dir"
export FAKE_SBATCH_LOG="$dir/args"
PATH="$fake:$PATH" "$expect" 0 "watch:  clscale sweep --status $dir/run --watch" \
  "$clscale" sweep "$spec" --out "$dir/run" --slurm --max-parallel 2 "$@" -- --gres=gpu:1 --comment "a b" || exit 1
printf '%s\n' --parsable --job-name=clscale-small '--array=0-5%2' "--output=$dir/run/slurm/%A_%a.out" --gres=gpu:1 \
  --comment "a b" "$dir/run/slurm/sweep.sh" "$clscale" "$spec" "$dir/run" 6 "$@" --max-retries=2 > "$dir/want"
cmp "$dir/args" "$dir/want" || { echo "sbatch's arguments (left) against the expected (right):"; diff "$dir/args" "$dir/want"; exit 1; }
test -s "$dir/run/manifest.json" || { echo "no manifest"; exit 1; }
# The script, run as Slurm would run task 1 of 6, is the by-hand command.
SLURM_ARRAY_TASK_ID=1 sh "$dir/run/slurm/sweep.sh" "$clscale" "$spec" "$dir/run" 6 "$@" --no-steal > "$dir/task1.log" 2>&1 || { cat "$dir/task1.log"; exit 1; }
grep -q "(shard 1/6)" "$dir/task1.log" || { cat "$dir/task1.log"; exit 1; }
# Re-submitted: shard 1, finished, is not.
PATH="$fake:$PATH" "$expect" 0 "submitted job 4242: array 0,2-5, 5 tasks of 6 shards" "$clscale" sweep "$spec" \
  --out "$dir/run" --slurm "$@" || exit 1
grep -qx -- '--array=0,2-5' "$dir/args" || { echo "re-submitted: $(grep -- --array "$dir/args")"; exit 1; }
"$expect" 1 "sbatch is not on PATH" env PATH=/nonexistent "$clscale" sweep "$spec" --out "$dir/run" --slurm "$@" || exit 1
]=])
add_test(NAME cli_sweep_slurm_submit COMMAND sh ${CLS_SWEEP_DIR}/submit.sh $<TARGET_FILE:clscale> ${CLS_SWEEP_EXPECT}
                                            ${CLS_CLAIMS_TMP}/submit ${CLS_SWEEP_DIR}/small.ini ${CLS_SWEEP_DIR}/fake-bin
                                            --matmul-backend own)
set_tests_properties(cli_sweep_slurm_submit PROPERTIES ENVIRONMENT "${CLS_SWEEP_ENV}")
cls_sweep_cli(slurm_args_alone 2 "options after -- are sbatch's: give --slurm too" ${CLS_SWEEP_DIR}/tiny.json -- --gres=gpu:1)
cls_sweep_cli(slurm_with_shard 2 "--slurm makes the shards: not with --shard" ${CLS_SWEEP_DIR}/tiny.json --slurm --shard 0/2)
