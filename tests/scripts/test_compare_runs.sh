#!/bin/sh
# scripts/compare_runs.sh on two of its runs (MT_COMPARE_RUNS) with the sanitizer build of
# memtile: a binary against itself matches; against the same binary with a learning rate
# one part in 500 off, every run differs and is named. TAP output.
set -u
cd "$(dirname "$0")/../.."
MEMTILE=${MEMTILE:-build/san/bin/memtile}
MEMTILE=$(cd "$(dirname "$MEMTILE")" && pwd)/$(basename "$MEMTILE")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
printf '#!/bin/sh\nexec "%s" "$@" --lr 0.0501\n' "$MEMTILE" > "$tmp/perturbed"
chmod +x "$tmp/perturbed"
export MT_COMPARE_RUNS='^(float-rram|sgd-pulse-b1-rram)$'
if scripts/compare_runs.sh "$MEMTILE" "$MEMTILE" > "$tmp/same.txt" 2>&1 &&
   grep -q '^compare_runs: 2 runs, 0 differ' "$tmp/same.txt"; then
  echo "ok 1 - a binary matches itself (logs, checkpoints, output)"
else
  echo "not ok 1 - a binary matches itself (logs, checkpoints, output)"
  sed 's/^/# /' "$tmp/same.txt"
fi
scripts/compare_runs.sh "$MEMTILE" "$tmp/perturbed" > "$tmp/diff.txt" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^compare_runs: 2 runs, 2 differ' "$tmp/diff.txt" &&
   grep -q '^DIFFERS: float-rram ' "$tmp/diff.txt" && grep -q '^DIFFERS: sgd-pulse-b1-rram ' "$tmp/diff.txt"; then
  echo "ok 2 - a changed learning rate is found in every run and named"
else
  echo "not ok 2 - a changed learning rate is found in every run and named (exit $rc)"
  sed 's/^/# /' "$tmp/diff.txt"
fi
MT_COMPARE_RUNS='^nosuchrun$' scripts/compare_runs.sh "$MEMTILE" "$MEMTILE" > "$tmp/none.txt" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'no run selected' "$tmp/none.txt"; then
  echo "ok 3 - selecting no run is a usage error"
else
  echo "not ok 3 - selecting no run is a usage error (exit $rc)"
  sed 's/^/# /' "$tmp/none.txt"
fi
