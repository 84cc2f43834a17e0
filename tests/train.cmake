# Command-line tests of `clscale train` (the loop itself is tested by
# test_train_loop and test_train_schedule): exit codes, messages, a run that
# `clscale plot` reads, resume through the command, and SIGTERM.
set(CLS_TRAIN_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh)
set(CLS_TRAIN_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1")
set(CLS_TRAIN_TMP ${PROJECT_BINARY_DIR}/test-tmp/cli-train)
set(CLS_TRAIN_TINY --width 32 --depth 1 --heads 2 --context 16 --batch 8 --zipf-bytes 100000 --lr 3e-3)

function(cls_train_cli name code pattern)
  add_test(NAME cli_train_${name} COMMAND ${CLS_TRAIN_EXPECT} ${code} "${pattern}" $<TARGET_FILE:clscale> train
                                          ${ARGN})
  set_tests_properties(cli_train_${name} PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV}")
endfunction()

# Usage errors: exit 2, before any device work.
cls_train_cli(help 0 "usage: clscale train" --help)
cls_train_cli(no_args 2 "usage: clscale train")
cls_train_cli(no_budget 2 "exactly one budget" --out ${CLS_TRAIN_TMP}/x)
cls_train_cli(two_budgets 2 "exactly one budget" --out ${CLS_TRAIN_TMP}/x --budget-steps 5 --budget-tokens 9)
cls_train_cli(zero_budget 2 "a budget of zero" --out ${CLS_TRAIN_TMP}/x --budget-steps 0)
cls_train_cli(no_out 2 "--out DIR" --budget-steps 5)
cls_train_cli(unknown_option 2 "unknown option '--frob'" --frob 3)
cls_train_cli(bad_param 2 "use sp, mup or mup-depth" --param ntk)
cls_train_cli(bad_width 2 "--width 'wide': wants a whole number" --width wide)
cls_train_cli(bad_warmup 2 "percentage below 100" --warmup 120%)
cls_train_cli(bad_interval 2 "--checkpoint-every" --checkpoint-every 5x)
cls_train_cli(missing_value 2 "--lr needs a value" --lr)
# Bad model configs: exit 2 with the reason.
cls_train_cli(heads 2 "width 30 is not divisible by heads 4" --out ${CLS_TRAIN_TMP}/x --budget-steps 5 --width 30)
cls_train_cli(zero_layers 2 "must all be at least 1" --out ${CLS_TRAIN_TMP}/x --budget-steps 5 --depth 0)
cls_train_cli(unknown_task 2 "no task 'speech'" --out ${CLS_TRAIN_TMP}/x --budget-steps 5 --task speech)
cls_train_cli(small_flops 2 "less than one step" --out ${CLS_TRAIN_TMP}/small --budget-flops 1000 ${CLS_TRAIN_TINY})
# A bad CLSCALE_PARAMS is bad usage in every command (issue 14).
cls_train_cli(bad_params_env 2 "device parameter MM_TM=abc is not a decimal integer.*from CLSCALE_PARAMS" --out
              ${CLS_TRAIN_TMP}/x --budget-steps 5 ${CLS_TRAIN_TINY})
set_tests_properties(cli_train_bad_params_env PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV};CLSCALE_PARAMS=MM_TM=abc")
cls_train_cli(bad_binary_cache_env 2 "CLSCALE_BINARY_CACHE is 'sometimes'; use auto, on or off" --out
              ${CLS_TRAIN_TMP}/x --budget-steps 5 ${CLS_TRAIN_TINY})
set_tests_properties(cli_train_bad_binary_cache_env PROPERTIES ENVIRONMENT
                                                    "${CLS_TRAIN_ENV};CLSCALE_BINARY_CACHE=sometimes")
# Failures: exit 1.
cls_train_cli(missing_data 1 "cannot open text file '/no/such/corpus.txt'" --out ${CLS_TRAIN_TMP}/x --budget-steps 5
              --data /no/such/corpus.txt)
cls_train_cli(bad_device 1 "no device matches" --out ${CLS_TRAIN_TMP}/x --budget-steps 5 --device no-such-gpu)
cls_train_cli(no_checkpoint 1 "no checkpoint" --out ${CLS_TRAIN_TMP}/none --budget-steps 5 --resume
              ${CLS_TRAIN_TINY})

# The scenarios below are shell scripts written into the build tree.
set(CLS_TRAIN_SCRIPTS ${PROJECT_BINARY_DIR}/train-cli)
file(MAKE_DIRECTORY ${CLS_TRAIN_SCRIPTS})

# An empty data file.
file(WRITE ${CLS_TRAIN_SCRIPTS}/empty_data.sh [=[
set -u
clscale=$1; expect=$2; dir=$3
mkdir -p "$dir" && : > "$dir/empty.txt"
exec "$expect" 1 "is empty" "$clscale" train --out "$dir" --budget-steps 5 --data "$dir/empty.txt"
]=])

# A run, its files, and `clscale plot` on them.
file(WRITE ${CLS_TRAIN_SCRIPTS}/run_and_plot.sh [=[
set -eu
clscale=$1; expect=$2; dir=$3; shift 3
rm -rf "$dir"
"$expect" 0 "run 'tiny' ok: 40/40 steps" "$clscale" train --out "$dir" --id tiny --budget-steps 40 "$@"
head -1 "$dir/points/tiny.csv" | grep -qx 'step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds'
tail -1 "$dir/points/tiny.csv" | grep -q '^40,5120,'
for f in '"status":	"ok"' '"n_params":' '"tokens":	5120' '"flops":' '"flops_6nd":' '"final_eval_loss":' \
         '"final_train_loss":' '"seconds":' '"seed":	1' '"device":'; do
  grep -qF "$f" "$dir/points/tiny.json" || { echo "summary lacks $f"; exit 1; }
done
test -s "$dir/checkpoints/tiny.ckpt"
"$expect" 0 "run 'dropped' ok" "$clscale" train --out "$dir" --id dropped --budget-steps 5 --drop-checkpoint "$@"
if test -e "$dir/checkpoints/dropped.ckpt"; then echo "--drop-checkpoint left the checkpoint"; exit 1; fi
"$expect" 0 "loss-flops.png" "$clscale" plot "$dir"
test -s "$dir/plots/loss-flops.png"
# The plotter names its field `out_dir`; the command translates it to its flag.
"$expect" 1 "choose a writable --output" "$clscale" plot "$dir" -o /proc/no/such/dir
]=])

# Stopped after 11 steps, resumed: the CSV of an uninterrupted run (seconds
# apart); resumed once more, unchanged; then a truncated and a foreign
# checkpoint are refused.
file(WRITE ${CLS_TRAIN_SCRIPTS}/resume.sh [=[
set -eu
clscale=$1; expect=$2; dir=$3; shift 3
rm -rf "$dir"
"$clscale" train --quiet --out "$dir/a" --id r --budget-steps 30 "$@"
"$expect" 1 "interrupted at step 11 of 30" "$clscale" train --out "$dir/b" --id r --budget-steps 30 \
  --stop-after-steps 11 "$@"
grep -qF '"status":	"interrupted"' "$dir/b/points/r.json"
"$expect" 0 "resumed at step 11" "$clscale" train --out "$dir/b" --id r --budget-steps 30 --resume "$@"
cut -d, -f1-7 "$dir/a/points/r.csv" > "$dir/a.csv"
cut -d, -f1-7 "$dir/b/points/r.csv" > "$dir/b.csv"
cmp "$dir/a.csv" "$dir/b.csv" || { echo "resumed CSV differs"; diff "$dir/a.csv" "$dir/b.csv"; exit 1; }
# Resuming the finished run changes no byte of it (its summary's losses
# were once rewritten from the CSV's shorter digits, issue 14).
cp -R "$dir/b" "$dir/b-done"
"$expect" 0 "run 'r' had already finished; its files are left as they were" "$clscale" train --out "$dir/b" --id r \
  --budget-steps 30 --resume "$@"
diff -r "$dir/b-done" "$dir/b" || { echo "resuming a finished run changed its files"; exit 1; }
"$expect" 2 "add --resume to continue it or --force" "$clscale" train --out "$dir/b" --id r --budget-steps 30 "$@"
"$expect" 1 "another configuration \(batch 8 in the checkpoint, 4 here\)" "$clscale" train --out "$dir/b" --id r \
  --budget-steps 30 --resume "$@" --batch 4
head -c 2000 "$dir/b/checkpoints/r.ckpt" > "$dir/cut" && mv "$dir/cut" "$dir/b/checkpoints/r.ckpt"
"$expect" 1 "is truncated" "$clscale" train --out "$dir/b" --id r --budget-steps 30 --resume "$@"
"$expect" 0 "run 'r' ok" "$clscale" train --out "$dir/b" --id r --budget-steps 30 --force "$@"
]=])

# SIGTERM: the run checkpoints, says "interrupted", exits 1.
file(WRITE ${CLS_TRAIN_SCRIPTS}/sigterm.sh [=[
set -u
clscale=$1; dir=$2; shift 2
rm -rf "$dir"
mkdir -p "$dir"
"$clscale" train --out "$dir" --id s --budget-steps 1000000 --eval-every 1 --eval-batches 1 "$@" 2> "$dir.err" &
pid=$!
# Wait (without a time limit of our own) until it has trained a few steps.
while ! [ -f "$dir/points/s.csv" ] || [ "$(wc -l < "$dir/points/s.csv")" -lt 4 ]; do
  kill -0 $pid 2>/dev/null || { echo "train ended early"; cat "$dir.err"; exit 1; }
  sleep 0.1
done
kill -TERM $pid
wait $pid
rc=$?
cat "$dir.err"
[ $rc -eq 1 ] || { echo "exit code $rc, expected 1"; exit 1; }
grep -q "interrupted at step" "$dir.err" || exit 1
grep -qF '"status":	"interrupted"' "$dir/points/s.json" || exit 1
test -s "$dir/checkpoints/s.ckpt"
]=])

# A run builds the programs of cl/ its ops launch, at their first launch, and
# no others (issue 13: a cold start compiles what it builds). --profile lists
# them before its peak measurement builds cl/peak.cl. The GPT needs the
# embedding program, the emulator does not; neither needs the solver's,
# the samplers' or the random features' programs.
file(WRITE ${CLS_TRAIN_SCRIPTS}/programs.sh [=[
set -eu
clscale=$1; dir=$2; shift 2
rm -rf "$dir"
mkdir -p "$dir"
check() { # the `kernel programs built` line of a run with --profile; then programs that must not be there
  line=$(grep '^kernel programs built: ' "$dir/out") || { echo "no programs line"; cat "$dir/out"; exit 1; }
  echo "$line"
  progs=" $(echo "$line" | sed 's/^kernel programs built: [0-9]* of [0-9]*: \([a-z0-9_ ]*\) (.*/\1/') "
  for p in matmul adamw; do
    case "$progs" in *" $p "*) ;; *) echo "$1: $p is not listed"; exit 1 ;; esac
  done
  run=$1; shift
  for p in peak cholesky rf sample decode "$@"; do
    case "$progs" in *" $p "*) echo "$run: $p was built but the run needs none of its kernels"; exit 1 ;; esac
  done
}
"$clscale" train --quiet --profile --out "$dir/gpt" --budget-steps 2 "$@" > "$dir/out"
check gpt
case "$progs" in *" embedding "*) ;; *) echo "gpt: the embedding program is not listed"; exit 1 ;; esac
"$clscale" train --quiet --profile --out "$dir/emu" --budget-steps 2 --task spectra --width 16 --depth 1 --heads 2 \
  --batch 4 --n-train 32 --n-test 8 --n-pixels 512 --pixels 64 > "$dir/out"
