#!/bin/sh
# Installs the Debian packages memtile needs (idempotent).
#   scripts/deps.sh          install whatever is missing
#   scripts/deps.sh --check  exit 1 (and name them) if any are missing
set -eu
PKGS="gcc g++ make python3 pkg-config libcjson-dev libcmocka-dev zlib1g-dev libusb-1.0-0-dev
uuid-dev libxrt-dev verilator yosys gnuplot-nox dataset-fashion-mnist cppcheck clang-14
libclang-rt-14-dev parallel python3-pytest slurmctld slurmd slurm-client munge"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ "${1:-}" = "--check" ]; then
  [ -z "$missing" ] && exit 0
  echo "missing Debian packages:$missing" >&2
  exit 1
fi
[ -z "$missing" ] && { echo "deps: all packages present"; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
