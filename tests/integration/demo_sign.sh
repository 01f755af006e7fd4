#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: our module, loaded by a real client (pkcs11-tool), lists the card and signs with
# both keys through pcscd; OpenSSL verifies each signature against the virtual card's own test
# PKI certificate (a real card: the certificate read through the module). Runs inside the harness (virtual card) or, with JPKI_REAL_CARD=1, against the
# machine's own pcscd and a real card (PINs are then asked for by pkcs11-tool, never stored).
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?JPKI_MODULE must name libjpki-pkcs11.so}
work=${JPKI_WORK:-$(mktemp -d)}
cd "$work"

echo "== pkcs11-tool -L (slots and tokens)"
pkcs11-tool --module "$M" -L | tee slots.txt
expect_grep 'token label' slots.txt "no token found"

printf 'jpki-pkcs11 demo document %s\n' "$(date -u +%FT%TZ)" >doc.txt
for role in auth sign; do
  if [[ $role == auth ]]; then slot=0 id=01 pin=${JPKI_AUTH_PIN:-1234}; else slot=1 id=02 pin=${JPKI_SIGN_PIN:-ABC123}; fi
  pinargs=(--pin "$pin")
  [[ ${JPKI_REAL_CARD:-0} == 1 ]] && pinargs=()   # pkcs11-tool prompts for a real card's PIN
  echo "== sign with the $role key (slot $slot, id $id, SHA256-RSA-PKCS)"
  rc=0
  pkcs11-tool --module "$M" --slot "$slot" --login "${pinargs[@]}" --login-type user \
    --sign -m SHA256-RSA-PKCS --id "$id" -i doc.txt -o "$role.sig" >"sign-$role.txt" 2>&1 || rc=$?
  grep -v '^Using' "sign-$role.txt" || true
  ((rc == 0)) || fail "pkcs11-tool --sign with the $role key exited $rc"
  [[ $(stat -c %s "$role.sig") == 256 ]] || fail "the $role signature is not 256 bytes"
  pkcs11-tool --module "$M" --slot "$slot" --login "${pinargs[@]}" --read-object --type cert \
    --id "$id" -o "$role.der" >/dev/null 2>&1 || fail "could not read the $role certificate"
  openssl x509 -inform DER -in "$role.der" -out "$role.pem"
  # Against the virtual card the signature is checked with the test PKI's own certificate (not
  # only the one the module hands out); a real card's certificate can only come from the card.
  cert=$role.pem
  if [[ -n ${JPKI_PKI_DIR:-} && ${JPKI_REAL_CARD:-0} != 1 ]]; then
    cert=$JPKI_PKI_DIR/$role.pem
    cmp <(openssl x509 -in "$role.pem" -outform DER) <(openssl x509 -in "$cert" -outform DER) ||
      fail "the $role certificate read through the module is not the card's ($cert)"
  fi
  verify_sig sha256 "$cert" doc.txt "$role.sig"
  echo "verified: $role signature over doc.txt with $(openssl x509 -in "$cert" -noout -subject)"
done
echo "demo: both signatures verified"
