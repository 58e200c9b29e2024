#!/bin/bash
# Reruns every paper claim of docs/results.md ("Paper claims") on model:// and regenerates
# that table from the logs.
#
#   scripts/reproduce.sh [--quick] [--jobs N] [--out DIR] [--force] [--no-docs] [--figures DIR]
#
#   --quick    every run on 1,000 training and 500 test images and 1-2 epochs: checks the
#              pipeline in about a minute; the table goes to DIR/claims.md only, never docs/
#   --jobs N   runs in parallel (default 2, this project's machine kind has 2 cores)
#   --out DIR  logs and commands (default build/reproduce, build/reproduce-quick with --quick)
#   --force    rerun runs whose complete log is already in DIR (by default they are kept, so
#              an interrupted reproduction continues where it stopped)
#   --no-docs  write DIR/claims.md but leave docs/results.md alone
#   --figures D  the figures of docs/results.md (learning curves of the runs, device
#              characterizations; titles say --quick when it was) go to D (default
#              DIR/figures; a full run with docs also copies them to docs/figures)
#
# MEMTILE=path selects the memtile binary (default build/bin/memtile, built first).
# The full reproduction took about 80 minutes here (2 cores; the CNN runs dominate). The
# figures of docs/results.md (docs/plots.md) are drawn after the table.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0 JOBS=2 OUT="" FORCE=0 DOCS=1 FIG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift ;;
    --force) FORCE=1 ;;
    --no-docs) DOCS=0 ;;
    --figures) FIG=${2:?--figures needs a directory}; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if [ "$QUICK" = 1 ]; then
  OUT=${OUT:-build/reproduce-quick}
  LIMIT=(--train-limit 1000 --test-limit 500)
  E_MLP=2 E_SSM=2 E_CNN=1 E_TASK=1 E_DW=1 SEEDS="1 2"
else
  OUT=${OUT:-build/reproduce}
  LIMIT=()
  E_MLP=10 E_SSM=20 E_CNN=10 E_TASK=10 E_DW=3 SEEDS="1 2 3"
fi
mkdir -p "$OUT"

MLP=784-100-10
CNN=28x28x1-c5x8-p2-c5x16-p2-10
JOBLIST="$OUT/jobs.txt"
: > "$JOBLIST"
# job NAME LINES ARGS...: one `memtile train` run whose log must end with LINES epoch lines.
job() {
  local name=$1 lines=$2; shift 2
  printf '%s\t%s\t%s\n' "$name" "$lines" "$*" >> "$JOBLIST"
}

# Longest first, so that the parallel runs finish together.
# SSM 2019: naive in-situ SGD vs SSM on imprecise devices (research/papers.md section 4), each
# at two learning rates (the table compares each method at its better one).
for net in cnn mlp; do
  if [ $net = cnn ]; then N=$CNN E=$E_CNN; else N=$MLP E=$E_SSM; fi
  job ssm-$net-ssm $E --preset imprecise --dataset mnist --net $N --algo ssm --lr 0.05 --epochs $E
  job ssm-$net-ssm-lr001 $E --preset imprecise --dataset mnist --net $N --algo ssm --lr 0.01 --epochs $E
  job ssm-$net-sgdpulse $E --preset imprecise --dataset mnist --net $N --algo sgd-pulse --lr 0.05 --epochs $E
  job ssm-$net-sgdpulse-lr05 $E --preset imprecise --dataset mnist --net $N --algo sgd-pulse --lr 0.5 --epochs $E
done
# Tan 2024: Siamese sparse updates vs the closed-loop update and float training (section 1).
job tan-cnn-siamese $E_CNN --dataset mnist --net $CNN --algo siamese --levels 16 --lr 0.1 --epochs $E_CNN
job tan-cnn-float $E_CNN --dataset mnist --net $CNN --algo float --lr 0.1 --epochs $E_CNN
job tan-cnn-closed 1 --dataset mnist --net $CNN --algo closed-loop --levels 16 --lr 0.1 --epochs 1
job tan-mlp-closed 1 --dataset mnist --net $MLP --algo closed-loop --levels 16 --epochs 1
job tan-mlp-siamese $E_MLP --dataset mnist --net $MLP --algo siamese --levels 16 --epochs $E_MLP
job tan-mlp-float $E_MLP --dataset mnist --net $MLP --algo float --epochs $E_MLP
# D'Agostino 2023: MNIST then Fashion-MNIST on the metaplasticity unit (section 2).
for m in 0 2; do
  job meta-m$m $((2 * E_TASK)) --algo metaplastic --meta-m $m --tasks mnist,fashion-mnist --net $MLP --epochs $E_TASK
