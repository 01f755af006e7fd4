#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Our module through pkcs11-tool, pcscd and the virtual card: listing, mechanisms, objects before
# and after login, every signing mechanism on both keys (verified with OpenSSL), pkcs11-tool's own
# --test, threads and fork, and PIN safety (a malformed PIN never produces a VERIFY).
source "$(dirname "$0")/lib.sh"
M=${JPKI_MODULE:?}
cd "$JPKI_WORK"
p11() { pkcs11-tool --module "$M" "$@"; }

p11 -L >slots.txt 2>&1 || { cat slots.txt; fail "pkcs11-tool -L failed"; }
cat slots.txt
[[ $(grep -c 'token label' slots.txt) == 2 ]] || fail "expected two tokens for one card"
expect_grep 'pin min/max *: 4/4' slots.txt "auth PIN range not 4/4"
expect_grep 'pin min/max *: 6/16' slots.txt "sign PIN range not 6/16"
serials=$(awk -F: '/serial num/ {gsub(/ /, "", $2); print $2}' slots.txt | sort -u)
[[ -n $serials && $serials != 00000000* ]] || fail "token serial is not derived from the card"
pass "-L: two tokens, PIN ranges 4/4 and 6/16, card serial $serials"

p11 -T >tokens.txt 2>&1; expect_grep 'readonly|write protected' tokens.txt "token not write protected"
if grep -q 'rng' tokens.txt; then fail "CKF_RNG advertised"; fi
p11 --slot 0 -M >mechs.txt 2>&1
for m in 'RSA-PKCS[ ,]' SHA1-RSA-PKCS SHA224-RSA-PKCS SHA256-RSA-PKCS SHA384-RSA-PKCS SHA512-RSA-PKCS; do
  expect_grep "$m" mechs.txt "mechanism $m missing"
done
if grep -Eq 'PSS|RSA-X-509|decrypt' mechs.txt; then cat mechs.txt; fail "advertises a mechanism the card cannot do"; fi
pass "-T/-M: write protected, no RNG, RSA-PKCS and SHA*-RSA-PKCS, no PSS / X.509 / decrypt"

p11 --slot 0 -O >auth-objects.txt 2>&1
expect_grep 'Certificate Object' auth-objects.txt "auth certificate not visible without login"
expect_grep 'Public Key Object' auth-objects.txt "auth public key not visible without login"
p11 --slot 1 -O >sign-public.txt 2>&1 || { cat sign-public.txt; fail "pkcs11-tool -O on the signature token failed"; }
if grep -Eq 'Private Key|Public Key' sign-public.txt; then fail "sign key objects visible before login"; fi
expect_grep 'label: *JPKI Digital Signature CA' sign-public.txt "public sign CA certificate (id 04) not listed"
if grep -Eq 'ID: *02$' sign-public.txt; then fail "signature certificate or key (id 02) visible before login"; fi
p11 --slot 1 --login --pin ABC123 -O >sign-objects.txt 2>&1
expect_grep 'Private Key Object' sign-objects.txt "sign private key not visible after login"
pass "-O: auth certificate public; sign objects only after the password"

head -c 3000 /dev/urandom >data.bin
for mech in SHA1 SHA224 SHA256 SHA384 SHA512; do
  hash=$(tr 'A-Z' 'a-z' <<<"$mech")
  p11 --slot 0 --login --pin 1234 --sign -m "$mech-RSA-PKCS" --id 01 -i data.bin -o "auth-$hash.sig" >/dev/null 2>&1 ||
    fail "auth sign with $mech-RSA-PKCS failed"
  verify_sig "$hash" "$JPKI_PKI_DIR/auth.pem" data.bin "auth-$hash.sig"
  p11 --slot 1 --login --pin ABC123 --sign -m "$mech-RSA-PKCS" --id 02 -i data.bin -o "sign-$hash.sig" >/dev/null 2>&1 ||
    fail "sign-key sign with $mech-RSA-PKCS failed"
  verify_sig "$hash" "$JPKI_PKI_DIR/sign.pem" data.bin "sign-$hash.sig"
