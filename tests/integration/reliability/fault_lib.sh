# SPDX-License-Identifier: MIT
# Helpers for the fault-injection scripts (sourced). They run inside pcsc-harness.sh --no-pcscd:
# the namespace is private, and these helpers start, stop and restart pcscd and the virtual cards
# themselves (by the process ids they started), so pcscd restarts and card swaps are possible.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
PROBE=${JPKI_P11PROBE:?JPKI_P11PROBE must name the p11probe program}
M=${JPKI_MODULE:?}
VCARD=${JPKI_VCARD:?}
W=$JPKI_WORK
pcscd_pid=""
card_pid=""
CTL=$W/card.ctl
LOG=$W/card.log

start_pcscd() {
  local readers=${1:-1}
  mkdir -p "$W/reader.conf.d"
  rm -f "$W/reader.conf.d/vpcd"
  ((readers)) && cat >"$W/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
CONF
  # shellcheck disable=SC2086 # JPKI_PCSCD_ARGS (pcsc-harness.sh) are words
  pcscd ${JPKI_PCSCD_ARGS:?} -c "$W/reader.conf.d" >>"$W/pcscd.log" 2>&1 &
  pcscd_pid=$!
  for _ in $(seq 100); do [[ -S /run/pcscd/pcscd.comm ]] && return 0; sleep 0.05; done
  fail "pcscd did not start"
}

stop_pcscd() {
  [[ -n $pcscd_pid ]] || return 0
  kill "$pcscd_pid" 2>/dev/null || true
  wait "$pcscd_pid" 2>/dev/null || true
  pcscd_pid=""
  rm -f /run/pcscd/pcscd.comm
}

card_present() { opensc-tool -l 2>/dev/null | awk '$2 == "Yes" && /Virtual PCD/ {f=1} END {exit !f}'; }

wait_present() {
  for _ in $(seq 200); do card_present && return 0; sleep 0.05; done
  fail "card not seen by pcscd"
}

wait_absent() {
  for _ in $(seq 200); do card_present || return 0; sleep 0.05; done
  fail "card still present"
}

# start_card PKI_NAME [jpki-vcard options…]: card with the PKI (and retry counters) of PKI_NAME.
start_card() {
  local pki=$1
  shift
  mkdir -p "$W/$pki"
  rm -f "$CTL"
  "$VCARD" --port 35963 --pki-dir "$W/$pki" --state "$W/$pki.state" --log "$LOG" \
    --control "$CTL" "$@" >>"$W/card.out" 2>&1 &
  card_pid=$!
  for _ in $(seq 100); do [[ -p $CTL ]] && break; sleep 0.02; done
  wait_present
}

stop_card() {
  [[ -n $card_pid ]] || return 0
  kill "$card_pid" 2>/dev/null || true
  wait "$card_pid" 2>/dev/null || true
  card_pid=""
  [[ -n $pcscd_pid ]] && wait_absent
  return 0
}

control() { echo "$1" >"$CTL"; }

# APDU count of the card log since the last mark.
mark_log() { : >"$LOG"; }
apdu_count() { grep -c '^> ' "$LOG" || true; }

cleanup_faults() {
  stop_card
  stop_pcscd
}
trap cleanup_faults EXIT
