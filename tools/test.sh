#!/usr/bin/env bash
# Command 2 of the README (and all that .ci/run does): install what is missing, build, and run
# every test: GoogleTest units, the CMocka suite against the built module, and the integration
# tests through a private pcscd with the virtual card; then the unit and CMocka suites again
# under AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer; then every
# libFuzzer target for a short bounded time (tests/fuzz/run.sh; FUZZ_TIME seconds each, default 20).
# JPKI_SKIP_SANITIZERS=1 skips the sanitizer runs, JPKI_SKIP_FUZZ=1 the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
JPKI_SETUP_TESTS=1 tools/setup.sh build/default
ctest --test-dir build/default --output-on-failure -j"$(nproc)" --timeout 300

if [[ ${JPKI_SKIP_SANITIZERS:-0} != 1 ]]; then
  echo "test: unit and CMocka suites under ASan+UBSan"
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=address,undefined >/dev/null
  cmake --build build/asan -j"$(nproc)" --target jpki_check_deps
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/asan --output-on-failure -j"$(nproc)" \
    --timeout 300 -L 'unit|cmocka'

  echo "test: unit and CMocka suites under TSan"
  cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=thread >/dev/null
  cmake --build build/tsan -j"$(nproc)" --target jpki_check_deps
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir build/tsan \
    --output-on-failure -j"$(nproc)" --timeout 300 -L 'unit|cmocka'
fi

if [[ ${JPKI_SKIP_FUZZ:-0} != 1 ]]; then
  echo "test: fuzzing, ${FUZZ_TIME:-20} s per target"
  tests/fuzz/run.sh
fi
echo "test: all suites passed in $(($(date +%s) - start)) s"
