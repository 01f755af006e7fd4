#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fault injection through the virtual card and pcscd: each fault × operation ends in a correct
# CK_RV, never a hang, never a signature by the wrong card or a cached certificate of the old one,
# and the module works again (in the SAME process) once the card is back. Prints the fault matrix.
#
# Runs inside pcsc-harness.sh --no-pcscd (fault_lib.sh starts pcscd and the cards itself).
source "$(dirname "$0")/fault_lib.sh"
cd "$W"

# Codes a fault may produce in the middle of a flow (PKCS#11 v2.40 §5: removal, device trouble,
# a lost login; CKR_PIN_LOCKED from C_Login only). CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED,
# CKR_ARGUMENTS_BAD or a PIN code from another function would be bugs.
FAULT_RVS='CKR_OK|CKR_DEVICE_REMOVED|CKR_TOKEN_NOT_PRESENT|CKR_SESSION_HANDLE_INVALID|CKR_DEVICE_ERROR|CKR_USER_NOT_LOGGED_IN|CKR_OBJECT_HANDLE_INVALID|CKR_KEY_HANDLE_INVALID|CKR_TOKEN_NOT_RECOGNIZED|CKR_SLOT_ID_INVALID'
matrix=()
failures=0

# probe HOOK STEPS…: runs p11probe; at each "pause" it runs HOOK (with the pause number) and lets
# the probe continue. Output in $W/p.out; a probe still running after 60 s counts as a hang.
probe() {
  local hook=$1
  shift
  rm -f p.in p.out
  # Each probe starts with an empty certificate cache, so a flow's APDUs are the same every time
  # (the rows count them); within the probe the cache works as usual, across card swaps too.
  rm -rf "$W/probe-cache"
  export JPKI_PKCS11_CACHE_DIR=$W/probe-cache
  mkfifo p.in
  : >p.out
  timeout 60 "$PROBE" "$M" "$@" <p.in >p.out 2>p.err &
  local pid=$!
  exec 7>p.in
  local paused=0 n
  while kill -0 "$pid" 2>/dev/null; do
    n=$(grep -c '^pause$' p.out || true)
    if ((n > paused)); then
      paused=$n
      "$hook" "$paused"
      echo >&7
    fi
    sleep 0.02
  done
  local rc=0
  wait "$pid" || rc=$?
  exec 7>&-
  ((rc == 124)) && echo "HANG (killed after 60 s)" >>p.out
  ((rc != 0 && rc != 124)) && echo "CRASH (p11probe exited $rc)" >>p.out
  return 0
}

# Step results before / after the LAST pause (the recovery), as "step=RV" words.
STEPS='^(init|open|login|ctx|read|sign|info|close|logout) '
before() {
  local last
  last=$(grep -n '^pause$' p.out | tail -1 | cut -d: -f1)
  head -n "$((${last:-100000} - 1))" p.out | grep -E "$STEPS" | awk '{printf "%s=%s ", $1, $2}'
}
after() {
  local last
  last=$(grep -n '^pause$' p.out | tail -1 | cut -d: -f1)
  [[ -n $last ]] && tail -n "+$((last + 1))" p.out | grep -E "$STEPS" | awk '{printf "%s=%s ", $1, $2}'
  return 0
}

# row FAULT OPERATION [PROBLEMS] [INFO]: judges p.out (every code allowed; recovery all CKR_OK)
# and adds a row. Any PROBLEMS text fails the row; INFO is only printed.
row() {
  local fault=$1 op=$2 problems=${3:-} info=${4:-} b a verdict=ok
  b=$(before)
  a=$(after)
  if grep -q HANG p.out; then
    verdict="FAIL (hang)"
  elif grep -q '^CRASH' p.out; then
    verdict="FAIL ($(grep -m1 '^CRASH' p.out))"
  elif grep -Eo '^[a-z]+ CKR_[A-Z_]+|^[a-z]+ 0x[0-9a-f]+' p.out | grep -v '^login CKR_PIN_LOCKED$' |
    awk '{print $2}' | grep -Eqv "^($FAULT_RVS)$"; then
    verdict="FAIL (unexpected code)"
  elif grep -q '^pause$' p.out && [[ -z $a ]]; then
    verdict="FAIL (no recovery steps after the last pause)"
  elif [[ -n $a ]] && grep -Eqv '^(([a-z]+=CKR_OK) ?)*$' <<<"$a"; then
    verdict="FAIL (no recovery)"
  fi
  [[ -n $problems ]] && verdict="FAIL: ${problems#; }${verdict#ok}"
  [[ -n $info ]] && verdict="$verdict; $info"
  [[ $verdict == ok* ]] || failures=$((failures + 1))
  matrix+=("$(printf '%-44s | %-6s | %-58s | %s' "$fault" "$op" "$b" "$verdict")")
  [[ $verdict == ok* ]] || { echo "--- $fault × $op:"; cat p.out p.err; } >&2
}

