#!/bin/sh
# make bitstream BOARD=ac701 where Vivado is not on PATH: a clear message naming Vivado and the
# board, a non-zero exit, and no output directory; an unknown board is refused too. TAP output.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"
# PATH with make and the shell's tools but no vivado.
mkdir "$tmp/bin"
for t in make sh env dirname cd pwd mkdir cat; do
  p=$(command -v "$t" 2>/dev/null) && [ -x "$p" ] && ln -s "$p" "$tmp/bin/$t"
done
if PATH="$tmp/bin" VIVADO=vivado make --no-print-directory bitstream BOARD=ac701 \
    BUILD="$tmp/build" >"$tmp/out.txt" 2>&1; then
  echo "not ok 1 - make bitstream without vivado fails"
  sed 's/^/# /' "$tmp/out.txt"
elif grep -q "'vivado' is not on PATH" "$tmp/out.txt" && grep -q "ac701" "$tmp/out.txt" \
    && [ ! -e "$tmp/build/bitstream" ]; then
  echo "ok 1 - make bitstream without vivado fails with a message naming Vivado and the board"
else
  echo "not ok 1 - make bitstream without vivado: message or leftovers"
  sed 's/^/# /' "$tmp/out.txt"
fi
if PATH="$tmp/bin" make --no-print-directory bitstream BOARD=nosuchboard BUILD="$tmp/build" \
    >"$tmp/out2.txt" 2>&1; then
  echo "not ok 2 - an unknown board is refused"
elif grep -q "nosuchboard" "$tmp/out2.txt"; then
  echo "ok 2 - an unknown board is refused with its name"
else
  echo "not ok 2 - an unknown board: message"
  sed 's/^/# /' "$tmp/out2.txt"
fi
