#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The formatting and static checks of the C and C++ sources (part of the test command):
#   1. every source and build file names its licence (SPDX-License-Identifier: MIT, see LICENSE);
#   2. clang-format (.clang-format) would change no C or C++ file;
#   3. clang-tidy (.clang-tidy) finds nothing in the project's own code, compiled as the build in
#      BUILD_DIR compiles it (its compile_commands.json).
#   tools/lint.sh [BUILD_DIR]                                   (default build/default)
# Both tools come from the distribution (clang-format/clang-tidy 14 on Debian 12, 19 on Debian 13);
# the sources are kept so that both versions agree.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/default}
[[ -f $build/compile_commands.json ]] || { echo "lint: no $build/compile_commands.json (build first)" >&2; exit 2; }

# (find, not git ls-files: the Debian 13 run works on a copy without .git)
unlicensed=$(find apdu module config include tools vcard bench tests packaging .ci -type f \
  \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.sh' -o -name '*.py' -o -name '*.cmake' \
  -o -name CMakeLists.txt -o -name run \) -print0 | xargs -0 -r grep -L 'SPDX-License-Identifier: MIT' |
  sort) || true
if [[ -n $unlicensed ]] || ! grep -q 'SPDX-License-Identifier: MIT' CMakeLists.txt; then
  echo "lint: FAILED: no 'SPDX-License-Identifier: MIT' line in:" ${unlicensed:-CMakeLists.txt} >&2
  exit 1
fi

mapfile -t sources < <(find apdu module config include tools vcard bench tests -type f \
  \( -name '*.c' -o -name '*.cpp' -o -name '*.h' \) | sort)
echo "lint: clang-format $(clang-format --version | grep -oE '[0-9]+\.[0-9.]+' | head -n1) on ${#sources[@]} files"
if ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "lint: FAILED: formatting differs from .clang-format (clang-format -i FILE… to apply)" >&2
  exit 1
fi

# Every translation unit of the project the build compiles (generated and third-party code is not
# in compile_commands.json). GCC-only warning options are unknown to clang: not a finding.
run_tidy=$(command -v run-clang-tidy || true)
[[ -n $run_tidy ]] || { echo "lint: run-clang-tidy not found (package clang-tidy)" >&2; exit 2; }
echo "lint: $(clang-tidy --version | grep -oE 'version [0-9.]+' | head -n1 | sed 's/^/clang-tidy /')"
log=$build/clang-tidy.log
if ! "$run_tidy" -p "$build" -j "$(nproc)" -quiet -extra-arg=-Wno-unknown-warning-option \
  "$PWD/(apdu|module|config|tools|vcard|bench|tests)/" >"$log" 2>&1 ||
  grep -qE '(warning|error): ' "$log"; then
  grep -E '(warning|error): ' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sort -u >&2 || true
  echo "lint: FAILED: clang-tidy findings above (whole log: $log)" >&2
  exit 1
fi
echo "lint: clang-format and clang-tidy found nothing"
