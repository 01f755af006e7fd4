#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Concurrency through pcscd and the virtual card: 8 threads in one process, then 4 processes at
# once, each opening a session, logging in and signing repeatedly for a bounded time. Every
# signature is verified (C_Verify with the token's public key); no deadlock (each run is bounded
# by `timeout`); every signature attempt ends in a verified signature; a failed attempt is retried
# only when the session shows the login was lost (another thread or process logged the shared card
# out), after a re-login that must answer CKR_OK or CKR_USER_ALREADY_LOGGED_IN, at most 3 times;
# and the card's APDU log shows every COMPUTE SIGNATURE made with a key EF current: the last
# SELECT the card accepted before it is of 0017 or 001A, with nothing selected in between (no
# other command interleaved). Consecutive signatures in one kept transaction share one SELECT.
source "$(dirname "$0")/../lib.sh"
PROBE=${JPKI_P11PROBE:?}
M=${JPKI_MODULE:?}
SECONDS_PER_RUN=${JPKI_CONCURRENCY_SECONDS:-10}
cd "$JPKI_WORK"

check_loop() { # OUTPUT_FILE WHAT: every attempt a verified signature, no error of any kind
  local out=$1 what=$2 sigs errs attempts relogins
  grep -q '^loop signatures' "$out" || { cat "$out"; fail "$what: no summary (deadlock or crash?)"; }
  sigs=$(awk '/^loop signatures/ {s += $3} END {print s + 0}' "$out")
  errs=$(awk '/^loop signatures/ {e += $5} END {print e + 0}' "$out")
  attempts=$(awk '/^loop signatures/ {a += $7} END {print a + 0}' "$out")
  relogins=$(awk '/^loop signatures/ {r += $9} END {print r + 0}' "$out")
  if ((errs > 0)); then
    grep '^worker' "$out" | sort | uniq -c | head -20 >&2
    fail "$what: $errs errors"
  fi
  ((attempts >= 10)) || fail "$what: only $attempts signature attempts in ${SECONDS_PER_RUN} s"
  ((sigs == attempts)) || fail "$what: $sigs signatures for $attempts attempts"
  pass "$what: $sigs of $attempts signatures made and verified ($relogins re-logins), no error"
}

# The APDU log: a key EF (0017 or 001A) current at each 802A.
check_log() {
  local bad total
  bad=$(signatures_without_key_ef)
  total=$(grep -c '^> 802A' "$JPKI_CARD_LOG" || true)
  ((total > 0)) || fail "the APDU log has no COMPUTE SIGNATURE at all"
  ((bad == 0)) || fail "$bad of $total COMPUTE SIGNATURE without a key EF current (interleaving)"
  pass "APDU log: all $total COMPUTE SIGNATURE with the key EF current"
}

: >"$JPKI_CARD_LOG"
timeout $((SECONDS_PER_RUN + 60)) "$PROBE" "$M" threads 8 0 1234 "$SECONDS_PER_RUN" >threads.txt 2>&1 ||
  { cat threads.txt; fail "8 threads: probe failed or deadlocked"; }
check_loop threads.txt "8 threads in one process (auth token)"
check_log

: >"$JPKI_CARD_LOG"
pids=()
for i in 0 1 2 3; do
  slot=$((i % 2))
  pin=$([[ $slot == 0 ]] && echo 1234 || echo ABC123)
  timeout $((SECONDS_PER_RUN + 60)) "$PROBE" "$M" loop "$slot" "$pin" "$SECONDS_PER_RUN" >"proc$i.txt" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3; do
  wait "${pids[$i]}" || { cat "proc$i.txt"; fail "process $i failed or deadlocked"; }
done
cat proc*.txt >procs.txt
check_loop procs.txt "4 processes at once (2 on each token)"
check_log