# faulted_check OP: a step of the faulted flow (before the last pause) that reported CKR_OK must
# have produced the right output: the signature verifies with the card's certificate, the
# certificate read is the card's. Prints the problem, if any, for row's PROBLEMS.
faulted_check() {
  local b
  b=$(before)
  case $1 in
    sign) if [[ $b == *"sign=CKR_OK"* ]] && ! sig_ok s1.sig "$W/pkiA/sign.pem"; then
        echo "; the faulted flow's sign said CKR_OK but its signature does not verify"
      fi ;;
    read) if [[ $b == *"read=CKR_OK"* ]] && ! cmp -s r1.der "$W/pkiA/auth.der"; then
        echo "; the faulted flow's read said CKR_OK but the certificate is not the card's"
      fi ;;
  esac
  return 0
}

apdu_name() {
  local c=$1
  case $c in
    00A4040C*) echo "SELECT AID" ;;
    00A4020C02*) echo "SELECT EF ${c:10:4}" ;;
    00B0*) echo "READ BINARY" ;;
    00200080) echo "VERIFY (status)" ;;
    00200080*) echo "VERIFY (PIN)" ;;
    802A*) echo "COMPUTE SIGNATURE" ;;
    *) echo "${c:0:8}" ;;
  esac
}

sig_ok() { # SIG CERT_PEM
  [[ -s $1 ]] && openssl x509 -in "$2" -pubkey -noout >pub.pem &&
    openssl dgst -sha256 -verify pub.pem -signature "$1" <(printf 'p11probe data') >/dev/null 2>&1
}

start_pcscd
start_card pkiA
# The second card's PKI (a different holder) for the card-swap rows.
"$VCARD" pki --out "$W/pkiB" >/dev/null

# Flows: the steps of each operation, and the steps that must work once the card is back.
declare -A FLOW=(
  [login]="open 0 login 1234"
  [read]="open 0 read r1.der"
  [sign]="open 1 login ABC123 sign s1.sig"
)
declare -A RECOVER=(
  [login]="open 0 login 1234 close"
  [read]="open 0 read r2.der close"
  [sign]="open 1 login ABC123 sign s2.sig close"
)

