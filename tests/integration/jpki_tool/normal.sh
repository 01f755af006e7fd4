#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# jpki-tool against a normal card: status, certs, show, sign (raw and CMS, both keys), verify,
# --json, --help, usage errors, wrong and malformed PINs, the one-try-left warning.
source "$(dirname "$0")/lib.sh"
export AUTH_PIN=1234 SIGN_PIN=ABC123
P=$JPKI_PKI_DIR

expect_rc 0 "status" -- "$T" status
expect_grep 'My Number Card' out.txt "card kind"
expect_grep 'Authentication PIN: +3 of 3 tries left' out.txt "auth PIN tries"
expect_grep 'Signature password: +5 of 5 tries left' out.txt "sign PIN tries"
expect_grep 'valid until [0-9-]+ \([0-9]+ days left\); renewal possible from' out.txt "validity"
expect_grep 'Signature certificate: +present \(details need --sign-password\)' out.txt "sign cert hint"
cat out.txt
# The renewal date is notAfter (JST) minus three months.
na=$(openssl x509 -in "$P/auth.pem" -noout -enddate | cut -d= -f2)
na_jst=$(TZ=Asia/Tokyo date -d "$na" +%F)
renew=$(date -d "$na_jst -3 months" +%F)
expect_grep "valid until $na_jst .*renewal possible from $renew" out.txt "renewal date = $na_jst - 3 months"
[[ $(verify_with_data_count) == 0 ]] || fail "status sent a VERIFY with data"
pass "status spent no PIN try"

expect_rc 0 "status --json" -- "$T" status --json
python3 -c 'import json,sys; d=json.load(open("out.txt")); assert d["pins"]["auth"]["triesLeft"]==3 and d["card"]["kind"]=="my-number-card" and d["certificates"]["auth"]["expired"] is False, d' ||
  fail "status --json content"
pass "status --json parses"

expect_rc 0 "status --sign-password" -- "$T" status --sign-password --pin-env SIGN_PIN
expect_grep 'L=Chiyoda-ku' out.txt "sign certificate subject"

expect_rc 0 "certs list" -- "$T" certs
expect_grep '^sign-ca:' out.txt "certs list"
for c in auth auth-ca sign sign-ca; do
  f=${c/-/_}
  expect_rc 0 "certs export $c der" -- "$T" certs export "$c" --format der -o "$c.der" --pin-env SIGN_PIN
  cmp -s "$c.der" "$P/$f.der" || fail "exported $c differs from $P/$f.der"
  expect_rc 0 "certs export $c pem" -- "$T" certs export "$c" --pin-env SIGN_PIN
  openssl x509 -in out.txt -outform DER | cmp -s - "$P/$f.der" || fail "PEM $c differs"
done
pass "all four exports match the card's PKI"

expect_rc 0 "show" -- "$T" show --pin-env SIGN_PIN
cat out.txt
expect_grep '^Name: +JPKI TARO' out.txt "name"
expect_grep '^Address: +東京都千代田区' out.txt "address"
expect_grep '^Date of birth: +1990-06-15' out.txt "birth date"
expect_grep '^Sex: +male' out.txt "sex"
expect_rc 0 "show --json" -- "$T" --json show --pin-env SIGN_PIN
expect_grep '"birthDate": "1990-06-15"' out.txt "show --json"

