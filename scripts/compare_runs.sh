#!/bin/sh
# Runs a fixed set of short trainings (every algorithm on several presets, with the
# options that take other code paths) with two memtile binaries and compares what they
# write: the stdout and stderr text, the per-epoch JSONL and CSV logs and the final
# checkpoint (weights, optimizer and the whole device state), byte for byte. Wall-clock
# fields (JSONL wall_s, the CSV's last column, the seconds that end an epoch line) are the
# only things removed before the comparison. A speed-up of the model or the trainers must
# leave every one of these identical (docs/results.md, "Speed per training image").
#
#   scripts/compare_runs.sh REF_MEMTILE NEW_MEMTILE   two binaries
#   scripts/compare_runs.sh --ref REV [NEW_MEMTILE]    builds REV's memtile (model:// only)
#                                                      in a temporary tree first; NEW defaults
#                                                      to this tree's, built the same way
# Environment: MT_COMPARE_DATA (default ../shared/data/mnist beside the tree), MT_COMPARE_KEEP=1
# keeps the output directory, MT_COMPARE_RUNS=REGEX runs only the runs whose name matches
# (grep -E; the names are printed with a difference). Exit 0 when everything matches, 1 on any
# difference, 2 on a usage or setup error.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
data=${MT_COMPARE_DATA:-$root/../shared/data/mnist}
[ -d "$data" ] || { echo "compare_runs: no dataset directory $data (set MT_COMPARE_DATA)" >&2; exit 2; }
data=$(cd "$data" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mt-compare.XXXXXX")
cleanup() { [ "${MT_COMPARE_KEEP:-0}" = 1 ] && echo "compare_runs: kept $work" || rm -rf "$work"; }
trap cleanup EXIT

# A memtile with the model:// backend only (no Verilator build needed): the library and
# the tool's object of the tree in $1, linked into $2.
build_model_only() {
  make -C "$1" -s -j2 build/libmtmodel.a build/rel/host/tools/memtile.o >&2
  ${CC:-cc} "$1/build/rel/host/tools/memtile.o" "$1/build/libmtmodel.a" -o "$2" \
    -lcjson -lz -lm -lusb-1.0
}

if [ "${1:-}" = --ref ]; then
  [ $# -ge 2 ] || { echo "usage: $0 --ref REV [NEW_MEMTILE]" >&2; exit 2; }
  mkdir -p "$work/ref-src"
  git -C "$root" archive "$2" | tar -x -C "$work/ref-src"
  echo "compare_runs: building $2 ($(git -C "$root" rev-parse --short "$2")) in $work/ref-src" >&2
  build_model_only "$work/ref-src" "$work/memtile-ref"
  ref=$work/memtile-ref
  if [ $# -ge 3 ]; then new=$3; else build_model_only "$root" "$work/memtile-new"; new=$work/memtile-new; fi
else
  [ $# -eq 2 ] || { echo "usage: $0 REF_MEMTILE NEW_MEMTILE | --ref REV [NEW_MEMTILE]" >&2; exit 2; }
  ref=$1 new=$2
fi

# One run per line: a name and the options (besides dataset, limits and the outputs).
small="--dataset $data --train-limit 160 --test-limit 100 --epochs 2"
runs() {
  for p in rram neurosim-agsi rram-2bit imprecise ideal; do
    for a in float closed-loop siamese sgd-pulse ssm conventional biased metaplastic; do
      echo "$a-$p --algo $a --preset $p --net 784-24-10"
    done
    echo "sgd-pulse-b1-$p --algo sgd-pulse --preset $p --net 784-40-10 --batch 1 --train-limit 60"
    echo "siamese-b1-$p --algo siamese --preset $p --net 784-40-10 --batch 1 --train-limit 60"
  done
  echo "siamese-wide --algo siamese --net 784-150-140-10 --train-limit 64"
  echo "siamese-noncomp --algo siamese --compensate none --net 784-24-10"
  echo "siamese-acc --algo siamese --accumulate 3 --net 784-24-10"
  echo "siamese-open --algo siamese --open-loop --preset neurosim-agsi --net 784-24-10"
  echo "sgd-pulse-wide --algo sgd-pulse --preset neurosim-agsi --net 784-150-140-10 --batch 4 --train-limit 64"
  echo "ssm-b1 --algo ssm --net 784-40-10 --batch 1 --train-limit 60"
  echo "conventional-sliced --algo conventional --preset rram-2bit-sliced --slices 2 --net 784-24-10"
  echo "biased-sliced --algo biased --preset rram-2bit-sliced --slices 2 --net 784-24-10"
  echo "siamese-levels --algo siamese --levels 9 --net 784-24-10"
  echo "siamese-cnn --algo siamese --net 12x12x1-c3x4-p2-10 --train-limit 40 --crop 12"
  echo "float-crop --algo float --net 400-30-10 --crop 20"
  echo "siamese-crop --algo siamese --preset neurosim-agsi --net 400-30-10 --crop 20 --batch 1 --train-limit 60"
}

# Options that an older reference may not know: runs using them are left out (and counted)
# when either binary's `train --help` does not list them.
skipped=""
for opt in --crop; do
  if ! "$ref" train --help 2>&1 | grep -q -- "$opt " || ! "$new" train --help 2>&1 | grep -q -- "$opt "; then
    skipped="$skipped $opt"
  fi
done
selected() {
  runs | while read -r name opts; do
    keep=1
    if [ -n "${MT_COMPARE_RUNS:-}" ] && ! echo "$name" | grep -Eq -- "$MT_COMPARE_RUNS"; then keep=0; fi
    for opt in $skipped; do case " $opts " in *" $opt "*) keep=0 ;; esac; done
    [ $keep = 1 ] && echo "$name $opts"
  done
}

# Runs binary $1 into directory $2, one subdirectory per run.
run_all() {
  selected | while read -r name opts; do
    d=$2/$name
    mkdir -p "$d"
    # shellcheck disable=SC2086
    if "$1" train $small $opts --log "$d/log.jsonl" --checkpoint "$d/ckpt" >"$d/out" 2>"$d/err"; then
      echo 0 >"$d/rc"
    else
      echo $? >"$d/rc"
    fi
    # Wall-clock time is the one thing allowed to differ.
    [ -f "$d/log.jsonl" ] && sed -i 's/, "wall_s": [^}]*}$/}/' "$d/log.jsonl"
    [ -f "$d/log.csv" ] && sed -i 's/,[^,]*$//' "$d/log.csv"
    sed -i 's/  [0-9.e+-]* s$//' "$d/out"
  done
}

n=$(selected | wc -l)
[ "$n" -gt 0 ] || { echo "compare_runs: no run selected" >&2; exit 2; }
[ -z "$skipped" ] || echo "compare_runs: runs with$skipped left out: a binary lacks it"
run_all "$ref" "$work/ref"
run_all "$new" "$work/new"
bad=0
for d in "$work"/ref/*/; do
  name=$(basename "$d")
  if ! diff -r "$d" "$work/new/$name" >"$work/$name.diff" 2>&1; then
    echo "DIFFERS: $name ($(runs | grep "^$name " | cut -d' ' -f2-))"
    head -20 "$work/$name.diff"
    bad=$((bad + 1))
  fi
done
fail=$(cat "$work"/ref/*/rc | grep -cv '^0$' || true)
echo "compare_runs: $n runs, $bad differ ($fail of them exit non-zero on the reference, compared as well)"
[ "$bad" -eq 0 ]
