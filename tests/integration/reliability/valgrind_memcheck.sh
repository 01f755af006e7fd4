#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind memcheck on the integration path: pkcs11-tool -L, -O, login + sign on both tokens
# through pcscd and the virtual card, with the shipped module. Any memcheck error (invalid
# read/write, uninitialised use, definite leak) fails the test (--error-exitcode).
source "$(dirname "$0")/../lib.sh"
M=${JPKI_MODULE:?}
here=$(cd "$(dirname "$0")" && pwd)
cd "$JPKI_WORK"
command -v valgrind >/dev/null || fail "valgrind not installed (apt-get install valgrind)"

vg() {
  local name=$1
  shift
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-origins=yes \
    --suppressions="$here/pkcs11-tool.supp" --num-callers=30 --log-file="vg-$name.log" \
    pkcs11-tool --module "$M" "$@" >"out-$name.txt" 2>&1
  local rc=$?
  if ((rc == 99)); then
    grep -A30 -E 'Invalid|uninitialised|definitely lost' "vg-$name.log" | head -80 >&2
    fail "memcheck errors in: pkcs11-tool $*"
  fi
  ((rc == 0)) || { cat "out-$name.txt" >&2; fail "pkcs11-tool $* failed under valgrind ($rc)"; }
  pass "memcheck clean: pkcs11-tool $* ($(grep -o 'ERROR SUMMARY: [0-9]*' "vg-$name.log"))"
}

printf 'valgrind memcheck data\n' >data.bin
set +e
vg list -L
vg objects --slot 0 -O
vg sign-objects --slot 1 --login --pin ABC123 -O
vg auth-sign --slot 0 --login --pin 1234 --sign -m SHA256-RSA-PKCS --id 01 -i data.bin -o auth.sig
vg sign-sign --slot 1 --login --pin ABC123 --sign -m SHA256-RSA-PKCS --id 02 -i data.bin -o sign.sig
set -e
verify_sig sha256 "$JPKI_PKI_DIR/auth.pem" data.bin auth.sig
verify_sig sha256 "$JPKI_PKI_DIR/sign.pem" data.bin sign.sig
pass "signatures made under valgrind verify with OpenSSL"
