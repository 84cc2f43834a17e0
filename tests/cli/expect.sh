#!/bin/sh
# tests/cli/expect.sh CODE PATTERN CMD [ARGS...]
# Runs CMD, fails unless it exits with CODE and its combined output matches
# the extended regular expression PATTERN (empty: no check). Prints the
# output either way, so that a failing ctest shows what the command said.
code=$1
pattern=$2
shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$code" ]; then
  echo "expect.sh: '$*' exited with $rc, expected $code" >&2
  exit 1
fi
if [ -n "$pattern" ] && ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
  echo "expect.sh: output of '$*' does not match /$pattern/" >&2
  exit 1
fi
exit 0
