#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NSS (the browsers' library): modutil adds our module to a fresh NSS database; certutil -L lists
# the authentication certificate WITHOUT a PIN (the CKO_PROFILE "public certificates token" makes
# the auth token friendly) — checked both in the card log (no VERIFY with data) and in the module's
# debug log (no C_Login call at all); certutil -K after login; tstclnt makes a TLS 1.2 client-auth handshake
# with the card's key against openssl s_server -Verify 1 (client CA = the test auth CA); with the
# module configured "tokens = auth-only" the signature password is never asked for (the card never
# even sees a SELECT of the signature PIN EF 001B).
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
card_facts
make_server_pki srv
PORT=4433
NICK="$AUTH_LABEL:JPKI User Authentication"
echo "$AUTH_PIN" >auth.pw

# new_db DIR: a fresh, empty-password NSS database.
new_db() { mkdir -p "$1"; certutil -N -d "sql:$1" --empty-password || fail "certutil -N failed"; }
# add_module DIR NAME LIB: modutil -add, non-interactive.
add_module() { modutil -dbdir "sql:$1" -add "$2" -libfile "$3" -force >"$1/modutil-add.txt" 2>&1 || { cat "$1/modutil-add.txt"; fail "modutil -add $2 failed"; }; }

step "fresh NSS database + modutil -add jpki -libfile $M"
new_db db
add_module db jpki "$M"
# modutil -list exits 1 when any slot is empty ("Unable to get information about token" for the
# second vpcd reader, which has no card): that is modutil's own behaviour, so only the output counts.
modutil -dbdir sql:db -list jpki </dev/null >modlist.txt 2>&1 || true
sed -n '/Token Name/,/User Pin/p' modlist.txt
expect_grep "Token Name: $AUTH_LABEL" modlist.txt "modutil does not show the auth token"
expect_grep "Token Name: $SIGN_LABEL" modlist.txt "modutil does not show the sign token"
pass "modutil: module 'jpki' loaded, tokens '$AUTH_LABEL' and '$SIGN_LABEL'"

step "certutil -L -h '$AUTH_LABEL' without a PIN"
logins0=$(login_count)
timeout 30 certutil -d sql:db -L -h "$AUTH_LABEL" </dev/null >certs.txt 2>&1 || { cat certs.txt; fail "certutil -L -h '$AUTH_LABEL' failed"; }
cat certs.txt
expect_grep "^$NICK +u,u,u\$" certs.txt "auth certificate not listed as a user certificate (u,u,u) without login"
expect_grep "^$AUTH_LABEL:JPKI User Authentication CA " certs.txt "auth CA certificate not listed"
timeout 30 certutil -d sql:db -L -n "$NICK" </dev/null >cert.txt 2>&1 || { cat cert.txt; fail "certutil -L -n failed"; }
expect_grep "Subject: \"CN=$AUTH_CN,C=JP\"" cert.txt "auth certificate subject"
grep -m1 'Subject:' cert.txt
logins1=$(login_count)
[[ $logins1 == "$logins0" ]] || fail "certutil -L made $((logins1 - logins0)) VERIFY with a PIN (expected none)"
pass "certutil -L: '$NICK' u,u,u, Subject CN=$AUTH_CN,C=JP, no VERIFY with data on the card"

step "the same with the module's debug log: no C_Login at all"
# (The module's own log rather than pkcs11-spy: NSS first asks C_GetInterface for a fork-safe
# interface, which the module does not offer, and Debian 12's pkcs11-spy (OpenSC 0.23) reads the
# interface pointer even after that call failed and crashes with every PKCS#11 3.0 module.)
printf 'log-level = debug\nlog-file = %s\n' "$JPKI_WORK/module-debug.log" >debug.conf
JPKI_PKCS11_CONF=$JPKI_WORK/debug.conf timeout 30 certutil -d sql:db -L -h "$AUTH_LABEL" </dev/null >debug-certs.txt 2>&1 ||
  { cat debug-certs.txt; fail "certutil -L with the module's debug log failed"; }
expect_grep "^$NICK +u,u,u\$" debug-certs.txt "auth certificate not listed with the debug configuration"
expect_grep 'C_FindObjectsInit -> CKR_OK' module-debug.log "the module's debug log has no object search (configuration not used?)"
expect_grep 'C_FindObjectsInit:.* CKA_CLASS=CKO_PROFILE' module-debug.log "NSS did not look for the CKO_PROFILE object"
if grep -q 'C_Login' module-debug.log; then grep 'C_Login' module-debug.log >&2; fail "NSS called C_Login to list certificates"; fi
pass "module debug log: NSS searched for the profile object and listed the certificate without any C_Login"

step "certutil -K -h '$AUTH_LABEL' after login"
timeout 30 certutil -d sql:db -K -h "$AUTH_LABEL" -f auth.pw </dev/null >keys.txt 2>&1 || { cat keys.txt; fail "certutil -K failed"; }
cat keys.txt
expect_grep "^< *0> rsa +01 +($AUTH_LABEL:)?JPKI User Authentication\$" keys.txt "auth private key (CKA_ID 01) not listed"
logins2=$(login_count)
((logins2 == logins1 + 1)) || fail "certutil -K should log in exactly once ($logins1 -> $logins2)"
pass "certutil -K: RSA key id 01 'JPKI User Authentication' after one login"

step "openssl s_server -Verify 1 on 127.0.0.1:$PORT, tstclnt -V tls1.2:tls1.2 -n '$NICK'"
certutil -d sql:db -A -n "interop server CA" -t "C,," -i srv/srv_ca.pem || fail "cannot import the server CA"
openssl s_server -accept $PORT -naccept 1 -cert srv/srv.pem -key srv/srv_key.pem -Verify 1 \
  -CAfile "$PKI/auth_ca.pem" -verify_return_error -www >sserv.log 2>&1 &
