#!/bin/sh
# tests/slurm/cluster.sh — a one-node Slurm cluster in a temporary folder,
# without systemd: munged, slurmctld and slurmd as background processes of
# this shell, each stopped by its recorded PID. Sourced by the slurm test:
#   . cluster.sh; cluster_start DIR || skip; ...; cluster_stop
# Facts measured on this kind of machine (issue 16): it comes up in 1-10 s;
# munged wants every folder above its socket at 0711 and its key at 0600 in
# a 0700 folder; slurmd wants the whole line of `slurmd -C`;
# batch_sched_delay=0 starts arrays at once; proctrack/linuxproc and
# task/none keep clear of cgroups.

cluster_pids=""

# Stops what was started, by recorded PID, newest first; first the jobs of
# this (private) cluster, so that no job step outlives its slurmd.
cluster_stop() {
  if [ -n "$cluster_pids" ] && [ -n "${SLURM_CONF:-}" ]; then
    scancel -u "$(id -un)" 2>/dev/null
    i=0
    while [ -n "$(squeue -h -o %A 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  for p in $cluster_pids; do kill "$p" 2>/dev/null; done
  for p in $cluster_pids; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$p" 2>/dev/null
  done
  cluster_pids=""
}

# A free TCP port, by trying to bind (python3 is in the base system).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cluster_start() {
  cdir=$1
  mkdir -p "$cdir" && chmod 0711 "$cdir" || return 1
  mkdir -p "$cdir/munge-run" "$cdir/munge-etc" "$cdir/state" "$cdir/spool" "$cdir/log" || return 1
  chmod 0711 "$cdir/munge-run"; chmod 0700 "$cdir/munge-etc"
  dd if=/dev/urandom of="$cdir/munge-etc/munge.key" bs=1024 count=1 2>/dev/null && chmod 0600 "$cdir/munge-etc/munge.key"
  munged -F -f --socket="$cdir/munge-run/munge.socket" --key-file="$cdir/munge-etc/munge.key" \
    --log-file="$cdir/log/munged.log" --pid-file="$cdir/munge-run/munged.pid" --seed-file="$cdir/munge-etc/seed" &
  cluster_pids="$! $cluster_pids"
  i=0; while [ ! -S "$cdir/munge-run/munge.socket" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -S "$cdir/munge-run/munge.socket" ] || { echo "munged did not start:"; cat "$cdir/log/munged.log"; return 1; }
  node=$(slurmd -C | head -1)
  name=$(echo "$node" | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
  cat > "$cdir/slurm.conf" <<CONF
ClusterName=clscaletest
SlurmctldHost=$name
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$cdir/munge-run/munge.socket
CredType=cred/munge
StateSaveLocation=$cdir/state
SlurmdSpoolDir=$cdir/spool
SlurmctldPidFile=$cdir/slurmctld.pid
SlurmdPidFile=$cdir/slurmd.pid
SlurmctldLogFile=$cdir/log/slurmctld.log
SlurmdLogFile=$cdir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$node State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$cdir/slurm.conf"
  slurmctld -D -i -f "$cdir/slurm.conf" > "$cdir/log/slurmctld.out" 2>&1 &
  cluster_pids="$! $cluster_pids"
  slurmd -D -f "$cdir/slurm.conf" > "$cdir/log/slurmd.out" 2>&1 &
  cluster_pids="$! $cluster_pids"
  i=0
  while [ $i -lt 300 ]; do
    state=$(sinfo -h -o %T 2>/dev/null | head -1)
    case "$state" in idle*) return 0 ;; esac
    sleep 0.1; i=$((i + 1))
  done
  echo "the cluster did not come up (node state '$state'):"
  tail -20 "$cdir/log/slurmctld.log" "$cdir/log/slurmd.log" "$cdir/log/slurmctld.out" "$cdir/log/slurmd.out" 2>/dev/null
  return 1
}
