#!/bin/sh
# Board-top lint (make lint; docs/boards.md, "Pad structure"): fails on any warning.
#
# usage: scripts/lint_board.sh [ROOT]
#
# For every board top ROOT/rtl/boards/<top>.sv (ROOT: the repository, by default the one this
# script is in; tests/scripts/test_lint_board.sh points it at a doctored copy):
#  1. Verilator --lint-only -Wall with the lint-only models of the Xilinx primitives in
#     ROOT/sim/xilinx_stubs (every Verilator warning stops the build);
#  2. Yosys reads ROOT/rtl/*.sv and the top against its own models of the real Xilinx
#     primitives (black boxes: port and parameter names as Vivado knows them), elaborates the
#     top (hierarchy -check) and runs proc, with -e '.*': every warning is an error (real-valued
#     primitive parameters it cannot pass on, tristate logic outside a pad buffer, ...).
# Environment: VERILATOR (a command, may start with VAR=value words; default verilator),
# VL_BOARD_LINT (extra Verilator flags), YOSYS (default yosys). Exits 0 when every top is
# clean, 1 at the first top with a warning (named, with the tool's message), 2 on bad usage.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if [ ! -d "$root/rtl/boards" ]; then
  echo "lint_board: no board tops in '$root/rtl/boards'" >&2
  exit 2
fi
verilator=${VERILATOR:-verilator}
yosys=${YOSYS:-yosys}
found=0
for f in "$root"/rtl/boards/*.sv; do
  [ -f "$f" ] || continue
  found=1
  top=$(basename "$f" .sv)
  echo "lint_board: verilator --lint-only -Wall ${VL_BOARD_LINT:-} $f (stubs: sim/xilinx_stubs)"
  # shellcheck disable=SC2086 # VERILATOR and VL_BOARD_LINT are word lists on purpose
  if ! env $verilator --lint-only -Wall ${VL_BOARD_LINT:-} -I"$root/rtl" -I"$root/generated" \
      -I"$root/sim/xilinx_stubs" --top-module "$top" "$f"; then
    echo "lint_board: $f: Verilator warning or error (above)" >&2
    exit 1
  fi
  echo "lint_board: yosys -e '.*' hierarchy -check -top $top; proc"
  if ! "$yosys" -q -e '.*' -p "read_verilog -lib +/xilinx/cells_xtra.v; \
      read_verilog -lib +/xilinx/cells_sim.v; \
      read_verilog -sv -I$root/rtl -I$root/generated $root/rtl/*.sv $f; \
      hierarchy -check -top $top; proc"; then
    echo "lint_board: $f: Yosys warning or error (above; -e '.*' makes every warning fatal)" >&2
    exit 1
  fi
done
if [ "$found" = 0 ]; then
  echo "lint_board: no board tops in '$root/rtl/boards'" >&2
  exit 2
fi
echo "lint_board: every board top lint clean (Verilator -Wall, Yosys without warnings)"
