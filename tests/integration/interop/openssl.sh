#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# OpenSSL 3 with the pkcs11 engine (libengine-pkcs11-openssl / libp11), configured through an
# openssl.cnf whose MODULE_PATH names our module: openssl pkeyutl signs with each key by URI (PIN
# as pin-value in the URI) and the signatures verify with the certificates; a detached CMS
# signature with the signature key (the way e-Tax-style clients sign) verifies with
# openssl cms -verify against the signature CA; openssl s_client -tls1_2 authenticates with the
# card's key against openssl s_server -Verify 1, which verifies the client certificate.
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
card_facts
make_server_pki srv
PORT=4433
card_signatures() { grep -c '^> 802A0080' "$JPKI_CARD_LOG" || true; }

step "openssl.cnf: engine pkcs11 ($ENGINE_DIR/pkcs11.so), MODULE_PATH = $M"
[[ -f $ENGINE_DIR/pkcs11.so ]] || fail "pkcs11 engine not installed (libengine-pkcs11-openssl)"
cat >openssl.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE_DIR/pkcs11.so
MODULE_PATH = $M
init = 0
EOF
export OPENSSL_CONF=$JPKI_WORK/openssl.cnf
openssl engine -t pkcs11 >engine.txt 2>&1 || { cat engine.txt; fail "engine pkcs11 does not load"; }
expect_grep '\[ available \]' engine.txt "engine pkcs11 not available"
AUTH_KEY="$AUTH_TOKEN_URI;id=%01;type=private?pin-value=$AUTH_PIN"
SIGN_KEY="$SIGN_TOKEN_URI;id=%02;type=private?pin-value=$SIGN_PIN"
pass "engine pkcs11 available"

step "openssl pkeyutl -sign with each key by URI"
head -c 5000 /dev/urandom >data.bin
openssl dgst -sha256 -binary data.bin >data.sha256
# tty_run INPUT CMD…: runs CMD on a pseudo-terminal (script) and types INPUT at it. libp11 asks
# for the PIN of a CKA_ALWAYS_AUTHENTICATE key (C_Login CKU_CONTEXT_SPECIFIC) through OpenSSL's
# console UI on /dev/tty; pin-value in the URI only serves the first C_Login(CKU_USER), and the
# openssl commands' -passin does not reach that prompt (libp11's engine gets no UI callback data).
tty_run() {
  local input=$1 cmd
  shift
  cmd=$(printf '%q ' "$@")
  (sleep 1; printf '%s\n' "$input") | timeout 30 script -qec "$cmd" /dev/null
}
echo "auth key: ${AUTH_KEY%%\?*}"
openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$AUTH_KEY" -sign -pkeyopt digest:sha256 \
  -in data.sha256 -out auth.sig >pkeyutl-auth.txt 2>&1 || { cat pkeyutl-auth.txt; fail "pkeyutl -sign with the auth key failed"; }
check_sig auth
echo "sign key: ${SIGN_KEY%%\?*} (CKA_ALWAYS_AUTHENTICATE: password typed at the prompt)"
logins0=$(login_count)
tty_run "$SIGN_PIN" openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$SIGN_KEY" -sign -pkeyopt digest:sha256 \
  -in data.sha256 -out sign.sig >pkeyutl-sign.txt 2>&1 || { cat pkeyutl-sign.txt; fail "pkeyutl -sign with the sign key failed"; }
expect_grep 'Enter PKCS#11 key PIN for JPKI Digital Signature' pkeyutl-sign.txt "no context-specific PIN prompt"
check_sig sign
logins1=$(login_count)
((logins1 - logins0 == 2)) || fail "expected 2 VERIFY (user login + context-specific) for the sign key, got $((logins1 - logins0))"
echo "sign key (sign-always-authenticate = no): pin-value in the URI is enough, no prompt"
printf 'sign-always-authenticate = no\n' >no-always-auth.conf
JPKI_PKCS11_CONF=$JPKI_WORK/no-always-auth.conf openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$SIGN_KEY" \
  -sign -pkeyopt digest:sha256 -in data.sha256 -out sign-noaa.sig </dev/null >pkeyutl-sign-noaa.txt 2>&1 ||
  { cat pkeyutl-sign-noaa.txt; fail "pkeyutl -sign with sign-always-authenticate = no failed"; }
