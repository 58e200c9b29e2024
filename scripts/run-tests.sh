#!/bin/sh
# Runs test binaries, prints each failure and one summary line "N passed, N failed".
# cmocka binaries report per test in TAP; a binary that crashes or exits non-zero
# without a TAP failure (e.g. a sanitizer abort) counts as one failed test.
set -u
passed=0
failed=0
for bin in "$@"; do
  out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$bin" 2>&1)
  rc=$?
  p=$(printf '%s\n' "$out" | grep -c '^ok ')
  f=$(printf '%s\n' "$out" | grep -c '^not ok ')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -ne 0 ] || [ "${VERBOSE:-0}" = 1 ]; then
    printf '%s\n' "--- $bin (exit $rc)" "$out"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
