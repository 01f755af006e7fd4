#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (ASan+UBSan, coverage on the whole stack) and runs each
# for a bounded time, printing its execution count. Fails on a crash, leak, timeout or OOM.
#
#   tests/fuzz/run.sh                    # every target, 20 s each (the test command)
#   FUZZ_TIME=600 tests/fuzz/run.sh      # the longer run: 10 min each
#   tests/fuzz/run.sh fuzz_stack         # one target
#   tests/fuzz/run.sh --seed             # regenerate the committed seed corpora (corpus/)
#
# Environment: FUZZ_BUILD (default build/fuzz), FUZZ_TIME (seconds per target, default 20),
# FUZZ_JOBS (build parallelism, default nproc). New inputs found go to $FUZZ_BUILD/corpus/<target>
# (the committed seeds are never modified); crash reproducers to $FUZZ_BUILD/artifacts/.
# Reproduce one: $FUZZ_BUILD/tests/fuzz/<target> <file>
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${FUZZ_BUILD:-$root/build/fuzz}"
time_per="${FUZZ_TIME:-20}"
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(fuzz_card fuzz_cert fuzz_attrs fuzz_stack)
seed=0
if [[ ${1:-} == --seed ]]; then
  seed=1
  shift
fi
if [[ $# -gt 0 ]]; then
  targets=("$@")
fi

command -v clang++ >/dev/null ||
  { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-dev, or libclang-rt-14-dev on Debian 12)" >&2; exit 1; }

# Until tests/CMakeLists.txt lists `fuzz`, add the folder at the end of the top level.
extra=()
if ! grep -qw fuzz "$root/tests/CMakeLists.txt"; then
  extra=(-DCMAKE_PROJECT_INCLUDE="$root/tests/fuzz/late_add.cmake")
fi
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DJPKI_FUZZ=ON -DJPKI_SANITIZE=address,undefined \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  "${extra[@]}" >/dev/null
if [[ $seed == 1 ]]; then
  cmake --build "$build" -j"$jobs" --target fuzz_seedgen
  rm -rf "$root/tests/fuzz/corpus/fuzz_card" "$root/tests/fuzz/corpus/fuzz_stack" \
    "$root/tests/fuzz/corpus/fuzz_cert" "$root/tests/fuzz/corpus/fuzz_attrs"
  ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_seedgen" "$root/tests/fuzz/corpus"
  du -sh "$root/tests/fuzz/corpus"/*
  exit 0
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$build/artifacts"
status=0
summary=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  log="$build/$t.log"
  echo "fuzz: $t for ${time_per} s"
  rc=0
  "$build/tests/fuzz/$t" -max_total_time="$time_per" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [[ $rc != 0 ]]; then
    status=1
    echo "fuzz: $t FAILED (exit $rc); log $log" >&2
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20 >&2 || true
  fi
  summary+=("$(printf '%-11s %10s executions  %-10s %s' "$t" "${execs:-?}" "${cov:-}" \
    "$([[ $rc == 0 ]] && echo ok || echo FAILED)")")
done
echo "fuzz: summary (${time_per} s per target)"
printf '  %s\n' "${summary[@]}"
exit $status
