#!/bin/bash
# Reruns every paper claim of docs/results.md ("Paper claims") on model:// and regenerates
# that table from the logs.
#
#   scripts/reproduce.sh [--quick] [--jobs N] [--out DIR] [--force] [--no-docs] [--figures DIR]
#   scripts/reproduce.sh --fidelity [--jobs N] [--out DIR] [--force]
#
#   --quick    every run on 500 training, 100 validation and 300 test images, 1-2 epochs,
#              one learning rate (0.1), m = 2, 2 seeds and 2 programming draws (Diware): checks
#              the pipeline; the table goes to DIR/claims.md only, never docs/
#   --jobs N   runs in parallel (default 2, this project's machine kind has 2 cores)
#   --out DIR  logs and commands (default build/reproduce, build/reproduce-quick with --quick)
#   --force    rerun runs whose complete log is already in DIR (by default they are kept, and
#              interrupted runs continue from their checkpoints)
#   --no-docs  write DIR/claims.md but leave docs/results.md alone
#   --figures D  the figures of docs/results.md (learning curves of the runs, device
#              characterizations; titles say --quick when it was) go to D (default
#              DIR/figures; a full run with docs also copies them to docs/figures)
#   --fidelity instead of the claims, the long optional runs of docs/results.md "Fidelity"
#              (issue 17: per-task BatchNorm, a binarized L = 2 run, the widest network,
#              Diware's LeNet-5; sweeps/fidelity17.json) into DIR (default build/fidelity17),
#              tabled by scripts/fidelity_table.py into DIR/fidelity.md; docs/ is left alone.
#              Not run by make test; docs/results.md gives each run's time. The log of a run
#              started by hand with a point's command (the wide and LeNet-5 runs were) is kept
#              once recorded: scripts/sweep.py adopt sweeps/fidelity17.json --out DIR --id ID
#              --log FILE (docs/sweeps.md); until then a log of its in DIR is left alone and
#              the point fails
#
# MEMTILE=path selects the memtile binary (default build/bin/memtile, built first). The runs
# are the points of sweeps/reproduce.json; `scripts/sweep.py slurm sweeps/reproduce.json`
# spreads them over a Slurm cluster instead (docs/sweeps.md), then
# `scripts/claims_table.py DIR` makes the table.
# The full reproduction (about 400 runs: every method at every learning rate of its claim's
# grid and 3 seeds, sweeps/reproduce.json) has not been timed; the old protocol's 49 runs took
# about 80 minutes here (2 cores). The figures of docs/results.md (docs/plots.md) are drawn
# after the table, from seed 1 of each method's chosen grid point (DIR/chosen.json).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0 JOBS=2 OUT="" FORCE=0 DOCS=1 FIG="" FIDELITY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --fidelity) FIDELITY=1 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift ;;
    --force) FORCE=1 ;;
    --no-docs) DOCS=0 ;;
    --figures) FIG=${2:?--figures needs a directory}; shift ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if [ "$FIDELITY" = 1 ]; then
  [ "$QUICK" = 1 ] && { echo "reproduce.sh: --fidelity has no --quick form" >&2; exit 2; }
  OUT=${OUT:-build/fidelity17}
  if [ "$FORCE" = 1 ]; then RUN=(run --local --force); else RUN=(resume --local); fi
  if ! python3 scripts/sweep.py "${RUN[@]}" sweeps/fidelity17.json -j "$JOBS" --out "$OUT" --memtile "$MEMTILE"; then
    echo "reproduce.sh: some runs failed (their output: $OUT/NAME.out)" >&2
    exit 1
  fi
  python3 scripts/fidelity_table.py "$OUT" --out "$OUT/fidelity.md"
  cat "$OUT/fidelity.md"
  exit 0
fi

SWEEP=(sweeps/reproduce.json)
if [ "$QUICK" = 1 ]; then
  OUT=${OUT:-build/reproduce-quick}
  SWEEP+=(--set E_MLP=2 --set E_SSM=2 --set E_CNN=1 --set E_TASK=1 --set E_DW=1 --set DRAWS=2 --set 'SEEDS=[1,2]'
          --set 'LRS=[0.1]' --set 'LRS_CNN=[0.1]' --set 'METAM=[2]' --set VAL=100
          --set TRAIN_LIMIT=600 --set TEST_LIMIT=300)
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

# Figures (docs/plots.md): the learning curves of the claims' runs on one figure per
# comparison, and the characterization of the presets they use.
FIG=${FIG:-$OUT/figures}
mkdir -p "$FIG"
if [ "$QUICK" = 1 ]; then SCOPE="reproduce.sh --quick: 500 training images, seed 1"; else SCOPE="full MNIST, seed 1"; fi
# Each method's run of seed 1 at its grid point chosen on validation (claims_table.py).
chosen() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/chosen.json" "$1"
}
plot() {
  local png=$1 title=$2 what=$3; shift 3
  local logs=()
  for n in "$@"; do logs+=("$OUT/$(chosen "$n").jsonl"); done
  "$MEMTILE" plot "${logs[@]}" --what "$what" --title "$title ($SCOPE)" -o "$FIG/$png"
  echo "figure  $FIG/$png"
}
plot tan-mlp.png "Tan 2024, MLP 784-100-10: siamese vs float vs closed-loop" all \
  tan-mlp-float tan-mlp-siamese tan-mlp-siamese-acc4 tan-mlp-closed tan-mlp-closedchg
plot tan-cnn.png "Tan 2024, CNN: siamese vs float vs closed-loop" all tan-cnn-float tan-cnn-siamese \
  tan-cnn-siamese-acc4 tan-cnn-closed tan-cnn-closedchg
plot ssm-mlp.png "SSM 2019, MLP on the imprecise preset: ssm vs sgd-pulse" all \
  ssm-mlp-ssm ssm-mlp-ssmreads ssm-mlp-sgdpulse
plot continual.png "D'Agostino 2023: MNIST then Fashion-MNIST" accuracy,tasks meta-m0 meta-m meta-float
if [ "$QUICK" = 1 ]; then CHAR_SAMPLES=256; else CHAR_SAMPLES=4096; fi
for p in rram imprecise rram-2bit rram-2bit-contrast; do
  "$MEMTILE" characterize --preset "$p" --samples "$CHAR_SAMPLES" --plot "$FIG/char-$p.png" > "$FIG/char-$p.txt"
  echo "figure  $FIG/char-$p.png"
done
if [ "$QUICK" = 0 ] && [ "$DOCS" = 1 ]; then
  mkdir -p docs/figures
  cp "$FIG"/*.png docs/figures/
fi