check emulator embedding
]=])

foreach(t empty_data run_and_plot)
  add_test(NAME cli_train_${t} COMMAND sh ${CLS_TRAIN_SCRIPTS}/${t}.sh $<TARGET_FILE:clscale> ${CLS_TRAIN_EXPECT}
                                       ${CLS_TRAIN_TMP}/${t} ${CLS_TRAIN_TINY})
  set_tests_properties(cli_train_${t} PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV}")
endforeach()
# Bitwise resume needs the same matmul kernels in both processes: pinned here,
# so that another test re-timing the auto backend's shared choices meanwhile
# cannot change them.
add_test(NAME cli_train_resume COMMAND sh ${CLS_TRAIN_SCRIPTS}/resume.sh $<TARGET_FILE:clscale> ${CLS_TRAIN_EXPECT}
                                       ${CLS_TRAIN_TMP}/resume ${CLS_TRAIN_TINY} --matmul-backend own)
set_tests_properties(cli_train_resume PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV}")
add_test(NAME cli_train_sigterm COMMAND sh ${CLS_TRAIN_SCRIPTS}/sigterm.sh $<TARGET_FILE:clscale>
                                        ${CLS_TRAIN_TMP}/sigterm ${CLS_TRAIN_TINY})
set_tests_properties(cli_train_sigterm PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV}")
add_test(NAME cli_train_programs COMMAND sh ${CLS_TRAIN_SCRIPTS}/programs.sh $<TARGET_FILE:clscale>
                                         ${CLS_TRAIN_TMP}/programs ${CLS_TRAIN_TINY})
set_tests_properties(cli_train_programs PROPERTIES ENVIRONMENT "${CLS_TRAIN_ENV}")
cls_train_cli(huge_budget 2 "at most 1e15" --out ${CLS_TRAIN_TMP}/huge --budget-flops 1e40 ${CLS_TRAIN_TINY})
# The help comes from the option table: every option is listed, with its help.
cls_train_cli(help_from_table 0 "--min-lr-ratio R +the floor of the cosine decay" --help)
cls_train_cli(flag_with_value 2 "--resume takes no value" --resume=yes)
