#!/bin/sh
# tools/bench/vs-torch.sh — clscale's GPT training speed beside PyTorch's
# on the same machine, in one run: rounds of `clscale train` on the anchor
# shape (width 128, 4 layers, 4 heads, context 64, batch 32) and of the same
# model in PyTorch (tools/bench/gpt_torch.py) with 1 and 2 threads,
# interleaved so that a change in the machine's load hits all of them
# alike. Every row carries the 1-minute load average read before it: rows
# taken on a busy machine can be discarded. The last lines are the medians
# over the rounds and the ratio of clscale's median to PyTorch's best.
#
# usage: tools/bench/vs-torch.sh [--rounds R] [--steps S] [--clscale PATH]
#                                [--python PY] [-- CLSCALE TRAIN OPTIONS...]
# PyTorch is looked up in PY (default python3; Debian: python3-torch);
# without it only clscale's rows are printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rounds=3 steps=200 clscale="$here/../../build/clscale" python=python3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --steps) steps=${2:?--steps needs a value}; shift 2 ;;
    --clscale) clscale=${2:?--clscale needs a value}; shift 2 ;;
    --python) python=${2:?--python needs a value}; shift 2 ;;
    --) shift; break ;;
    *) echo "vs-torch.sh: unknown argument '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
case "$rounds$steps" in *[!0-9]*|'') echo "vs-torch.sh: --rounds and --steps take positive integers" >&2; exit 2 ;; esac
[ "$rounds" -ge 1 ] && [ "$steps" -ge 1 ] || { echo "vs-torch.sh: --rounds and --steps must be at least 1" >&2; exit 2; }
[ -x "$clscale" ] || { echo "vs-torch.sh: no clscale at $clscale (build first, or pass --clscale PATH)" >&2; exit 2; }
torch=1
"$python" -c 'import torch' 2>/dev/null || { torch=0; echo "vs-torch.sh: PyTorch not found in $python: clscale rows only" >&2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
load() { cut -d' ' -f1 /proc/loadavg; }
# PyTorch's steps: half as many as clscale's (a step takes about as long),
# at least 20: a steady mean, in a round that stays short.
tsteps=$((steps / 2)); [ "$tsteps" -ge 20 ] || tsteps=20

printf '%-6s %-14s %6s %12s\n' round run load tokens/s
r=1
while [ "$r" -le "$rounds" ]; do
  l=$(load)
  rm -rf "$tmp/run"
  out=$("$clscale" train --out "$tmp/run" --budget-steps "$steps" --width 128 --depth 4 --heads 4 \
    --context 64 --batch 32 "$@" 2>&1) || { echo "$out" >&2; echo "vs-torch.sh: clscale train failed" >&2; exit 1; }
  tok=$(printf '%s\n' "$out" | sed -n 's/^speed: \([0-9.]*\) tokens\/s.*/\1/p')
  [ -n "$tok" ] || { echo "$out" >&2; echo "vs-torch.sh: no 'speed:' line from clscale train" >&2; exit 1; }
  printf '%-6s %-14s %6s %12s\n' "$r" clscale "$l" "$tok" | tee -a "$tmp/rows"
  if [ "$torch" = 1 ]; then
    for th in 1 2; do
      l=$(load)
      tok=$("$python" "$here/gpt_torch.py" --threads "$th" --steps "$tsteps" | awk '{print $3}')
      printf '%-6s %-14s %6s %12s\n' "$r" "torch-${th}t" "$l" "$tok" | tee -a "$tmp/rows"
    done
  fi
  r=$((r + 1))
done
echo
awk '
  { v[$2, ++n[$2]] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
  function median(name,   m, i, j, t, a) {
    m = n[name]; for (i = 1; i <= m; i++) a[i] = v[name, i]
    for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    for (i = 1; i <= k; i++) { med[order[i]] = median(order[i]); printf "median %-14s %12.0f tokens/s\n", order[i], med[order[i]] }
    best = 0; for (i = 1; i <= k; i++) if (order[i] != "clscale" && med[order[i]] > best) { best = med[order[i]]; who = order[i] }
    if (best > 0) printf "clscale / best PyTorch (%s): %.2fx\n", who, med["clscale"] / best
  }' "$tmp/rows"
