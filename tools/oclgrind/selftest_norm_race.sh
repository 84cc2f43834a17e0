#!/usr/bin/env bash
# tools/oclgrind/selftest_norm_race.sh CL_DIR WORK_DIR TEST_NORM - the
# Oclgrind gate's self-test (tests/oclgrind.cmake): puts the data race of
# issue 12 back into a copy of cl/norm.cl (every work-item of norm_fwd_wg
# reads x[0] itself, while work-item 0 writes y[0], which in place is x[0])
# and expects check.sh to see Oclgrind report it in the in-place test.
set -eu
cl=$1 work=$2 test=$3
here=$(dirname "$0")
command -v "${CLS_OCLGRIND:-oclgrind}" > /dev/null 2>&1 || exec bash "$here/check.sh" "$test"  # skip, with the reason
rm -rf "$work"
mkdir -p "$work"
cp "$cl"/*.cl "$cl"/*.h "$work"/
fixed='  float x0 = shift[0];'
grep -q -x -F "$fixed" "$work/norm.cl" || {
  echo "selftest: '$fixed' not found in cl/norm.cl: update this self-test to the kernel" >&2
  exit 1
}
sed -i "s/^  float x0 = shift\[0\];\$/  float x0 = rms ? 0.0f : xr[0];/" "$work/norm.cl"
CLSCALE_KERNEL_DIR=$work CLSCALE_NO_CACHE=1 CLSCALE_TEST_FILTER=forward_in_place \
  exec bash "$here/check.sh" --set generic-gpu --expect 'data race' "$test"
