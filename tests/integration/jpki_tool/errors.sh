#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exit codes of the environment errors; the scenario is the first argument (the harness options
# set the scene): no-pcscd, no-readers, no-card, not-jpki.
source "$(dirname "$0")/lib.sh"
export AUTH_PIN=1234
echo doc >doc.txt
case "$1" in
  no-pcscd)
    expect_rc 3 "status without pcscd" -- "$T" status
    expect_grep 'pcscd\) is not reachable' err.txt "no-service message"
    expect_rc 3 "sign without pcscd" -- "$T" sign --key auth -i doc.txt -o x.sig --pin-env AUTH_PIN
    expect_rc 3 "doctor without pcscd" -- "$T" doctor
    expect_grep 'fix: sudo apt install pcscd' out.txt "doctor's fix for pcscd"
    ;;
  no-readers)
    expect_rc 3 "status without readers" -- "$T" status
    expect_grep 'no card reader found' err.txt "no-reader message"
    expect_rc 3 "certs without readers" -- "$T" certs export auth
    expect_rc 3 "doctor without readers" -- "$T" doctor
    expect_grep 'no card reader is connected' out.txt "doctor: no reader"
    ;;
  no-card)
    expect_rc 4 "status without a card" -- "$T" status
    expect_grep 'no card' err.txt "no-card message"
    expect_rc 4 "status --json without a card" -- "$T" status --json
    expect_grep '"cardPresent": false' out.txt "json lists the empty readers"
    expect_rc 4 "show without a card" -- "$T" show --pin-env AUTH_PIN
    expect_rc 4 "doctor without a card" -- "$T" doctor
    expect_grep 'fix: insert the My Number Card' out.txt "doctor: insert the card"
    ;;
  not-jpki)
    expect_rc 5 "status of a card without the JPKI application" -- "$T" status
    expect_grep 'no JPKI application' err.txt "not-JPKI message"
    ;;
  mute-card)
    # The card stops answering after 2 APDUs: with card-timeout = 2 the tool reports it in about
    # 2 s instead of hanging until the card is pulled.
    printf 'card-timeout = 2\n' >"$JPKI_WORK/timeout.conf"
    t0=$(date +%s%N)
    JPKI_PKCS11_CONF=$JPKI_WORK/timeout.conf expect_rc 1 "status of a card that never answers" -- "$T" status
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_grep 'did not answer within 2.0 s' err.txt "timeout message"
    ((ms >= 1900 && ms < 10000)) || fail "the tool gave up after $ms ms, not about 2 s"
    echo "ok: gave up after $ms ms"
    ;;
  *) fail "unknown scenario $1" ;;
esac
pass "errors ($1): all checks passed"
