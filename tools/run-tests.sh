#!/bin/sh
# tools/run-tests.sh — the whole test suite from a fresh checkout:
# installs missing packages, builds, runs every test with ctest, then the
# sanitized build with the fuzzers (tools/run-sanitized.sh; set
# CLSCALE_SKIP_SANITIZED=1 to leave it out while working).
set -eu
cd "$(dirname "$0")/.."
tools/setup.sh
BUILD=${CLSCALE_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" -j "$(nproc)"
(cd "$BUILD" && ctest --output-on-failure -j "$(nproc)")
if [ "${CLSCALE_SKIP_SANITIZED:-0}" != 1 ]; then
  tools/run-sanitized.sh "$BUILD"
fi
