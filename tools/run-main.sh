#!/bin/sh
# tools/run-main.sh — the main job from a fresh checkout: installs missing
# packages, builds, lists the devices and benchmarks the default one.
# (Later issues grow this into the default sweep, its fit and its figures.)
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh
BUILD=${CLSCALE_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" -j "$(nproc)"
"$BUILD"/clscale devices
mkdir -p plots
"$BUILD"/clscale bench --json plots/bench.json
