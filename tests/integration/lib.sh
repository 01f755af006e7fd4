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

# Number of COMPUTE SIGNATURE commands in a card's APDU log sent while no key EF was current: the
# current EF is the last one a SELECT EF (P1=02) was answered 9000 for; a SELECT of an application
# (P1=04) or a refused SELECT EF leaves none. 0 means no signature command ever landed on the wrong
# file, whoever else used the card in between.
signatures_without_key_ef() {
  awk '/^> / {cmd = $2; next}
       /^< / {sw = substr($2, length($2) - 3, 4)
              if (cmd ~ /^00A4020C02/) cur = (sw == "9000") ? substr(cmd, 11, 4) : ""
              else if (cmd ~ /^00A404/) cur = ""
              else if (cmd ~ /^802A/ && cur != "0017" && cur != "001A") n++}
       END {print n + 0}' "${1:-$JPKI_CARD_LOG}"
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
