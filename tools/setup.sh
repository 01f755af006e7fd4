#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages jpki-pkcs11 needs (only those missing), then configures and builds.
#   tools/setup.sh [BUILD_DIR] [extra cmake -D options…]      (default build dir: build/default)
# Tested on Debian 12 (bookworm) and Debian 13 (trixie). Where a package's name differs between
# releases, the name is picked from what the archive offers (never from the release's number).
set -euo pipefail
cd "$(dirname "$0")/.."

# To build, and to run the module and the main job against the virtual card.
PACKAGES=(
  cmake g++ make pkg-config openssl libssl-dev libpcsclite-dev pcscd vsmartcard-vpcd
  libp11-kit-dev p11-kit libgtest-dev libcmocka-dev opensc gnutls-bin libnss3-tools
  libengine-pkcs11-openssl xmlsec1 iproute2 util-linux procps python3 dpkg-dev file
  nlohmann-json3-dev
)
# Only for the test command (JPKI_SETUP_TESTS=1): the clients the integration tests drive. An
# entry 'a|b' names alternatives: the first installed one, else the first the archive has (trixie's
# clang 19 runtime is libclang-rt-dev, bookworm's clang 14 has libclang-rt-14-dev).
if [[ ${JPKI_SETUP_TESTS:-0} == 1 ]]; then
  PACKAGES+=(tmux libxmlsec1-nss libxmlsec1-dev firefox-esr chromium xvfb xdotool imagemagick
    tesseract-ocr clang clang-format clang-tidy 'libclang-rt-dev|libclang-rt-14-dev' valgrind gdb bc pkcs11-provider poppler-utils openssh-client openssh-server p11-kit-modules git)
fi

if [[ $(id -u) == 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  SUDO=(false)
fi

# (Output captured first: with pipefail, grep -q ending early would make the writer's SIGPIPE the
# pipeline's status.)
installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $status == *'install ok installed'* ]]
}
has_candidate() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  grep -q 'Candidate: [^(]' <<<"$policy"
}

# Debian 12 has pkcs11-provider only in bookworm-backports (part of the Debian archive). Its list
# is added with the archive's default low priority, so nothing else is taken from it.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
backports=()
if [[ $codename == bookworm && ${JPKI_SETUP_TESTS:-0} == 1 ]] && ! installed pkcs11-provider; then
  list=/etc/apt/sources.list.d/jpki-bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: adding bookworm-backports (for pkcs11-provider) as $list"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | "${SUDO[@]}" tee "$list" >/dev/null
  fi
  backports=(-t bookworm-backports)
fi

updated=0
apt_update() {
  ((updated)) && return 0
  "${SUDO[@]}" apt-get update -qq
  updated=1
}

missing=()
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r -a alts <<<"$entry"
  found=""
  for p in "${alts[@]}"; do installed "$p" && found=$p && break; done
  [[ -n $found ]] && continue
  if ((${#alts[@]} > 1)); then
    apt_update
    for p in "${alts[@]}"; do has_candidate "$p" && found=$p && break; done
    [[ -n $found ]] || { echo "setup: none of ${alts[*]} is in the archive" >&2; exit 1; }
    missing+=("$found")
  else
    missing+=("${alts[0]}")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing missing packages: ${missing[*]}"
  if [[ ${SUDO[0]:-} == false ]]; then
    echo "setup: not root and no sudo: run as root, or install these first:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt_update
  # pkcs11-provider on bookworm comes from backports; everything else from the release.
  plain=() bp=()
  for p in "${missing[@]}"; do
    if [[ $p == pkcs11-provider && ${#backports[@]} -gt 0 ]]; then bp+=("$p"); else plain+=("$p"); fi
  done
  export DEBIAN_FRONTEND=noninteractive
  ((${#plain[@]})) && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${plain[@]}" >/dev/null
  ((${#bp[@]})) && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${backports[@]}" "${bp[@]}" >/dev/null
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
