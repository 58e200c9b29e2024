#!/bin/bash
# scripts/sweep.py against a real single-node Slurm (Debian's slurm-wlm and munge), started
# here in a temporary folder with its own munge key and socket, a generated slurm.conf and
# random ports, then stopped: a 3-point sweep goes in as a job array, every task must end
# COMPLETED with its point's log, `gather` makes the table, and a resubmission after one log
# is lost runs that point only. TAP output; bounded to about 2 minutes.
# research/cluster-facts.md has the facts this relies on.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
MEMTILE=${MEMTILE:-build/san/bin/memtile}
PY=${PYTHON:-python3}

missing=""
for b in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$b" >/dev/null 2>&1 || missing="$missing $b"
done
if [ -n "$missing" ]; then
  echo "1..1"
  echo "ok 1 # SKIP Slurm or munge binaries missing:$missing (make deps installs slurmctld slurmd slurm-client munge)"
  exit 0
fi

tmp=$(mktemp -d /tmp/mt-slurm.XXXXXX)
# munged wants its socket's folders world-searchable and not group/world-writable.
chmod 755 "$tmp"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/out"
chmod 755 "$tmp/munge"
export SLURM_CONF="$tmp/slurm.conf"
PIDS=()
JOBS_SUBMITTED=()

teardown() {
  # Jobs first: slurmstepd left behind by stopped daemons ignores SIGTERM.
  for j in "${JOBS_SUBMITTED[@]}"; do scancel "$j" 2>/dev/null; done
  for _ in $(seq 1 40); do
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 0.25
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap teardown EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
  n=$((n + 1)); echo "not ok $n - $1"
  shift
  for f in "$@"; do [ -f "$f" ] && tail -n 20 "$f" | sed "s|^|# $(basename "$f"): |"; done
}
echo "1..6"

# munge: a fresh key of our own (the packaged one belongs to the munge user).
mungekey -c -k "$tmp/munge/munge.key" >/dev/null 2>&1 && chmod 600 "$tmp/munge/munge.key"
sock="$tmp/munge/munge.socket"
setsid munged -F --socket="$sock" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
  --seed-file="$tmp/munge/munge.seed" --log-file="$tmp/munge/munged.log" >"$tmp/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
  munge -n --socket="$sock" 2>/dev/null | unmunge --socket="$sock" >/dev/null 2>&1 && break
  sleep 0.1
done

host=$(hostname -s)
port=$((20000 + RANDOM % 19998))
cat >"$SLURM_CONF" <<EOF
ClusterName=mtsweep
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
DependencyParameters=kill_invalid_depend
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=memtile Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

setsid slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
PIDS+=($!)
setsid slurmd -D -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 1 100); do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
  [ "$state" = idle ] && break
  sleep 0.2
done
if [ "$state" = idle ]; then
  ok "munged, slurmctld and slurmd up, node $host idle"
else
  notok "munged, slurmctld and slurmd up, node $host idle (state '${state}')" \
    "$tmp/munge/munged.log" "$tmp/slurmctld.log" "$tmp/slurmd.log" "$tmp/slurmctld.out" "$tmp/slurmd.out"
  for _ in 2 3 4 5 6; do n=$((n + 1)); echo "not ok $n - # no cluster"; done
  exit 1
fi

# A tiny sweep: 2 algorithms x ... 3 points, 1 epoch on 200 MNIST images each.
cat >"$tmp/tiny.json" <<'EOF'
{
  "name": "tiny",
  "fixed": {"dataset": "mnist", "net": "784-16-10", "epochs": 1, "train-limit": 200, "test-limit": 100},
  "grids": [
    {"name": "{algo}-s{seed}", "grid": {"algo": ["float", "siamese"], "seed": [1]}},
    {"name": "sgd-pulse-s{seed}", "grid": {"seed": [2]}, "fixed": {"algo": "sgd-pulse", "preset": "ideal"}}
  ]
}
EOF
out="$tmp/out"
if timeout 100 "$PY" scripts/sweep.py slurm "$tmp/tiny.json" --out "$out" --memtile "$MEMTILE" --time 2 --wait \
     >"$tmp/submit.txt" 2>&1; then
  ok "sweep.py slurm --wait: the job array ran every point"
