#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# C_SetPIN through real clients, pcscd and the virtual cards (card 0 normal, card 1 with both PINs
# locked): pkcs11-tool --change-pin changes both PINs (the old one is then refused, the new one
# logs in and signs, checked with OpenSSL against the test PKI); a malformed new PIN sends no APDU
# (the module's APDU trace between the calls); a wrong current PIN changes nothing and costs one
# try, and a locked PIN receives no VERIFY (both typed at pkcs11-tool's prompt in tmux, so that
# no C_Login comes first); NSS's modutil -changepw works too (the token keeps CKF_WRITE_PROTECTED).
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"
command -v tmux >/dev/null || fail "tmux is not installed (apt-get install tmux)"
# The module's debug log with the APDU trace (PINs masked): which APDUs each call sent.
cat >module.conf <<CONF
log-level = debug
log-file = $JPKI_WORK/module.log
apdu-trace = yes
CONF
export JPKI_PKCS11_CONF=$JPKI_WORK/module.conf
LOCKED_LOG=$JPKI_WORK/card1.log
p11() { pkcs11-tool --module "$M" "$@"; }
# flags SLOT: the token flags pkcs11-tool -T lists for that slot ("Slot N (0x…): …" blocks).
flags() { p11 -T 2>/dev/null | awk -F: -v n="$1" '/^Slot / {slot = $1} slot == "Slot " n " (0x" sprintf("%x", n) ")" && /token flags/ {print $2; exit}'; }
# CHANGE REFERENCE DATA commands in a card's log ("> 0024018004**").
change_count() { grep -Ec '^> 00240180[0-9A-Fa-f*]{2,}' "${1:-$JPKI_CARD_LOG}" || true; }
# APDUs sent by the last C_SetPIN: trace lines after the previous call's "-> CKR_" line.
setpin_apdus() {
  awk '/ C_SetPIN -> / {n = c; found = 1} / -> CKR_/ {c = 0; next} / apdu > / {c++}
       END {print found ? n : "none"}' module.log
}
last_setpin_rv() { grep -o 'C_SetPIN -> CKR_[A-Z_]*' module.log | tail -n 1 | cut -d' ' -f3; }
head -c 2000 /dev/urandom >data.bin

# --- both PINs changed with pkcs11-tool --change-pin ------------------------------------------
for role in auth sign; do
  if [[ $role == auth ]]; then
    slot=0 id=01 old=1234 new=5678 stored=5678 tries=3
  else
    slot=1 id=02 old=ABC123 new=newpass12 stored=NEWPASS12 tries=5
  fi
  changes=$(change_count)
  log_before=$(grep -c '' "$JPKI_CARD_LOG")
  p11 --slot $slot --change-pin --pin $old --new-pin $new >change-$role.txt 2>&1 ||
    { cat change-$role.txt; fail "pkcs11-tool --change-pin ($role) failed"; }
  expect_grep 'PIN successfully changed' change-$role.txt "pkcs11-tool did not report the change"
  [[ $(last_setpin_rv) == CKR_OK ]] || fail "C_SetPIN ($role) answered $(last_setpin_rv)"
  [[ $(change_count) == $((changes + 1)) ]] || fail "not exactly one CHANGE REFERENCE DATA ($role)"
  if [[ $role == auth ]]; then
    echo "--- the card's APDU log of the change (masked), from C_OpenSession to C_CloseSession:"
    tail -n +$((log_before + 1)) "$JPKI_CARD_LOG" | grep -v '^#' | sed 's/ ([0-9.]* ms)//' |
      grep -Ev '^< [0-9A-F]{5,}(9000|6282)$|^> 00B0' || true
  fi
  # No PIN in a log: the commands of the card log and of the module's APDU trace are masked.
  pinhex=$(printf '%s' "$stored" | od -An -tx1 | tr -d ' \n')
  commands=$(grep '^> ' "$JPKI_CARD_LOG"; grep -o 'apdu > .*  <' module.log | tr -d ' ')
  [[ ${commands,,} != *"$pinhex"* ]] || fail "the new $role PIN appears in an APDU log"
  grep -Eq "C_SetPIN.*($new|$stored)" module.log && fail "the new $role PIN appears in the module log"
  if p11 --slot $slot --login --pin $old -O >old-$role.txt 2>&1; then fail "the old $role PIN still works"; fi
  expect_grep CKR_PIN_INCORRECT old-$role.txt "the old $role PIN is not refused as incorrect"
  [[ $(flags $slot) == *"count low"* ]] || fail "the refused old $role PIN did not cost a try"
  p11 --slot $slot --login --pin $stored --sign -m SHA256-RSA-PKCS --id $id -i data.bin \
    -o $role.sig >sign-$role.txt 2>&1 || { cat sign-$role.txt; fail "the new $role PIN does not sign"; }
  verify_sig sha256 "$JPKI_PKI_DIR/$role.pem" data.bin $role.sig
  [[ $(flags $slot) != *"count low"* ]] || fail "the new $role PIN did not reset the counter to $tries"
  pass "$role: changed by pkcs11-tool --change-pin; old PIN refused (one try); new PIN signs (OpenSSL verifies)"
