#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a browser test several times in a row, each run in its own harness (fresh pcscd, virtual
# card, Xvfb and browser profiles), and counts the passes: the check of issue 19 ("twenty
# consecutive runs of each browser test") and the comparison with OpenSC's module on the same card.
#
#   tests/integration/browser/repeat.sh [--build DIR] [--peer opensc] N firefox|chromium
#
# DIR is a configured and built tree (default build/default; the module and the virtual card are
# taken from it). --peer opensc runs the same script with OpenSC's opensc-pkcs11.so
# (JPKI_BROWSER_PEER, common.sh). Each run's output and artefacts go to
# DIR/tests/artefacts/browser-repeat/BROWSER[-PEER]-K.txt and -K/; one line per run, then the
# count. Exit status 0 only if every run passed. Needs root (the harness), like the tests.
# (The output is written next to the artefact folder, not into it: the test empties that folder.)
set -uo pipefail
cd "$(dirname "$0")/../../.."

build=build/default
peer=""
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --peer) peer=$2; shift 2 ;;
    -h | --help) sed -n '3,14p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
(($# == 2)) || { echo "usage: repeat.sh [--build DIR] [--peer opensc] N firefox|chromium" >&2; exit 2; }
n=$1 browser=$2
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "repeat.sh: N must be a positive number, not '$n'" >&2; exit 2; }
script=tests/integration/browser/$browser.sh
[[ -f $script ]] || { echo "repeat.sh: no browser test '$browser' (firefox or chromium)" >&2; exit 2; }
module=$build/module/libjpki-pkcs11.so
vcard=$build/vcard/jpki-vcard
[[ -f $module && -x $vcard ]] || { echo "repeat.sh: build $build first (no $module or $vcard)" >&2; exit 2; }

out=$build/tests/artefacts/browser-repeat
name=$browser${peer:+-$peer}
mkdir -p "$out"
passed=0
for ((k = 1; k <= n; k++)); do
  dir=$out/$name-$k
  log=$dir.txt
  start=$SECONDS
  JPKI_VCARD=$PWD/$vcard JPKI_MODULE=$PWD/$module JPKI_BROWSER_PEER=$peer JPKI_HARNESS_TIMEOUT=220 \
    JPKI_ARTEFACT_DIR=$PWD/$dir timeout 300 tests/harness/pcsc-harness.sh -- "$script" >"$log" 2>&1
  rc=$?
  if ((rc == 0)); then
    passed=$((passed + 1))
    echo "run $k/$n: passed ($((SECONDS - start)) s)"
  else
    echo "run $k/$n: FAILED (exit $rc, $((SECONDS - start)) s): $(grep -m1 '^FAIL' "$log" | cut -c1-200) (see $log)"
  fi
done
echo "$name: $passed of $n runs passed"
((passed == n))
