#!/bin/sh
# expect_exit.sh STATUS PATTERN COMMAND...: runs COMMAND and passes when it exits with STATUS
# and its output (stdout and stderr) matches the extended regular expression PATTERN. For
# tools whose refusals are part of their contract (spec_runner's usage errors and failures):
# CTest's WILL_FAIL would also pass a crash, and its regular expressions ignore the status.
set -u
want="$1"
pattern="$2"
shift 2
out=$("$@" 2>&1)
got=$?
if [ "$got" -ne "$want" ]; then
  printf '%s\n' "$out" | tail -n 20
  echo "expect_exit: exit status $got, expected $want" >&2
  exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
  printf '%s\n' "$out" | tail -n 20
  echo "expect_exit: output does not match '$pattern'" >&2
  exit 1
fi
exit 0
