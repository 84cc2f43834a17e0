#!/bin/sh
# tests/data/fit/repeats.sh CLSCALE DIR SPEC — the data-constrained law end to
# end without a device: a run directory of runs drawn from it (Chinchilla's
# base law, R*_D = 15.4; 4 model sizes x 3 unique-data sizes x 6 epoch
# counts, each point recording epochs and train_examples as the train loop
# writes them), then `clscale fit` must report R*_D within 10% and
# `clscale plot` must draw the repeats figure, and `clscale plan` (with a
# manifest recording SPEC, the repeats preset) must say where the plain
# plan's D exceeds the unique data and plan under the law, or say what to
# give when the unique data is not known.
set -u
clscale=$1
dir=$2
spec=$3
fail() { echo "repeats.sh: $*" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/points" || exit 1
printf '{"version": 1, "name": "repeats"}\n' > "$dir/manifest.json"
awk -v dir="$dir" 'BEGIN {
  E = 1.69; A = 406.4; al = 0.34; B = 410.7; be = 0.28; rs = 15.4
  split("1e8 1e9 1e10", us, " "); split("1 2 4 8 16 32", eps, " ")
  for (i = 0; i < 4; i++) for (j = 1; j <= 3; j++) for (e = 1; e <= 6; e++) {
    n = 1e7 * exp(log(10) * i * 2 / 3); u = us[j] + 0; ep = eps[e] + 0; d = u * ep
    dp = u + u * rs * (1 - exp(-(ep - 1) / rs))
    L = E + A / exp(al * log(n)) + B / exp(be * log(dp))
    id = sprintf("n%d_u%d_e%d", i, j, ep)
    printf "{\"id\": \"%s\", \"task\": \"spectra\", \"status\": \"ok\", \"n_params\": %.6g, \"tokens\": %.6g, \"train_examples\": %.6g, \"train_tokens\": %.6g, \"examples_seen\": %.6g, \"epochs\": %.6g, \"flops\": %.6g, \"final_eval_loss\": %.9f}\n", id, n, d, u / 100, u, d / 100, ep, 6 * n * d, L > (dir "/points/" id ".json")
    close(dir "/points/" id ".json")
  }
}' || exit 1
out=$("$clscale" fit "$dir" --bootstrap 50 --starts 200 2>&1) || fail "clscale fit failed: $out"
printf '%s\n' "$out"
rd=$(printf '%s\n' "$out" | awk '$1 == "R*_D" { print $2; exit }')
[ -n "$rd" ] || fail "clscale fit printed no R*_D"
awk -v r="$rd" 'BEGIN { exit !(r > 0.9 * 15.4 && r < 1.1 * 15.4) }' || fail "R*_D = $rd, not within 10% of 15.4"
printf '%s\n' "$out" | grep -q "worth less than half a fresh one from epoch" || fail "no half-value epoch"
grep -q '"data_constrained"' "$dir/fit.json" || fail "fit.json has no data_constrained"
"$clscale" plot "$dir" --dpi 60 > /dev/null 2>&1 || fail "clscale plot failed"
[ -s "$dir/plots/repeats.png" ] || fail "clscale plot drew no repeats.png"
# asked for by name, for points of a task (the figure is of any task's fit)
rm -f "$dir/plots/repeats.png"
"$clscale" plot "$dir" --kind repeats --dpi 60 > /dev/null 2>&1 || fail "clscale plot --kind repeats failed"
[ -s "$dir/plots/repeats.png" ] || fail "clscale plot --kind repeats drew no repeats.png"
# clscale plan: the runs train on 1e6 to 1e8 examples of 100 tokens, so the
# unique data is the user's to give
{ printf '{"version": 1, "name": "repeats", "spec": '; cat "$spec"; printf '}\n'; } > "$dir/manifest.json"
plan() {
  code=$1 pattern=$2
  shift 2
  out=$("$clscale" plan "$dir" -o "$dir/plan.json" "$@" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  [ "$rc" -eq "$code" ] || fail "'plan $*' exited $rc, expected $code"
  printf '%s\n' "$out" | grep -Eq -- "$pattern" || fail "'plan $*' does not say /$pattern/"
}
plan 0 "unique training data is not known \\(the runs train on 1e\\+06 to 1e\\+08 examples.*give --n-train K" \
  --flops 1e22
plan 0 "parametric +D_opt .* epochs: exceeds the unique data" --flops 1e22 --n-train 1e7
plan 0 "data-constrained law \\(R\\*_D = 15\\.[0-9]*\\): the loss-optimal run at C = 1e\\+22" --flops 1e22 --n-train 1e7
plan 0 "the parametric plan's run .* under this law: loss" --flops 1e22 --unique-tokens 1e9
plan 0 "nearest model for the data-constrained N_opt .*: width [0-9]+, depth" --flops 1e22 --unique-tokens 1e9
plan 0 "no revisits in the plain plan" --flops 1e22 --unique-tokens 1e14
plan 2 "not both" --flops 1e22 --n-train 10 --unique-tokens 1e9
plan 2 "--n-train wants a positive" --flops 1e22 --n-train 0
echo "repeats.sh: ok"
