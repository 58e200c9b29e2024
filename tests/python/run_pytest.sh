#!/bin/sh
# The Python binding's pytest suite (tests/python) as TAP lines for scripts/run-tests.sh:
# one "ok"/"not ok" per test, skips (torch where it is not importable) as "ok ... # SKIP".
# Uses /usr/bin/python3 (Debian's numpy and pytest, scripts/deps.sh) and the library of this
# build ($BUILD/libmemtile.so.0, `make shared`).
set -u
cd "$(dirname "$0")/../.."
export MEMTILE_LIB="${MEMTILE_LIB:-${BUILD:-$(pwd)/build}/libmemtile.so.0}"
export PYTHONDONTWRITEBYTECODE=1
out=$(/usr/bin/python3 -m pytest -v -rs -p no:cacheprovider tests/python 2>&1)
rc=$?
printf '%s\n' "$out" | sed -n \
  -e 's/^\(tests\/python\/[^ ]*\) PASSED.*/ok - \1/p' \
  -e 's/^\(tests\/python\/[^ ]*\) SKIPPED\(.*\)/ok - \1 # SKIP\2/p' \
  -e 's/^SKIPPED \[[0-9]*\] \(tests\/python\/[^:]*\):[0-9]*: \(.*\)/ok - \1 # SKIP \2/p' \
  -e 's/^\(tests\/python\/[^ ]*\) \(FAILED\|ERROR\).*/not ok - \1/p'
if [ "$rc" -ne 0 ]; then
  printf '%s\n' "$out" | sed 's/^/# /'
fi
exit "$rc"