done
job meta-float $((2 * E_TASK)) --algo float --tasks mnist,fashion-mnist --net $MLP --epochs $E_TASK
# Diware 2023: hardware accuracy of biased vs conventional training (section 3): the level
# mapping on 2-bit devices, Diware's bit-sliced encoding, and a what-if device whose favourable
# states are far tighter than the unfavourable one (docs/presets.md); bit-sliced on the MLP and
# the CNN (Diware train LeNet-5).
for s in $SEEDS; do
  for ds in fashion-mnist mnist; do
    for a in conventional biased; do
      job dw-level-$ds-$a-s$s $E_DW --preset rram-2bit --dataset $ds --net $MLP --algo $a --w-max 1 --seed $s --epochs $E_DW
    done
  done
  for p in sliced contrast; do
    for net in mlp cnn; do
      if [ $net = cnn ]; then N="$CNN --lr 0.1" tag=$p-cnn; else N=$MLP tag=$p; fi
      D="--preset rram-2bit-$p --dataset fashion-mnist --net $N --slices 4 --w-max 1 --seed $s --epochs $E_DW"
      job dw-$tag-fashion-mnist-conventional-s$s $E_DW $D --algo conventional
      job dw-$tag-fashion-mnist-biased-s$s $E_DW $D --algo biased
      job dw-$tag-fashion-mnist-biasedall-s$s $E_DW $D --algo biased --important 1
    done
  done
done

# A run is complete when its log has the expected epoch lines and it was made by the same
# command; complete runs are kept unless --force.
complete() {
  local name=$1 lines=$2 args=$3
  [ "$FORCE" = 0 ] && [ -f "$OUT/$name.jsonl" ] && [ -f "$OUT/$name.cmd" ] &&
    [ "$(wc -l < "$OUT/$name.jsonl")" -eq "$lines" ] &&
    [ "$(cat "$OUT/$name.cmd")" = "memtile train $args ${LIMIT[*]:-}" ]
}

run_one() {
  local name=$1 lines=$2 args=$3
  # shellcheck disable=SC2086 # args is a word list of options without spaces
  if "$MEMTILE" train $args ${LIMIT[@]+"${LIMIT[@]}"} --log "$OUT/$name.tmp.jsonl" \
       > "$OUT/$name.out" 2>&1; then
    mv "$OUT/$name.tmp.jsonl" "$OUT/$name.jsonl"
    mv "$OUT/$name.tmp.csv" "$OUT/$name.csv"
    echo "memtile train $args ${LIMIT[*]:-}" > "$OUT/$name.cmd"
    echo "done    $name ($(tail -n 1 "$OUT/$name.out" | sed 's/^ *//'))"
  else
    echo "FAILED  $name: memtile train $args ${LIMIT[*]:-}" >&2
    tail -n 5 "$OUT/$name.out" >&2
    return 1
  fi
}

failed=0
running=0
while IFS=$'\t' read -r name lines args; do
  if complete "$name" "$lines" "$args"; then
    echo "kept    $name (complete log in $OUT)"
    continue
  fi
  rm -f "$OUT/$name.jsonl" "$OUT/$name.csv" "$OUT/$name.cmd" "$OUT/$name.tmp.jsonl"
  echo "start   $name: memtile train $args ${LIMIT[*]:-}"
  run_one "$name" "$lines" "$args" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=$((failed + 1))
    running=$((running - 1))
  fi
done < "$JOBLIST"
while [ "$running" -gt 0 ]; do
  wait -n || failed=$((failed + 1))
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  echo "reproduce.sh: $failed run(s) failed; the table was not regenerated" >&2
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
if [ "$QUICK" = 1 ]; then SCOPE="reproduce.sh --quick: 1,000 training / 500 test images"; else SCOPE="full MNIST"; fi
plot() {
  local png=$1 title=$2 what=$3; shift 3
  local logs=()
  for n in "$@"; do logs+=("$OUT/$n.jsonl"); done
  "$MEMTILE" plot "${logs[@]}" --what "$what" --title "$title ($SCOPE)" -o "$FIG/$png"
  echo "figure  $FIG/$png"
}
plot tan-mlp.png "Tan 2024, MLP 784-100-10: siamese vs float vs closed-loop" all \
  tan-mlp-float tan-mlp-siamese tan-mlp-closed
plot tan-cnn.png "Tan 2024, CNN: siamese vs float vs closed-loop" all tan-cnn-float tan-cnn-siamese tan-cnn-closed
plot ssm-mlp.png "SSM 2019, MLP on the imprecise preset: ssm vs sgd-pulse" all \
  ssm-mlp-ssm ssm-mlp-ssm-lr001 ssm-mlp-sgdpulse ssm-mlp-sgdpulse-lr05
plot continual.png "D'Agostino 2023: MNIST then Fashion-MNIST" accuracy,tasks meta-m0 meta-m2 meta-float
if [ "$QUICK" = 1 ]; then CHAR_SAMPLES=256; else CHAR_SAMPLES=4096; fi
for p in rram imprecise rram-2bit rram-2bit-contrast; do
  "$MEMTILE" characterize --preset "$p" --samples "$CHAR_SAMPLES" --plot "$FIG/char-$p.png" > "$FIG/char-$p.txt"
  echo "figure  $FIG/char-$p.png"
done
if [ "$QUICK" = 0 ] && [ "$DOCS" = 1 ]; then
  mkdir -p docs/figures
  cp "$FIG"/*.png docs/figures/
fi
