#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# attempts.sh N CODE CMD...: runs CMD; when it exits with CODE (a known browser flake, see
# CMakeLists.txt) it is run again, up to N times in all. Any other failure, a pass or a skip (77)
# ends it at once with that exit code. When every attempt ends in the flake, the test is reported
# SKIPPED (exit 77, visible in CTest's summary), not passed: the browser never reached the point
# where the module is exercised.
set -u
n=$1 code=$2
shift 2
for ((i = 1; i <= n; i++)); do
  "$@"
  rc=$?
  if ((rc != code)); then
    ((i > 1 && rc == 0)) && echo "attempts.sh: passed on attempt $i of $n"
    exit "$rc"
  fi
  echo "attempts.sh: attempt $i of $n ended in the known flake (exit $code)"
done
echo "attempts.sh: SKIPPED: all $n attempts ended in the known browser flake (exit $code)"
exit 77
