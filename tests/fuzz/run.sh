#!/bin/sh
# tests/fuzz/run.sh FUZZER SEEDS WORK SECONDS — one bounded libFuzzer run
# (the ctest fuzz_<target>). New inputs go to WORK/corpus (kept between
# runs, so that a machine that runs the suite again starts from what it
# found); SEEDS (tests/fuzz/<target>/) is read only. A crash, a leak, a
# sanitizer finding, a broken contract (fuzz_common.h) or an input that
# takes over 10 s fails the test, saved under WORK/findings/.
# CLSCALE_FUZZ_SECONDS overrides the time.
set -u
fuzzer=$1; seeds=$2; work=$3; secs=${CLSCALE_FUZZ_SECONDS:-$4}
rm -rf "$work/findings"
mkdir -p "$work/corpus" "$work/findings"
CLSCALE_FUZZ_SCRATCH=$(mktemp -d /dev/shm/clscale-fuzz.XXXXXX 2> /dev/null || mktemp -d)
export CLSCALE_FUZZ_SCRATCH
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$work/findings/" "$work/corpus" "$seeds" > "$work/log" 2>&1
rc=$?
rm -rf "$CLSCALE_FUZZ_SCRATCH"
tail -n 40 "$work/log"
[ $rc -eq 0 ] && exit 0
for f in "$work"/findings/*; do
  [ -f "$f" ] || continue
  echo "fuzz: finding saved as $f; fix it, then copy it into $seeds/ (named for what it found):"
  echo "fuzz: the ctest $(basename "$seeds" | sed 's/^/fuzz_replay_/') replays it in every build from then on"
done
exit 1
