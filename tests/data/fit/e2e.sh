#!/bin/sh
# tests/data/fit/e2e.sh CLSCALE DIR — end to end without a device: writes a
# synthetic run directory into DIR (runs drawn from Chinchilla's law
# L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 with 0.3% deterministic wiggle, loss
# curves, measured FLOPs 4% above 6ND, one diverged run, one budget whose runs
# are all too small to show a minimum), then runs `clscale fit` and
# `clscale plot` on it and checks their exit codes and files.
set -u
clscale=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir/points" || exit 1
printf '{"name": "fit e2e"}\n' > "$dir/manifest.json"
awk -v dir="$dir" 'BEGIN {
  E = 1.69; A = 406.4; al = 0.34; B = 410.7; be = 0.28
  G = exp(log(al * A / (be * B)) / (al + be)); a = be / (al + be)
  split("1e17 1e18 1e19 1e20", cs, " "); i = 0
  for (b = 1; b <= 5; b++) {
    if (b <= 4) { c = cs[b] + 0; lo = -3; hi = 2 } else { c = 1e21; lo = -9; hi = -5 }
    ns = G * exp(a * log(c / 6))
    for (j = lo; j <= hi; j++) {
      n = ns * exp(log(10) * 0.25 * j); d = c / (6 * n); i++
      L = (E + A / exp(al * log(n)) + B / exp(be * log(d))) * (1 + 0.003 * sin(7 * i))
      id = sprintf("c%g_n%d", c, j + 10)
      f = dir "/points/" id ".json"
      printf "{\"id\": \"%s\", \"status\": \"ok\", \"n_params\": %.6g, \"tokens\": %.6g, \"flops\": %.6g, \"flops_6nd\": %.6g, \"budget_flops\": %.6g, \"final_eval_loss\": %.6f}\n", id, n, d, 1.04 * 6 * n * d, 6 * n * d, c, L > f
      close(f)
      f = dir "/points/" id ".csv"
      print "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds" > f
      for (s = 1; s <= 12; s++) {
        dd = d * exp(log(10) * 2 * (s - 12) / 11)
        l = (s == 12) ? L : (E + A / exp(al * log(n)) + B / exp(be * log(dd))) * 1.05
        printf "%d,%.6g,%.6g,%.6g,%.6f,%.6f,0.001,%d\n", s, dd, 1.04 * 6 * n * dd, 6 * n * dd, l, l, s >> f
      }
      close(f)
    }
  }
  f = dir "/points/diverged.json"
  print "{\"id\": \"diverged\", \"status\": \"diverged\", \"n_params\": 1e7, \"tokens\": 1e9, \"flops\": 6e16, \"final_eval_loss\": null}" > f
}' || exit 1

"$clscale" fit "$dir" --bootstrap 50 --starts 200 --seed 3 || { echo "e2e.sh: clscale fit failed" >&2; exit 1; }
for key in '"frontier"' '"isoflop"' '"parametric"' '"allocation"' '"excluded"'; do
  grep -q "$key" "$dir/fit.json" || { echo "e2e.sh: fit.json has no $key" >&2; exit 1; }
done
"$clscale" plot "$dir" --dpi 40 || { echo "e2e.sh: clscale plot failed" >&2; exit 1; }
for kind in loss-flops isoflop optimal loss-n loss-d parametric; do
  [ -s "$dir/plots/$kind.png" ] || { echo "e2e.sh: clscale plot wrote no $kind.png" >&2; exit 1; }
done
echo "e2e.sh: ok"
