#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Three wrong authentication PINs lock the PIN; the token flags say so at each step, and a locked
# PIN is never sent to the card again. Runs on its own virtual card (it locks it).
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"
p11() { pkcs11-tool --module "$M" "$@"; }
flags() { p11 --slot 0 -T 2>/dev/null | awk -F: '/token flags/ {print $2; exit}'; }

[[ $(flags) != *"count low"* ]] || fail "fresh card already reports count low"
expected=("user PIN count low" "final user PIN try" "user PIN locked")
for i in 0 1 2; do
  if p11 --slot 0 --login --pin 9999 -O >/dev/null 2>&1; then fail "wrong PIN accepted"; fi
  f=$(flags)
  [[ $f == *"${expected[$i]}"* ]] || fail "after $((i + 1)) wrong PIN(s) flags are '$f', expected '${expected[$i]}'"
  pass "after $((i + 1)) wrong PIN(s): $f"
done
n=$(verify_with_data_count)
out=$(p11 --slot 0 --login --pin 1234 -O 2>&1 || true)
[[ $out == *CKR_PIN_LOCKED* ]] || { echo "$out"; fail "locked PIN not reported as CKR_PIN_LOCKED"; }
[[ $(verify_with_data_count) == "$n" ]] || fail "a VERIFY was sent to a locked PIN"
pass "locked PIN: CKR_PIN_LOCKED and no VERIFY sent ($n VERIFY with data in total)"
# The signature password is a separate counter and still works.
p11 --slot 1 --login --pin ABC123 -O >/dev/null 2>&1 || fail "sign password no longer works"
pass "the signature password is unaffected"
