#!/bin/sh
# make bitstream BOARD=ac701 where Vivado is not on PATH: a clear message naming Vivado and the
# board, a non-zero exit, and no output directory; an unknown board is refused too. And what
# the script would give Vivado is complete: scripts/check_vivado_sources.py finds every
# `include of the RTL it reads in its include directories (generated/ too), and Yosys elaborates
# the top from exactly its file list; the same check fails on a copy of the Tcl without
# generated/ among its include directories, and on one that reads too few files. TAP output.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..5"
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
if python3 scripts/check_vivado_sources.py --yosys scripts/vivado/build.tcl . ac701 \
    >"$tmp/src.txt" 2>&1; then
  echo "ok 3 - build.tcl: every \`include resolves in its include dirs, the top elaborates from its files"
else
  echo "not ok 3 - build.tcl misses sources or include directories"
  sed 's/^/# /' "$tmp/src.txt"
fi
sed 's#\$root/generated##' scripts/vivado/build.tcl >"$tmp/nogen.tcl"
if python3 scripts/check_vivado_sources.py "$tmp/nogen.tcl" . ac701 >"$tmp/nogen.txt" 2>&1; then
  echo "not ok 4 - a Tcl without generated/ among its include dirs passes the check"
elif grep -q 'mt_protocol.vh' "$tmp/nogen.txt"; then
  echo "ok 4 - a Tcl without generated/ among its include dirs fails, naming the header"
else
  echo "not ok 4 - a Tcl without generated/: message"
  sed 's/^/# /' "$tmp/nogen.txt"
fi
sed 's#glob \$root/rtl/\*\.sv#glob $root/rtl/mt_async_*.sv#' scripts/vivado/build.tcl >"$tmp/few.tcl"
if ! grep -q 'mt_async_' "$tmp/few.tcl"; then
  echo "not ok 5 - could not narrow the Tcl's file list"
elif python3 scripts/check_vivado_sources.py --yosys "$tmp/few.tcl" . ac701 >"$tmp/few.txt" 2>&1
then
  echo "not ok 5 - a Tcl that reads too few files passes the check"
elif grep -q 'does not elaborate' "$tmp/few.txt"; then
  echo "ok 5 - a Tcl that reads too few files fails (Yosys: the top does not elaborate)"
else
  echo "not ok 5 - a Tcl that reads too few files: message"
  sed 's/^/# /' "$tmp/few.txt"
fi
