#!/bin/sh
# Runs scripts/reproduce.sh --quick end to end with the sanitizer build of memtile (every
# algorithm of the claims table on a few hundred images) and checks the table it writes. TAP output.
set -u
cd "$(dirname "$0")/../.."
MEMTILE=${MEMTILE:-build/san/bin/memtile}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
if MEMTILE="$MEMTILE" scripts/reproduce.sh --quick --jobs 2 --out "$tmp" --no-docs > "$tmp/out.txt" 2>&1; then
  echo "ok 1 - reproduce.sh --quick runs every job"
else
  echo "not ok 1 - reproduce.sh --quick runs every job"
  sed 's/^/# /' "$tmp/out.txt"
fi
rows=$(grep -c '^| [A-Z][^|]* 20[0-9][0-9] |' "$tmp/claims.md" 2>/dev/null || true)
if [ "${rows:-0}" -eq 23 ] && ! grep -qw 'nan\|inf' "$tmp/claims.md"; then
  echo "ok 2 - claims.md has one row per claim (23) and only finite numbers"
else
  echo "not ok 2 - claims.md has one row per claim (23, got ${rows:-0}) and only finite numbers"
fi
# A second run keeps the complete logs instead of training again.
if MEMTILE="$MEMTILE" scripts/reproduce.sh --quick --out "$tmp" --no-docs > "$tmp/again.txt" 2>&1 &&
   ! grep -q '^start' "$tmp/again.txt" && grep -q '^kept' "$tmp/again.txt"; then
  echo "ok 3 - a rerun keeps complete runs"
else
  echo "not ok 3 - a rerun keeps complete runs"
  sed 's/^/# /' "$tmp/again.txt"
fi
# The figures of docs/results.md, as PNG files (signature).
pngs=0
for f in tan-mlp tan-cnn ssm-mlp continual char-rram char-imprecise char-rram-2bit char-rram-2bit-contrast; do
  head -c 8 "$tmp/figures/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' &&
    pngs=$((pngs + 1))
done
if [ "$pngs" -eq 8 ]; then
  echo "ok 4 - the eight figures are drawn as PNG"
else
  echo "not ok 4 - the eight figures are drawn as PNG (got $pngs)"
  ls -la "$tmp/figures" 2>&1 | sed 's/^/# /'
fi
