# Issue 14, item 1: a sweep on the default `auto` matmul backend, killed
# with SIGKILL many times and finished, ends with the uninterrupted sweep's
# losses bit for bit. Between kills a process with other kernel parameters
# makes its own auto choices in the same cache folder (before the fix it
# rewrote the shared choices file, and the next process timed its choices
# again and could choose otherwise). The reference's choices file must come
# out byte for byte as it was, and every point must record the reference's
# choices. The products sum over 1024 rows (batch 8 x 128 pixels): on
# shorter sums the backends happen to round alike and the test could not
# tell them apart. CLSCALE_MATMUL_AUTO=keep: a quieter machine later in the
# test must not re-time the reference's choices (that is the point of the
# re-timing rule, not what this test is about). Then a one-point sweep killed
# between its start and its first checkpoint, with every choice in the cache
# folder changed, starts the point again with the choices its summary
# recorded.
set(CLS_AUTO_DIR ${PROJECT_BINARY_DIR}/auto-kill)
file(MAKE_DIRECTORY ${CLS_AUTO_DIR})
file(WRITE ${CLS_AUTO_DIR}/auto.ini [=[
name = autokill
task = spectra
mode = isoflop
widths = 8, 16
depth = 1
heads = 2
budgets_flops = 2e9, 4e9

[data]
batch = 8
pixels = 128
n_train = 64
n_test = 16
n_pixels = 400

[training]
param = mup
base_width = 16
lr = 0.01
evals = 6
eval_batches = 2
checkpoint_steps = 3
]=])
file(WRITE ${CLS_AUTO_DIR}/kill.sh [=[
set -u
clscale=$1; dir=$2; spec=$3; lib=$4; kills=$5
. "$lib"
rm -rf "$dir"; mkdir -p "$dir"
export CLSCALE_CACHE_DIR="$dir/cache" CLSCALE_MATMUL_AUTO=keep CLSCALE_PER_DEVICE=1
unset CLSCALE_PARAMS CLSCALE_MATMUL_BACKEND
"$clscale" sweep "$spec" --out "$dir/ref" --quiet || { echo "reference sweep failed"; exit 1; }
mkdir "$dir/snap" && cp "$dir"/cache/matmul-auto-*.txt "$dir/snap/" || { echo "no choices file after the reference"; exit 1; }
choices() { for f in "$1"/points/*.json; do echo "$(basename "$f") $(grep matmul_choices "$f")"; done; }
killed=0; i=0
while [ $i -lt "$kills" ]; do
  "$clscale" sweep "$spec" --out "$dir/run" --quiet > "$dir/run.log" 2>&1 &
  pid=$!
  # Kill once a point has a checkpoint (or at once if the sweep already ended), a little later each time.
  t=0
  while kill -0 $pid 2>/dev/null && ! ls "$dir"/run/checkpoints/*.ckpt > /dev/null 2>&1 && [ $t -lt 400 ]; do
    sleep 0.05; t=$((t + 1))
  done
  sleep "0.$((i % 5))"
  kill -9 $pid 2>/dev/null && killed=$((killed + 1))
  wait $pid 2>/dev/null
  # Another parameter set times its own choices in the same folder.
  CLSCALE_PARAMS=MM_TK=16 CLSCALE_MATMUL_AUTO= "$clscale" train --task spectra --out "$dir/other" --width 8 \
    --depth 1 --heads 2 --batch 8 --pixels 128 --n-train 64 --n-test 16 --n-pixels 400 --budget-steps 2 --force \
    --quiet > /dev/null 2>&1 || { echo "the other parameter set's run failed"; exit 1; }
  i=$((i + 1))
done
"$clscale" sweep "$spec" --out "$dir/run" --quiet || { echo "the last sweep failed"; cat "$dir/run.log"; exit 1; }
echo "killed $killed times of $kills"
[ $killed -gt 0 ] || { echo "no kill hit a running sweep"; exit 1; }
grep -ql resumed_from_step "$dir"/run/points/*.json || { echo "no point was resumed from a checkpoint"; exit 1; }
[ "$(ls "$dir"/cache/matmul-auto-*.txt | wc -l)" -ge 2 ] || { echo "the other parameter set wrote no file of its own"; exit 1; }
for f in "$dir"/snap/*; do
  cmp "$f" "$dir/cache/$(basename "$f")" || { echo "$(basename "$f") was rewritten"; exit 1; }
done
choices "$dir/ref" > "$dir/ref.choices"; choices "$dir/run" > "$dir/run.choices"
cmp "$dir/ref.choices" "$dir/run.choices" || { echo "recorded choices differ:"; diff "$dir/ref.choices" "$dir/run.choices"; exit 1; }
same_results "$dir/ref" "$dir/run" || exit 1
no_leftovers "$dir/run" || exit 1

# A point killed after its start, before its first checkpoint, then every
# choice in the cache folder turned to another backend: the re-run starts
# the point again with the choices its summary recorded.
one="$dir/one.ini"
sed -e 's/^widths = .*/widths = 8/' -e 's/^budgets_flops = .*/budgets_flops = 4e9/' -e 's/^checkpoint_steps = .*/checkpoint_steps = 100/' "$spec" > "$one"
"$clscale" sweep "$one" --out "$dir/one-ref" --quiet || { echo "the one-point reference failed"; exit 1; }
"$clscale" sweep "$one" --out "$dir/one" --quiet > "$dir/one.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && ! grep -qF '"matmul_choices"' "$dir"/one/points/*.json 2>/dev/null; do sleep 0.02; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if ls "$dir"/one/checkpoints/*.ckpt > /dev/null 2>&1 || ! grep -qF '"status":	"running"' "$dir"/one/points/*.json; then
  echo "the point was not caught between its start and its first checkpoint: the restart was not tested"
else
  for f in "$dir"/cache/matmul-auto-*.txt; do
    sed -i -E 's/^([NT][NT] [0-9]+ [0-9]+ [0-9]+ [01]) (own|host) /\1 clblast /; t; s/^([NT][NT] [0-9]+ [0-9]+ [0-9]+ [01]) clblast /\1 own /' "$f"
  done
  "$clscale" sweep "$one" --out "$dir/one" --quiet || { echo "the one-point re-run failed"; exit 1; }
  grep -q resumed_from_step "$dir"/one/points/*.json && { echo "the point resumed: no restart"; exit 1; }
  choices "$dir/one-ref" > "$dir/one-ref.choices"; choices "$dir/one" > "$dir/one.choices"
  cmp "$dir/one-ref.choices" "$dir/one.choices" || { echo "restarted point's choices differ"; diff "$dir/one-ref.choices" "$dir/one.choices"; exit 1; }
  same_results "$dir/one-ref" "$dir/one" || exit 1
  echo "restarted a point killed before its first checkpoint with its recorded choices"
fi
]=])
add_test(NAME cli_auto_kill COMMAND sh ${CLS_AUTO_DIR}/kill.sh $<TARGET_FILE:clscale> ${PROJECT_BINARY_DIR}/test-tmp/auto-kill
                                    ${CLS_AUTO_DIR}/auto.ini ${PROJECT_BINARY_DIR}/sweep-cli/lib.sh 6)
set_tests_properties(cli_auto_kill PROPERTIES TIMEOUT 600)
