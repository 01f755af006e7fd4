#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 20, through the real pcscd: calls that need nothing new from the card (C_GetSlotInfo,
# C_GetSessionInfo, C_FindObjects*, C_GetAttributeValue of a read object) make no PC/SC call at
# all, and C_GetTokenInfo, once the PIN counter is known, sends no APDU (only the transaction that
# tells of a card reset). Counted by an interposed libpcsclite (pcsc_count.so, LD_PRELOAD). The
# module's change watcher still lets the next call see a card removed, then inserted.
source "$(dirname "$0")/../lib.sh"
PROBE=${JPKI_P11PROBE:?JPKI_P11PROBE must name the p11probe program}
COUNT=${JPKI_PCSC_COUNT:?JPKI_PCSC_COUNT must name pcsc_count.so}
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"

# The probe: warm-up (token info, session, certificate read, a few quiet rounds while the watcher
# starts), 100 counted quiet rounds, then a card removal and an insertion, each seen by the next call.
mkfifo p.in
LD_PRELOAD=$COUNT timeout 60 "$PROBE" "$M" info 0 open 0 read cert.der quiet 0 3 quiet 0 100 \
  tinfo 0 20 pause info 0 pause info 0 <p.in >p.out 2>p.err &
pid=$!
exec 7>p.in
paused=0
while kill -0 "$pid" 2>/dev/null; do
  n=$(grep -c '^pause$' p.out || true)
  if ((n > paused)); then
    paused=$n
    if ((paused == 1)); then
      echo remove >"$JPKI_CARD_CTL"
    else
      echo insert >"$JPKI_CARD_CTL"
    fi
    sleep 1 # pcscd polls the virtual reader
    echo >&7
  fi
  sleep 0.05
done
rc=0
wait "$pid" || rc=$?
exec 7>&-
cat p.out
((rc == 0)) || { cat p.err; fail "p11probe exited $rc"; }

# counts STEP: "calls waits transmits" of the last STEP-pcsc line.
counts() { sed -n "s/^$1-pcsc calls \([0-9]*\) waits \([0-9]*\) transmits \([0-9]*\)$/\1 \2 \3/p" p.out | tail -n1; }
[[ -n $(counts quiet) ]] || fail "no PC/SC counts from the probe (is pcsc_count.so preloaded?)"
[[ $(grep '^quiet ' p.out | tail -n1) == "quiet CKR_OK" ]] || fail "a quiet call failed: $(grep '^quiet ' p.out | tail -n1)"
read -r calls waits transmits <<<"$(counts quiet)"
((calls == 0)) ||
  fail "100 rounds of calls that need nothing from the card made $calls PC/SC calls (expected 0)"
pass "100 rounds of 6 calls that need nothing from the card: 0 PC/SC calls ($waits blocking waits of the change watcher meanwhile)"

[[ $(grep '^tinfo ' p.out) == "tinfo CKR_OK" ]] || fail "C_GetTokenInfo failed: $(grep '^tinfo ' p.out)"
read -r calls waits transmits <<<"$(counts tinfo)"
((transmits == 0)) || fail "20 C_GetTokenInfo with the PIN counter known sent $transmits APDUs (expected 0)"
((calls <= 40)) || fail "20 C_GetTokenInfo made $calls PC/SC calls (expected at most a transaction each)"
pass "20 C_GetTokenInfo with the PIN counter known: 0 APDUs, $calls PC/SC calls (the transactions that tell of a reset)"

mapfile -t infos < <(grep '^info ' p.out)
((${#infos[@]} == 3)) || fail "expected 3 info steps, got ${#infos[@]}"
[[ ${infos[1]} == "info CKR_TOKEN_NOT_PRESENT" ]] ||
  fail "card removed: the next C_GetTokenInfo said '${infos[1]}', not CKR_TOKEN_NOT_PRESENT"
[[ ${infos[2]} == "info CKR_OK" ]] || fail "card inserted again: the next C_GetTokenInfo said '${infos[2]}'"
pass "a card removed, then inserted, is seen by the next call (CKR_TOKEN_NOT_PRESENT, then CKR_OK)"
