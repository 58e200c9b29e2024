#!/bin/sh
# scripts/lint_board.sh (make lint-board, part of make lint) passes on the tree and fails on a
# real warning: a copy of rtl/, generated/ and sim/xilinx_stubs/ with one fault injected into
# the board top, once for each tool's half of the lint. Runs the lint the way make lint does
# (same Verilator, same flags). About two minutes (three Yosys elaborations). TAP output.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"

lint() {  # lint ROOT OUT: the board lint on the tree at ROOT, output in OUT
  make --no-print-directory lint-board LINT_BOARD_ROOT="$1" >"$2" 2>&1
}
copy() {  # copy DIR: a fresh copy of what the board lint reads
  rm -rf "$1"
  mkdir -p "$1/sim"
  cp -R rtl generated "$1/"
  cp -R sim/xilinx_stubs "$1/sim/"
}

if lint "$PWD" "$tmp/tree.txt" && grep -q "every board top lint clean" "$tmp/tree.txt"; then
  echo "ok 1 - the board lint passes on the tree"
else
  echo "not ok 1 - the board lint fails on the tree"
  sed 's/^/# /' "$tmp/tree.txt"
fi

# Verilator's half: a wire that is read but never driven.
copy "$tmp/a"
top="$tmp/a/rtl/boards/ac701_top.sv"
sed 's/^endmodule/  wire probe_undriven;\n  wire probe_use = probe_undriven;\nendmodule/' "$top" \
  >"$top.new" && mv "$top.new" "$top"
if ! grep -q probe_undriven "$top"; then
  echo "not ok 2 - could not inject the undriven wire"
elif lint "$tmp/a" "$tmp/a.txt"; then
  echo "not ok 2 - an undriven wire in the board top passes the lint"
  sed 's/^/# /' "$tmp/a.txt"
elif grep -q "UNDRIVEN" "$tmp/a.txt" && grep -q "ac701_top.sv: Verilator" "$tmp/a.txt"; then
  echo "ok 2 - an undriven wire in the board top fails the lint (Verilator UNDRIVEN, file named)"
else
  echo "not ok 2 - an undriven wire: message"
  sed 's/^/# /' "$tmp/a.txt"
fi

# Yosys' half: a real literal for an MMCM parameter, which Verilator accepts and Yosys warns
# about ("Replacing floating point parameter ... with string").
copy "$tmp/b"
top="$tmp/b/rtl/boards/ac701_top.sv"
sed 's/\.CLKFBOUT_MULT_F(6)/.CLKFBOUT_MULT_F(6.0)/' "$top" >"$top.new" && mv "$top.new" "$top"
if ! grep -q 'CLKFBOUT_MULT_F(6\.0)' "$top"; then
  echo "not ok 3 - could not inject the real-valued MMCM parameter"
elif lint "$tmp/b" "$tmp/b.txt"; then
  echo "not ok 3 - a Yosys warning in the board top passes the lint"
  sed 's/^/# /' "$tmp/b.txt"
elif grep -q "floating point parameter" "$tmp/b.txt" && grep -q "ac701_top.sv: Yosys" "$tmp/b.txt"
then
  echo "ok 3 - a Yosys warning (real-valued MMCM parameter) fails the lint, file named"
else
  echo "not ok 3 - a Yosys warning: message"
  sed 's/^/# /' "$tmp/b.txt"
fi
