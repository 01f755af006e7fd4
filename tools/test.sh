#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Command 2 of the README (and all that .ci/run does): install what is missing, build, check the
# licence lines, the formatting and clang-tidy's findings (tools/lint.sh), and run every test:
# GoogleTest units, the CMocka suite against the built module, and the integration tests through
# a private pcscd with the virtual card; then the unit and CMocka suites again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer; then every
# libFuzzer target for a short bounded time (tests/fuzz/run.sh; FUZZ_TIME seconds each, default 20).
# JPKI_SKIP_SANITIZERS=1 skips the sanitizer runs, JPKI_SKIP_FUZZ=1 the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# checked_ctest BUILD_DIR CTEST_ARGS…: ctest, then a skipped test counts as a failed one: a test
# CTest reports skipped, and a GoogleTest or CMocka case that printed [  SKIPPED ] inside a test
# CTest counted as passed.
checked_ctest() {
  local dir=$1 out bad=() name
  shift
  out=$dir/ctest-output.txt
  ctest --test-dir "$dir" "$@" 2>&1 | tee "$out"
  while read -r name; do
    bad+=("$name")
  done < <(sed -nE 's/.*Test +#[0-9]+: ([A-Za-z0-9_]+) .*\*+Skipped.*/\1/p' "$out")
  while read -r name; do
    bad+=("$name")
  done < <(sed -nE 's/^\[  SKIPPED \] ([A-Za-z_][A-Za-z0-9_./]*).*/\1/p' "$dir/Testing/Temporary/LastTest.log" | sort -u)
  if ((${#bad[@]})); then
    printf 'test: SKIPPED, which counts as failed: %s\n' "${bad[@]}" >&2
    return 1
  fi
}

JPKI_SETUP_TESTS=1 tools/setup.sh build/default
tools/lint.sh build/default
checked_ctest build/default --output-on-failure -j"$(nproc)" --timeout 300

if [[ ${JPKI_SKIP_SANITIZERS:-0} != 1 ]]; then
  echo "test: unit and CMocka suites under ASan+UBSan"
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=address,undefined >/dev/null
  cmake --build build/asan -j"$(nproc)" --target jpki_check_deps
  ASAN_OPTIONS=detect_leaks=1 checked_ctest build/asan --output-on-failure -j"$(nproc)" \
    --timeout 300 -L 'unit|cmocka'

  echo "test: unit and CMocka suites under TSan"
  cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=thread >/dev/null
  cmake --build build/tsan -j"$(nproc)" --target jpki_check_deps
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 checked_ctest build/tsan \
    --output-on-failure -j"$(nproc)" --timeout 300 -L 'unit|cmocka'
else
  echo "test: SKIPPED the ASan+UBSan and TSan runs (JPKI_SKIP_SANITIZERS=1)"
fi

if [[ ${JPKI_SKIP_FUZZ:-0} != 1 ]]; then
  echo "test: fuzzing, ${FUZZ_TIME:-20} s per target"
  tests/fuzz/run.sh
else
  echo "test: SKIPPED fuzzing (JPKI_SKIP_FUZZ=1)"
fi
echo "test: all suites passed in $(($(date +%s) - start)) s"
