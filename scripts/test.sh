#!/usr/bin/env bash
# Command 2 of the README (and all that .ci/run does): install what is missing, build, and run
# every test: GoogleTest units, the CMocka suite against the built module, and the integration
# tests through a private pcscd with the virtual card; then the unit and CMocka suites again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
JPKI_SETUP_TESTS=1 scripts/setup.sh build/default
ctest --test-dir build/default --output-on-failure -j"$(nproc)" --timeout 300

if [[ ${JPKI_SKIP_SANITIZERS:-0} != 1 ]]; then
  echo "test: unit and CMocka suites under ASan+UBSan"
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=address,undefined >/dev/null
  cmake --build build/asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/asan --output-on-failure -j"$(nproc)" \
    --timeout 300 -L 'unit|cmocka'
fi
echo "test: all suites passed in $(($(date +%s) - start)) s"
