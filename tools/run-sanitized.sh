#!/bin/sh
# tools/run-sanitized.sh BUILD — the suite's second build (issue 14): clang
# with AddressSanitizer (leak detection on) and UndefinedBehaviorSanitizer,
# any finding fatal, and the libFuzzer targets (-DCLSCALE_FUZZ=ON). Called
# by tools/run-tests.sh after the usual build passed; BUILD is that build,
# whose warm kernel cache this one starts from (the kernels are the same,
# so compiling them again would only cost time; on PoCL the compiled kernels
# are in PoCL's own cache under HOME, which both builds share, and the
# copied folder holds the matmul-auto choices).
#
# What it runs and why not more (the whole suite must stay within about
# 12 minutes on two cores):
#   - labels unit, cli, replay (the fuzz corpora through every parser),
#     fault (every failure path of a sweep, where leaks hide) and fuzz
#     (each parser fuzzed for CLSCALE_FUZZ_SECONDS, default 12 s);
#   - not oclgrind (it simulates the kernels, not our host code, and its
#     276 s of test time would take over 10 minutes under the sanitizers),
#     not intel (Intel's runtime leaks at exit on its own and runs the same
#     host code as PoCL does), not portability, layers, install (they
#     compile, but run no host code of ours);
#   - not the slowest numerical tests (SLOW below): their time is
#     arithmetic in loops that smaller tests of the same code run too
#     (random-feature exponents on large grids, a 10^6-row CSV fit,
#     backtests and plans over many fits, repeated kills of generations
#     sweeps, shards), nor the slowest sweeps whose host code other tests
#     here run (the sweep kill-and-resume with groups: cli_sweep_kill and
#     cli_sweep_side_by_side; three processes claiming points at once:
#     cli_sweep_claims_takeover and fuzz_claim; the depth and head-width
#     transfer presets: the width preset's code path; the kill while two
#     points run at once on a device: cli_sweep_per_device runs the two
#     workers, cli_sweep_kill the kill and resume).
#     On the noisy 2-core machine the whole .ci/run took 19 to 22 minutes
#     on 2026-12-07 evening; these take ~90 s of its sanitized test time.
set -eu
cd "$(dirname "$0")/.."
main_build=$1
SAN=${CLSCALE_SANITIZE_BUILD_DIR:-build-sanitize}
CC_SAN=${CLSCALE_SANITIZE_CC:-clang-15}
if ! command -v "$CC_SAN" > /dev/null; then
  echo "run-sanitized: $CC_SAN not found: install clang-15 (tools/setup.sh does)" >&2
  exit 1
fi
SLOW='^(cli_solved_rf_exponent_.*|cli_fit_large_csv|test_fit_backtest|cli_plan|cli_fit_repeats|cli_generations_text_kill|cli_generations_shards|cli_sweep_shards|cli_vs_torch_round|cli_sweep_kill_side_by_side|cli_sweep_claims_concurrent|cli_transfer_preset_depth|cli_transfer_preset_headdim|cli_sweep_kill_per_device)$'

CC=$CC_SAN cmake -S . -B "$SAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLSCALE_FUZZ=ON
cmake --build "$SAN" -j "$(nproc)"
if [ -d "$main_build/test-cache" ]; then
  mkdir -p "$SAN/test-cache"
  cp -R "$main_build/test-cache/." "$SAN/test-cache/"
fi

# llvm-symbolizer turns the sanitizers' addresses into file:line.
for s in /usr/lib/llvm-15/bin/llvm-symbolizer /usr/bin/llvm-symbolizer-15 /usr/bin/llvm-symbolizer; do
  if [ -x "$s" ]; then
    export ASAN_SYMBOLIZER_PATH="$s"
    break
  fi
done
supp=$(pwd)/tests/sanitize/lsan.supp
# intercept_tls_get_addr=0: AddressSanitizer's record of the dynamic TLS
# blocks of dlopened libraries (PoCL loads LLVM, and a library per compiled
# kernel) is sometimes a garbage range under Debian 12's glibc, and
# LeakSanitizer's tracer then faults reading it at exit ("Tracer caught
# signal 11", the log naming "DTLS 7 at 0x51a-0x8000161c"): 6 of 52 runs of
# fault/walk.sh's reference sweep with the build of a856aab and none of 37
# with that of 44dcebc, in the same minutes of 2026-12-07; none of 40 runs
# (a856aab) with this option. Our code has no dynamic TLS (it is linked
# into the executable), so what goes unscanned are PoCL's and LLVM's
# thread-local blocks; leaks of ours are found as before.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:intercept_tls_get_addr=0"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$SAN"
ctest --output-on-failure -j "$(nproc)" -L '^(unit|cli|replay|fault|fuzz)$' -E "$SLOW"
