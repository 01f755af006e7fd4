#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# OpenSSL 3 with pkcs11-provider (the maintained replacement for the deprecated pkcs11 engine),
# configured through an openssl.cnf whose pkcs11-module-path names our module. Every command runs
# without a terminal (setsid, stdin /dev/null) and must exit 0: openssl pkeyutl signs with each key
# by URI and the signatures verify with the test PKI's certificates; the signature key's
# per-signature login (CKA_ALWAYS_AUTHENTICATE, C_Login CKU_CONTEXT_SPECIFIC) is answered by the
# provider from pkcs11-module-token-pin, or from its PIN cache (pkcs11-module-cache-pins) when the
# PIN came through -passin; a detached CMS signature with the signature key verifies against the
# signature CA; openssl s_client -tls1_2 authenticates with the auth key against
# openssl s_server -Verify 1. The card log must show exactly the expected VERIFYs and signatures.
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
card_facts
make_server_pki srv
PORT=4433
MODULES_DIR=$(openssl version -m | sed -E 's/^MODULESDIR: "(.*)"$/\1/')
# no_tty INPUT LOG CMD…: runs CMD with no controlling terminal (setsid) and stdin from INPUT, so
# a PIN prompt can get no answer (OpenSSL's UI falls back to stdin when /dev/tty cannot be opened),
# output in LOG, at most 30 s; returns CMD's exit code (124: timeout, 139: SIGSEGV).
no_tty() {
  local input=$1 log=$2
  shift 2
  timeout 30 setsid -w "$@" <"$input" >"$log" 2>&1
}
# must INPUT LOG WHAT CMD…: no_tty, and fail unless CMD exits 0.
must() {
  local input=$1 log=$2 what=$3 rc=0
  shift 3
  no_tty "$input" "$log" "$@" || rc=$?
  if ((rc != 0)); then
    cat "$log"
    fail "$what (exit $rc$( ((rc == 139)) && echo ': SIGSEGV'))"
  fi
}
# write_cnf FILE [SETTING…]: an openssl.cnf loading the default provider and pkcs11-provider with
# our module, plus the given [pkcs11_sect] settings.
write_cnf() {
  local f=$1
  shift
  {
    printf '%s\n' "openssl_conf = openssl_init" "[openssl_init]" "providers = provider_sect" \
      "[provider_sect]" "default = default_sect" "pkcs11 = pkcs11_sect" "[default_sect]" "activate = 1" \
      "[pkcs11_sect]" "module = $MODULES_DIR/pkcs11.so" "pkcs11-module-path = $M"
    (($#)) && printf '%s\n' "$@"
    echo "activate = 1"
  } >"$f"
}

step "openssl.cnf: provider pkcs11 ($MODULES_DIR/pkcs11.so), pkcs11-module-path = $M"
[[ -f $MODULES_DIR/pkcs11.so ]] ||
  fail "pkcs11-provider not installed ($MODULES_DIR/pkcs11.so missing; Debian 13: apt-get install pkcs11-provider; Debian 12: from bookworm-backports, JPKI_SETUP_TESTS=1 tools/setup.sh)"
# The signature PIN for the provider's context-specific login, in a file (pkcs11-module-token-pin).
printf '%s\n' "$SIGN_PIN" >sign.pin
write_cnf openssl.cnf "pkcs11-module-token-pin = file:$JPKI_WORK/sign.pin"
write_cnf cache.cnf "pkcs11-module-cache-pins = cache"
write_cnf plain.cnf
export OPENSSL_CONF=$JPKI_WORK/openssl.cnf
must /dev/null providers.txt "openssl list -providers failed" openssl list -providers
expect_grep 'name: PKCS#11 Provider' providers.txt "pkcs11-provider not loaded"
sed -n '/^  pkcs11$/,/status/p' providers.txt
expect_grep '^  pkcs11$' providers.txt "no provider pkcs11 in the list"
AUTH_KEY="$AUTH_TOKEN_URI;id=%01;type=private?pin-value=$AUTH_PIN"
SIGN_KEY="$SIGN_TOKEN_URI;id=%02;type=private?pin-value=$SIGN_PIN"
pass "provider pkcs11 loads (pkcs11-provider $(dpkg-query -W -f '${Version}' pkcs11-provider 2>/dev/null || echo '?'))"

step "openssl storeutl: the certificates from the tokens"
card_mark
must /dev/null storeutl-auth.txt "storeutl -certs of the authentication certificate failed" \
  openssl storeutl -certs "$AUTH_TOKEN_URI;id=%01;type=cert"
openssl x509 -in storeutl-auth.txt -out auth.pem 2>/dev/null || { cat storeutl-auth.txt; fail "storeutl gave no auth certificate"; }
cmp <(openssl x509 -in auth.pem -outform DER) <(openssl x509 -in "$PKI/auth.pem" -outform DER) ||
  fail "the token's authentication certificate differs from $PKI/auth.pem"
card_delta "storeutl (the authentication certificate is public: no login)" 0 0 0
card_mark
must /dev/null storeutl-sign.txt "storeutl -certs of the signature certificate failed" \
  openssl storeutl -certs "$SIGN_TOKEN_URI;id=%02;type=cert?pin-value=$SIGN_PIN"
openssl x509 -in storeutl-sign.txt -out sign.pem 2>/dev/null || { cat storeutl-sign.txt; fail "storeutl gave no sign certificate"; }
cmp <(openssl x509 -in sign.pem -outform DER) <(openssl x509 -in "$PKI/sign.pem" -outform DER) ||
  fail "the token's signature certificate differs from $PKI/sign.pem"
card_delta "storeutl (the signature certificate is private: one login)" 0 1 0
pass "storeutl: the tokens' certificates are the card's ($AUTH_SUBJECT; $SIGN_SUBJECT)"

step "openssl pkeyutl -sign with each key by URI (no terminal)"
head -c 5000 /dev/urandom >data.bin
openssl dgst -sha256 -binary data.bin >data.sha256
echo "auth key: ${AUTH_KEY%%\?*} (PIN: pin-value in the URI)"
card_mark
must /dev/null pkeyutl-auth.txt "pkeyutl -sign with the auth key failed" \
  openssl pkeyutl -sign -inkey "$AUTH_KEY" -pkeyopt digest:sha256 -in data.sha256 -out auth.sig
check_sig auth
card_delta "auth key" 1 0 1
echo "sign key: ${SIGN_KEY%%\?*} (pin-value for the token login, pkcs11-module-token-pin for the per-signature login)"
card_mark
must /dev/null pkeyutl-sign.txt "pkeyutl -sign with the sign key failed" \
  openssl pkeyutl -sign -inkey "$SIGN_KEY" -pkeyopt digest:sha256 -in data.sha256 -out sign.sig
check_sig sign
card_delta "sign key (user login + context-specific login)" 0 2 1
echo "sign key: -passin with pkcs11-module-cache-pins = cache (no PIN in the URI or the configuration)"
card_mark
OPENSSL_CONF=$JPKI_WORK/cache.cnf must /dev/null pkeyutl-sign-cache.txt "pkeyutl -sign -passin with cache-pins failed" \
  openssl pkeyutl -sign -inkey "$SIGN_TOKEN_URI;id=%02;type=private" -passin "pass:$SIGN_PIN" -pkeyopt digest:sha256 \
  -in data.sha256 -out sign-cache.sig
check_sig sign-cache
card_delta "sign key with the cached PIN" 0 2 1
# Without either setting pkcs11-provider 1.0 logs in with the URI's PIN, then asks for the
# context-specific login on the terminal (the URI is not passed on to it): with no terminal it
# must fail cleanly, without a card signature. A later provider that reuses the URI's PIN passes.
echo "sign key: pin-value only, no token-pin / cache setting"
card_mark
rc=0
OPENSSL_CONF=$JPKI_WORK/plain.cnf no_tty /dev/null pkeyutl-sign-plain.txt \
  openssl pkeyutl -sign -inkey "$SIGN_KEY" -pkeyopt digest:sha256 -in data.sha256 -out sign-plain.sig || rc=$?
echo "exit code: $rc"
if ((rc == 0)); then
  echo "note: this provider answers the context-specific login with the URI's pin-value"
  check_sig sign-plain
  card_delta "sign key, pin-value only" 0 2 1
else
  ((rc < 124)) || { cat pkeyutl-sign-plain.txt; fail "pkeyutl without a PIN setting hung or crashed (exit $rc)"; }
  expect_grep 'Enter PIN for PKCS#11 Token' pkeyutl-sign-plain.txt "no context-specific PIN prompt"
  grep -E 'Enter PIN|UI_process' pkeyutl-sign-plain.txt | sed 's/^/  /'
  card_delta "sign key, pin-value only (no context-specific login)" 0 1 0
fi
pass "pkeyutl: RSA PKCS#1 v1.5 SHA-256 signatures of the auth and sign keys verify with auth.pem / sign.pem"

step "CMS detached signature with the signature key (e-Tax style)"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<Application><Form>e-Tax style test %s</Form></Application>\n' "$(date -u +%FT%TZ)" >document.xml
card_mark
must /dev/null cms-sign.txt "openssl cms -sign failed" \
  openssl cms -sign -binary -inkey "$SIGN_KEY" -signer sign.pem -md sha256 -in document.xml -outform DER -out document.p7s
card_delta "cms -sign" 0 2 1
openssl cms -cmsout -print -inform DER -in document.p7s >cms-print.txt
expect_grep 'eContent: <ABSENT>' cms-print.txt "CMS signature is not detached"
openssl cms -verify -binary -inform DER -in document.p7s -content document.xml -CAfile "$PKI/sign_ca.pem" \
  -purpose any -out verified.xml -signer cms-signer.pem >cms-verify.txt 2>&1 || { cat cms-verify.txt; fail "openssl cms -verify failed"; }
cat cms-verify.txt
expect_grep '^CMS Verification successful' cms-verify.txt "CMS verification"
cmp verified.xml document.xml || fail "verified content differs from the document"
signer=$(openssl x509 -in cms-signer.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
echo "CMS signer: $signer"
[[ $signer == "$SIGN_SUBJECT" ]] || fail "CMS signer '$signer' is not the card's signature certificate '$SIGN_SUBJECT'"
# A tampered document must not verify.
sed 's/e-Tax/e-TAX/' document.xml >tampered.xml
if openssl cms -verify -binary -inform DER -in document.p7s -content tampered.xml -CAfile "$PKI/sign_ca.pem" \
  -purpose any -out /dev/null >/dev/null 2>&1; then fail "a tampered document verified"; fi
pass "CMS detached signature by $signer verifies against sign_ca.pem; a tampered document does not"

step "openssl s_server -Verify 1 / openssl s_client -tls1_2 with the auth key"
openssl s_server -accept $PORT -naccept 1 -cert srv/srv.pem -key srv/srv_key.pem -Verify 1 \
  -CAfile "$PKI/auth_ca.pem" -verify_return_error -www >sserv.log 2>&1 &
srv=$!
trap 'stop_pid $srv' EXIT
wait_port $PORT $srv
printf 'GET / HTTP/1.0\r\n\r\n' >request.txt
card_mark
# -client_sigalgs: OpenSSL does not ask the provider which mechanisms the token has; offered
# RSA-PSS by the server it picks rsa_pss_rsae_sha256 even in TLS 1.2, and the provider refuses it
# ("CKM_RSA_PKCS_PSS unavailable": the card signs PKCS#1 v1.5 only). So the client is told to use
# PKCS#1 v1.5 signature schemes for its CertificateVerify.
must request.txt sclient.log "openssl s_client TLS 1.2 failed" \
  openssl s_client -key "$AUTH_KEY" -cert auth.pem -client_sigalgs RSA+SHA256:RSA+SHA384:RSA+SHA512 \
  -tls1_2 -connect 127.0.0.1:$PORT -servername localhost -CAfile srv/srv_ca.pem -verify_return_error -ign_eof
wait $srv 2>/dev/null || true
sed -n '/^Client certificate$/,/Subject:/p' sclient.log | grep -E '^Client certificate|Subject:'; grep -E '^New,' sclient.log
expect_grep '^New, TLSv1\.2, Cipher is ECDHE-RSA-' sclient.log "s_client: not TLS 1.2"
expect_grep 'Verify return code: 0 \(ok\)' sclient.log "s_client: verification failed"
# OpenSSL 3.0 names a PKCS#1 v1.5 signature "RSA", 3.5 "rsa_pkcs1_sha256" (PSS would be rsa_pss_*).
expect_grep '^Peer signature type: (RSA|rsa_pkcs1_sha(256|384|512))$' sclient.log "server page: client signature is not RSA PKCS#1"
expect_grep '^Client certificate$' sclient.log "server page: no client certificate"
expect_grep "^ *Subject: C *= *JP, CN *= *$AUTH_CN\$" sclient.log "server page: client certificate subject"
expect_grep "^depth=0 C *= *JP, CN *= *$AUTH_CN\$" sserv.log "s_server did not verify the card's certificate"
if grep -q 'verify error' sserv.log; then cat sserv.log; fail "s_server reported a verify error"; fi
card_delta "TLS 1.2 handshake" 1 0 1
pass "s_client TLS 1.2: server verified CN=$AUTH_CN ($(sed -n 's/^New, //p' sclient.log | head -n1))"

step "openssl s_client -tls1_3 (RSA-PSS needed: must fail without crashing or hanging)"
openssl s_server -accept $PORT -naccept 1 -cert srv/srv.pem -key srv/srv_key.pem -Verify 1 \
  -CAfile "$PKI/auth_ca.pem" -verify_return_error -www >sserv13.log 2>&1 &
srv=$!
wait_port $PORT $srv
card_mark
rc=0
no_tty request.txt sclient13.log openssl s_client -key "$AUTH_KEY" -cert auth.pem -tls1_3 \
  -connect 127.0.0.1:$PORT -servername localhost -CAfile srv/srv_ca.pem -ign_eof || rc=$?
stop_pid $srv
grep -Ei 'error|alert' sclient13.log | head -n4 || true
echo "s_client -tls1_3 exit code: $rc"
((rc < 124)) || fail "s_client -tls1_3 hung or crashed (exit $rc)"
if grep -q '^Client certificate$' sclient13.log; then fail "TLS 1.3 client authentication unexpectedly succeeded"; fi
expect_grep 'CKM_RSA_PKCS_PSS unavailable' sclient13.log "no clear 'CKM_RSA_PKCS_PSS unavailable' error from the PSS attempt"
card_delta "TLS 1.3 attempt (key loaded, no PSS signature)" 1 0 0
pass "s_client -tls1_3: no client authentication, clean exit $rc, no card signature"
echo "OpenSSL provider interop: all checks passed"