# ---- 1. card removed before the first APDU, and after each APDU of each flow ----
reinsert() { wait_absent; control insert; wait_present; }
remove_now() { control remove; wait_absent; }
for op in login read sign; do
  # APDUs of the flow in a fresh process (the trace names each one).
  stop_card
  start_card pkiA
  mark_log
  # shellcheck disable=SC2086
  probe true ${FLOW[$op]}
  mapfile -t cmds < <(sed -n 's/^> \([0-9A-F*]*\).*/\1/p' "$LOG")
  count=${#cmds[@]}
  ((count > 0)) || fail "flow $op sent no APDU"
  # Before the first APDU: the card is gone when the flow starts.
  remove_now
  insert_hook() { control insert; wait_present; }
  rm -f r1.der s1.sig
  # shellcheck disable=SC2086
  probe insert_hook ${FLOW[$op]} pause ${RECOVER[$op]}
  row "card removed before the first APDU" "$op" "$(faulted_check "$op")"
  for ((n = 1; n <= count; n++)); do
    stop_card
    start_card pkiA --fail-after "$n"
    rm -f r1.der s1.sig r2.der s2.sig
    # shellcheck disable=SC2086
    probe reinsert ${FLOW[$op]} pause ${RECOVER[$op]}
    extra=$(faulted_check "$op")
    [[ $op == sign ]] && { sig_ok s2.sig "$W/pkiA/sign.pem" || extra="$extra; recovered signature does not verify"; }
    [[ $op == read ]] && { cmp -s r2.der "$W/pkiA/auth.der" || extra="$extra; recovered certificate differs"; }
    row "removed after APDU $n/$count ($(apdu_name "${cmds[n - 1]}"))" "$op" "$extra"
  done
done
stop_card
start_card pkiA

# ---- 2. reset by another process between login and sign (SCardReconnect(SCARD_RESET_CARD)) ----
reset_other() { (($1 == 1)) && { opensc-tool --reset warm >/dev/null 2>&1 || opensc-tool --reset >/dev/null 2>&1; }; return 0; }
for slot in 0 1; do
  pin=$([[ $slot == 0 ]] && echo 1234 || echo ABC123)
  cert=$([[ $slot == 0 ]] && echo auth || echo sign)
  mark_log
  rm -f s1.sig s2.sig
  probe reset_other open $slot login $pin pause sign s1.sig pause login $pin sign s2.sig close
  extra=""
  sig_ok s2.sig "$W/pkiA/$cert.pem" || extra="re-login signature does not verify"
  # No PIN replay: every VERIFY carrying a PIN matches a C_Login the application made
  # (p11probe's sign step on the signature key makes a CKU_CONTEXT_SPECIFIC login).
  pins=$(grep -Ec '^> 00200080[0-9A-F*]{2,}' "$LOG" || true)
  logins=$(grep -Ec '^(login|ctx) CKR_OK' p.out || true)
  [[ $slot == 1 ]] && logins=$((logins + $(grep -Ec '^sign (CKR_OK|CKR_USER_NOT_LOGGED_IN)' p.out)))
  ((pins == logins)) || extra="$extra; $pins VERIFY with a PIN for $logins logins (PIN replayed?)"
  if [[ $slot == 0 ]]; then
    # The reset dropped the login: the auth key must not sign until the user logs in again.
    grep -q '^sign CKR_USER_NOT_LOGGED_IN' p.out || extra="$extra; sign after reset: $(grep -m1 '^sign' p.out)"
    [[ -s s1.sig ]] && extra="$extra; SIGNED after the reset without a new login"
  else
    # The signature key's CKU_CONTEXT_SPECIFIC login presents the password again: a signature
    # after the reset is legitimate; it must verify.
    [[ ! -s s1.sig ]] || sig_ok s1.sig "$W/pkiA/$cert.pem" || extra="$extra; wrong signature"
  fi
  sed -i 's/^login CKR_USER_ALREADY_LOGGED_IN/login CKR_OK/' p.out
  row "card reset by another process (slot $slot)" "sign" "$extra"
done

# ---- 3. card state lost without PC/SC knowing (power glitch: the card answers 6982) ----
silent_reset() { (($1 == 1)) && control reset; return 0; }
rm -f s2.sig
probe silent_reset open 0 login 1234 pause sign s1.sig pause login 1234 sign s2.sig close
extra=""
grep -q '^sign CKR_USER_NOT_LOGGED_IN' p.out || extra="sign: $(grep -m1 '^sign' p.out)"
sig_ok s2.sig "$W/pkiA/auth.pem" || extra="$extra; re-login signature does not verify"
row "card lost its login silently (vcard reset)" "sign" "$extra"

# ---- 4. another process leaves the card-info application selected ----
select_other() { (($1 == 1)) && { opensc-tool -s 00A4040C0AD3921000310001010408 >/dev/null 2>&1 || true; }; return 0; }
for slot in 0 1; do
  pin=$([[ $slot == 0 ]] && echo 1234 || echo ABC123)
  cert=$([[ $slot == 0 ]] && echo auth || echo sign)
  rm -f s1.sig s2.sig
  probe select_other open $slot login $pin pause read r1.der sign s1.sig pause login $pin sign s2.sig close
  extra=""
  [[ -s s1.sig ]] && ! sig_ok s1.sig "$W/pkiA/$cert.pem" && extra="WRONG signature after the other AP"
  sig_ok s2.sig "$W/pkiA/$cert.pem" || extra="$extra; signature after re-login does not verify"
  # The second login may legitimately answer CKR_USER_ALREADY_LOGGED_IN when the login survived.
  sed -i 's/^login CKR_USER_ALREADY_LOGGED_IN/login CKR_OK/' p.out
  row "card-info AP left selected by another process (slot $slot)" "sign" "$extra"
done

# ---- 5. a different card inserted between two calls ----
swap_to_b() { (($1 == 1)) && { stop_card; start_card pkiB; }; return 0; }
rm -f r1.der r2.der s1.sig s2.sig
probe swap_to_b info 0 open 0 read r1.der login 1234 pause sign s1.sig read r0.der pause info 0 open 0 read r2.der login 1234 sign s2.sig close
extra=""
[[ -s s1.sig ]] && extra="SIGNED after the card swap"
[[ -s r0.der ]] && extra="$extra; old session read a certificate"
cmp -s r1.der "$W/pkiA/auth.der" || extra="$extra; first certificate is not card A's"
cmp -s r2.der "$W/pkiB/auth.der" || extra="$extra; certificate after the swap is not card B's (stale cache?)"
sig_ok s2.sig "$W/pkiB/auth.pem" || extra="$extra; signature after the swap not by card B"
serials=$(grep -c '^serial' p.out)
[[ $serials == 2 && $(grep '^serial' p.out | sort -u | wc -l) == 2 ]] || extra="$extra; token serial did not change"
row "different card inserted between two calls" "sign" "$extra"
stop_card
start_card pkiA

# ---- 6. pcscd restarted, reader removed ----
restart_pcscd() { (($1 == 1)) && { stop_pcscd; start_pcscd; wait_present; }; return 0; }
rm -f s2.sig
probe restart_pcscd open 0 login 1234 pause sign s1.sig pause info 0 open 0 login 1234 sign s2.sig close
extra=""
sig_ok s2.sig "$W/pkiA/auth.pem" || extra="signature after the restart does not verify"
row "pcscd restarted between login and sign" "sign" "$extra"

reader_gone() {
  if (($1 == 1)); then stop_pcscd; start_pcscd 0; else stop_pcscd; start_pcscd 1; wait_present; fi
}
rm -f s2.sig
probe reader_gone open 0 login 1234 pause info 0 open 0 pause info 0 open 0 login 1234 sign s2.sig close
extra=""
b2=$(awk '/^pause$/ {p++; next} p == 1' p.out | tr '\n' ' ')
grep -Eq 'info CKR_(TOKEN_NOT_PRESENT|SLOT_ID_INVALID|DEVICE_REMOVED)' <<<"$b2" || extra="while the reader is gone: $b2"
sig_ok s2.sig "$W/pkiA/auth.pem" || extra="$extra; signature after the reader came back does not verify"
row "reader removed, then back" "info" "$extra"

stop_pcscd
probe true info 0 open 0
extra=""
grep -Eq '^(info|open) CKR_OK' p.out && extra="a call succeeded without pcscd"
row "pcscd not running" "info" "$extra"
start_pcscd
wait_present

# ---- 7. garbage and truncated answers (one-shot, the card stays in) ----
# The sign flow on the signature token: every APDU answered once with a truncated one-byte
# answer, and a few with garbage; then the same process must sign again.
stop_card
start_card pkiA
mark_log
probe true ${FLOW[sign]}
sign_count=$(apdu_count)
for ((n = 1; n <= sign_count; n++)); do
  for answer in 90 DEADBEEF; do
    [[ $answer == DEADBEEF ]] && ((n % 5 != 0)) && continue
    stop_card
    start_card pkiA --answer-hex "$answer" --answer-sw-after $((n - 1))
    rm -f s1.sig s2.sig
    # shellcheck disable=SC2086
    probe true ${FLOW[sign]} close pause open 1 login ABC123 sign s2.sig close
    extra=$(faulted_check sign)
    sig_ok s2.sig "$W/pkiA/sign.pem" || extra="$extra; no good signature afterwards"
    row "answer $n/$sign_count is '$answer'" "sign" "$extra"
  done
done
# Wrong status words where the PIN status (empty VERIFY) is expected: a correct code, no try
# lost, and the module works afterwards.
stop_card
start_card pkiA
mark_log
probe true open 0 login 1234
status_at=$(grep '^> ' "$LOG" | grep -n '^> 00200080$' | head -1 | cut -d: -f1)
[[ -n $status_at ]] || fail "the login flow sent no PIN status query"
reinsert_now() { control remove; wait_absent; control insert; wait_present; }
for sw in 6A82 6F00 9000 6984 63C0; do
  stop_card
  start_card pkiA --answer-sw "$sw" --answer-sw-after $((status_at - 1))
  mark_log
  rm -f s2.sig
  hook=true
  # A card that says "locked" is believed for this insertion; it is back after re-insertion.
  [[ $sw == 6984 || $sw == 63C0 ]] && hook=reinsert_now
  probe $hook open 0 login 1234 close pause open 0 login 1234 sign s2.sig close
  extra=""
  sig_ok s2.sig "$W/pkiA/auth.pem" || extra="no good signature afterwards"
  if [[ $hook == reinsert_now ]]; then
    grep -q '^login CKR_PIN_LOCKED' p.out || extra="$extra; login: $(grep -m1 '^login' p.out)"
    [[ $(grep -Ec '^> 00200080[0-9A-F*]{2,}' "$LOG") == 1 ]] || extra="$extra; a PIN was sent to a card that said locked"
  fi
  row "answer $status_at (VERIFY status) is SW $sw" "login" "$extra"
done

# ---- 8. a card that never answers: a timeout, not a hang ----
# With card-timeout = 2 the call that meets the mute card fails with CKR_DEVICE_ERROR after about
# 2 s while the card is still in the reader and still mute; the next call fails at once (the reader
# is stuck behind the exchange this process gave up on) instead of waiting again; once the card is
# pulled and put back, the same process logs in and signs again.
printf 'card-timeout = 2\n' >"$W/timeout.conf"
hang_hook() {
  case $1 in
  1) hang_t1=$(date +%s%N) ;;
  2)
    hang_t2=$(date +%s%N)
    control remove
    wait_absent
    control insert
    wait_present
    ;;
  esac
}
stop_card
start_card pkiA --hang-after 3
rm -f s2.sig
hang_t0=$(date +%s%N)
JPKI_PKCS11_CONF=$W/timeout.conf probe hang_hook open 0 login 1234 sign s1.sig pause open 0 pause \
  open 0 login 1234 sign s2.sig close
