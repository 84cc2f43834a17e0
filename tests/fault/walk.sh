#!/bin/sh
# tests/fault/walk.sh CLSCALE DIR [sweep options] — fault injection over a
# tiny sweep (issue 14). A run with CLSCALE_FAIL_LOG counts every device
# buffer allocation, program build, file write and rename (core/fault.h);
# then, for each kind and each k, the sweep runs with CLSCALE_FAIL=KIND:K
# and must
#   - exit 1 with a message that names the injected failure, on the
#     terminal or in the failed point's summary (exit 0 only
#     where the library tolerates the failure by design: a kernel cache
#     entry that cannot be written), never crash or exit 2;
#   - leave no temporary file behind;
#   - leave a run directory that the same command, without the switch,
#     finishes with the losses of an uninterrupted sweep (the loss curves
#     bit for bit, apart from the seconds column).
set -u
kind=$1; clscale=$2; dir=$3; shift 3
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir" || exit 1
cat > s.json <<'SPEC'
{"name": "f", "task": "spectra", "mode": "isoflop", "widths": [8], "depth": 1, "heads": 2,
 "budgets_flops": [1e8], "batch": 4, "pixels": 32, "n_train": 32, "n_test": 8, "n_pixels": 200,
 "evals": 3, "eval_batches": 1, "checkpoint_steps": 20}
SPEC

fail() {
  echo "fault walk: $*"
  exit 1
}

# What must not change: each curve without its seconds column, each
# summary's status and final losses (to the curve's 9 digits: a point
# resumed at its last step reads them back from its curve).
results() {
  for f in "$1"/points/*.csv; do
    echo "== $(basename "$f")"
    cut -d, -f1-7 "$f"
  done
  for f in "$1"/points/*.json; do
    echo "== $(basename "$f")"
    grep -E '"(status|final_eval_loss|final_train_loss)"' "$f" | tr -d '\t ",' |
      awk -F: '{ if ($1 == "status") print $0; else printf "%s:%.8g\n", $1, $2 }'
  done
}

# The reference (it also fills the kernel cache, so that every later run
# makes the same calls), then the count.
"$clscale" sweep s.json --out ref --quiet "$@" > ref.out 2>&1 || { cat ref.out; fail "the reference sweep failed"; }
results ref > ref.results
CLSCALE_FAIL_LOG="$dir/count.log" "$clscale" sweep s.json --out counted --quiet "$@" > counted.out 2>&1 ||
  { cat counted.out; fail "the counting sweep failed"; }
results counted | cmp -s - ref.results || fail "the counting sweep's losses differ from the reference's"

n=$(grep -c "^$kind " count.log)
[ "$n" -gt 0 ] || fail "no $kind call counted (count.log: $(wc -l < count.log) lines)"
k=1
while [ "$k" -le "$n" ]; do
  what=$(grep "^$kind $k " count.log | cut -d' ' -f3-)
  run="$kind-$k"
  CLSCALE_FAIL="$kind:$k" "$clscale" sweep s.json --out "$run" --quiet "$@" > "$run.out" 2>&1
  rc=$?
  case "$rc" in
    0) ;;
    1) # said on the terminal, or in the failed point's summary the sweep points to
       grep -q "CLSCALE_FAIL=$kind:$k" "$run.out" ||
         grep -qs "\"error\":.*CLSCALE_FAIL=$kind:$k" "$run"/points/*.json ||
         { cat "$run.out"; fail "CLSCALE_FAIL=$kind:$k ($what): exit 1 without naming the failure"; } ;;
    *) cat "$run.out"; fail "CLSCALE_FAIL=$kind:$k ($what): exit code $rc" ;;
  esac
  left=$(find "$run" -name '*.tmp*' 2> /dev/null)
  [ -z "$left" ] || fail "CLSCALE_FAIL=$kind:$k ($what) left temporary files: $left"
  if [ "$rc" -ne 0 ]; then
    "$clscale" sweep s.json --out "$run" --quiet "$@" > "$run.again" 2>&1 ||
      { cat "$run.out" "$run.again"; fail "after CLSCALE_FAIL=$kind:$k ($what), the sweep does not finish"; }
  fi
  results "$run" > "$run.results"
  cmp -s "$run.results" ref.results ||
    { diff ref.results "$run.results"; fail "after CLSCALE_FAIL=$kind:$k ($what) (exit $rc), other losses"; }
  rm -rf "$run" "$run.out" "$run.again" "$run.results"
  k=$((k + 1))
done
echo "fault walk: each of the sweep's $n $kind calls failed in turn, each reported or absorbed, each run finished with the reference losses"
