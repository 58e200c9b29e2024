#!/bin/sh
# Runs the measurements of docs/results.md (host training on model://) and
# writes their logs to build/results/. Usage: scripts/results-host.sh [epochs]
set -eu
cd "$(dirname "$0")/.."
E=${1:-5}
B=build/bin/memtile
OUT=build/results
mkdir -p "$OUT"
make -s all
run() { name=$1; shift; echo "== $name: memtile train $*"; $B train "$@" --log "$OUT/$name.jsonl" 2>/dev/null | tail -n 1; }
# MNIST (full 60k/10k), 784-100-10, 16 levels, rram preset
run mnist-float       --dataset mnist --net 784-100-10 --algo float --epochs "$E"
run mnist-siamese     --dataset mnist --net 784-100-10 --algo siamese --levels 16 --epochs "$E"
run mnist-closed-loop --dataset mnist --net 784-100-10 --algo closed-loop --levels 16 --epochs 1
# Fashion-MNIST (full), 784-256-10, default preset and levels
run fmnist-float      --dataset fashion-mnist --net 784-256-10 --algo float --epochs "$E"
run fmnist-siamese    --dataset fashion-mnist --net 784-256-10 --algo siamese --epochs "$E"
