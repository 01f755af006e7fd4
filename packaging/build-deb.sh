#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package from this source tree and checks it with lintian.
#   packaging/build-deb.sh [BUILD_DIR]          (default: build/deb)
# Release build with Debian's hardening flags (dpkg-buildflags, hardening=+all), prefix /usr,
# tests off; builds what the package contains, then `cpack -G DEB`. Prints the .deb's path last.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bdir=${1:-$src/build/deb}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags() { dpkg-buildflags --get "$1"; }
# -Wno-restrict: GCC 12's libstdc++ false positive (GCC bug 105329) that -D_FORTIFY_SOURCE=2 with
# -O2/-O3 turns into an error under the project's -Werror.
cmake -S "$src" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DJPKI_BUILD_TESTS=OFF \
  -DCMAKE_C_FLAGS="$(flags CFLAGS) $(flags CPPFLAGS)" \
  -DCMAKE_CXX_FLAGS="$(flags CXXFLAGS) $(flags CPPFLAGS) -Wno-restrict" \
  -DCMAKE_SHARED_LINKER_FLAGS="$(flags LDFLAGS)" -DCMAKE_EXE_LINKER_FLAGS="$(flags LDFLAGS)" >/dev/null
targets=(jpki-pkcs11)
grep -q '^jpki-tool:' <(cmake --build "$bdir" --target help | sed 's/^\.\.\. //;s/$/:/') && targets+=(jpki-tool)
cmake --build "$bdir" -j"${JPKI_JOBS:-2}" --target "${targets[@]}"
(cd "$bdir" && cpack -G DEB >/dev/null)
deb=$(ls -t "$bdir"/jpki-pkcs11_*.deb | head -n1)
if command -v lintian >/dev/null; then
  lintian -I --pedantic --allow-root "$deb" || echo "build-deb: lintian reported errors (see packaging/LINTIAN.md)" >&2
else
  echo "build-deb: lintian not installed; skipped" >&2
fi
echo "$deb"
