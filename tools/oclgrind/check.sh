#!/usr/bin/env bash
# tools/oclgrind/check.sh - runs one test executable under Oclgrind, the
# OpenCL device simulator that checks every memory access, and fails on
# anything it reports (tests/oclgrind.cmake; docs/portability.md).
#
#   check.sh [--set SET] [--log FILE] [--expect REGEX] TEST [ARGS...]
#
# The test runs with CLSCALE_TEST_SMALL=1 (small shapes) and
# CLSCALE_PARAM_SET=SET (the kernels as that vendor set builds them), under
#   oclgrind --data-races --check-api
# Oclgrind 21.10 has no option to turn its reports into an exit status: it
# prints them on stderr and lets the program go on. So stderr is kept (in
# FILE, default a temporary file) and searched: a data race, an invalid
# (out-of-bounds) read or write, work-group divergence at a barrier, an
# OpenCL API error, an unsupported instruction, or any other report naming a
# kernel fails the check, as does a failing test.
#
# --expect REGEX inverts the check for the gate's self-test: it passes only
# when Oclgrind reports something matching REGEX.
#
# Not used, on purpose: --uninitialized (21.10 segfaults on optimised
# kernels and reports false positives after clEnqueueFillBuffer), and
# --log (rewritten for each OpenCL context, so a test with several contexts
# keeps only the last one's reports: stderr keeps all of them).
#
# Exit 77 (shown by ctest as skipped) when oclgrind is not installed.
set -u

set_name=""
log=""
expect=""
while [ $# -gt 0 ]; do
  case "$1" in
    --set) set_name=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --expect) expect=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  echo "usage: check.sh [--set SET] [--log FILE] [--expect REGEX] TEST [ARGS...]" >&2
  exit 2
fi

OCLGRIND=${CLS_OCLGRIND:-oclgrind}
if ! command -v "$OCLGRIND" > /dev/null 2>&1; then
  echo "SKIPPED: $OCLGRIND not found; the Debian package oclgrind provides it (tools/setup.sh installs it" \
       "when run as root)"
  exit 77
fi

if [ -z "$log" ]; then
  log=$(mktemp "${TMPDIR:-/tmp}/oclgrind-XXXXXX.log")
  trap 'rm -f "$log"' EXIT
fi

export CLSCALE_TEST_SMALL=1
# The own matmul kernels: the auto backend would time candidates (every
# kernel many times over, slow in a simulator) and CLBlast is not ours.
export CLSCALE_MATMUL_BACKEND=${CLSCALE_MATMUL_BACKEND:-own}
label="the device's own parameter set"
if [ -n "$set_name" ]; then
  export CLSCALE_PARAM_SET="$set_name"
  label="parameter set $set_name"
fi

# What Oclgrind prints when it finds something: every kernel-side report
# names the kernel ("Kernel: NAME"); API errors say "runtime error detected".
# The other patterns are the reports' first lines, in case one comes without
# the kernel line.
REPORTS='Kernel: |runtime error detected|[Dd]ata race|Invalid (read|write)|[Oo]ut[- ]of[- ]bounds|divergence|Unaligned|Unsupported|Unhandled|[Uu]ninitiali[sz]ed|[Oo]clgrind'

"$OCLGRIND" --data-races --check-api "$@" 2> "$log"
rc=$?
reports=$(grep -c -E "$REPORTS" "$log")

if [ -n "$expect" ]; then
  if [ "$reports" -gt 0 ] && grep -q -E "$expect" "$log"; then
    echo "oclgrind: reported, as expected: $(grep -m1 -E "$expect" "$log")"
    exit 0
  fi
  echo "oclgrind: expected a report matching '$expect'; got none (test exit $rc). stderr:" >&2
  head -n 100 "$log" >&2
  exit 1
fi

if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ]; then
  echo "oclgrind ($label): test exit status $rc, $reports report lines; first lines of stderr:" >&2
  head -n 200 "$log" >&2
  exit 1
fi
echo "oclgrind ($label): no reports"
exit 0
