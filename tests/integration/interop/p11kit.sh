#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# p11-kit and GnuTLS's p11tool: the project's .module file (packaging/jpki-pkcs11.module, with the
# absolute path of the built module) in a test-local user configuration that hides the system's
# modules; list-modules shows both tokens; p11tool lists tokens, certificates and (after login)
# private keys with URIs selecting the token by serial; as_user p11tool --test-sign on both keys; and
# p11-kit-proxy.so used by pkcs11-tool works as well as our module loaded directly.
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
src_module=$here/../../../packaging/jpki-pkcs11.module
[[ -f $src_module ]] || fail "packaging/jpki-pkcs11.module not found"
cd "$JPKI_WORK"
card_facts

step "test-local p11-kit configuration"
# p11-kit ignores the user configuration in programs running as root ("skipping user config in
# program running as root"), and the harness runs as root: so every p11-kit client below runs as
# the unprivileged user nobody with HOME/XDG_CONFIG_HOME in this test's scratch directory.
U=$JPKI_WORK/user
export XDG_CONFIG_HOME=$U/.config
mkdir -p "$XDG_CONFIG_HOME/pkcs11/modules"
chmod 755 "$JPKI_WORK"
# The user nobody must be able to load the module: the build tree may sit below a directory only
# root can enter (a clone in `mktemp -d`, mode 0700), so load a copy from the scratch directory.
cp "$M" "$U/libjpki-pkcs11.so"
chmod 755 "$U" "$U/libjpki-pkcs11.so"
M=$U/libjpki-pkcs11.so
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$U" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" "$@"; }
# 'only': the user configuration replaces the system one, so OpenSC's module (which would also
# see the virtual card) and p11-kit-trust are not loaded.
echo 'user-config: only' >"$XDG_CONFIG_HOME/pkcs11/pkcs11.conf"
sed -E "s|^module:.*|module: $M|" "$src_module" >"$XDG_CONFIG_HOME/pkcs11/modules/jpki.module"
grep -q "^module: $M\$" "$XDG_CONFIG_HOME/pkcs11/modules/jpki.module" || fail "module line not rewritten"
cat "$XDG_CONFIG_HOME/pkcs11/modules/jpki.module"
chown -R 65534:65534 "$U"
cd "$U"

step "p11-kit list-modules"
as_user p11-kit list-modules >modules.txt 2>&1 || { cat modules.txt; fail "p11-kit list-modules failed"; }
cat modules.txt
# p11-kit 0.24 prints "jpki: PATH"; 0.25 prints "module: jpki" and then "    path: PATH".
if ! grep -q "^jpki: $M\$" modules.txt &&
  ! { grep -q '^module: jpki$' modules.txt && grep -Eq "^ +path: $M\$" modules.txt; }; then
  fail "our module is not listed under its .module name with path $M"
fi
expect_grep "token: $AUTH_LABEL\$" modules.txt "authentication token not listed"
expect_grep "token: $SIGN_LABEL\$" modules.txt "signature token not listed"
[[ $(grep -c "serial-number: $SERIAL" modules.txt) == 2 ]] || fail "both tokens should carry serial $SERIAL"
if grep -Eq '^(module: )?(opensc|p11-kit-trust)' modules.txt; then fail "system modules leaked into the test-local configuration"; fi
pass "p11-kit list-modules: module 'jpki', tokens '$AUTH_LABEL' and '$SIGN_LABEL', serial $SERIAL"

step "which PKCS#11 interface p11-kit and pkcs11-tool use"
# p11-kit >= 0.25 loads a module with C_GetInterface("PKCS 11", NULL) and says so only when it has
# to fall back to C_GetFunctionList; 0.24 always uses C_GetFunctionList.
p11kit_version=$(pkg-config --modversion p11-kit-1)
P11_KIT_DEBUG=lib as_user p11-kit list-modules >/dev/null 2>p11kit-debug.txt || true
grep -B1 "opened module: $M\$" p11kit-debug.txt | sed 's/^/  /'
if dpkg --compare-versions "$p11kit_version" ge 0.25; then
  grep -q "opened module: $M\$" p11kit-debug.txt || fail "p11-kit's debug log does not show our module being opened"
  if grep -B1 "opened module: $M\$" p11kit-debug.txt | grep -q 'Falling back to C_GetFunctionList'; then
    fail "p11-kit $p11kit_version fell back to C_GetFunctionList: C_GetInterface refused it"
  fi
  echo "p11-kit $p11kit_version loaded the module through C_GetInterface (default interface: PKCS 11 3.0)"
