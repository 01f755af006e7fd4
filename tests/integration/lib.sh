# SPDX-License-Identifier: MIT
# Helpers for integration tests (sourced). Each test runs inside tests/harness/pcsc-harness.sh.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() { grep -Eq -- "$1" "$2" || { cat "$2" >&2; fail "$3 (no match for /$1/)"; }; }

# Number of VERIFY commands carrying data (a PIN) in a card's APDU log; the empty status form
# "00200080" alone on its line does not count.
verify_with_data_count() {
  grep -Ec '^> 00200080[0-9A-Fa-f*]{2,}' "${1:-$JPKI_CARD_LOG}" || true
}

# verify_sig HASH CERT_PEM DATA SIG: PKCS#1 v1.5 signature check with OpenSSL.
verify_sig() {
  local pub
  pub=$(mktemp)
  openssl x509 -in "$2" -pubkey -noout >"$pub"
  openssl dgst "-$1" -verify "$pub" -signature "$4" "$3" >/dev/null ||
    fail "signature $4 does not verify with $2"
  rm -f "$pub"
}