done
p11 --slot 1 --login --pin newpass12 -O >/dev/null 2>&1 || fail "lower-case new password not accepted at login"

# --- a malformed new PIN: C_SetPIN sends no APDU at all ---------------------------------------
for case in "0 5678 123 CKR_PIN_LEN_RANGE" "0 5678 12a4 CKR_PIN_INVALID" "0 5678 56789 CKR_PIN_LEN_RANGE" \
            "1 NEWPASS12 NEW12 CKR_PIN_LEN_RANGE" "1 NEWPASS12 NEW-PASS1 CKR_PIN_INVALID"; do
  read -r slot old bad rv <<<"$case"
  verifies=$(verify_with_data_count) changes=$(change_count)
  if p11 --slot "$slot" --change-pin --pin "$old" --new-pin "$bad" >bad.txt 2>&1; then
    fail "malformed new PIN '$bad' accepted"
  fi
  expect_grep "C_SetPIN failed.*$rv" bad.txt "malformed new PIN '$bad' not answered $rv"
  [[ $(setpin_apdus) == 0 ]] || fail "C_SetPIN sent $(setpin_apdus) APDU(s) for the malformed new PIN '$bad'"
  # pkcs11-tool logged in with the current PIN first: that one VERIFY, nothing else.
  [[ $(verify_with_data_count) == $((verifies + 1)) && $(change_count) == "$changes" ]] ||
    fail "a PIN reached the card for the malformed new PIN '$bad'"
done
p11 --slot 0 --login --pin 5678 -O >/dev/null 2>&1 || fail "the PIN changed after a refused new PIN"
pass "5 malformed new PINs: CKR_PIN_LEN_RANGE / CKR_PIN_INVALID, no APDU from C_SetPIN"

