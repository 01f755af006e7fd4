#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 20: the module keeps its PC/SC transaction open between calls that follow each other
# closely (consecutive signatures then need no SELECT of the key EF), and gives the card back
# once the process pauses, while the process and its session are still alive. Through the real
# pcscd: a probe logs in and signs twice, then pauses with its session open; another PC/SC program
# (opensc-tool, which knows nothing of this module and selects applications of its own) must get
# the card meanwhile; the probe's next signature must then select the key EF again (the card is
# no longer as the module left it): no COMPUTE SIGNATURE may reach the card without a key EF
# current. That signature ends in a verified signature, or in CKR_USER_NOT_LOGGED_IN when the other
# program's selections cleared the login, after which the probe logs in and signs again.
source "$(dirname "$0")/../lib.sh"
PROBE=${JPKI_P11PROBE:?}
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"

: >"$JPKI_CARD_LOG"
mkfifo p.in
timeout 120 "$PROBE" "$M" open 0 login 1234 sign s1.bin sign s2.bin pause sign s3.bin \
  login 1234 sign s4.bin <p.in >p.out 2>p.err &
pid=$!
exec 7>p.in
for _ in $(seq 600); do
  grep -q '^pause$' p.out && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
grep -q '^pause$' p.out || { cat p.out p.err; fail "the probe never reached its pause"; }
mark=$(grep -c '^> ' "$JPKI_CARD_LOG" || true)

# pcsc-lite makes a program wait while another one's transaction is open: opensc-tool only gets
# the card if the paused process has ended its transaction (without exiting).
if ! timeout 60 opensc-tool -r 0 -s 00:A4:02:0C:02:00:0A >other.out 2>&1; then
  cat other.out
  fail "another PC/SC program did not get the card while the module's process was paused"
fi
kill -0 "$pid" 2>/dev/null || fail "the probe ended before the other program's turn"
other=$(($(grep -c '^> ' "$JPKI_CARD_LOG" || true) - mark))
((other > 0)) || fail "the other program's commands are not in the card's log"
pass "another PC/SC program got the card while the module's process was paused ($other APDUs)"

echo >&7
rc=0
wait "$pid" || rc=$?
exec 7>&-
cat p.out
((rc == 0)) || { cat p.err; fail "p11probe exited $rc"; }
mapfile -t signs < <(grep '^sign ' p.out)
((${#signs[@]} == 4)) || fail "expected 4 sign steps, got ${#signs[@]}"
[[ ${signs[0]} == "sign CKR_OK" && ${signs[1]} == "sign CKR_OK" ]] ||
  fail "signatures before the pause: ${signs[0]}, ${signs[1]}"
[[ ${signs[2]} == "sign CKR_OK" || ${signs[2]} == "sign CKR_USER_NOT_LOGGED_IN" ]] ||
  fail "signature after the other program: ${signs[2]} (expected CKR_OK or CKR_USER_NOT_LOGGED_IN)"
[[ ${signs[3]} == "sign CKR_OK" ]] || fail "signature after logging in again: ${signs[3]}"

# After the other program, the module's first command is a SELECT, never a COMPUTE SIGNATURE.
after=$(grep '^> ' "$JPKI_CARD_LOG" | tail -n +"$((mark + other + 1))" | head -n1)
[[ $after == "> 00A4"* ]] ||
  fail "the module's first command after the other program was '$after', not a SELECT"
bad=$(signatures_without_key_ef)
((bad == 0)) || fail "$bad COMPUTE SIGNATURE sent without a key EF current"
pass "after the other program the module selected again: ${signs[2]#sign }, every COMPUTE SIGNATURE on a key EF"
