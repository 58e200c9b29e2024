#!/bin/sh
# Tests of the Vitis flow that run without Vitis (scripts/vitis/README.md), in TAP:
# the HLS test bench on the recorded stream (gcc build of mt_top against the model), the
# recorded stream current, the bench's own refusals, the kernel check on hls/ and on samples
# it must refuse, and `make xclbin` without Vitis. Needs build/vitis/ (make test builds it).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
VB=$BUILD/vitis
STREAM=$ROOT/scripts/vitis/stream_small.bin
CHECK="python3 $ROOT/scripts/vitis/check_kernel.py -I$ROOT/generated -I$ROOT/hls"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -f "$T/out" ] && sed 's/^/# /' "$T/out"; }
check() { if "$@" >"$T/out" 2>&1; then return 0; else return 1; fi; }

if check "$VB/tb_mt_top" "$STREAM" && ! grep -q '^not ok' "$T/out" &&
   [ "$(grep -c '^ok' "$T/out")" -ge 8 ]; then
  ok "tb_mt_top: mt_top matches the model on every launch of the recorded stream"
else nok "tb_mt_top on $STREAM"; fi

if check "$VB/record_stream" "$T/now.bin" && cmp -s "$T/now.bin" "$STREAM"; then
  ok "the recorded stream is what record_stream.c writes"
else echo "record_stream.c changed: make vitis-stream" >>"$T/out"; nok "recorded stream current"; fi

# The bench refuses what is not a stream of its geometry.
printf 'XXXXXXXXXXXXXXXXXXXXXXXX' >"$T/junk.bin"
if ! check "$VB/tb_mt_top" "$T/junk.bin" && grep -q 'not a recorded command stream' "$T/out"; then
  ok "tb_mt_top refuses a file that is no stream"
else nok "tb_mt_top on junk"; fi
python3 - "$STREAM" "$T/geom.bin" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", b, 8, (64 << 16) | 64)
open(sys.argv[2], "wb").write(b)
PY
if ! check "$VB/tb_mt_top" "$T/geom.bin" && grep -q 'recorded for 64x64' "$T/out"; then
  ok "tb_mt_top refuses a stream of another geometry"
else nok "tb_mt_top on another geometry"; fi

if check $CHECK "$ROOT"/hls/*.c; then ok "check_kernel: hls/ has nothing Vitis HLS refuses"
else nok "check_kernel on hls/"; fi
if check $CHECK "$ROOT/tests/vitis/good_sample.c"; then ok "check_kernel accepts the good sample"
else nok "check_kernel on good_sample.c"; fi

S=$ROOT/tests/vitis
expect_refused() { # file, expected finding count, a text every finding line has in turn
  f=$1; cnt=$2; shift 2
  if check $CHECK "$S/$f"; then nok "check_kernel refuses $f"; return; fi
  got=$(grep -c '^check_kernel: ' "$T/out")
  for w in "$@"; do
    grep -q -- "$w" "$T/out" || { echo "missing: $w" >>"$T/out"; nok "check_kernel refuses $f"; return; }
  done
  if [ "$got" -eq "$cnt" ]; then ok "check_kernel refuses $f ($cnt findings)"
  else echo "expected $cnt findings, got $got" >>"$T/out"; nok "check_kernel refuses $f"; fi
}
expect_refused bad_malloc.c 2 "call of malloc" "call of free"
expect_refused bad_recursion.c 1 "recursion: "
expect_refused bad_fnptr.c 1 "indirect call (function pointer) in k"
expect_refused bad_loops.c 4 "bad_loops.c:5: for loop without a condition" \
  "bad_loops.c:9: while loop on the constant condition '1'" \
  "bad_loops.c:13: while loop without #pragma HLS LOOP_TRIPCOUNT" \
  "bad_loops.c:14: do loop without #pragma HLS LOOP_TRIPCOUNT"
expect_refused bad_vla.c 1 "does not compile with -D__SYNTHESIS__" "-Werror=vla"
expect_refused bad_printf.c 2 "bad_printf.c:5: goto" "call of printf"

# make xclbin without Vitis: a clear message and a non-zero exit, for a known and an unknown
# platform and none.
for args in "PLATFORM=u250" "PLATFORM=u55c" "PLATFORM=" "PLATFORM=bogus"; do
  if PATH=/usr/bin:/bin check make -s -C "$ROOT" BUILD="$T/b" xclbin $args; then
    nok "make xclbin $args without Vitis exits non-zero"
  elif [ "$args" = "PLATFORM=u250" ] || [ "$args" = "PLATFORM=u55c" ]; then
    if grep -q 'v++ not found' "$T/out"; then ok "make xclbin $args without Vitis: v++ not found"
    else nok "make xclbin $args message"; fi
  elif grep -q 'PLATFORM=u250, u280 or u55c' "$T/out"; then ok "make xclbin $args: names the platforms"
  else nok "make xclbin $args message"; fi
done
echo "1..$n"
