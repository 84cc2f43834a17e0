#!/bin/sh
# tests/cli/plot_solved.sh CLSCALE SPEC RUN_DIR KIND... -- WRONG_KIND
# Runs the sweep SPEC into RUN_DIR (afresh), plots it with no --kind, and
# checks that exactly the PNGs KIND.png were written, non-empty; then that
# --kind WRONG_KIND (a figure of another task) exits 2 and writes nothing.
set -u
clscale=$1
spec=$2
dir=$3
shift 3
rm -rf "$dir"
"$clscale" sweep "$spec" --out "$dir" || { echo "plot_solved.sh: sweep failed" >&2; exit 1; }
out=$("$clscale" plot "$dir" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 0 ] || { echo "plot_solved.sh: plot exited with $rc" >&2; exit 1; }
n=0
while [ "$1" != "--" ]; do
  [ -s "$dir/plots/$1.png" ] || { echo "plot_solved.sh: $dir/plots/$1.png missing or empty" >&2; exit 1; }
  n=$((n + 1))
  shift
done
shift
have=$(ls "$dir/plots" | wc -l)
[ "$have" -eq "$n" ] || { echo "plot_solved.sh: $have files in $dir/plots, expected $n" >&2; exit 1; }
rm -rf "$dir/plots"
out=$("$clscale" plot "$dir" --kind "$1" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 2 ] || { echo "plot_solved.sh: --kind $1 exited with $rc, expected 2" >&2; exit 1; }
printf '%s\n' "$out" | grep -q "is a figure of task" || { echo "plot_solved.sh: no message" >&2; exit 1; }
[ ! -e "$dir/plots" ] || { echo "plot_solved.sh: $dir/plots written by a refused --kind" >&2; exit 1; }
exit 0
