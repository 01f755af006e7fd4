#!/usr/bin/env bash
# The main job: our module, loaded by a real client (pkcs11-tool), lists the card and signs with
# both keys through pcscd; OpenSSL verifies each signature against the certificate the module
# hands out. Runs inside the harness (virtual card) or, with JPKI_REAL_CARD=1, against the
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
  pkcs11-tool --module "$M" --slot "$slot" --login "${pinargs[@]}" --login-type user \
    --sign -m SHA256-RSA-PKCS --id "$id" -i doc.txt -o "$role.sig" 2>&1 | grep -v '^Using' || true
  [[ -s $role.sig ]] || fail "no signature produced with the $role key"
  pkcs11-tool --module "$M" --slot "$slot" --login "${pinargs[@]}" --read-object --type cert \
    --id "$id" -o "$role.der" >/dev/null 2>&1 || fail "could not read the $role certificate"
  openssl x509 -inform DER -in "$role.der" -out "$role.pem"
  verify_sig sha256 "$role.pem" doc.txt "$role.sig"
  echo "verified: $role signature over doc.txt with $(openssl x509 -in "$role.pem" -noout -subject)"
done
echo "demo: both signatures verified"
