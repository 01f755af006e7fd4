#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The virtual card as seen by an independent client: OpenSC's opensc-pkcs11.so through pcscd.
# Shows that the card is faithful enough for a driver tested by others against real cards.
source "$(dirname "$0")/lib.sh"
M=${OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so}
[[ -f $M ]] || fail "OpenSC module not found at $M"
cd "$JPKI_WORK"

opensc-tool -n >driver.txt 2>&1 || true
expect_grep '^jpki' driver.txt "OpenSC does not detect the card as jpki"

pkcs11-tool --module "$M" -L >slots.txt 2>&1
cat slots.txt
expect_grep 'User Authentication PIN' slots.txt "auth token missing"
expect_grep 'Digital Signature PIN' slots.txt "sign token missing"
expect_grep 'pin min/max *: 4/4' slots.txt "auth PIN range not 4/4"
expect_grep 'pin min/max *: 6/16' slots.txt "sign PIN range not 6/16"
pass "pkcs11-tool -L shows both JPKI tokens with PIN ranges 4/4 and 6/16"

pkcs11-tool --module "$M" --slot 0 -O >objects.txt 2>&1
expect_grep 'User Authentication Certificate' objects.txt "auth certificate not listed"
pass "pkcs11-tool -O lists the public objects"

head -c 1000 /dev/urandom >data.bin
pkcs11-tool --module "$M" --slot 0 --login --pin 1234 --sign -m SHA256-RSA-PKCS --id 01 \
  -i data.bin -o auth.sig >/dev/null 2>&1 || fail "OpenSC could not sign with the auth key"
verify_sig sha256 "$JPKI_PKI_DIR/auth.pem" data.bin auth.sig
pass "auth key signature (via OpenSC) verifies against the auth certificate"

pkcs11-tool --module "$M" --slot 1 --login --pin ABC123 --sign -m SHA256-RSA-PKCS --id 02 \
  -i data.bin -o sign.sig >sign.txt 2>&1 || { cat sign.txt; fail "OpenSC could not sign with the sign key"; }
verify_sig sha256 "$JPKI_PKI_DIR/sign.pem" data.bin sign.sig
pass "sign key signature (via OpenSC) verifies against the signature certificate"

# The signature certificate, read back through OpenSC after the password, is the card's.
pkcs11-tool --module "$M" --slot 1 --login --pin ABC123 --read-object --type cert --id 02 \
  -o signcert.der >/dev/null 2>&1 || fail "could not read the signature certificate back"
cmp -s signcert.der "$JPKI_PKI_DIR/sign.der" || fail "signature certificate read back differs"
pass "signature certificate read back after the password matches"
