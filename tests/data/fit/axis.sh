#!/bin/sh
# tests/data/fit/axis.sh CLSCALE DIR — `clscale fit` along axes on real
# sweeps of the solved tasks: an rf sweep over features at T = 4096 (T >> N,
# about 3 s on the CPU device) fitted with the default axes (features and
# samples, no --axis) must give gamma within 0.15 of alpha = 1 on features;
# a zipf sweep (five sources) fitted along samples from its learning curves.
set -u
clscale=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir" || exit 1
cat > "$dir/rf.json" <<'SPEC'
{"name": "rf-axis", "task": "rf", "widths": [16, 32, 64, 128, 256], "latent": 512, "alpha": 1.0,
 "ridge": 1e-3, "budgets_tokens": [4096], "seeds": [1, 2, 3, 4]}
SPEC
cat > "$dir/zipf.json" <<'SPEC'
{"name": "zipf-small", "task": "zipf", "vocab": 100000, "beta": 1.5, "budgets_tokens": [100000], "seeds": [1, 2],
 "variants": [{"source": "real"}, {"source": "cut", "cut": 100}, {"source": "narrowed", "beta_narrow": 2.5},
              {"source": "fitted", "fit_samples": 10000}, {"source": "cut", "real_fraction": 0.5, "cut": 100}]}
SPEC
"$clscale" sweep "$dir/rf.json" --out "$dir/rf" > "$dir/rf.log" 2>&1 || { cat "$dir/rf.log"; exit 1; }
"$clscale" fit "$dir/rf" --bootstrap 100 > "$dir/rf.fit" 2>&1 || { cat "$dir/rf.fit"; echo "axis.sh: fit of rf failed"; exit 1; }
cat "$dir/rf.fit"
gamma=$(awk '/^axis features:/ { on = 1 } /^axis samples:/ { on = 0 } on && $1 == "all" { print $9 }' "$dir/rf.fit")
awk -v g="$gamma" 'BEGIN { exit !(g != "" && g >= 0.85 && g <= 1.15) }' ||
  { echo "axis.sh: gamma along features is '$gamma', want 1 +- 0.15"; exit 1; }
grep -q '"axis_fits"' "$dir/rf/fit.json" || { echo "axis.sh: rf fit.json has no axis_fits"; exit 1; }
grep -q 'skipped: 1 distinct samples value' "$dir/rf.fit" || { echo "axis.sh: samples groups not reported skipped"; exit 1; }
"$clscale" sweep "$dir/zipf.json" --out "$dir/zipf" > "$dir/zipf.log" 2>&1 || { cat "$dir/zipf.log"; exit 1; }
"$clscale" fit "$dir/zipf" --bootstrap 50 > "$dir/zipf.fit" 2>&1 || { cat "$dir/zipf.fit"; echo "axis.sh: fit of zipf failed"; exit 1; }
cat "$dir/zipf.fit"
for want in 'learning curves' 'source=real' 'source=fitted .*—' 'no theory for the fitted source'; do
  grep -q "$want" "$dir/zipf.fit" || { echo "axis.sh: the zipf fit does not say '$want'"; exit 1; }
done
echo "axis.sh: ok (gamma along features $gamma)"