fi
# OpenSC's pkcs11-tool also asks C_GetInterface for the default interface; C_GetInfo through the
# 3.0 function list reports Cryptoki 3.0 (through the 2.40 list it reports 2.40).
pkcs11-tool --module "$M" -I >info.txt 2>&1 || { cat info.txt; fail "pkcs11-tool -I failed"; }
grep -E 'Cryptoki version|Manufacturer' info.txt | sed 's/^/  /'
expect_grep '^Cryptoki version 3\.0$' info.txt "pkcs11-tool did not get the PKCS#11 3.0 interface"
pass "PKCS#11 3.0 interface in use (p11-kit $p11kit_version, pkcs11-tool -I)"

step "p11tool --list-tokens"
as_user p11tool --list-tokens >tokens.txt 2>&1 || { cat tokens.txt; fail "p11tool --list-tokens failed"; }
cat tokens.txt
expect_grep "URL: pkcs11:.*serial=$SERIAL;token=$(urienc "$AUTH_LABEL")\$" tokens.txt "auth token URI missing"
expect_grep "URL: pkcs11:.*serial=$SERIAL;token=$(urienc "$SIGN_LABEL")\$" tokens.txt "sign token URI missing"
pass "p11tool --list-tokens: both token URIs with serial=$SERIAL"

