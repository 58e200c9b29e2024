#!/bin/sh
# scripts/sta_paths.py on one small unit synthesized for the AC701 (mt_gauss_icdf, about
# 30 s): N paths, each a different endpoint, in order of arrival, each naming its endpoint and
# startpoint; bad arguments are refused by name. TAP output.
set -u
cd "$(dirname "$0")/../.."
out="${BUILD:-build}/synth/test-sta-paths"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
echo "1..3"
if python3 scripts/synth_board.py ac701 --top mt_gauss_icdf --out "$out" >"$out.txt" 2>&1 \
    && python3 scripts/sta_paths.py "$out" -n 5 >>"$out.txt" 2>&1 \
    && python3 - "$out/paths.txt" "$out/sta.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^(\d+)\. (\d+\.\d+) ns .*\n   end:    (.*)\n   start:  (.*)\n", text, re.M)
assert [int(b[0]) for b in blocks] == [1, 2, 3, 4, 5], blocks
arr = [float(b[1]) for b in blocks]
assert arr == sorted(arr, reverse=True), arr
# The first path is sta's own worst path.
worst = int(re.search(r"^Latest arrival time in '.*' is (\d+)", open(sys.argv[2]).read(), re.M)[1])
assert abs(arr[0] - worst / 1000) < 0.0005, (arr[0], worst)
ends = [b[2] for b in blocks]
assert len(set(ends)) == len(ends), ends
assert all(b[3] for b in blocks), blocks
PY
then
  echo "ok 1 - sta_paths: five different endpoints in order of arrival, the first sta's own"
else
  echo "not ok 1 - sta_paths on mt_gauss_icdf"
  sed 's/^/# /' "$out.txt" | grep -v '^# Warning' | tail -40
fi
if python3 scripts/sta_paths.py "$out-none" >"$out.err" 2>&1; then
  echo "not ok 2 - a directory without a netlist is refused"
elif grep -q "$out-none/netlist.il: missing" "$out.err"; then
  echo "ok 2 - a directory without a netlist is refused with its path"
else
  echo "not ok 2 - no netlist: message"; sed 's/^/# /' "$out.err"
fi
if python3 scripts/sta_paths.py "$out" -n 0 >"$out.err" 2>&1; then
  echo "not ok 3 - -n 0 is refused"
elif grep -q -- "-n 0" "$out.err"; then
  echo "ok 3 - -n 0 is refused with its value"
else
  echo "not ok 3 - -n 0: message"; sed 's/^/# /' "$out.err"
fi
