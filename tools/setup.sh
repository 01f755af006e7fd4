#!/usr/bin/env bash
# Installs the Debian packages jpki-pkcs11 needs (only those missing), then configures and builds.
#   tools/setup.sh [BUILD_DIR] [extra cmake -D options…]      (default build dir: build/default)
set -euo pipefail
cd "$(dirname "$0")/.."

# To build, and to run the module and the main job against the virtual card.
PACKAGES=(
  cmake g++ make pkg-config openssl libssl-dev libpcsclite-dev pcscd vsmartcard-vpcd
  libp11-kit-dev p11-kit libgtest-dev libcmocka-dev opensc gnutls-bin libnss3-tools
  libengine-pkcs11-openssl xmlsec1 iproute2 util-linux procps python3 dpkg-dev
)
# Only for the test command (JPKI_SETUP_TESTS=1): the clients the integration tests drive.
if [[ ${JPKI_SETUP_TESTS:-0} == 1 ]]; then
  PACKAGES+=(tmux libxmlsec1-nss libxmlsec1-dev firefox-esr chromium xvfb xdotool imagemagick
    tesseract-ocr clang libclang-rt-14-dev valgrind gdb)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing missing packages: ${missing[*]}"
  if [[ $(id -u) == 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    echo "setup: not root, using sudo for apt-get"
    SUDO=(sudo)
  else
    echo "setup: not root and no sudo: run as root, or install these first:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  echo "setup: packages installed"
else
  echo "setup: all ${#PACKAGES[@]} required packages are installed"
fi

build_dir=${1:-build/default}
shift || true
# Prefix /usr: the Debian layout, so the packaging test can run cpack on this same tree.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
echo "setup: built in $build_dir"
