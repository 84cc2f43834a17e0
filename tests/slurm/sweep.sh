#!/bin/sh
# tests/slurm/sweep.sh CLSCALE EXPECT SPEC LIB [CLSCALE OPTIONS...] — the slurm test
# (tests/slurm.cmake): a real one-node Slurm (cluster.sh), a tiny sweep submitted
# with --slurm as a 4-task array, twice at once (claims: no point runs twice), the
# run directory equal to an unsharded local run; then a task cancelled with
# scancel mid-point and a re-submission that finishes it from its checkpoint.
# Exit 77 (skipped, with the reason) only when Slurm cannot be installed.
set -u
clscale=$1; expect=$2; spec=$3; lib=$4; shift 4
here=$(dirname "$0")
. "$lib"
. "$here/cluster.sh"

need="munge slurmctld slurmd slurm-client"
if ! command -v munged > /dev/null || ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null ||
   ! command -v sbatch > /dev/null; then
  # As tools/setup.sh installs packages: as root, or with sudo that asks no password.
  if [ "$(id -u)" -eq 0 ]; then sudo=""
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then sudo="sudo -n"
  else echo "SKIP: Slurm is not installed and this user cannot install it (not root, no passwordless sudo): apt-get install $need"; exit 77
  fi
  echo "installing $need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! { $sudo apt-get install -y -qq --no-install-recommends $need > /dev/null 2>&1 ||
         { $sudo apt-get update -qq > /dev/null 2>&1 && $sudo apt-get install -y -qq --no-install-recommends $need > /dev/null 2>&1; }; }; then
    echo "SKIP: apt-get could not install $need (no network or no package source?)"; exit 77
  fi
fi

# munged wants every folder above its socket searchable (0711), not 0700 as mktemp makes it.
T=$(mktemp -d /tmp/clscale-slurm.XXXXXX) || exit 1
chmod 0711 "$T"
finish() {
  cluster_stop
  # a job step that was just stopped may still write its last lines
  # (slurmstepd of a cancelled job may outlive slurmd by a moment and write into the spool)
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do rm -rf "$T" 2> /dev/null && break; sleep 0.5; done
}
trap finish EXIT
trap 'exit 1' INT TERM
cluster_start "$T/cluster" || exit 1
echo "cluster up: $(sinfo -h -o '%P %D %T')"

# Polls scontrol (there is no accounting database) until every task of the jobs has ended.
wait_jobs() {
  while scontrol -o show job "$@" 2> /dev/null | grep -Eq 'JobState=(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED)'; do
    sleep 0.2
  done
}
submit() { # RUN_DIR [extra clscale options]: echoes the job id
  out=$1; shift
  "$clscale" sweep "$spec" --out "$out" --slurm "$@" > "$out.submit.log" 2>&1 || { cat "$out.submit.log" >&2; return 1; }
  sed -n 's/^submitted job \([0-9]*\):.*/\1/p' "$out.submit.log"
}

"$clscale" sweep "$spec" --out "$T/ref" --quiet "$@" || { echo "reference sweep failed"; exit 1; }

# The same array twice at once: every point runs once, and the results are the local run's.
a=$(submit "$T/run" "$@") && b=$(submit "$T/run" "$@") || exit 1
grep -q "array 0-3, 4 tasks of 4 shards" "$T/run.submit.log" || { cat "$T/run.submit.log"; exit 1; }
echo "submitted jobs $a and $b"
wait_jobs "$a"; wait_jobs "$b"
cat "$T"/run/slurm/*.out
ran=$(sed -n 's/^\[[0-9]*\/[0-9]*\] \([^ ]*\) .*/\1/p' "$T"/run/slurm/*.out | sort)
echo "$ran" | uniq -d | grep . && { echo "points above ran twice"; exit 1; }
[ "$(echo "$ran" | wc -l)" -eq 4 ] || { echo "ran: $ran"; exit 1; }
same_results "$T/ref" "$T/run" || exit 1
"$expect" 0 "4 done" "$clscale" sweep --status "$T/run" || exit 1

# scancel mid-point (after a checkpoint), then the same command finishes it from there.
c=$(submit "$T/cut" "$@" --no-steal) || exit 1
victim=
i=0
while [ -z "$victim" ]; do
  for k in "$T"/cut/checkpoints/*.ckpt; do
    [ -f "$k" ] || continue
    id=$(basename "$k" .ckpt)
    [ -f "$T/cut/claims/$id.claim" ] && victim=$id
  done
  [ -n "$victim" ] && break
  # scontrol is slow next to a point's steps: asked only now and then
  i=$((i + 1))
  if [ $((i % 25)) -eq 0 ] && ! scontrol -o show job "$c" | grep -Eq 'JobState=(PENDING|RUNNING)'; then
    echo "the job ended before a point could be cancelled mid-way"; cat "$T"/cut/slurm/*.out; exit 1
  fi
  sleep 0.02
done
scancel "$c"
wait_jobs "$c"
echo "cancelled job $c during $victim"
if grep -qF '"status":	"ok"' "$T/cut/points/$victim.json"; then echo "$victim finished before the cancel"; exit 1; fi
d=$(submit "$T/cut" "$@") || exit 1
grep -q "submitted job" "$T/cut.submit.log" || exit 1
wait_jobs "$d"
cat "$T"/cut/slurm/"$d"_*.out
grep -q "resuming $victim from its checkpoint" "$T"/cut/slurm/"$d"_*.out || { echo "$victim was not resumed"; exit 1; }
same_results "$T/ref" "$T/cut" || exit 1
"$expect" 0 "nothing to submit" "$clscale" sweep "$spec" --out "$T/cut" --slurm "$@" || exit 1