printf 'jpki-tool integration document %s\n' "$(date +%s%N)" >doc.txt
for key in auth sign; do
  pin=AUTH_PIN; [[ $key == sign ]] && pin=SIGN_PIN
  expect_rc 0 "sign --key $key raw" -- "$T" sign --key $key -i doc.txt -o $key.sig --pin-env $pin
  [[ $(stat -c %s $key.sig) == 256 ]] || fail "raw signature is not 256 bytes"
  verify_sig sha256 "$P/$key.pem" doc.txt $key.sig
  pass "openssl dgst verifies the raw $key signature"
  expect_rc 0 "sign --key $key --cms" -- "$T" sign --key $key --cms -i doc.txt -o $key.p7s --pin-env $pin
  openssl cms -verify -binary -content doc.txt -inform DER -in $key.p7s -CAfile "$P/${key}_ca.pem" \
    -purpose any -out /dev/null 2>cms.err || { cat cms.err; fail "openssl cms -verify ($key)"; }
  pass "openssl cms -verify accepts the $key CMS signature"
  expect_rc 0 "verify raw $key" -- "$T" verify --cert "$P/$key.pem" --ca "$P/${key}_ca.der" -i doc.txt -s $key.sig
  expect_rc 0 "verify --cms $key" -- "$T" verify --cms --cert "$P/$key.der" --ca "$P/${key}_ca.pem" -i doc.txt -s $key.p7s
  # The README's form: the signer's certificate comes from the CMS signature itself.
  expect_rc 0 "verify --cms $key without --cert" -- "$T" verify --cms --ca "$P/${key}_ca.pem" -i doc.txt -s $key.p7s
  # --ca is used: the other key's CA rejects the intact document's signature, for a reason that
  # is the certificate, not the signature.
  other=auth; [[ $key == auth ]] && other=sign
  expect_rc 1 "verify --cms $key against the $other CA" -- "$T" verify --cms --ca "$P/${other}_ca.pem" -i doc.txt -s $key.p7s
  cat out.txt err.txt >wrong-ca.txt
  expect_grep '^signature: good' wrong-ca.txt "wrong CA: the signature itself is good"
  expect_grep '^chain: +BAD' wrong-ca.txt "wrong CA: the chain to --ca must be refused"
  expect_rc 1 "verify raw $key against the $other CA" -- "$T" verify --cert "$P/$key.pem" --ca "$P/${other}_ca.pem" -i doc.txt -s $key.sig
  cat out.txt err.txt >wrong-ca-raw.txt
  expect_grep '^signature: good' wrong-ca-raw.txt "wrong CA (raw): the signature itself is good"
  expect_grep '^chain: +BAD' wrong-ca-raw.txt "wrong CA (raw): the chain to --ca must be refused"
done
echo tampered >>doc.txt
expect_rc 1 "verify of tampered data" -- "$T" verify --cert "$P/auth.pem" --ca "$P/auth_ca.pem" -i doc.txt -s auth.sig
expect_grep 'signature: BAD' out.txt "bad signature reported"
expect_rc 1 "verify --cms of tampered data" -- "$T" verify --cms --ca "$P/sign_ca.pem" -i doc.txt -s sign.p7s
expect_rc 1 "verify --json (tampered)" -- "$T" verify --json --cert "$P/sign.pem" --ca "$P/sign_ca.pem" -i doc.txt -s sign.sig
expect_grep '"valid": false' out.txt "verify --json"

# --help on every command, usage errors.
for c in status certs show sign verify doctor register unregister; do
  expect_rc 0 "$c --help" -- "$T" $c --help
  expect_grep 'Exit codes:' out.txt "$c --help lists the exit codes"
done
expect_rc 0 "--help" -- "$T" --help
expect_rc 2 "no command" -- "$T"
expect_rc 2 "unknown command" -- "$T" frobnicate
expect_rc 2 "unknown option" -- "$T" status --pin 1234
expect_rc 2 "sign without --key" -- "$T" sign -i doc.txt -o x.sig
expect_rc 2 "unset --pin-env variable" -- "$T" sign --key auth -i doc.txt -o x.sig --pin-env NO_SUCH_VAR

# Malformed PINs never reach the card; wrong ones spend a try and say how many are left.
before=$(verify_with_data_count)
expect_rc 7 "malformed auth PIN" -- env BAD=12ab "$T" sign --key auth -i doc.txt -o x.sig --pin-env BAD
expect_grep 'no try was spent' err.txt "malformed PIN message"
[[ $(verify_with_data_count) == "$before" ]] || fail "a malformed PIN reached the card"
expect_rc 7 "wrong auth PIN" -- env BAD=9999 "$T" sign --key auth -i doc.txt -o x.sig --pin-env BAD
expect_grep 'wrong user authentication PIN: 2 tries left' err.txt "tries left after a wrong PIN"
expect_rc 7 "second wrong auth PIN" -- env BAD=9999 "$T" sign --key auth -i doc.txt -o x.sig --pin-env BAD
expect_grep 'WARNING: only one try left' err.txt "last-try warning on the wrong PIN"
expect_rc 0 "status with one try left" -- "$T" status
expect_grep 'Authentication PIN: +1 of 3 tries left' out.txt "one try left shown"
expect_grep 'WARNING: only one try left for the user authentication PIN.*city office' out.txt "status warning"
cat out.txt
expect_rc 7 "wrong signature password" -- env BAD=WRONG1 "$T" show --pin-env BAD
expect_grep '4 tries left' err.txt "sign tries left"
# The right PIN resets the counter.
expect_rc 0 "right PIN after wrong ones" -- "$T" sign --key auth -i doc.txt -o x.sig --pin-env AUTH_PIN
expect_rc 0 "status --json after reset" -- "$T" --json status
python3 -c 'import json; d=json.load(open("out.txt")); assert d["pins"]["auth"]["triesLeft"]==3 and d["warnings"]==[], d' ||
  fail "tries not reset"
pass "normal card: all checks passed"
