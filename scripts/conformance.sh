#!/usr/bin/env bash
# The WebAssembly spec test suite (../shared/testdata/wasm-spec) against both tiers, with the
# limits pass on. The AOT tier compiles every module (about 1,400; a few minutes the first
# time, then served from the build tree's cache). Prints per-script lines and the totals that
# docs/CONFORMANCE.md records; fails on any failure not listed in
# tests/wasm/spec_known_failures.txt, and on a listed one that no longer fails.
#   scripts/conformance.sh [--tier interp|aot|both]
set -euo pipefail
cd "$(dirname "$0")/.."
TIER=both
while [ $# -gt 0 ]; do
  case "$1" in
    --tier)
      [ $# -ge 2 ] || { echo "conformance.sh: --tier needs interp, aot or both" >&2; exit 1; }
      TIER="$2"; shift 2 ;;
    *) echo "conformance.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
scripts/setup.sh >&2
# The runner is given the directory: it fails (status 2) when the suite is missing or empty,
# rather than checking nothing.
build/tests/spec_runner --tier "$TIER" --cache build/test-aot-cache \
  --known tests/wasm/spec_known_failures.txt ../shared/testdata/wasm-spec
