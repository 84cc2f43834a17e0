#!/bin/sh
# tools/run-main.sh — the README's main job from a fresh checkout: installs
# missing packages, builds, lists the devices, a short benchmark of the
# default device, then on that device the default emulator sweep
# (sweeps/emulator-default.json, about 4 minutes on a 2-core CPU), its
# scaling-law fit, the fit's backtest on the largest budget, and its
# figures, which land in plots/.
#
# Re-running continues an interrupted sweep (finished points are skipped).
# Environment: CLSCALE_BUILD_DIR (default build), CLSCALE_SWEEP_SPEC (default
# sweeps/emulator-default.json), CLSCALE_RUN_DIR (default
# runs/emulator-default), CLSCALE_DEVICE (the device, as everywhere).
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh
BUILD=${CLSCALE_BUILD_DIR:-build}
SPEC=${CLSCALE_SWEEP_SPEC:-sweeps/emulator-default.json}
RUN=${CLSCALE_RUN_DIR:-runs/emulator-default}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" -j "$(nproc)"
clscale="$BUILD/clscale"

"$clscale" devices
mkdir -p plots
"$clscale" bench --quick --json plots/bench.json

status=0
start=$(date +%s)
# A point that fails is recorded in the run directory and the sweep goes on;
# the fit and the figures use the points that finished.
"$clscale" sweep "$SPEC" --out "$RUN" || status=$?
echo "sweep: $(($(date +%s) - start)) s wall clock (exit code $status)"
if [ "$status" -ne 0 ] && ! ls "$RUN"/points/*.json > /dev/null 2>&1; then
  echo "run-main: the sweep wrote no points; stopping" >&2
  exit "$status"
fi

fit_log="$RUN/fit.log"
if "$clscale" fit "$RUN" > "$fit_log" 2>&1; then
  cat "$fit_log"
elif grep -q "not available" "$fit_log"; then
  cat "$fit_log"
  echo "run-main: clscale fit is not in this build yet; plotting the points alone"
else
  cat "$fit_log"
  echo "run-main: clscale fit failed (above); plotting what there is" >&2
  status=1
fi

# The backtest (docs/fit.md, "Backtest"): the largest budget's runs predicted
# by the laws fitted to the smaller budgets, with prediction intervals; a
# second fit of the same runs (seconds), written beside fit.json.
bt_log="$RUN/backtest.log"
if "$clscale" fit "$RUN" --holdout-top 1 -o "$RUN/fit-backtest.json" > "$bt_log" 2>&1; then
  sed -n '/^backtest/,/^  N_opt/p' "$bt_log"
else
  cat "$bt_log"
  echo "run-main: the backtest failed (above)" >&2
fi

# The muP coordinate check of the emulator (seconds), for the coord-check figure.
"$clscale" coordcheck --model emulator -o "$RUN" || status=1

"$clscale" plot "$RUN" -o plots
exit "$status"