# --- wrong and locked current PINs, typed at pkcs11-tool's prompt (no C_Login before) --------
export TMUX_TMPDIR=$JPKI_WORK
s=jpki-change-pin
run=0
screen() { tmux capture-pane -p -t "$s" -S -50; }
# What the screen shows after the current run's marker line (neither an earlier run's prompts
# nor the typed command line count).
since_mark() {
  screen | awk -v m="==run$run==" 'index($0, m) {buf = ""; f = 1; next} f {buf = buf $0 "\n"}
                                    END {printf "%s", buf}'
}
wait_for() {  # wait_for PATTERN DESCRIPTION
  for _ in $(seq 200); do grep -Eq -- "$1" <<<"$(since_mark)" && return 0; sleep 0.05; done
  screen >&2; fail "$2"
}
tmux new-session -d -s "$s" -x 150 -y 40 "bash --norc --noprofile"
trap 'tmux kill-server 2>/dev/null || true' EXIT
# prompt_change SLOT NEW TYPED: pkcs11-tool --change-pin asks for the current PIN, TYPED is typed
# (it must not be echoed); prints "rc=N". pkcs11-tool shows its prompt before it turns echo off
# (util_getpass), hence the pause before typing.
prompt_change() {
  run=$((run + 1))
  tmux send-keys -t "$s" "clear; echo ==run$run==; JPKI_PKCS11_CONF=$JPKI_PKCS11_CONF pkcs11-tool --module '$M' --slot $1 --change-pin --new-pin $2; echo \"rc=\$?\"" Enter
  wait_for 'Please enter the current PIN: *$' "pkcs11-tool did not ask for the current PIN"
  sleep 0.5
  tmux send-keys -t "$s" "$3" Enter
  wait_for '^rc=[0-9]' "pkcs11-tool --change-pin did not finish"
  since_mark >screen.txt
  grep -q -- "$3" screen.txt && fail "the PIN typed at the prompt was echoed"
  grep -o '^rc=[0-9]*' screen.txt
}
verifies=$(verify_with_data_count) changes=$(change_count)
[[ $(prompt_change 0 2468 9999) == rc=1 ]] || { cat screen.txt; fail "wrong current PIN accepted"; }
[[ $(last_setpin_rv) == CKR_PIN_INCORRECT ]] || fail "wrong current PIN answered $(last_setpin_rv)"
[[ $(verify_with_data_count) == $((verifies + 1)) ]] || fail "the wrong current PIN was not sent exactly once"
[[ $(change_count) == "$changes" ]] || fail "a CHANGE REFERENCE DATA followed a wrong current PIN"
f=$(flags 0)
[[ $f == *"count low"* && $f != *"final"* ]] || fail "after one wrong current PIN the flags are '$f'"
if p11 --slot 0 --login --pin 2468 -O >/dev/null 2>&1; then fail "the PIN changed although the current one was wrong"; fi
p11 --slot 0 --login --pin 5678 -O >/dev/null 2>&1 || fail "the PIN is no longer 5678"
pass "wrong current PIN: CKR_PIN_INCORRECT, one VERIFY, no CHANGE, one try spent, nothing changed"

# Card 1 has both PINs locked: C_SetPIN answers CKR_PIN_LOCKED and the card sees no PIN.
[[ $(flags 2) == *"PIN locked"* ]] || fail "card 1 is not locked"
[[ $(prompt_change 2 5678 1234) == rc=1 ]] || { cat screen.txt; fail "change on a locked PIN succeeded"; }
[[ $(last_setpin_rv) == CKR_PIN_LOCKED ]] || fail "locked auth PIN answered $(last_setpin_rv)"
[[ $(prompt_change 3 NEWPASS1 ABC123) == rc=1 ]] || fail "change on a locked password succeeded"
[[ $(last_setpin_rv) == CKR_PIN_LOCKED ]] || fail "locked sign PIN answered $(last_setpin_rv)"
if p11 --slot 2 --change-pin --pin 1234 --new-pin 5678 >locked.txt 2>&1; then fail "locked: login accepted"; fi
expect_grep CKR_PIN_LOCKED locked.txt "pkcs11-tool --pin on a locked card"
[[ $(verify_with_data_count "$LOCKED_LOG") == 0 && $(change_count "$LOCKED_LOG") == 0 ]] ||
  fail "a PIN was sent to the locked card"
pass "locked PINs: CKR_PIN_LOCKED, no VERIFY with data and no CHANGE reached the card"

# --- NSS: modutil -changepw (PK11_ChangePW: C_Login, then C_SetPIN in a R/W session) ----------
label=$(p11 -L 2>/dev/null | awk -F': *' '/token label/ && /JPKI Auth/ {print $2; exit}' | sed 's/ *$//')
[[ -n $label ]] || fail "no auth token label"
mkdir nssdb
modutil -create -dbdir sql:nssdb -force >/dev/null 2>&1 || fail "modutil -create"
modutil -add jpki -libfile "$M" -dbdir sql:nssdb -force >/dev/null 2>&1 || fail "modutil -add"
printf '5678\n' >old.pw
printf '1357\n' >new.pw
modutil -changepw "$label" -dbdir sql:nssdb -pwfile old.pw -newpwfile new.pw -force >nss.txt 2>&1 ||
  { cat nss.txt; fail "modutil -changepw failed"; }
[[ $(last_setpin_rv) == CKR_OK ]] || fail "NSS's C_SetPIN answered $(last_setpin_rv)"
p11 --slot 0 --login --pin 1357 -O >/dev/null 2>&1 || fail "the PIN set through NSS does not log in"
pass "NSS modutil -changepw changed the auth PIN of '$label'"
pass "module change-pin: all checks passed"