mute_ms=$(((hang_t1 - hang_t0) / 1000000))
again_ms=$(((hang_t2 - hang_t1) / 1000000))
extra=""
grep -Eq '^(login|sign) CKR_DEVICE_ERROR' p.out || extra="no CKR_DEVICE_ERROR from the mute card"
((mute_ms >= 1900 && mute_ms < 10000)) || extra="$extra; the timeout was not about 2 s"
((again_ms < 1000)) || extra="$extra; the call after the timeout waited again"
[[ $(awk '/^pause$/{n++} n==1 && /^open /{print $2}' p.out) == CKR_DEVICE_ERROR ]] ||
  extra="$extra; open on the stuck reader: $(awk '/^pause$/{n++} n==1 && /^open /' p.out)"
sig_ok s2.sig "$W/pkiA/auth.pem" || extra="$extra; no good signature once the card was back"
row "card never answers APDU 4 (card-timeout 2 s)" "login" "$extra" \
  "gave up after ${mute_ms} ms, next call failed in ${again_ms} ms"

echo
echo "Fault matrix (fault × operation → codes of the faulted steps → verdict):"
printf '%-44s | %-6s | %-58s | %s\n' "fault" "op" "codes (before the card is back)" "result"
printf '%s\n' "${matrix[@]}"
echo "rows: ${#matrix[@]}, failures: $failures"
((failures == 0)) || fail "$failures fault rows failed"
pass "fault matrix: ${#matrix[@]} rows, every one a correct CK_RV and a working module afterwards"
