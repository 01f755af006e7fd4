#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the .deb, then runs deb_install_check.sh in the pcsc harness (private pcscd + virtual card).
#
# Which build: when the CTest build tree was configured with -DCMAKE_INSTALL_PREFIX=/usr, cpack
# runs on it directly (everything is already built: a few seconds). Otherwise (the default
# /usr/local prefix would give /usr/local paths and a wrong .pc) packaging/build-deb.sh builds a
# Release tree with prefix /usr in $JPKI_DEB_BUILD_DIR, kept between runs so that later runs are
# incremental (the first one compiles the module and jpki-tool: about 2 minutes on 2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${JPKI_SOURCE_DIR:?} bin=${JPKI_BINARY_DIR:?}
[[ $(id -u) == 0 ]] || { echo "package_deb: needs root (dpkg in a private namespace)"; exit 1; }
for c in cpack dpkg dpkg-deb p11-kit pkcs11-tool openssl modutil; do
  command -v "$c" >/dev/null || { echo "FAIL: $c not installed"; exit 1; }
done
out=$(mktemp -d /tmp/jpki-deb.XXXXXX)
trap 'rm -rf "$out"' EXIT

start=$(date +%s)
if grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$bin/CMakeCache.txt"; then
  echo "package_deb: cpack on the CTest build tree $bin (prefix /usr)"
  cpack -G DEB --config "$bin/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
    { cat "$out/cpack.log"; echo "FAIL: cpack"; exit 1; }
  deb=$(find "$out" -maxdepth 1 -name 'jpki-pkcs11_*.deb' | head -n1)
else
  echo "package_deb: CTest tree has another prefix; building ${JPKI_DEB_BUILD_DIR:?} (Release, prefix /usr)"
  "$src/packaging/build-deb.sh" "$JPKI_DEB_BUILD_DIR" >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log"; echo "FAIL: packaging/build-deb.sh"; exit 1; }
  deb=$(tail -n1 "$out/build.log")
  grep -E '^[EWI]: ' "$out/build.log" || true      # lintian tags, if any
fi
[[ -f $deb ]] || { echo "FAIL: no .deb produced"; exit 1; }
echo "ok: built $(basename "$deb") in $(($(date +%s) - start)) s"
dpkg-deb -f "$deb" Package Version Depends

JPKI_HARNESS_TIMEOUT=180 "${JPKI_HARNESS:?}" -- "$here/deb_install_check.sh" "$deb"
