#!/bin/sh
# make bitstream BOARD=<board>: runs scripts/vivado/build.tcl with Vivado in batch mode
# (docs/boards.md). Where Vivado is not on PATH it says so and exits 2, having changed nothing.
set -u
board=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$root/build/bitstream/$board}
if [ -z "$board" ]; then
  echo "usage: make bitstream BOARD=<board>   (boards: ac701)" >&2
  exit 2
fi
if [ ! -f "$root/rtl/boards/${board}_top.sv" ]; then
  echo "bitstream: no board top rtl/boards/${board}_top.sv (boards: ac701)" >&2
  exit 2
fi
vivado=${VIVADO:-vivado}
if ! command -v "$vivado" >/dev/null 2>&1; then
  echo "bitstream: '$vivado' is not on PATH. Building the $board bitstream needs AMD Vivado" \
    "(2020.2 or later, with Artix-7 support); source its settings64.sh, or set VIVADO=/path/to/vivado," \
    "and run 'make bitstream BOARD=$board' again." >&2
  exit 2
fi
mkdir -p "$out"
cd "$out" && exec "$vivado" -mode batch -nojournal -log "$out/vivado.log" \
  -source "$root/scripts/vivado/build.tcl" -tclargs "$board" "$root" "$out"
