#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# OpenSSH with the card's authentication key, against a private sshd (this network namespace,
# 127.0.0.1, its own host key and authorized_keys, log on stderr): ssh-keygen -D lists the
# authentication key (equal to the test PKI's auth.pem) and never the signature key, without a
# PIN; ssh -o PKCS11Provider logs in (PIN through SSH_ASKPASS, no terminal); a wrong PIN is refused
# without a login; ssh-add -s loads the key into an ssh-agent, which then logs in without a PIN
# and signs a Git commit (gpg.format ssh) that git verify-commit accepts; without the key (ssh-add
# -e) the login fails; with a "[program ssh*] tokens = auth-only" section ssh-keygen and the
# agent's ssh-pkcs11-helper see the authentication token only. sshd's log must name the card's key
# for every login, and the signature password must never reach the card.
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
card_facts
PORT=2222

# accepted_count: sshd's "Accepted publickey" lines for the card's key so far (sshd -e ends its
# lines with CR LF).
accepted_count() { tr -d '\r' <sshd.log | grep -c "^Accepted publickey for root from 127\.0\.0\.1 port [0-9]* ssh2: RSA $AUTH_FP\$" || true; }

# The PIN comes from SSH_ASKPASS (ssh has no terminal here); every prompt is recorded.
printf '%s\n' '#!/bin/sh' "printf '%s\\n' \"\$*\" >>'$JPKI_WORK/askpass.log'" "cat '$JPKI_WORK/pin'" >askpass.sh
chmod +x askpass.sh
echo "$AUTH_PIN" >pin
: >askpass.log
export SSH_ASKPASS=$JPKI_WORK/askpass.sh SSH_ASKPASS_REQUIRE=force DISPLAY=:99
unset SSH_AUTH_SOCK SSH_AGENT_PID
# prompts: the askpass prompts since the last call.
prompts() { cat askpass.log; : >askpass.log; }
# no_tty LOG CMD…: CMD without a terminal (setsid, stdin /dev/null), at most 30 s.
no_tty() {
  local log=$1
  shift
  timeout 30 setsid -w "$@" </dev/null >"$log" 2>&1
}

step "ssh-keygen -D: the authentication key, without a PIN"
openssl x509 -in "$PKI/auth.pem" -pubkey -noout >auth.pub.pem
openssl x509 -in "$PKI/sign.pem" -pubkey -noout >sign.pub.pem
AUTH_KEY=$(ssh-keygen -i -m PKCS8 -f auth.pub.pem | cut -d' ' -f1,2)
SIGN_KEY=$(ssh-keygen -i -m PKCS8 -f sign.pub.pem | cut -d' ' -f1,2)
AUTH_FP=$(ssh-keygen -l -E sha256 -f <(echo "$AUTH_KEY") | cut -d' ' -f2)
[[ $AUTH_KEY == ssh-rsa\ * && $AUTH_FP == SHA256:* ]] || fail "cannot convert auth.pem to an OpenSSH key"
card_mark
no_tty keygen.txt ssh-keygen -D "$M" || { cat keygen.txt; fail "ssh-keygen -D failed"; }
cat keygen.txt
card_delta "ssh-keygen -D" 0 0 0
[[ -z $(prompts) ]] || fail "ssh-keygen -D asked for a PIN"
grep -xF "$AUTH_KEY JPKI User Authentication" keygen.txt >authorized_keys ||
  fail "ssh-keygen -D does not list the key of \$PKI/auth.pem as 'JPKI User Authentication'"
if grep -qF "$SIGN_KEY" keygen.txt; then fail "ssh-keygen -D lists the signature key"; fi
pass "ssh-keygen -D: the key of \$PKI/auth.pem ($AUTH_FP) as 'JPKI User Authentication'; the signature key is not listed"

step "private sshd on 127.0.0.1:$PORT"
start_sshd "$PORT" "$JPKI_WORK/authorized_keys"
trap 'stop_pid $SSHD_PID' EXIT
ssh_opts "$PORT"
SSH=(ssh "${SSH_CLIENT_OPTS[@]}" root@127.0.0.1)
pass "sshd accepts root with the keys in $JPKI_WORK/authorized_keys"

