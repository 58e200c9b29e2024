#!/bin/sh
# The ECP5 flow of `make synth BOARD=ecp5` (scripts/synth_board.py) on one small unit
# (mt_gauss_icdf, about a minute): a real place-and-route with nextpnr gives a report.json with
# the part, utilization and Fmax, and a bitstream; bad arguments are refused by name. TAP output.
set -u
cd "$(dirname "$0")/../.."
out="${BUILD:-build}/synth/test-ecp5"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
echo "1..5"
if python3 scripts/synth_board.py ecp5 --top mt_gauss_icdf --out "$out" >"$out.txt" 2>&1 \
    && python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["board"] == "ecp5" and r["part"] == "lfe5u-85f" and r["top"] == "mt_gauss_icdf", r
# The unit: one multiplier, one block RAM (its table), a few hundred LUTs and flip-flops.
assert 50 < r["lut"] < 5000 and 50 < r["ff"] < 5000 and r["dsp"] >= 1 and r["bram18"] >= 1, r
assert abs(r["lut_pct"] - 100.0 * r["lut"] / 83640) < 0.01, r
assert abs(r["bram_pct"] - 100.0 * r["bram18"] / 208) < 0.01, r
assert 10 < r["fmax_mhz"] < 1000 and "nextpnr" in r["fmax_method"], r
assert r["fits"] is True
PY
then
  if [ -s "$out/top.bit" ]; then
    echo "ok 1 - ecp5 flow on mt_gauss_icdf: report.json with utilization, Fmax and a bitstream"
  else
    echo "not ok 1 - ecp5 flow: no bitstream"
  fi
else
  echo "not ok 1 - ecp5 flow on mt_gauss_icdf"
  sed 's/^/# /' "$out.txt"
fi
if python3 scripts/synth_board.py nosuchboard >"$out.err" 2>&1; then
  echo "not ok 2 - an unknown board is refused"
elif grep -q "nosuchboard" "$out.err"; then
  echo "ok 2 - an unknown board is refused with its name"
else
  echo "not ok 2 - an unknown board: message"; sed 's/^/# /' "$out.err"
fi
if python3 scripts/synth_board.py ecp5 --set TILES=x >"$out.err" 2>&1; then
  echo "not ok 3 - a malformed --set is refused"
elif grep -q "TILES=x" "$out.err"; then
  echo "ok 3 - a malformed --set is refused with its value"
else
  echo "not ok 3 - a malformed --set: message"; sed 's/^/# /' "$out.err"
fi
rm -rf "$out-bad"
if python3 scripts/synth_board.py ecp5 --top mt_gauss_icdf --out "$out-bad" "--pnr-opt=--seed 2" \
    >"$out.err" 2>&1; then
  echo "not ok 4 - a malformed --pnr-opt is refused"
elif grep -q -- "--seed 2" "$out.err" && [ ! -e "$out-bad" ]; then
  echo "ok 4 - a malformed --pnr-opt is refused with its value, before any tool runs"
else
  echo "not ok 4 - a malformed --pnr-opt: message"; sed 's/^/# /' "$out.err"
fi
rm -rf "$out-bad"
if python3 scripts/synth_board.py ecp5 --top mt_gauss_icdf --out "$out-bad" \
    "--pnr-opt=--router2-heatmap=../heat" >"$out.err" 2>&1; then
  echo "not ok 5 - a --pnr-opt path outside the repository is refused"
elif grep -q -- "../heat" "$out.err" && [ ! -e "$out-bad" ]; then
  echo "ok 5 - a --pnr-opt path outside the repository is refused, before any tool runs"
else
  echo "not ok 5 - a --pnr-opt path outside the repository: message"; sed 's/^/# /' "$out.err"
fi
