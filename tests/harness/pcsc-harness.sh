#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hermetic PC/SC harness: runs a command against a private pcscd with virtual JPKI cards.
#
#   pcsc-harness.sh [--cards N] [--card0 "jpki-vcard options"] [--card1 "…"] [--keep]
#                   [--no-readers | --no-pcscd] -- CMD ARGS…
#
# It re-executes itself in new mount, network and PID namespaces (unshare; root needed), mounts a
# tmpfs on /run/pcscd (so a pcscd already running on the machine is neither used nor disturbed),
# brings up a private loopback, starts pcscd with only the vsmartcard-vpcd reader configuration,
# starts the virtual cards (card N connects to vpcd port 35963+N), waits until every reader shows
# its card, runs CMD, and tears everything down on every exit path (the PID namespace ends all of
# its processes with it). CMD sees:
#   JPKI_WORK      scratch directory (removed afterwards unless --keep)
#   JPKI_PKI_DIR   the test PKI of card 0 (auth.pem, sign.pem, auth_ca.pem, sign_ca.pem, …)
#   JPKI_CARD_LOG  APDU log of card 0 (VERIFY data masked); card N: $JPKI_WORK/cardN.log
#   JPKI_CARD_CTL  control socket of card 0 (remove / insert / reset / quit)
#   JPKI_PKCS11_CACHE_DIR  the module's certificate cache, $JPKI_WORK/cert-cache unless set
#   JPKI_PCSCD_ARGS  the options this pcscd needs (-f, and --disable-polkit where pcscd has it)
# Environment: JPKI_VCARD (path of jpki-vcard, required), JPKI_HARNESS_TIMEOUT (seconds, 120).
set -euo pipefail

die() { echo "pcsc-harness: $*" >&2; exit 2; }

if [[ "${_JPKI_HARNESS_INSIDE:-}" != 1 ]]; then
  [[ $(id -u) == 0 ]] || die "needs root (unshare of mount/net namespaces and a private pcscd)"
  command -v pcscd >/dev/null || die "pcscd not installed (apt-get install pcscd)"
  [[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]] || die "vsmartcard-vpcd not installed"
  export _JPKI_HARNESS_INSIDE=1
  exec timeout --kill-after=5 "${JPKI_HARNESS_TIMEOUT:-120}" \
    unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private "$0" "$@"
fi

cards=1
keep=0
readers=1
pcscd=1
declare -A card_opts=()
while (($#)); do
  case "$1" in
    --cards) cards=$2; shift 2 ;;
    --card[0-9]) card_opts[${1#--card}]=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-readers) readers=0; cards=0; shift ;;   # pcscd runs, but knows no reader at all
    --no-pcscd) pcscd=0; cards=0; shift ;;        # no PC/SC service in the namespace
    --) shift; break ;;
    *) die "unknown option $1 (usage: pcsc-harness.sh [--cards N] [--cardN OPTS] [--keep] -- CMD…)" ;;
  esac
done
(($#)) || die "no command given"
[[ -x "${JPKI_VCARD:-}" ]] || die "JPKI_VCARD must name the jpki-vcard program"

JPKI_WORK=$(mktemp -d /tmp/jpki-harness.XXXXXX)
export JPKI_WORK
cleanup() {
  local rc=$?
  # Stop the cards first (a clean power-off), then pcscd; the PID namespace reaps the rest.
  [[ -n "${card_pids:-}" ]] && kill $card_pids 2>/dev/null || true
  [[ -n "${pcscd_pid:-}" ]] && kill "$pcscd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if ((rc != 0)); then
    echo "pcsc-harness: command failed ($rc); last pcscd log lines:" >&2
    tail -n 20 "$JPKI_WORK/pcscd.log" >&2 2>/dev/null || true
  fi
  if ((keep)); then echo "pcsc-harness: kept $JPKI_WORK" >&2; else rm -rf "$JPKI_WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
ip link set lo up

# Only the vpcd reader: two slots, ports 35963 and 35964 (the driver's default).
mkdir -p "$JPKI_WORK/reader.conf.d"
export JPKI_PKI_DIR="$JPKI_WORK/pki0" JPKI_CARD_LOG="$JPKI_WORK/card0.log"
# The module's certificate cache: this run's own, empty at the start, unless the caller names one
# (never the caller's ~/.cache, which would make APDU counts depend on earlier runs).
export JPKI_PKCS11_CACHE_DIR="${JPKI_PKCS11_CACHE_DIR:-$JPKI_WORK/cert-cache}"
# A runtime directory of this run's own, as logind gives every user session: the module's
# hand-over lock between processes lives there (apdu/pcsc/handoff_lock.h), so every test runs
# with it as users do. JPKI_HARNESS_NO_RUNTIME_DIR=1 runs without one (no lock; pcsc-lite's own
# polling between processes, as for root under sudo).
if [[ ${JPKI_HARNESS_NO_RUNTIME_DIR:-0} == 1 ]]; then
  unset XDG_RUNTIME_DIR
else
  export XDG_RUNTIME_DIR="$JPKI_WORK/run"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
fi
export JPKI_CARD_CTL="$JPKI_WORK/card0.ctl"
# pcsc-lite 2.x (Debian 13) asks polkit whether a client may connect; there is no polkit in these
# namespaces, so every client would be refused. 1.9 (Debian 12) has no polkit and no such option:
# ask pcscd, do not assume. Exported for scripts that start pcscd themselves (fault_lib.sh).
JPKI_PCSCD_ARGS="-f"
pcscd_help=$(pcscd --help 2>&1 || true)   # captured: grep -q in a pipe could SIGPIPE pcscd
if [[ $pcscd_help == *--disable-polkit* ]]; then JPKI_PCSCD_ARGS+=" --disable-polkit"; fi
export JPKI_PCSCD_ARGS
if ((!pcscd)); then "$@"; exit; fi
((readers)) && cat >"$JPKI_WORK/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
CONF
# shellcheck disable=SC2086 # the options are words
pcscd $JPKI_PCSCD_ARGS -c "$JPKI_WORK/reader.conf.d" >"$JPKI_WORK/pcscd.log" 2>&1 &
pcscd_pid=$!
for _ in $(seq 100); do [[ -S /run/pcscd/pcscd.comm ]] && break; sleep 0.05; done
[[ -S /run/pcscd/pcscd.comm ]] || die "pcscd did not start: $(tail -n 5 "$JPKI_WORK/pcscd.log")"

card_pids=""
for ((i = 0; i < cards; i++)); do
  mkdir -p "$JPKI_WORK/pki$i"
  # shellcheck disable=SC2086 # card options are word-split on purpose
  "$JPKI_VCARD" --port $((35963 + i)) --pki-dir "$JPKI_WORK/pki$i" --state "$JPKI_WORK/card$i.state" \
    --log "$JPKI_WORK/card$i.log" --control "$JPKI_WORK/card$i.ctl" ${card_opts[$i]:-} \
    >"$JPKI_WORK/card$i.out" 2>&1 &
  card_pids+=" $!"
done

# Wait until pcscd reports a card in each of the first $cards readers (no APDU is sent for it).
wait_cards() {
  local present
  for _ in $(seq 200); do
    present=$(opensc-tool -l 2>/dev/null | awk '$2 == "Yes" && /Virtual PCD/ {n++} END {print n + 0}')
    ((present >= cards)) && return 0
    sleep 0.05
  done
  return 1
}
wait_cards || die "virtual card(s) not seen by pcscd; card output: $(cat "$JPKI_WORK"/card*.out 2>/dev/null)"
"$@"
