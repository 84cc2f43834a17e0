#!/bin/sh
# tests/cli/transfer.sh CLSCALE SPEC RUN_DIR
# A small learning-rate transfer sweep (issue 17): SPEC trains a grid of
# rates at two widths under SP and muP; `clscale fit` must find muP's
# slope of log optimal rate against log width closer to 0 than SP's (and
# write fit.json's lr_transfer), `clscale plot` must draw lr-transfer.png
# by default; `--kind loss-n` on it still works; a second fit gives the
# same fit.json (the bootstrap is seeded).
set -u
clscale=$1
spec=$2
dir=$3
rm -rf "$dir"
"$clscale" sweep "$spec" --out "$dir" --quiet --matmul-backend own > /dev/null ||
  { echo "transfer.sh: sweep failed" >&2; exit 1; }
out=$("$clscale" fit "$dir" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || { echo "transfer.sh: fit exited with $rc" >&2; exit 1; }
printf '%s\n' "$out" | grep -Eq "muP's slope \(-?[0-9.]+\) is closer to 0 than SP's" ||
  { echo "transfer.sh: muP's slope is not closer to 0 than SP's" >&2; exit 1; }
grep -q '"lr_transfer"' "$dir/fit.json" || { echo "transfer.sh: fit.json has no lr_transfer" >&2; exit 1; }
cp "$dir/fit.json" "$dir/fit.first.json"
"$clscale" fit "$dir" -q || exit 1
cmp "$dir/fit.json" "$dir/fit.first.json" || { echo "transfer.sh: a second fit differs" >&2; exit 1; }
out=$("$clscale" plot "$dir" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] && [ -s "$dir/plots/lr-transfer.png" ] ||
  { echo "transfer.sh: plot exited with $rc or wrote no lr-transfer.png" >&2; exit 1; }
# Two of the rates alone are no transfer sweep: the forced fit and the
# figure refuse them with exit code 2.
two="$dir.two"
rm -rf "$two"
mkdir -p "$two/points"
cp "$dir/manifest.json" "$two/"
cp "$dir"/points/*_lr0.03125_*.json "$dir"/points/*_lr0.0625_*.json "$two/points/"
"$clscale" fit "$two" --lr-transfer > "$two.out" 2>&1
rc=$?
cat "$two.out"
[ "$rc" -eq 2 ] && grep -q "fewer than 3 learning rates" "$two.out" ||
  { echo "transfer.sh: fit --lr-transfer on two rates exited with $rc" >&2; exit 1; }
"$clscale" plot "$two" --kind lr-transfer > "$two.out" 2>&1
rc=$?
cat "$two.out"
[ "$rc" -eq 2 ] && grep -q "learning-rate transfer sweep" "$two.out" ||
  { echo "transfer.sh: plot --kind lr-transfer on two rates exited with $rc" >&2; exit 1; }
exit 0
