#!/bin/sh
# make test's short run of every fuzz harness (MT_FUZZ_SECONDS each, MT_FUZZ_BINS set by the
# Makefile); TAP lines for scripts/run-tests.sh. A crash fails the run.
set -u
[ -n "${MT_FUZZ_BINS:-}" ] || { echo "not ok 1 - MT_FUZZ_BINS is not set (run through make test)"; exit 1; }
# shellcheck disable=SC2086
exec "$(dirname "$0")/run.sh" "${MT_FUZZ_SECONDS:-4}" $MT_FUZZ_BINS
