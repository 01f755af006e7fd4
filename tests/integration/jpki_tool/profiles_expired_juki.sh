#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Card 0 with expired certificates, card 1 an old juki card.
source "$(dirname "$0")/lib.sh"
export AUTH_PIN=1234 SIGN_PIN=ABC123
echo doc >doc.txt
E=(--reader "PCD 00 00")
J=(--reader "PCD 00 01")

expect_rc 0 "status of an expired card" -- "$T" "${E[@]}" status --sign-password --pin-env SIGN_PIN
cat out.txt
expect_grep 'validity: +EXPIRED on [0-9-]+ \([0-9]+ days ago\)' out.txt "expired shown"
expect_grep 'WARNING: the user authentication certificate has expired' out.txt "expiry warning"
expect_grep 'WARNING: the signature certificate has expired' out.txt "sign expiry warning"
expect_rc 0 "status --json of an expired card" -- "$T" "${E[@]}" status --json
python3 -c 'import json; d=json.load(open("out.txt")); a=d["certificates"]["auth"]; assert a["expired"] is True and a["daysLeft"] < 0, a' ||
  fail "json: expired"
# The card still signs, but the chain check refuses the expired certificate.
expect_rc 0 "sign with an expired certificate" -- "$T" "${E[@]}" sign --key sign --cms -i doc.txt -o s.p7s --pin-env SIGN_PIN
expect_rc 1 "verify refuses the expired certificate" -- "$T" verify --cms --ca "$JPKI_PKI_DIR/sign_ca.pem" -i doc.txt -s s.p7s
expect_grep 'chain: +BAD: certificate has expired' out.txt "expired chain reported"

expect_rc 0 "status of a juki card" -- "$T" "${J[@]}" status
expect_grep 'Card: +old Basic Resident Register card \(juki card\) \(token JPKIAPICCTOKEN\)' out.txt "juki card kind"
pass "expired and juki cards: all checks passed"
