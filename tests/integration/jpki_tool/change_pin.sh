#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# jpki-tool change-pin against two cards (card 0 normal, card 1 with both PINs locked): both PINs
# changed from environment variables (the old one is then refused, the new one signs, checked
# with OpenSSL); malformed new PINs reach nothing; a wrong current PIN changes nothing and costs
# one try; a locked PIN receives no VERIFY; exit codes as for `sign`; and on a terminal (tmux) the
# tries left are shown, the current PIN asked for once and the new one twice, none echoed.
source "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is not installed (apt-get install tmux)"
P=$JPKI_PKI_DIR
L=(--reader "PCD 00 01")  # the locked card
# CHANGE REFERENCE DATA commands in a card's log ("> 0024018004**").
change_count() { grep -Ec '^> 00240180[0-9A-Fa-f*]{2,}' "${1:-$JPKI_CARD_LOG}" || true; }
tries() {  # tries auth|sign: the tries left, from status --json (no try spent)
  "$T" --reader "PCD 00 00" status --json >status.json
  python3 -c "import json,sys; print(json.load(open('status.json'))['pins']['$1']['triesLeft'])"
}
printf 'jpki-tool change-pin document %s\n' "$(date +%s%N)" >doc.txt

# --- both PINs, from environment variables --------------------------------------------------
for key in auth sign; do
  if [[ $key == auth ]]; then old=1234 new=5678 stored=5678 max=3 line='Authentication PIN: +3 of 3 tries left'
  else old=ABC123 new=newpass12 stored=NEWPASS12 max=5 line='Signature password: +5 of 5 tries left'; fi
  log_before=$(grep -c '' "$JPKI_CARD_LOG")
  changes=$(change_count)
  OLD=$old NEW=$new expect_rc 0 "change-pin --key $key" -- "$T" --reader "PCD 00 00" change-pin --key $key --pin-env OLD --new-pin-env NEW
  expect_grep "$line" out.txt "tries left shown before the change"
  expect_grep 'changed\.$' out.txt "change reported"
  [[ $(change_count) == $((changes + 1)) ]] || fail "not exactly one CHANGE REFERENCE DATA ($key)"
  if [[ $key == auth ]]; then
    echo "--- the card's APDU log of 'jpki-tool change-pin --key auth' (masked):"
    tail -n +$((log_before + 1)) "$JPKI_CARD_LOG" | grep -v '^#' | sed 's/ ([0-9.]* ms)//'
  fi
  pinhex=$(printf '%s' "$stored" | od -An -tx1 | tr -d ' \n')
  commands=$(grep '^> ' "$JPKI_CARD_LOG")
  [[ ${commands,,} != *"$pinhex"* ]] || fail "the new $key PIN is in the card's log"
  OLD=$old expect_rc 7 "the old $key PIN is refused" -- "$T" --reader "PCD 00 00" sign --key $key -i doc.txt -o x.sig --pin-env OLD
  expect_grep "$((max - 1)) tries left" err.txt "the refused old $key PIN cost one try"
  NEW=$new expect_rc 0 "the new $key PIN signs" -- "$T" --reader "PCD 00 00" sign --key $key -i doc.txt -o $key.sig --pin-env NEW
  verify_sig sha256 "$P/$key.pem" doc.txt $key.sig
  [[ $(tries $key) == "$max" ]] || fail "the new $key PIN did not reset the counter"
  pass "$key: changed; old PIN refused (one try); the new one signs (OpenSSL verifies)"
done

# --- malformed new (and current) PINs: exit 7, no PIN reaches the card ----------------------
verifies=$(verify_with_data_count) changes=$(change_count)
for c in "auth 5678 123" "auth 5678 56789" "auth 5678 56a8" "auth 12a4 2468" "sign NEWPASS12 NEW12" \
         "sign NEWPASS12 NEW-PASS1" "sign NEWPASS12 NEWPASSWORD123456"; do
  read -r key old bad <<<"$c"
  OLD=$old BAD=$bad expect_rc 7 "change-pin --key $key to '$bad'" -- "$T" change-pin --key $key --pin-env OLD --new-pin-env BAD
  expect_grep 'no try was spent' err.txt "message says no try was spent"
done
[[ $(verify_with_data_count) == "$verifies" && $(change_count) == "$changes" ]] ||
  fail "a malformed PIN led to a VERIFY or CHANGE"
[[ $(tries auth) == 3 && $(tries sign) == 5 ]] || fail "a malformed PIN cost a try"
pass "7 malformed PINs: exit 7, no VERIFY, no CHANGE, no try spent"

# --- a wrong current PIN: nothing changed, one try ------------------------------------------
verifies=$(verify_with_data_count) changes=$(change_count)
OLD=9999 NEW=2468 expect_rc 7 "wrong current auth PIN" -- "$T" change-pin --key auth --pin-env OLD --new-pin-env NEW
expect_grep 'wrong current user authentication PIN: 2 tries left; nothing was changed' err.txt "wrong-PIN message"
[[ $(verify_with_data_count) == $((verifies + 1)) && $(change_count) == "$changes" ]] ||
  fail "the wrong current PIN: not one VERIFY and no CHANGE"
