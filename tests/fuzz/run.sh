#!/bin/sh
# Runs libFuzzer harnesses for a bounded time each (tests/fuzz/README.md).
#   tests/fuzz/run.sh SECONDS BIN...
# Each BIN (build/fuzz/fuzz_NAME) starts from its seed corpus tests/fuzz/corpus/NAME, copied
# to build/fuzz/corpus/NAME so that what it learns stays out of the tree. A crash, a leak, a
# sanitizer report or a timeout (10 s on one input) fails it; the input is left in
# build/fuzz/artifacts/NAME-*. Prints a TAP line per harness and "N passed, N failed".
set -u
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
k=0
for bin in "$@"; do
  k=$((k + 1))
  name=$(basename "$bin" | sed 's/^fuzz_//')
  out=$(dirname "$bin")
  corpus="$out/corpus/$name"
  mkdir -p "$corpus" "$out/artifacts"
  [ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
  log="$out/$name.log"
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$name-" "$corpus" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "ok $k - fuzz_$name: ${execs:-?} inputs in ${secs} s, no crash"
    passed=$((passed + 1))
  else
    echo "not ok $k - fuzz_$name: see $log and $out/artifacts/$name-*"
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