step "p11tool --list-all-certs '$AUTH_TOKEN_URI' (no login)"
as_user p11tool --list-all-certs "$AUTH_TOKEN_URI" >certs.txt 2>&1 || { cat certs.txt; fail "--list-all-certs failed"; }
cat certs.txt
expect_grep 'URL: pkcs11:.*id=%01;.*type=cert' certs.txt "auth certificate (id 01) not listed"
expect_grep 'URL: pkcs11:.*id=%03;.*type=cert' certs.txt "auth CA certificate (id 03) not listed"
as_user p11tool --export "$AUTH_TOKEN_URI;id=%01;type=cert" >auth-export.pem 2>/dev/null || fail "--export of the auth certificate failed"
subj=$(openssl x509 -in auth-export.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
[[ $subj == "$AUTH_SUBJECT" ]] || fail "exported certificate subject '$subj' != '$AUTH_SUBJECT'"
cmp <(openssl x509 -in auth-export.pem -outform DER) "$PKI/auth.der" || fail "exported auth certificate differs from the card's"
echo "exported subject: $subj"
as_user p11tool --list-all-certs "$SIGN_TOKEN_URI" >sign-certs-nologin.txt 2>&1 ||
  { cat sign-certs-nologin.txt; fail "p11tool --list-all-certs on the signature token failed"; }
if grep -q 'id=%02' sign-certs-nologin.txt; then fail "signature certificate visible without the password"; fi
pass "p11tool: auth certificate (subject $subj) listed and exported without login; sign cert hidden"

step "p11tool --login --export of the signature certificate (README: sign.pem)"
as_user env GNUTLS_PIN=$SIGN_PIN p11tool --login --export "$SIGN_TOKEN_URI;id=%02;type=cert" >sign-export.pem 2>sign-export.err ||
  { cat sign-export.err; fail "--login --export of the signature certificate failed"; }
cmp <(openssl x509 -in sign-export.pem -outform DER) "$PKI/sign.der" || fail "exported signature certificate differs from the card's"
pass "p11tool --login --export: the signature certificate ($(openssl x509 -in sign-export.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//'))"

step "gnutls-cli through p11-kit's configuration (no --provider), TLS 1.2 with the auth key"
# The README's form: GnuTLS finds the module through p11-kit (the user configuration above).
make_server_pki srv
PORT=4434
gnutls-serv -p $PORT --x509certfile srv/srv.pem --x509keyfile srv/srv_key.pem \
  --x509cafile "$PKI/auth_ca.pem" --require-client-cert --verify-client-cert --priority NORMAL >serv.log 2>&1 &
srv=$!
trap 'stop_pid $srv' EXIT
wait_port $PORT $srv
sigs0=$(grep -c '^> 802A0080' "$JPKI_CARD_LOG" || true)
printf 'GET / HTTP/1.0\r\n\r\n' | as_user env GNUTLS_PIN=$AUTH_PIN timeout 30 gnutls-cli -p $PORT 127.0.0.1 \
  --x509cafile srv/srv_ca.pem --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 \
  --x509certfile "$AUTH_TOKEN_URI;id=%01;type=cert" --x509keyfile "$AUTH_TOKEN_URI;id=%01;type=private" \
  >cli.log 2>&1 || { cat cli.log serv.log; fail "gnutls-cli through p11-kit failed"; }
expect_grep '^- Handshake was completed' cli.log "handshake through p11-kit not completed"
for _ in $(seq 50); do grep -q '^- MAC:' serv.log && break; sleep 0.1; done
expect_grep '^- Status: The certificate is trusted' serv.log "server did not verify the card's certificate"
expect_grep "^	Subject: CN=$AUTH_CN,C=JP\$" serv.log "server did not see the card's certificate subject"
sigs1=$(grep -c '^> 802A0080' "$JPKI_CARD_LOG" || true)
((sigs1 == sigs0 + 1)) || fail "expected one card signature for the handshake ($sigs0 -> $sigs1)"
stop_pid $srv
trap - EXIT
pass "gnutls-cli found the module through p11-kit and the server trusted CN=$AUTH_CN"

step "p11tool --login --list-privkeys (both tokens)"
as_user env GNUTLS_PIN=$AUTH_PIN p11tool --login --list-privkeys "$AUTH_TOKEN_URI" >auth-keys.txt 2>&1 || { cat auth-keys.txt; fail "--list-privkeys (auth) failed"; }
cat auth-keys.txt
expect_grep "URL: pkcs11:.*serial=$SERIAL;token=$(urienc "$AUTH_LABEL");.*id=%01;.*type=private" auth-keys.txt "auth private key not listed after login"
expect_grep 'Type: Private key \(RSA-2048\)' auth-keys.txt "auth private key type"
as_user env GNUTLS_PIN=$SIGN_PIN p11tool --login --list-privkeys "$SIGN_TOKEN_URI" >sign-keys.txt 2>&1 || { cat sign-keys.txt; fail "--list-privkeys (sign) failed"; }
cat sign-keys.txt
expect_grep "URL: pkcs11:.*serial=$SERIAL;token=$(urienc "$SIGN_LABEL");.*id=%02;.*type=private" sign-keys.txt "sign private key not listed after login"
as_user env GNUTLS_PIN=$SIGN_PIN p11tool --login --list-all-certs "$SIGN_TOKEN_URI" >sign-certs.txt 2>&1 || { cat sign-certs.txt; fail "--login --list-all-certs (sign) failed"; }
expect_grep 'URL: pkcs11:.*id=%02;.*type=cert' sign-certs.txt "sign certificate not listed after login"
pass "p11tool --login --list-privkeys: auth key id 01 and sign key id 02; sign cert after login"

step "p11tool --test-sign (both keys)"
for role in auth sign; do
  if [[ $role == auth ]]; then uri="$AUTH_TOKEN_URI;id=%01;type=private" pin=$AUTH_PIN
  else uri="$SIGN_TOKEN_URI;id=%02;type=private" pin=$SIGN_PIN; fi
  as_user env GNUTLS_PIN=$pin p11tool --login --test-sign "$uri" >"test-sign-$role.txt" 2>&1 || { cat "test-sign-$role.txt"; fail "--test-sign ($role) failed"; }
  cat "test-sign-$role.txt"
  expect_grep 'Signing using RSA-SHA256\.\.\. ok' "test-sign-$role.txt" "$role: RSA-SHA256 signature"
  expect_grep 'Verifying against private key parameters\.\.\. ok' "test-sign-$role.txt" "$role: verification with key parameters"
  expect_grep 'Verifying against public key in the token\.\.\. ok' "test-sign-$role.txt" "$role: verification with the token's public key"
done
pass "p11tool --test-sign: RSA-SHA256 signatures of both keys verified (key parameters and token public key)"

step "p11-kit-proxy.so ($PROXY) vs. our module directly"
as_user pkcs11-tool --module "$M" -L >direct.txt 2>&1 || fail "pkcs11-tool -L (direct) failed"
as_user pkcs11-tool --module "$PROXY" -L >proxy.txt 2>&1 || { cat proxy.txt; fail "pkcs11-tool -L through p11-kit-proxy failed"; }
cat proxy.txt
for f in direct proxy; do
  grep -E 'token label|serial num|pin min/max|token flags' "$f.txt" | sed 's/ *$//' >"$f.tokens"
done
diff direct.tokens proxy.tokens || fail "tokens seen through p11-kit-proxy differ from the direct ones"
as_user pkcs11-tool --module "$PROXY" --token-label "$AUTH_LABEL" -O >proxy-objects.txt 2>&1 || fail "objects through the proxy"
expect_grep "subject: +DN: .*CN=$AUTH_CN" proxy-objects.txt "auth certificate subject through the proxy"
head -c 2000 /dev/urandom >data.bin
for role in auth sign; do
  if [[ $role == auth ]]; then label=$AUTH_LABEL id=01 pin=$AUTH_PIN; else label=$SIGN_LABEL id=02 pin=$SIGN_PIN; fi
  as_user pkcs11-tool --module "$PROXY" --token-label "$label" --login --pin "$pin" --sign -m SHA256-RSA-PKCS \
    --id $id -i data.bin -o "proxy-$role.sig" >"proxy-sign-$role.txt" 2>&1 || { cat "proxy-sign-$role.txt"; fail "$role signature through the proxy failed"; }
  verify_sig sha256 "$PKI/$role.pem" data.bin "proxy-$role.sig"
done
pass "p11-kit-proxy: same tokens as direct loading; auth and sign signatures through the proxy verify"
echo "p11-kit interop: all checks passed"
