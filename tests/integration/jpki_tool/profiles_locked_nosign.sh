#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two cards: card 0 with both PINs locked (profile locked), card 1 without a signature
# certificate (profile no-sign-cert, a minor's card). Reader chosen with --reader.
source "$(dirname "$0")/lib.sh"
export AUTH_PIN=1234 SIGN_PIN=ABC123
echo doc >doc.txt
L=(--reader "PCD 00 00")
N=(--reader "PCD 00 01")

expect_rc 0 "status of a locked card" -- "$T" "${L[@]}" status
cat out.txt
expect_grep 'Authentication PIN: +LOCKED' out.txt "auth PIN locked"
expect_grep 'Signature password: +LOCKED' out.txt "sign PIN locked"
expect_grep 'locked: have it reset at the city office' out.txt "lockout advice"
before=$(verify_with_data_count)
expect_rc 6 "sign with a locked auth PIN" -- "$T" "${L[@]}" sign --key auth -i doc.txt -o x.sig --pin-env AUTH_PIN
expect_grep 'locked' err.txt "locked message"
expect_rc 6 "sign with a locked sign PIN" -- "$T" "${L[@]}" sign --key sign --cms -i doc.txt -o x.p7s --pin-env SIGN_PIN
expect_rc 6 "show with a locked sign PIN" -- "$T" "${L[@]}" show --pin-env SIGN_PIN
expect_rc 6 "status --sign-password on a locked card" -- "$T" "${L[@]}" status --sign-password --pin-env SIGN_PIN
expect_rc 6 "certs export sign on a locked card" -- "$T" "${L[@]}" certs export sign --pin-env SIGN_PIN
[[ $(verify_with_data_count) == "$before" ]] || fail "a PIN was sent to a locked card"
pass "no PIN was sent to the locked card"
expect_rc 6 "doctor on a locked card" -- "$T" "${L[@]}" doctor
expect_grep 'problem.*locked' out.txt "doctor reports the lockout"

expect_rc 0 "status of a card without a signature certificate" -- "$T" "${N[@]}" status
cat out.txt
expect_grep 'Signature certificate: +none: no signature certificate' out.txt "missing sign cert"
expect_rc 0 "status --sign-password without a signature certificate" -- "$T" "${N[@]}" status --json --sign-password --pin-env SIGN_PIN
python3 -c 'import json; d=json.load(open("out.txt")); assert d["certificates"]["sign"]["present"] is False, d' ||
  fail "json: sign certificate should be absent"
expect_rc 1 "sign --key sign without a signature key" -- "$T" "${N[@]}" sign --key sign -i doc.txt -o x.sig --pin-env SIGN_PIN
expect_grep 'no signature key' err.txt "message for the missing key"
expect_rc 1 "show without a signature certificate" -- "$T" "${N[@]}" show --pin-env SIGN_PIN
expect_grep 'no signature certificate' err.txt "message for the missing certificate"
expect_rc 1 "certs export sign without one" -- "$T" "${N[@]}" certs export sign --pin-env SIGN_PIN
expect_rc 0 "auth still works on that card" -- "$T" "${N[@]}" sign --key auth -i doc.txt -o a.sig --pin-env AUTH_PIN
verify_sig sha256 "$JPKI_WORK/pki1/auth.pem" doc.txt a.sig
expect_rc 0 "certs list without a signature certificate" -- "$T" "${N[@]}" certs
expect_grep 'not on this card' out.txt "certs list marks the missing certificate"
pass "locked and no-sign-cert cards: all checks passed"