[[ $(tries auth) == 2 ]] || fail "the wrong current PIN did not cost exactly one try"
OLD=9998 NEW=2468 expect_rc 7 "second wrong current auth PIN" -- "$T" change-pin --key auth --pin-env OLD --new-pin-env NEW
expect_grep 'WARNING: only one try left' err.txt "last-try warning"
OLD=5678 NEW=2468 expect_rc 0 "change with one try left" -- "$T" change-pin --key auth --pin-env OLD --new-pin-env NEW
expect_grep 'Authentication PIN: +1 of 3 tries left' out.txt "one try left shown before"
expect_grep 'WARNING: only one try left' out.txt "warning shown before the change"
[[ $(tries auth) == 3 ]] || fail "the counter is not full after the change"
pass "wrong current PIN: exit 7, one try each, nothing changed; then the right one changes it"

# --- the locked card: exit 6, no PIN sent ---------------------------------------------------
LOCKED_LOG=$JPKI_WORK/card1.log
OLD=1234 NEW=5678 expect_rc 6 "change-pin on a locked auth PIN" -- "$T" "${L[@]}" change-pin --key auth --pin-env OLD --new-pin-env NEW
expect_grep 'is locked \(no tries left\): it cannot be changed' err.txt "refused before asking for a PIN"
OLD=ABC123 NEW=NEWPASS1 expect_rc 6 "change-pin on a locked password" -- "$T" "${L[@]}" change-pin --key sign --pin-env OLD --new-pin-env NEW
[[ $(verify_with_data_count "$LOCKED_LOG") == 0 && $(change_count "$LOCKED_LOG") == 0 ]] ||
  fail "a PIN was sent to the locked card"
pass "locked card: exit 6, no VERIFY with data, no CHANGE"

# --- usage ---------------------------------------------------------------------------------
expect_rc 0 "change-pin --help" -- "$T" change-pin --help
expect_grep 'Exit codes:' out.txt "help lists the exit codes"
expect_rc 2 "change-pin without --key" -- "$T" change-pin --pin-env X
OLD=2468 expect_rc 2 "unset --new-pin-env variable" -- "$T" change-pin --key auth --pin-env OLD --new-pin-env NO_SUCH_VAR
OLD=2468 expect_rc 2 "no terminal for the new PIN" -- setsid -w "$T" change-pin --key auth --pin-env OLD
expect_grep 'for scripts: --new-pin-env' err.txt "the message names --new-pin-env"

# --- on a terminal: tries shown, current once, new twice, nothing echoed ----------------------
export TMUX_TMPDIR=$JPKI_WORK
s=jpki-tool-change
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
start() {  # start ARGS…: jpki-tool ARGS in the pane, after a new marker
  run=$((run + 1))
  tmux send-keys -t "$s" "clear; echo ==run$run==; '$T' --reader 'PCD 00 00' $*; echo \"rc=\$?\"" Enter
}
tmux new-session -d -s "$s" -x 150 -y 40 "bash --norc --noprofile"
trap 'tmux kill-server 2>/dev/null || true' EXIT
start change-pin --key auth
wait_for 'Current user authentication PIN \(4 digits\): *$' "no prompt for the current PIN"
grep -Eq 'Authentication PIN: +3 of 3 tries left' <<<"$(since_mark)" || { screen >&2; fail "tries not shown before the prompt"; }
tmux send-keys -t "$s" "2468" Enter
wait_for 'New user authentication PIN \(4 digits\): *$' "no prompt for the new PIN"
tmux send-keys -t "$s" "1357" Enter
wait_for 'New user authentication PIN again: *$' "no prompt to repeat the new PIN"
tmux send-keys -t "$s" "1357" Enter
wait_for '^rc=[0-9]' "change-pin on the terminal did not finish"
since_mark | sed "/^$/d" | tee screen.txt
expect_grep '^rc=0' screen.txt "change-pin on the terminal succeeded"
expect_grep 'User authentication PIN changed\.' screen.txt "change reported on the terminal"
grep -Eq '2468|1357' screen.txt && fail "a PIN was echoed on the terminal"
# The two entries of the new PIN differ: exit 7 and nothing sent after the current PIN was typed.
verifies=$(verify_with_data_count)
start change-pin --key auth
wait_for 'Current user authentication PIN \(4 digits\): *$' "no prompt for the current PIN (2)"
tmux send-keys -t "$s" "1357" Enter
wait_for 'New user authentication PIN \(4 digits\): *$' "no prompt for the new PIN (2)"
tmux send-keys -t "$s" "1111" Enter
wait_for 'New user authentication PIN again: *$' "no prompt to repeat the new PIN (2)"
tmux send-keys -t "$s" "2222" Enter
wait_for '^rc=[0-9]' "change-pin with differing entries did not finish"
since_mark | sed "/^$/d" | tee screen2.txt
expect_grep '^rc=7' screen2.txt "differing new PINs give exit 7"
expect_grep 'differ: nothing was changed' screen2.txt "differing new PINs reported"
grep -Eq '1357|1111|2222' screen2.txt && fail "a PIN was echoed on the terminal"
[[ $(verify_with_data_count) == "$verifies" ]] || fail "a PIN was sent although the new PIN entries differ"
NEW=1357 expect_rc 0 "the PIN typed on the terminal signs" -- "$T" --reader "PCD 00 00" sign --key auth -i doc.txt -o t.sig --pin-env NEW
verify_sig sha256 "$P/auth.pem" doc.txt t.sig
OLD=1357 NEW=2468 expect_rc 0 "change-pin --json" -- "$T" --reader "PCD 00 00" --json change-pin --key auth --pin-env OLD --new-pin-env NEW
python3 -c 'import json; d=json.load(open("out.txt")); assert d=={"key":"auth","changed":True,"triesLeft":3,"maxTries":3}, d' ||
  fail "change-pin --json output"
pass "jpki-tool change-pin: all checks passed"
