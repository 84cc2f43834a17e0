#!/bin/sh
# tests/data/fit/plan.sh CLSCALE DIR SPEC — `clscale plan` end to end without
# a device: the synthetic run directory of e2e.sh (Chinchilla's law) with a
# manifest recording SPEC (the emulator's default sweep) is fitted, then
# planned for a budget, a model size (with a profile) and a loss; bad
# inputs exit 2 with their reason: a budget below the runs', a loss below
# the floor, a fit.json of another version, a task without a model family,
# unique data given without a data-constrained law.
set -u
clscale=$1
dir=$2
spec=$3
here=$(dirname "$0")
fail() { echo "plan.sh: $*" >&2; exit 1; }
# expect CODE PATTERN ARGS...: clscale plan ARGS exits CODE saying PATTERN
expect() {
  code=$1 pattern=$2
  shift 2
  out=$("$clscale" plan "$@" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  [ "$rc" -eq "$code" ] || fail "'plan $*' exited $rc, expected $code"
  printf '%s\n' "$out" | grep -Eq -- "$pattern" || fail "'plan $*' does not say /$pattern/"
}
sh "$here/e2e.sh" "$clscale" "$dir" > /dev/null 2>&1 || fail "e2e.sh could not make the run directory"
{ printf '{"version": 1, "name": "plan test", "spec": '; cat "$spec"; printf '}\n'; } > "$dir/manifest.json"

# clscale fit prints every law's N_opt and D_opt at --ref-flops
"$clscale" fit "$dir" --ref-flops 1e21 --bootstrap 20 --starts 100 -o "$dir/fit-ref.json" > "$dir/ref.log" 2>&1 ||
  fail "fit --ref-flops failed: $(cat "$dir/ref.log")"
grep -q "compute-optimal point at C = 1e+21 FLOPs" "$dir/ref.log" || fail "fit printed no optimum at --ref-flops"
for law in isoflop parametric; do
  grep -Eq "^  $law +[0-9.]+e\+[0-9]+ \[.*\] +[0-9.]+e\+[0-9]+ \[" "$dir/ref.log" ||
    fail "fit printed no N_opt and D_opt of the $law law at --ref-flops"
done
grep -Eq "^  frontier +— +— +[0-9.]+ \[" "$dir/ref.log" || fail "fit printed no frontier loss at --ref-flops"
expect 0 "nearest model of the emulator family" "$dir" --flops 1e21
[ -s "$dir/plan.json" ] || fail "no plan.json written"
grep -q '"budgets_flops"' "$dir/plan.json" || fail "plan.json has no budgets_flops"
expect 0 "parametric +1e\\+21 .*2\\.3[0-9]* \\[" "$dir" --flops 1e21 -o "$dir/p1.json"
expect 0 "wrote .*/p5.json: 5 models" "$dir" --params 2e9 --profile 5 -o "$dir/p5.json"
expect 0 "frontier" "$dir" --loss 2.4 -o "$dir/pl.json"
expect 2 "below the smallest run's" "$dir" --flops 1e15
expect 2 "at or below the law's irreducible loss" "$dir" --loss 1.0
expect 2 "give the target" "$dir"
# the runs repeat no data (e2e.sh records no epochs): no data-constrained plan
expect 2 "--n-train plans under the data-constrained law, which .* does not hold" "$dir" --flops 1e21 --n-train 100
expect 2 "not several" "$dir" --flops 1e21 --params 1e9
expect 2 "--profile wants" "$dir" --flops 1e21 --profile 2
expect 1 "run clscale fit .* first" "$dir" --flops 1e21 --fit "$dir/no-such-fit.json"
sed 's/"version":[ 	]*2/"version": 1/' "$dir/fit.json" > "$dir/old.json"
expect 2 "version 1, written by an older clscale.*rerun clscale fit" "$dir" --flops 1e21 --fit "$dir/old.json"
sed 's/"version":[ 	]*2/"version": 7/' "$dir/fit.json" > "$dir/new.json"
expect 2 "version 7 is not one this clscale reads" "$dir" --flops 1e21 --fit "$dir/new.json"
printf '{"version": 1, "name": "rf", "spec": {"task": "rf", "widths": [16, 32], "latent": 64, "budgets_tokens": [64]}}\n' \
  > "$dir/manifest.json"
expect 2 "task rf has no model family" "$dir" --flops 1e21
printf '{"version": 1, "name": "plan test", "spec": {}}\n' > "$dir/manifest.json"
# the backtest's figure: held-out runs against the law fitted without them
"$clscale" fit "$dir" --holdout-top 1 --bootstrap 50 --starts 200 -o "$dir/fit.json" > "$dir/bt.log" 2>&1 ||
  fail "fit --holdout-top failed: $(cat "$dir/bt.log")"
grep -q "inside their 95% prediction interval" "$dir/bt.log" || fail "fit --holdout-top printed no coverage"
"$clscale" plot "$dir" --dpi 40 > /dev/null 2>&1 || fail "plot failed after a backtest"
[ -s "$dir/plots/backtest.png" ] || fail "clscale plot drew no backtest.png"
echo "plan.sh: ok"
