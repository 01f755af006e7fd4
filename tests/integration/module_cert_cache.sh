#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The cross-process certificate cache through pkcs11-tool, pcscd and the virtual card: a second
# process reads one chunk per certificate (and no token label) and gets the same certificates; the
# files are private; the signature certificate never reaches the disk; a card with another PKI in
# the same reader, with the same cache, gets its own certificates.
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"
export JPKI_PKCS11_CACHE_DIR="$JPKI_WORK/cert-cache"
rm -rf "$JPKI_PKCS11_CACHE_DIR"
p11() { pkcs11-tool --module "$M" "$@"; }

# phase NAME LOG: token listing, then the authentication certificate and its CA certificate, each
# by its own process; NAME.log = the card's APDUs meanwhile.
phase() {
  local name=$1 log=$2 from
  from=$(($(wc -l <"$log") + 1))
  p11 -L >"$name-list.txt" 2>&1 || { cat "$name-list.txt"; fail "$name: pkcs11-tool -L failed"; }
  p11 --slot 0 --read-object --type cert --id 01 -o "$name-auth.der" >/dev/null 2>&1 ||
    fail "$name: reading the authentication certificate failed"
  p11 --slot 0 --read-object --type cert --id 03 -o "$name-ca.der" >/dev/null 2>&1 ||
    fail "$name: reading the CA certificate failed"
  tail -n "+$from" "$log" >"$name.log"
}
reads() { grep -c '^> 00B0' "$1" || true; }

phase first "$JPKI_CARD_LOG"
phase second "$JPKI_CARD_LOG"
r1=$(reads first.log)
r2=$(reads second.log)
((r2 < r1)) || fail "second run sent $r2 READ BINARY, not fewer than the first ($r1)"
# Only first chunks (offset 0): the identity chunk of the token listing, one per certificate.
if grep '^> 00B0' second.log | grep -qv '^> 00B00000'; then
  cat second.log
  fail "second run read beyond the first chunk of a certificate"
fi
if grep -q '^> 00A4020C020006' second.log; then fail "second run read the token label again"; fi
for run in first second; do
  cmp -s "$run-auth.der" "$JPKI_PKI_DIR/auth.der" || fail "$run run: not the card's authentication certificate"
  cmp -s "$run-ca.der" "$JPKI_PKI_DIR/auth_ca.der" || fail "$run run: not the card's CA certificate"
done
cmp -s first-list.txt second-list.txt || fail "token listing differs with a warm cache"
pass "second process: $r2 READ BINARY instead of $r1, no token-label read, the same certificates"

[[ $(stat -c %a "$JPKI_PKCS11_CACHE_DIR") == 700 ]] || fail "cache directory is not mode 0700"
n=0
for f in "$JPKI_PKCS11_CACHE_DIR"/*; do
  [[ $(stat -c %a "$f") == 600 ]] || fail "cache file $f is not mode 0600"
  n=$((n + 1))
done
((n == 3)) || { ls -la "$JPKI_PKCS11_CACHE_DIR"; fail "expected 3 cache files (2 certificates, 1 label), found $n"; }
pass "cache directory 0700 with $n files 0600"

p11 --slot 1 --login --pin ABC123 --read-object --type cert --id 02 -o sign.der >/dev/null 2>&1 ||
  fail "reading the signature certificate failed"
cmp -s sign.der "$JPKI_PKI_DIR/sign.der" || fail "not the card's signature certificate"
p11 --slot 1 --read-object --type cert --id 04 -o sign-ca.der >/dev/null 2>&1 || fail "reading the signature CA failed"
for f in "$JPKI_PKCS11_CACHE_DIR"/*.der; do
  cmp -s "$f" "$JPKI_PKI_DIR/auth.der" || cmp -s "$f" "$JPKI_PKI_DIR/auth_ca.der" ||
    cmp -s "$f" "$JPKI_PKI_DIR/sign_ca.der" || fail "cache file $f is not a public certificate of the card"
done
pass "the signature certificate is read from the card and never cached"

# Another card (another PKI: other holder certificate, other CA certificates) in the same reader.
echo quit >"$JPKI_CARD_CTL"
for _ in $(seq 200); do
  opensc-tool -l 2>/dev/null | awk '$2 == "Yes" && /Virtual PCD/ {f=1} END {exit f}' && break
  sleep 0.05
done
"$JPKI_VCARD" --port 35963 --pki-dir "$JPKI_WORK/pkiB" --log "$JPKI_WORK/cardB.log" \
  >"$JPKI_WORK/cardB.out" 2>&1 &
card_b=$!
trap 'kill "$card_b" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  opensc-tool -l 2>/dev/null | awk '$2 == "Yes" && /Virtual PCD/ {f=1} END {exit !f}' && break
  sleep 0.05
done
: >>"$JPKI_WORK/cardB.log"
phase other "$JPKI_WORK/cardB.log"
cmp -s other-auth.der "$JPKI_WORK/pkiB/auth.der" || fail "card B: not its own authentication certificate"
cmp -s other-ca.der "$JPKI_WORK/pkiB/auth_ca.der" || fail "card B: not its own CA certificate"
if cmp -s other-auth.der "$JPKI_PKI_DIR/auth.der"; then fail "card B was shown card A's cached certificate"; fi
rb=$(reads other.log)
((rb == r1)) || fail "card B: $rb READ BINARY, expected a full read like the first run ($r1)"
grep -q '^> 00A4020C020006' other.log || fail "card B: token label not read from the card"
pass "a card with another PKI and the same cache: its own certificates ($rb READ BINARY)"
kill "$card_b" 2>/dev/null || true
wait "$card_b" 2>/dev/null || true
