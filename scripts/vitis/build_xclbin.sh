#!/bin/sh
# Builds the memtile xclbin for an Alveo card (make xclbin PLATFORM=...; scripts/vitis/README.md).
#   build_xclbin.sh PLATFORM OUTDIR
# PLATFORM: u250, u280, u55c (the platform names below) or a full platform name or .xpfm path.
# Environment: VITIS_STEPS (default csim,csynth,export; add cosim for RTL co-simulation),
# MT_XRT_TILES (tiles on chip, default 16), KERNEL_FREQ (MHz, default 300), TARGET (hw, hw_emu).
# Needs AMD Vitis (v++ and vitis_hls on PATH: source <Vitis>/settings64.sh) and the platform.
set -eu
PLATFORM=${1:-}
OUT=${2:-build/xclbin}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

case "$PLATFORM" in
  u250) XPFM=xilinx_u250_gen3x16_xdma_4_1_202210_1 PART=xcu250-figd2104-2L-e BOARD=u250 ;;
  u280) XPFM=xilinx_u280_gen3x16_xdma_1_202211_1 PART=xcu280-fsvh2892-2L-e BOARD=u280 ;;
  u55c) XPFM=xilinx_u55c_gen3x16_xdma_3_202210_1 PART=xcu55c-fsvh2892-2L-e BOARD=u55c ;;
  *u250*) XPFM=$PLATFORM PART=xcu250-figd2104-2L-e BOARD=u250 ;;
  *u280*) XPFM=$PLATFORM PART=xcu280-fsvh2892-2L-e BOARD=u280 ;;
  *u55c*) XPFM=$PLATFORM PART=xcu55c-fsvh2892-2L-e BOARD=u55c ;;
  *)
    echo "make xclbin: PLATFORM='$PLATFORM': give PLATFORM=u250, u280 or u55c (or a full" \
         "platform name of one of them, e.g. xilinx_u250_gen3x16_xdma_4_1_202210_1)" >&2
    exit 2 ;;
esac
for tool in v++ vitis_hls; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make xclbin: $tool not found: install AMD Vitis (2022.1 or later) and the $BOARD" \
         "platform $XPFM, then 'source <Vitis>/settings64.sh' (docs/boards.md," \
         "\"Alveo cards (xrt://)\")" >&2
    exit 1
  fi
done

STEPS=${VITIS_STEPS:-csim,csynth,export}
FREQ=${KERNEL_FREQ:-300}
TARGET=${TARGET:-hw}
PERIOD=$(awk "BEGIN { printf \"%.3f\", 1000 / $FREQ }")
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
echo "memtile xclbin: $XPFM ($PART), $FREQ MHz, steps $STEPS, into $OUT"
(cd "$OUT" && vitis_hls -f "$ROOT/scripts/vitis/run_hls.tcl" -tclargs "$STEPS" "$PART" "$PERIOD" "$OUT")
case ",$STEPS," in *,export,*) ;; *) exit 0 ;; esac
(cd "$OUT" && v++ -l -t "$TARGET" --platform "$XPFM" --kernel_frequency "$FREQ" \
  --config "$ROOT/scripts/vitis/connectivity_$BOARD.cfg" -o "memtile_$BOARD.xclbin" mt_top.xo)
echo "memtile xclbin: $OUT/memtile_$BOARD.xclbin (memtile train --device xrt://0?xclbin=$OUT/memtile_$BOARD.xclbin)"
