#!/bin/bash
# Reruns every paper claim of docs/results.md ("Paper claims") on model:// and regenerates
# that table from the logs.
#
#   scripts/reproduce.sh [--quick] [--jobs N] [--out DIR] [--force] [--no-docs]
#
#   --quick    every run on 1,000 training and 500 test images and 1-2 epochs: checks the
#              pipeline in about a minute; the table goes to DIR/claims.md only, never docs/
#   --jobs N   runs in parallel (default 2, this project's machine kind has 2 cores)
#   --out DIR  logs and commands (default build/reproduce, build/reproduce-quick with --quick)
#   --force    rerun runs whose complete log is already in DIR (by default they are kept, and
#              interrupted runs continue from their checkpoints)
#   --no-docs  write DIR/claims.md but leave docs/results.md alone
#
# MEMTILE=path selects the memtile binary (default build/bin/memtile, built first). The runs
# are the points of sweeps/reproduce.json; `scripts/sweep.py slurm sweeps/reproduce.json`
# spreads them over a Slurm cluster instead (docs/sweeps.md), then
# `scripts/claims_table.py DIR` makes the table.
# The full reproduction took about 80 minutes here (2 cores; the CNN runs dominate).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0 JOBS=2 OUT="" FORCE=0 DOCS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift ;;
    --force) FORCE=1 ;;
    --no-docs) DOCS=0 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$JOBS" in ''|*[!0-9]*|0) echo "reproduce.sh: --jobs must be a positive integer, got '$JOBS'" >&2; exit 2 ;; esac

if [ -z "${MEMTILE:-}" ]; then
  make -s all
  MEMTILE=build/bin/memtile
fi
[ -x "$MEMTILE" ] || { echo "reproduce.sh: memtile binary '$MEMTILE' not found" >&2; exit 2; }

SWEEP=(sweeps/reproduce.json)
if [ "$QUICK" = 1 ]; then
  OUT=${OUT:-build/reproduce-quick}
  SWEEP+=(--set E_MLP=2 --set E_SSM=2 --set E_CNN=1 --set E_TASK=1 --set E_DW=1 --set 'SEEDS=[1,2]'
          --set TRAIN_LIMIT=1000 --set TEST_LIMIT=500)
else
  OUT=${OUT:-build/reproduce}
fi

# The runs are the points of sweeps/reproduce.json (docs/sweeps.md): scripts/sweep.py keeps
# the complete ones, continues interrupted ones from their checkpoints and runs the rest,
# $JOBS at a time. OUT/NAME.jsonl is each run's log, OUT/NAME.cmd its command.
if [ "$FORCE" = 1 ]; then
  RUN=(run --local --force)
else
  RUN=(resume --local)
fi
if ! python3 scripts/sweep.py "${RUN[@]}" "${SWEEP[@]}" -j "$JOBS" --out "$OUT" --memtile "$MEMTILE"; then
  echo "reproduce.sh: some runs failed (their output: $OUT/NAME.out); the table was not regenerated" >&2
  exit 1
fi

TABLE_ARGS=("$OUT" --out "$OUT/claims.md")
[ "$QUICK" = 1 ] && TABLE_ARGS+=(--quick)
if [ "$QUICK" = 0 ] && [ "$DOCS" = 1 ]; then TABLE_ARGS+=(--splice docs/results.md); fi
python3 scripts/claims_table.py "${TABLE_ARGS[@]}"
