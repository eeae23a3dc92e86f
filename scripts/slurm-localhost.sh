#!/usr/bin/env bash
# A real single-node SLURM on this machine, for Strata's SLURM executor tests
# and for trying `research.executor.kind: slurm` on a laptop.
#
#   scripts/slurm-localhost.sh start    write the config, start munged, slurmctld, slurmd; wait until the node is idle
#   scripts/slurm-localhost.sh stop     stop the daemons this script started (by their pid files)
#   scripts/slurm-localhost.sh status   sinfo and the daemons' pids
#
# It installs nothing: it expects Debian's packages (or the same binaries elsewhere):
#   apt-get install -y slurmctld slurmd munge slurm-client
# It needs root (slurmd starts jobs as their users; the config goes to /etc/slurm).
#
# The node: localhost, every CPU (at least 8 are declared so several jobs fit
# on a small machine), and STRATA_FAKE_GPUS (default 4) fake GPUs: character
# devices made with mknod (/dev/strata-fake-gpu0…, the same device as
# /dev/null), declared in gres.conf, so SLURM schedules one job per GPU and sets
# CUDA_VISIBLE_DEVICES as on a real GPU node. proctrack/linuxproc and task/none
# need no cgroups (containers, CI). Accounting is off (sacct then has nothing);
# Strata falls back to scontrol and the job's own exit record.
#
# An existing /etc/slurm/slurm.conf not written by this script is left alone
# (the script stops with a message) unless --force is given.
set -euo pipefail

action="${1:-start}"
force="${2:-}"
state_dir="${STRATA_SLURM_DIR:-/var/lib/strata-slurm}"
conf_dir=/etc/slurm
fake_gpus="${STRATA_FAKE_GPUS:-4}"
marker="# written by strata scripts/slurm-localhost.sh"

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo --preserve-env=STRATA_SLURM_DIR,STRATA_FAKE_GPUS "$0" "$@"; fi
  echo "slurm-localhost: needs root (slurmd runs jobs as their users); run it with sudo" >&2
  exit 1
fi

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "slurm-localhost: $1 not found; install SLURM first: apt-get install -y slurmctld slurmd munge slurm-client" >&2; exit 1; }
}

stop_pidfile() {
  local file="$1"
  if [ -f "$file" ]; then
    local pid
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" && echo "stopped pid $pid ($(basename "$file" .pid))"; fi
    rm -f "$file"
  fi
}

case "$action" in
  stop)
    stop_pidfile "$state_dir/slurmd.pid"
    stop_pidfile "$state_dir/slurmctld.pid"
    stop_pidfile "$state_dir/munged.pid"
    exit 0
    ;;
  status)
    for name in munged slurmctld slurmd; do
      if [ -f "$state_dir/$name.pid" ] && kill -0 "$(cat "$state_dir/$name.pid")" 2>/dev/null; then echo "$name: pid $(cat "$state_dir/$name.pid")"; else echo "$name: not running"; fi
    done
    sinfo || true
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: $0 [start|stop|status] [--force]" >&2
    exit 2
    ;;
esac

for binary in munged slurmctld slurmd sinfo sbatch; do need "$binary"; done

if [ -f "$conf_dir/slurm.conf" ] && ! grep -qF "$marker" "$conf_dir/slurm.conf" && [ "$force" != "--force" ]; then
  echo "slurm-localhost: $conf_dir/slurm.conf exists and was not written by this script; pass --force to replace it" >&2
  exit 1
fi

host="$(hostname -s)"
mkdir -p "$state_dir/state" "$state_dir/spool" "$conf_dir"

# Fake GPUs: character devices SLURM can hand out one per job. Where mknod is
# not allowed (a container without CAP_MKNOD), the GPUs are declared by count
# only: scheduling is still one job per GPU, but CUDA_VISIBLE_DEVICES is unset.
gpu_devices=yes
for ((i = 0; i < fake_gpus; i++)); do
  device="/dev/strata-fake-gpu$i"
  if [ ! -c "$device" ] && ! mknod -m 666 "$device" c 1 3 2>/dev/null; then
    echo "slurm-localhost: mknod $device not permitted; declaring $fake_gpus GPUs by count (no CUDA_VISIBLE_DEVICES in jobs)" >&2
    gpu_devices=no
    break
  fi
done

# What this machine has, as slurmd sees it; at least 8 CPUs are declared so a
# small machine still runs one job per fake GPU (config_overrides allows it).
hardware="$(slurmd -C | head -n 1)"
cpus="$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hardware")"
memory="$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")"
[ "$cpus" -ge 8 ] || cpus=8

gres_line=""
gres_types=""
if [ "$fake_gpus" -gt 0 ]; then
  gres_line=" Gres=gpu:$fake_gpus"
  gres_types="GresTypes=gpu"
  {
    echo "$marker"
    if [ "$gpu_devices" = yes ]; then
      echo "NodeName=$host Name=gpu File=/dev/strata-fake-gpu[0-$((fake_gpus - 1))]"
    else
      echo "NodeName=$host Name=gpu Count=$fake_gpus"
    fi
  } >"$conf_dir/gres.conf"
fi

cat >"$conf_dir/slurm.conf" <<EOF
$marker
ClusterName=strata-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
$gres_types
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$state_dir/state
SlurmdSpoolDir=$state_dir/spool
SlurmctldPidFile=$state_dir/slurmctld.pid
SlurmdPidFile=$state_dir/slurmd.pid
SlurmctldLogFile=$state_dir/slurmctld.log
SlurmdLogFile=$state_dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory$gres_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
echo "wrote $conf_dir/slurm.conf (node $host: $cpus CPUs, $fake_gpus fake GPUs)"

# munged, as its own user like the packaged service.
if ! { [ -f "$state_dir/munged.pid" ] && kill -0 "$(cat "$state_dir/munged.pid")" 2>/dev/null; }; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; chown munge:munge /etc/munge/munge.key; }
  setsid runuser -u munge -- munged --foreground </dev/null >"$state_dir/munged.log" 2>&1 &
  echo $! >"$state_dir/munged.pid"
  for _ in $(seq 1 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
fi

# Restarting keeps nothing from an earlier run: clear the controller's state.
stop_pidfile "$state_dir/slurmd.pid"
stop_pidfile "$state_dir/slurmctld.pid"
sleep 0.5
rm -rf "$state_dir/state"/*
setsid slurmctld -D -i </dev/null >"$state_dir/slurmctld.out" 2>&1 &
setsid slurmd -D </dev/null >"$state_dir/slurmd.out" 2>&1 &

for _ in $(seq 1 120); do
  if [ "$(sinfo -h -N -o %t 2>/dev/null | head -n 1)" = idle ]; then
    sinfo
    exit 0
  fi
  sleep 0.5
done
echo "slurm-localhost: the node did not become idle within 60s; logs in $state_dir:" >&2
tail -n 20 "$state_dir/slurmctld.log" "$state_dir/slurmd.log" "$state_dir/slurmctld.out" "$state_dir/slurmd.out" "$state_dir/munged.log" >&2 || true
exit 1