srv=$!
trap 'stop_pid $srv' EXIT
wait_port $PORT $srv
printf 'GET / HTTP/1.0\r\n\r\n' >req.txt
# -A: the request comes from a file (with a pipe on stdin tstclnt -v spins on the closed stdin);
# -v prints the negotiated parameters on stderr; s_server -www's answer (its view of the session,
# with the client certificate) is on stdout.
timeout 30 tstclnt -h localhost -p $PORT -d sql:db -n "$NICK" -W auth.pw -V tls1.2:tls1.2 -v -A req.txt \
  >page.txt 2>tstclnt.log || { grep -v PR_Poll tstclnt.log; cat page.txt sserv.log; fail "tstclnt TLS 1.2 handshake failed"; }
wait $srv 2>/dev/null || true
grep -E 'SSL version|Server Auth|subject DN' tstclnt.log | head -n3
expect_grep 'SSL version 3\.3 using' tstclnt.log "tstclnt did not negotiate TLS 1.2 (SSL 3.3)"
grep -E '^New,|Protocol *:|Cipher *:|Verify return code|Peer signature type|Client certificate| Subject: ' page.txt | head -n8
expect_grep '^New, TLSv1\.2, Cipher is ECDHE-RSA-' page.txt "server page: not TLS 1.2 / ECDHE-RSA"
# OpenSSL 3.0 names a PKCS#1 v1.5 signature "RSA", 3.5 "rsa_pkcs1_sha256" (PSS would be rsa_pss_*).
expect_grep '^Peer signature type: (RSA|rsa_pkcs1_sha(256|384|512))$' page.txt "server page: client signature is not RSA PKCS#1"
expect_grep 'Verify return code: 0 \(ok\)' page.txt "server page: client certificate not verified"
expect_grep "^ *Subject: C *= *JP, CN *= *$AUTH_CN\$" page.txt "server page: client certificate subject"
expect_grep "^depth=0 C *= *JP, CN *= *$AUTH_CN\$" sserv.log "s_server did not verify the card's certificate"
grep -E '^(depth|verify)' sserv.log | head -n4 || true
if grep -q 'verify error' sserv.log; then cat sserv.log; fail "s_server reported a verify error"; fi
pass "tstclnt TLS 1.2 client auth: s_server verified CN=$AUTH_CN ($(sed -n 's/^New, //p' page.txt | head -n1))"

step "tokens = auth-only: the signature token is never touched"
printf 'tokens = auth-only\n' >auth-only.conf
export JPKI_PKCS11_CONF=$JPKI_WORK/auth-only.conf
mark=$(wc -l <"$JPKI_CARD_LOG")
new_db db2
add_module db2 jpki "$M"
modutil -dbdir sql:db2 -list jpki </dev/null >modlist2.txt 2>&1 || true
expect_grep "Token Name: $AUTH_LABEL" modlist2.txt "auth-only: auth token missing"
if grep -q "JPKI Sign" modlist2.txt; then cat modlist2.txt; fail "auth-only: the signature token is still listed"; fi
timeout 30 certutil -d sql:db2 -L -h all </dev/null >certs2.txt 2>&1 || { cat certs2.txt; fail "certutil -L -h all (auth-only) failed"; }
expect_grep "^$NICK +u,u,u\$" certs2.txt "auth-only: auth certificate not listed"
timeout 30 certutil -d sql:db2 -K -h all -f auth.pw </dev/null >keys2.txt 2>&1 || { cat keys2.txt; fail "certutil -K -h all (auth-only) failed"; }
expect_grep "rsa +01 +($AUTH_LABEL:)?JPKI User Authentication\$" keys2.txt "auth-only: auth key not listed"
certutil -d sql:db2 -A -n "interop server CA" -t "C,," -i srv/srv_ca.pem
openssl s_server -accept $PORT -naccept 1 -cert srv/srv.pem -key srv/srv_key.pem -Verify 1 \
  -CAfile "$PKI/auth_ca.pem" -verify_return_error -www >sserv2.log 2>&1 &
srv=$!
wait_port $PORT $srv
timeout 30 tstclnt -h localhost -p $PORT -d sql:db2 -n "$NICK" -W auth.pw -V tls1.2:tls1.2 -A req.txt \
  >page2.txt 2>tstclnt2.log || { cat tstclnt2.log page2.txt sserv2.log; fail "auth-only: tstclnt handshake failed"; }
wait $srv 2>/dev/null || true
expect_grep "^depth=0 C *= *JP, CN *= *$AUTH_CN\$" sserv2.log "auth-only: s_server did not verify the card's certificate"
expect_grep 'Verify return code: 0 \(ok\)' page2.txt "auth-only: client certificate not verified"
tail -n +"$((mark + 1))" "$JPKI_CARD_LOG" >card-auth-only.log
if grep -q '^> 00A4020C02001B' card-auth-only.log; then fail "auth-only: the signature PIN EF 001B was selected"; fi
if grep -q '^> 00A4020C020001' card-auth-only.log; then fail "auth-only: the signature certificate EF 0001 was selected"; fi
n_verify=$(verify_with_data_count card-auth-only.log)
((n_verify >= 1)) || fail "auth-only: the TLS login sent no VERIFY with the auth PIN"
echo "auth-only phase: $(grep -c '^>' card-auth-only.log) APDUs, $n_verify VERIFY with data (auth PIN), 0 SELECT of EF 001B"
pass "tokens = auth-only: one token, listing/keys/TLS work, the signature PIN is never selected or verified"
echo "NSS interop: all checks passed"