check_sig sign-noaa
pass "pkeyutl: RSA PKCS#1 v1.5 SHA-256 signatures of the auth and sign keys verify with auth.pem / sign.pem"

step "CMS detached signature with the signature key (e-Tax style)"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<Application><Form>e-Tax style test %s</Form></Application>\n' "$(date -u +%FT%TZ)" >document.xml
tty_run "$SIGN_PIN" openssl cms -sign -binary -engine pkcs11 -keyform engine -inkey "$SIGN_KEY" -signer "$PKI/sign.pem" \
  -md sha256 -in document.xml -outform DER -out document.p7s >cms-sign.txt 2>&1 || { cat cms-sign.txt; fail "openssl cms -sign failed"; }
expect_grep 'Enter PKCS#11 key PIN for JPKI Digital Signature' cms-sign.txt "no context-specific PIN prompt"
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
sigs0=$(card_signatures)
# -client_sigalgs: OpenSSL does not ask the token which mechanisms it has; offered RSA-PSS by the
# server it would pick rsa_pss_rsae_sha256 even in TLS 1.2, and libp11's C_SignInit with
# CKM_RSA_PKCS_PSS fails (CKR_MECHANISM_INVALID: the card signs PKCS#1 v1.5 only). So the client
# is told to use PKCS#1 v1.5 signature schemes for its CertificateVerify.
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -engine pkcs11 -keyform engine -key "$AUTH_KEY" \
  -client_sigalgs RSA+SHA256:RSA+SHA384:RSA+SHA512 -cert "$PKI/auth.pem" -tls1_2 -connect 127.0.0.1:$PORT -servername localhost -CAfile srv/srv_ca.pem \
  -verify_return_error -ign_eof >sclient.log 2>&1 || { cat sclient.log sserv.log; fail "openssl s_client TLS 1.2 failed"; }
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
sigs1=$(card_signatures)
((sigs1 == sigs0 + 1)) || fail "expected one card signature for the handshake ($sigs0 -> $sigs1)"
pass "s_client TLS 1.2: server verified CN=$AUTH_CN ($(sed -n 's/^New, //p' sclient.log | head -n1))"

step "openssl s_client -tls1_3 (RSA-PSS needed: must fail without crashing or hanging)"
openssl s_server -accept $PORT -naccept 1 -cert srv/srv.pem -key srv/srv_key.pem -Verify 1 \
  -CAfile "$PKI/auth_ca.pem" -verify_return_error -www >sserv13.log 2>&1 &
srv=$!
wait_port $PORT $srv
rc=0
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -engine pkcs11 -keyform engine -key "$AUTH_KEY" \
  -cert "$PKI/auth.pem" -tls1_3 -connect 127.0.0.1:$PORT -servername localhost -CAfile srv/srv_ca.pem \
  -ign_eof >sclient13.log 2>&1 || rc=$?
stop_pid $srv
grep -Ei 'error|alert' sclient13.log | head -n4 || true
echo "s_client -tls1_3 exit code: $rc"
((rc < 124)) || fail "s_client -tls1_3 hung or crashed (exit $rc)"
if grep -q '^Client certificate$' sclient13.log; then fail "TLS 1.3 client authentication unexpectedly succeeded"; fi
# OpenSSL (unlike NSS and GnuTLS) still offers the certificate and then fails to sign with PSS:
# libp11's C_SignInit(CKM_RSA_PKCS_PSS) is refused by the module with CKR_MECHANISM_INVALID.
expect_grep 'Mechanism invalid' sclient13.log "no clear 'Mechanism invalid' error from the PSS attempt"
sigs2=$(card_signatures)
((sigs2 == sigs1)) || fail "the card signed during the TLS 1.3 attempt (it cannot make PSS signatures)"
pass "s_client -tls1_3: no client authentication, clean exit $rc, no card signature"
echo "OpenSSL interop: all checks passed"