done
# CKM_RSA_PKCS over a DigestInfo made by the caller (what browsers do).
openssl dgst -sha256 -binary data.bin >hash.bin
{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'; cat hash.bin; } >di.bin
p11 --slot 0 --login --pin 1234 --sign -m RSA-PKCS --id 01 -i di.bin -o raw.sig >/dev/null 2>&1 || fail "RSA-PKCS sign failed"
verify_sig sha256 "$JPKI_PKI_DIR/auth.pem" data.bin raw.sig
pass "signatures with every mechanism on both keys verify with OpenSSL"

p11 --slot 1 --login --pin abc123 --sign -m SHA256-RSA-PKCS --id 02 -i data.bin -o lower.sig >/dev/null 2>&1 ||
  fail "lower-case signature password not accepted"
pass "lower-case signature password is upper-cased before VERIFY"

p11 --slot 0 --login --pin 1234 --test >test0.txt 2>&1 || { cat test0.txt; fail "pkcs11-tool --test (auth) failed"; }
p11 --slot 1 --login --pin ABC123 --test >test1.txt 2>&1 || { cat test1.txt; fail "pkcs11-tool --test (sign) failed"; }
expect_grep 'No errors' test0.txt "--test reported errors on the auth token"
expect_grep 'No errors' test1.txt "--test reported errors on the sign token"
# Three threads call C_Initialize (two with CKF_OS_LOCKING_OK, one with NULL) while the main
# thread initialises, logs in and runs --test; two of them then list the slots and read a token's
# info each. The main thread has work of its own: pkcs11-tool 0.23 sleeps 30 s at its end when a
# test thread is still running (test_threads_cleanup), which a bare --test-threads always met.
p11 --slot 0 --login --pin 1234 --test --test-threads IL --test-threads ILGISLT0 --test-threads INGISLT1 \
  >threads.txt 2>&1 || { cat threads.txt; fail "--test-threads failed"; }
if grep -Eq 'Unknown test|slot not available' threads.txt ||
  grep -Eo 'returned CKR_[A-Z_]+' threads.txt | grep -Evq 'CKR_OK$|CKR_CRYPTOKI_ALREADY_INITIALIZED$'; then
  cat threads.txt
  fail "--test-threads: a thread's call failed"
fi
[[ $(grep -c 'C_GetSlotList returned CKR_OK' threads.txt) == 4 ]] || { cat threads.txt; fail "--test-threads: the two listing threads did not list the slots twice each"; }
expect_grep 'token label *: JPKI Auth' threads.txt "--test-threads: no token info for slot 0"
expect_grep 'token label *: JPKI Sign' threads.txt "--test-threads: no token info for slot 1"
expect_grep 'No errors' threads.txt "--test beside --test-threads reported errors"
p11 --test-fork >fork.txt 2>&1 || { cat fork.txt; fail "--test-fork failed"; }
pass "pkcs11-tool --test on both tokens, --test-threads and --test-fork"

before=$(verify_with_data_count)
for bad in 123 12345 12a4 ''; do
  if p11 --slot 0 --login --pin "$bad" -O >/dev/null 2>&1; then fail "malformed auth PIN '$bad' accepted"; fi
done
for bad in ABC12 ABCDEFGHIJ1234567 'ABC-123' 'ABC 123'; do
  if p11 --slot 1 --login --pin "$bad" -O >/dev/null 2>&1; then fail "malformed sign password accepted"; fi
done
after=$(verify_with_data_count)
[[ $before == "$after" ]] || fail "a malformed PIN reached the card ($before -> $after VERIFY commands)"
p11 -T >tokens-after.txt 2>&1
if grep -q 'count low' tokens-after.txt; then fail "a malformed PIN changed the token flags"; fi
pass "8 malformed PINs refused without any VERIFY reaching the card ($after VERIFY with data in total)"