else
  notok "sweep.py slurm --wait: the job array ran every point" "$tmp/submit.txt" "$tmp/slurmctld.log" \
    "$out"/slurm/*.out
fi
job=$(sed -n 's/^submitted job \([0-9]*\).*/\1/p' "$tmp/submit.txt")
[ -n "$job" ] && JOBS_SUBMITTED+=("$job")

# Slurm's own record: one array task per point, each COMPLETED with exit 0, and its output
# in DIR/slurm/<task>.out beside the point's log DIR/<id>.out.
states=$(scontrol -o show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z]* .*ExitCode=[0-9:]*' |
  sed 's/JobState=\([A-Z]*\).*ExitCode=\([0-9:]*\)/\1 \2/' | sort | uniq -c | sed 's/^ *//')
if grep -q -- '--array=0-2$' "$out/sweep.sbatch" && [ "$states" = "3 COMPLETED 0:0" ] &&
   [ -f "$out/slurm/0.out" ] && [ -f "$out/slurm/2.out" ] && [ -s "$out/float-s1.jsonl" ] &&
   [ -s "$out/siamese-s1.jsonl" ] && [ -s "$out/sgd-pulse-s2.jsonl" ] && [ -s "$out/siamese-s1.out" ]; then
  ok "job $job: array 0-2, three tasks COMPLETED 0:0, one log per point"
else
  notok "job $job: array 0-2, three tasks COMPLETED 0:0, one log per point (got '${states}')" \
    "$out/sweep.sbatch" "$tmp/submit.txt"
fi

if "$PY" scripts/sweep.py gather "$out" >"$tmp/gather.txt" 2>&1 &&
   [ "$(grep -c ',complete,' "$out/results.csv")" -eq 3 ] &&
   "$PY" -c 'import json,sys; t=json.load(open(sys.argv[1])); ps=t["points"]
assert len(ps) == 3 and all(p["status"] == "complete" and p["epochs"] == 1 and 0 <= p["final_accuracy"] <= 1 for p in ps)
assert [p["id"] for p in ps] == ["float-s1", "siamese-s1", "sgd-pulse-s2"]
assert ps[1]["pulses"] > 0 and ps[1]["energy_pj"] > 0' "$out/results.json"; then
  ok "gather: one table (CSV and JSON) of the three points"
else
  notok "gather: one table (CSV and JSON) of the three points" "$tmp/gather.txt" "$out/results.csv"
fi

# Lose one point's log: a resubmission runs that point only, and the rest are kept.
rm -f "$out/siamese-s1.jsonl"
before=$(cat "$out/float-s1.jsonl")
if timeout 60 "$PY" scripts/sweep.py resume --slurm "$tmp/tiny.json" --out "$out" --memtile "$MEMTILE" --wait \
     >"$tmp/resubmit.txt" 2>&1 && grep -q -- '--array=1$' "$out/sweep.sbatch" &&
   [ -s "$out/siamese-s1.jsonl" ] && [ "$(cat "$out/float-s1.jsonl")" = "$before" ]; then
  ok "resume --slurm submits only the unfinished point (array 1)"
else
  notok "resume --slurm submits only the unfinished point (array 1)" "$tmp/resubmit.txt" "$out/sweep.sbatch"
fi
job2=$(sed -n 's/^submitted job \([0-9]*\).*/\1/p' "$tmp/resubmit.txt")
[ -n "$job2" ] && JOBS_SUBMITTED+=("$job2")

if "$PY" scripts/sweep.py slurm "$tmp/tiny.json" --out "$out" --memtile "$MEMTILE" >"$tmp/again.txt" 2>&1 &&
   grep -q 'every point is complete' "$tmp/again.txt"; then
  ok "a complete sweep submits nothing"
else
  notok "a complete sweep submits nothing" "$tmp/again.txt"
fi