step "ssh -o PKCS11Provider=\$M (PIN through SSH_ASKPASS)"
card_mark
n0=$(accepted_count)
no_tty ssh.txt "${SSH[@]}" -o PKCS11Provider="$M" 'echo "logged in as $(id -un)"' || { cat ssh.txt sshd.log; fail "ssh with PKCS11Provider failed"; }
cat ssh.txt
expect_grep '^logged in as root$' ssh.txt "the remote command did not run"
p=$(prompts)
echo "askpass: $p"
[[ $p == "Enter PIN for '$AUTH_LABEL': " ]] || fail "expected one PIN prompt for '$AUTH_LABEL', got: $p"
card_delta "ssh login" 1 0 1
(($(accepted_count) == n0 + 1)) || { cat sshd.log; fail "sshd did not accept the card's key $AUTH_FP"; }
tr -d '\r' <sshd.log | grep "Accepted publickey" | tail -n1
pass "ssh logged in with the card's authentication key (one PIN prompt, one VERIFY, one signature)"

step "ssh -o PKCS11Provider=\$M with a wrong PIN: no login"
echo 9999 >pin
card_mark
n0=$(accepted_count)
rc=0
no_tty ssh-wrong.txt "${SSH[@]}" -o PKCS11Provider="$M" 'echo "logged in as $(id -un)"' || rc=$?
grep -E 'Permission denied|C_Login|PIN' ssh-wrong.txt || true
echo "exit code: $rc; askpass: $(prompts | tr '\n' ' ')"
((rc == 255)) || { cat ssh-wrong.txt; fail "ssh with a wrong PIN exited $rc (expected 255)"; }
expect_grep 'Permission denied \(publickey\)' ssh-wrong.txt "ssh with a wrong PIN: not refused by the server"
card_delta "ssh with a wrong PIN" 1 0 0
(($(accepted_count) == n0)) || fail "sshd accepted a login with a wrong PIN"
echo "$AUTH_PIN" >pin
pass "wrong PIN: one VERIFY (no retry), no signature, Permission denied (publickey)"

step "ssh-agent + ssh-add -s \$M, then ssh through the agent"
# ssh-agent loads modules only from an allow-list (-P; default /usr/lib*/*,/usr/local/lib*/*).
eval "$(ssh-agent -s -P "$M")" >/dev/null
trap 'stop_pid $SSHD_PID; kill $SSH_AGENT_PID 2>/dev/null || true' EXIT
card_mark
no_tty ssh-add.txt ssh-add -s "$M" || { cat ssh-add.txt; fail "ssh-add -s failed"; }
cat ssh-add.txt
p=$(prompts)
echo "askpass: $p"
[[ $p == 'Enter passphrase for PKCS#11: ' ]] || fail "expected one PKCS#11 passphrase prompt, got: $p"
# ssh-pkcs11-helper logs in to every token with the one PIN: the module refuses the 4-digit PIN
# for the signature token before the card.
card_delta "ssh-add -s" 1 0 0
ssh-add -l >agent-keys.txt || fail "ssh-add -l failed"
cat agent-keys.txt
grep -qxF "2048 $AUTH_FP JPKI User Authentication (RSA)" agent-keys.txt || fail "the agent does not hold the card's key $AUTH_FP"
card_mark
n0=$(accepted_count)
no_tty ssh-agent.txt "${SSH[@]}" -o PKCS11Provider=none 'echo "agent login as $(id -un)"' || { cat ssh-agent.txt sshd.log; fail "ssh through the agent failed"; }
cat ssh-agent.txt
expect_grep '^agent login as root$' ssh-agent.txt "the remote command did not run through the agent"
[[ -z $(prompts) ]] || fail "ssh through the agent asked for a PIN"
card_delta "ssh through the agent" 0 0 1
(($(accepted_count) == n0 + 1)) || { cat sshd.log; fail "sshd did not accept the card's key through the agent"; }
tr -d '\r' <sshd.log | grep "Accepted publickey" | tail -n1
pass "ssh-add -s: one PIN prompt; the agent logged in without a PIN with the card's key"

