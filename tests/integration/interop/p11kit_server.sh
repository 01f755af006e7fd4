#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Remote and sandboxed use: p11-kit server exports the card's tokens (chosen by PKCS#11 URI) on a
# Unix socket, and p11-kit-client.so (package p11-kit-modules), with P11_KIT_SERVER_ADDRESS set,
# is the module a sandboxed or remote program loads instead of ours. Through the client
# (pkcs11-tool): both tokens are listed with their labels and serial; the certificates read are
# the test PKI's; both keys sign (the signature key with its context-specific login) and OpenSSL
# verifies the signatures with $PKI; a server given only the authentication token's URI exports
# nothing else; the socket forwarded with ssh -R (to a private sshd) works the same; a wrong PIN answers CKR_PIN_INCORRECT (a malformed one without reaching the card),
# the tries-left flags come through, and the PIN locked by the third wrong try answers
# CKR_PIN_LOCKED, also for the right PIN afterwards. The server must survive all of it.
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
CLIENT=$(pkg-config p11-kit-1 --variable p11_module_path 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/pkcs11)/p11-kit-client.so
[[ -f $CLIENT ]] || fail "p11-kit-client.so not found at $CLIENT (apt-get install p11-kit-modules)"
card_facts

# start_server NAME URI…: p11-kit server for the tokens matching the URIs on $JPKI_WORK/NAME.sock;
# sets server_pid and exports P11_KIT_SERVER_ADDRESS from what the server prints.
start_server() {
  local name=$1 sock=$JPKI_WORK/$1.sock
  shift
  p11-kit server -f -s --provider "$M" -n "$sock" "$@" >"$name.env" 2>"$name.err" &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q '^P11_KIT_SERVER_ADDRESS=' "$name.env" 2>/dev/null && [[ -S $sock ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$name.env" "$name.err"; fail "p11-kit server $name exited"; }
    sleep 0.05
  done
  cat "$name.env"
  local addr
  addr=$(sed -nE 's/^P11_KIT_SERVER_ADDRESS=([^;]*);.*/\1/p' "$name.env")
  [[ $addr == "unix:path=$sock" ]] || { cat "$name.env" "$name.err"; fail "p11-kit server printed no address for $sock"; }
  export P11_KIT_SERVER_ADDRESS=$addr
}
# client LOG ARGS…: pkcs11-tool on p11-kit-client.so, no terminal, at most 30 s.
client() {
  local log=$1
  shift
  timeout 30 setsid -w pkcs11-tool --module "$CLIENT" "$@" </dev/null >"$log" 2>&1
}
# same_cert DER PEM WHAT: the certificate read through the client is the test PKI's.
same_cert() {
  cmp -s "$1" <(openssl x509 -in "$2" -outform DER) || fail "$3 read through p11-kit-client.so differs from $2"
}

step "p11-kit server --provider \$M \"pkcs11:serial=$SERIAL\""
start_server all "pkcs11:serial=$SERIAL"
trap 'stop_pid $server_pid' EXIT
all_pid=$server_pid
client list.txt -L || { cat list.txt; fail "pkcs11-tool -L through the client failed"; }
grep -E '^Slot|token label|serial num|token flags' list.txt
expect_grep "^ *token label *: $AUTH_LABEL *\$" list.txt "the client does not list the authentication token"
expect_grep "^ *token label *: $SIGN_LABEL *\$" list.txt "the client does not list the signature token"
(($(grep -c "^ *serial num *: $SERIAL *\$" list.txt) == 2)) || fail "the client does not show serial $SERIAL for both tokens"
(($(grep -c '^Slot ' list.txt) == 2)) || fail "the client lists other slots than the card's two tokens"
pass "p11-kit-client.so lists '$AUTH_LABEL' and '$SIGN_LABEL' (serial $SERIAL)"

step "certificates through the client"
AUTH=(--token-label "$AUTH_LABEL")
SIGN=(--token-label "$SIGN_LABEL")
card_mark
client read-auth.txt "${AUTH[@]}" --read-object --type cert --id 01 -o auth.der || { cat read-auth.txt; fail "reading the authentication certificate failed"; }
same_cert auth.der "$PKI/auth.pem" "the authentication certificate"
client read-authca.txt "${AUTH[@]}" --read-object --type cert --id 03 -o auth_ca.der || { cat read-authca.txt; fail "reading the authentication CA certificate failed"; }
same_cert auth_ca.der "$PKI/auth_ca.pem" "the authentication CA certificate"
client read-signca.txt "${SIGN[@]}" --read-object --type cert --id 04 -o sign_ca.der || { cat read-signca.txt; fail "reading the signature CA certificate failed"; }
same_cert sign_ca.der "$PKI/sign_ca.pem" "the signature CA certificate"
card_delta "public certificates" 0 0 0
card_mark
client read-sign.txt "${SIGN[@]}" --login --pin "$SIGN_PIN" --read-object --type cert --id 02 -o sign.der || { cat read-sign.txt; fail "reading the signature certificate failed"; }
same_cert sign.der "$PKI/sign.pem" "the signature certificate"
card_delta "the signature certificate (after login)" 0 1 0
pass "certificates 01, 03 (no PIN), 04 (no password) and 02 (after the password) are the test PKI's"

step "signatures with both keys through the client"
head -c 3000 /dev/urandom >data.bin
card_mark
client sign-auth.txt "${AUTH[@]}" --login --pin "$AUTH_PIN" --sign -m SHA256-RSA-PKCS --id 01 -i data.bin -o auth.sig ||
  { cat sign-auth.txt; fail "signing with the authentication key failed"; }
verify_sig sha256 "$PKI/auth.pem" data.bin auth.sig
card_delta "authentication key" 1 0 1
card_mark
# pkcs11-tool answers the signature key's CKA_ALWAYS_AUTHENTICATE with C_Login(CKU_CONTEXT_SPECIFIC).
client sign-sign.txt "${SIGN[@]}" --login --pin "$SIGN_PIN" --sign -m SHA256-RSA-PKCS --id 02 -i data.bin -o sign.sig ||
  { cat sign-sign.txt; fail "signing with the signature key failed"; }
verify_sig sha256 "$PKI/sign.pem" data.bin sign.sig
card_delta "signature key (login + context-specific login)" 0 2 1
pass "SHA256-RSA-PKCS signatures of both keys verify with \$PKI/auth.pem and \$PKI/sign.pem"

step "a server for the authentication token only (what to forward to a browser)"
start_server authonly "$AUTH_TOKEN_URI"
auth_pid=$server_pid
trap 'stop_pid $all_pid; stop_pid $auth_pid' EXIT
client list-auth.txt -L || { cat list-auth.txt; fail "pkcs11-tool -L through the auth-only server failed"; }
grep -E '^Slot|token label' list-auth.txt
expect_grep "^ *token label *: $AUTH_LABEL *\$" list-auth.txt "the auth-only server does not export the authentication token"
if grep -q 'JPKI Sign' list-auth.txt; then fail "the auth-only server exports the signature token"; fi
stop_pid "$auth_pid"
export P11_KIT_SERVER_ADDRESS="unix:path=$JPKI_WORK/all.sock"
pass "with \"$AUTH_TOKEN_URI\" only the authentication token is exported"

step "the server's socket forwarded with ssh -R (the card used from another host)"
# A private sshd stands for the remote host; ssh logs in to it with a throw-away key (not the
# card's) and forwards the remote socket to the server's.
ssh-keygen -q -t ed25519 -N '' -f "$JPKI_WORK/fwd_key" || fail "cannot make a client key"
start_sshd 2222 "$JPKI_WORK/fwd_key.pub" "StreamLocalBindUnlink yes"
ssh_opts 2222
trap 'stop_pid $all_pid; stop_pid $SSHD_PID; stop_pid ${fwd_pid:-}' EXIT
ssh "${SSH_CLIENT_OPTS[@]}" -i "$JPKI_WORK/fwd_key" -N -o ExitOnForwardFailure=yes \
  -R "$JPKI_WORK/remote.sock:$JPKI_WORK/all.sock" root@127.0.0.1 </dev/null >ssh-fwd.txt 2>&1 &
fwd_pid=$!
for _ in $(seq 200); do
  [[ -S remote.sock ]] && break
  kill -0 "$fwd_pid" 2>/dev/null || { cat ssh-fwd.txt sshd.log; fail "ssh -R exited"; }
  sleep 0.05
done
[[ -S remote.sock ]] || { cat ssh-fwd.txt; fail "ssh -R made no remote socket"; }
export P11_KIT_SERVER_ADDRESS="unix:path=$JPKI_WORK/remote.sock"
client list-fwd.txt -L || { cat list-fwd.txt; fail "pkcs11-tool -L over the forwarded socket failed"; }
expect_grep "^ *token label *: $AUTH_LABEL *\$" list-fwd.txt "the forwarded socket does not reach the authentication token"
card_mark
client sign-fwd.txt "${AUTH[@]}" --login --pin "$AUTH_PIN" --sign -m SHA256-RSA-PKCS --id 01 -i data.bin -o fwd.sig ||
  { cat sign-fwd.txt; fail "signing over the forwarded socket failed"; }
verify_sig sha256 "$PKI/auth.pem" data.bin fwd.sig
card_delta "authentication key over ssh -R" 1 0 1
stop_pid "$fwd_pid"
stop_pid "$SSHD_PID"
export P11_KIT_SERVER_ADDRESS="unix:path=$JPKI_WORK/all.sock"
pass "over ssh -R: the tokens are listed and the authentication key signs (verified with \$PKI/auth.pem)"

step "PIN errors come through unchanged"
# try_pin PIN LOG: a login to the authentication token through the client; must fail.
try_pin() {
  if client "$2" "${AUTH[@]}" --login --pin "$1" -O; then cat "$2"; fail "login with PIN '$1' succeeded"; fi
  grep -E 'C_Login|CKR_' "$2" | head -n2
}
# flags: the authentication token's flags as the client sees them.
flags() { client flags.txt -L && sed -n "/token label *: $AUTH_LABEL/,/serial num/p" flags.txt | sed -n 's/^ *token flags *: //p'; }
card_mark
try_pin 12 malformed.txt
expect_grep 'CKR_PIN_INCORRECT' malformed.txt "a malformed PIN: not CKR_PIN_INCORRECT"
card_delta "a malformed PIN (refused before the card)" 0 0 0
card_mark
try_pin 9999 wrong1.txt
expect_grep 'CKR_PIN_INCORRECT' wrong1.txt "first wrong PIN: not CKR_PIN_INCORRECT"
f=$(flags)
echo "flags: $f"
[[ $f == *"user PIN count low"* ]] || fail "no CKF_USER_PIN_COUNT_LOW after a wrong PIN"
try_pin 9998 wrong2.txt
expect_grep 'CKR_PIN_INCORRECT' wrong2.txt "second wrong PIN: not CKR_PIN_INCORRECT"
f=$(flags)
echo "flags: $f"
[[ $f == *"final user PIN try"* ]] || fail "no CKF_USER_PIN_FINAL_TRY with one try left"
try_pin 9997 wrong3.txt
expect_grep 'CKR_PIN_LOCKED' wrong3.txt "the wrong PIN that used the last try: not CKR_PIN_LOCKED"
card_delta "three wrong PINs" 3 0 0
f=$(flags)
echo "flags: $f"
[[ $f == *"user PIN locked"* ]] || fail "no CKF_USER_PIN_LOCKED after three wrong PINs"
card_mark
try_pin "$AUTH_PIN" locked.txt
expect_grep 'CKR_PIN_LOCKED' locked.txt "the right PIN on a locked card: not CKR_PIN_LOCKED"
card_delta "the right PIN on a locked card" 0 0 0
kill -0 "$all_pid" 2>/dev/null || fail "p11-kit server died"
pass "CKR_PIN_INCORRECT (malformed: no VERIFY), COUNT_LOW, FINAL_TRY, CKR_PIN_LOCKED, USER_PIN_LOCKED through p11-kit"
echo "p11-kit server interop: all checks passed"
