#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Command 1 of the README: install what is missing, build, and run the main job — the module
# signing through pkcs11-tool. With a real card in a reader of the machine's pcscd it uses that
# card (PINs prompted by pkcs11-tool); otherwise the virtual card behind a private pcscd.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build/default
B=$PWD/build/default
export JPKI_MODULE=$B/module/libjpki-pkcs11.so JPKI_VCARD=$B/vcard/jpki-vcard

if [[ ${JPKI_USE_VIRTUAL:-0} != 1 ]] && [[ -S /run/pcscd/pcscd.comm ]] &&
  opensc-tool -l 2>/dev/null | awk '$2 == "Yes"' | grep -vq 'Virtual PCD'; then
  echo "run: a real card is present; using the machine's pcscd (set JPKI_USE_VIRTUAL=1 to avoid)"
  JPKI_REAL_CARD=1 exec tests/integration/demo_sign.sh
fi
echo "run: no real card present; using the virtual JPKI card behind a private pcscd"
exec tests/harness/pcsc-harness.sh -- tests/integration/demo_sign.sh