step "git commit signed with the card's key through the agent (gpg.format ssh)"
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1  # only this repository's settings
git init -q repo
git -C repo config user.name "JPKI Test"
git -C repo config user.email "jpki@example.invalid"
git -C repo config gpg.format ssh
git -C repo config user.signingkey "key::$AUTH_KEY"
echo "jpki@example.invalid $AUTH_KEY" >allowed_signers
git -C repo config gpg.ssh.allowedSignersFile "$JPKI_WORK/allowed_signers"
echo "signed with a My Number Card" >repo/README
git -C repo add README
card_mark
no_tty git-commit.txt git -C repo commit -q -S -m "signed commit" || { cat git-commit.txt; fail "git commit -S failed"; }
card_delta "git commit -S" 0 0 1
git -C repo verify-commit -v HEAD >git-verify.txt 2>&1 || { cat git-verify.txt; fail "git verify-commit failed"; }
grep -E '^Good' git-verify.txt
grep -qxF "Good \"git\" signature for jpki@example.invalid with RSA key $AUTH_FP" git-verify.txt ||
  { cat git-verify.txt; fail "git verify-commit: no good signature with the card's key $AUTH_FP"; }
pass "git verify-commit: good signature with the card's key $AUTH_FP"

step "ssh-add -e \$M: without the card's key no login"
no_tty ssh-add-e.txt ssh-add -e "$M" || { cat ssh-add-e.txt; fail "ssh-add -e failed"; }
if ssh-add -l >agent-keys2.txt 2>&1; then cat agent-keys2.txt; fail "the agent still holds keys"; fi
card_mark
n0=$(accepted_count)
rc=0
no_tty ssh-nokey.txt "${SSH[@]}" -o PKCS11Provider=none 'echo "logged in"' || rc=$?
((rc == 255)) || { cat ssh-nokey.txt; fail "ssh without a key exited $rc (expected 255)"; }
expect_grep 'Permission denied \(publickey\)' ssh-nokey.txt "ssh without a key: not refused"
card_delta "ssh without a key" 0 0 0
(($(accepted_count) == n0)) || fail "sshd accepted a login without the card's key"
pass "ssh-add -e removed the key; ssh is refused (exit 255)"

step "[program ssh*] tokens = auth-only: ssh, ssh-keygen and the agent's helper never see the signature token"
printf '[program ssh*]\ntokens = auth-only\nlog-level = debug\nlog-file = %s\n' "$JPKI_WORK/module-ssh.log" >ssh-only.conf
export JPKI_PKCS11_CONF=$JPKI_WORK/ssh-only.conf
# A new agent: its helper inherits the agent's environment (with the file, as in /etc it would).
kill "$SSH_AGENT_PID"
eval "$(ssh-agent -s -P "$M")" >/dev/null
card_mark
no_tty keygen2.txt ssh-keygen -D "$M" || { cat keygen2.txt; fail "ssh-keygen -D with [program ssh*] failed"; }
grep -qxF "$AUTH_KEY JPKI User Authentication" keygen2.txt || { cat keygen2.txt; fail "ssh-keygen -D with [program ssh*]: no authentication key"; }
if grep -q 'JPKI for digital signature' keygen2.txt; then fail "ssh-keygen -D with [program ssh*] still sees the signature token"; fi
no_tty ssh-add2.txt ssh-add -s "$M" || { cat ssh-add2.txt; fail "ssh-add -s with [program ssh*] failed"; }
[[ $(prompts) == 'Enter passphrase for PKCS#11: ' ]] || fail "ssh-add -s with [program ssh*]: unexpected prompts"
n0=$(accepted_count)
no_tty ssh-agent2.txt "${SSH[@]}" -o PKCS11Provider=none 'echo "agent login as $(id -un)"' || { cat ssh-agent2.txt; fail "ssh through the agent with [program ssh*] failed"; }
(($(accepted_count) == n0 + 1)) || fail "sshd did not accept the card's key (agent, [program ssh*])"
card_delta "ssh-keygen -D, ssh-add -s and a login with [program ssh*]" 1 0 1
tail -n +"$((mark + 1))" "$JPKI_CARD_LOG" | grep -q '^> 00A4020C02001B' && fail "with [program ssh*] the signature PIN EF 001B was selected"
grep -E "initialized \(config .*(ssh-keygen|ssh-pkcs11-helper): '\[program ssh\*\]' at line 1; tokens auth-only" module-ssh.log ||
  { cat module-ssh.log; fail "the module did not apply [program ssh*] to ssh-keygen / ssh-pkcs11-helper"; }
if grep -q 'C_Login: PIN refused' module-ssh.log; then fail "with [program ssh*] a PIN still went to the signature token"; fi
pass "[program ssh*]: the agent's helper and ssh-keygen see the authentication token only; login works"
echo "SSH interop: all checks passed"
