#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PDF signing with poppler's pdfsig through an NSS database holding our module, with the installed
# configuration (the shipped example, every setting commented out): the module's built-in settings
# for pdfsig (the signature token only, no per-signature login) must be enough. pdfsig
# -add-signature -nss-pwd PASSWORD (no terminal) must exit 0 without a signal; the card must get
# the signature password once and the authentication PIN never (pdfsig gives its one password to
# every token that needs a login); pdfsig, in a database without the module, and OpenSSL (cms
# -verify over the signed byte ranges) must find the signature valid and made with the card's
# signature certificate; a tampered copy must not verify. Then a [program pdfsig] section that
# gives pdfsig both tokens again must be honoured: pdfsig then offers the signature password to
# the authentication token, which the module refuses before the card.
source "$(dirname "$0")/common.sh"
SHIPPED_CONF=$(cd "$(dirname "$0")/../../../config" && pwd)/jpki-pkcs11.conf.example
cd "$JPKI_WORK"
command -v pdfsig >/dev/null || fail "pdfsig not installed (apt-get install poppler-utils)"
card_facts
NICK="$SIGN_LABEL:JPKI Digital Signature"
unset JPKI_PKCS11_TOKENS
export JPKI_PKCS11_CONF=$SHIPPED_CONF JPKI_PKCS11_LOG_LEVEL=info JPKI_PKCS11_LOG_FILE=$JPKI_WORK/module.log

# make_pdf FILE TEXT: a one-page PDF 1.4 showing TEXT, with an exact cross-reference table.
make_pdf() {
  local LC_ALL=C out=$1 content="BT /F1 24 Tf 72 720 Td ($2) Tj ET" body i
  local objs=(
    "<< /Type /Catalog /Pages 2 0 R >>"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    "<< /Length ${#content} >>"$'\nstream\n'"$content"$'\nendstream'
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
  )
  local offsets=()
  body=$'%PDF-1.4\n'
  for i in "${!objs[@]}"; do
    offsets+=("${#body}")
    body+="$((i + 1)) 0 obj"$'\n'"${objs[i]}"$'\nendobj\n'
  done
  local xref=${#body}
  body+=$'xref\n'"0 $((${#objs[@]} + 1))"$'\n0000000000 65535 f \n'
  for i in "${offsets[@]}"; do body+=$(printf '%010d 00000 n ' "$i")$'\n'; done
  body+=$'trailer\n'"<< /Size $((${#objs[@]} + 1)) /Root 1 0 R >>"$'\nstartxref\n'"$xref"$'\n%%EOF\n'
  printf '%s' "$body" >"$out"
}
# run_pdfsig LOG ARGS…: pdfsig without a terminal (setsid, stdin /dev/null), at most 60 s; returns
# its exit code (124: it hung, > 128: a signal).
run_pdfsig() {
  local log=$1
  shift
  timeout 60 setsid -w pdfsig "$@" </dev/null >"$log" 2>&1
}

step "NSS database with our module; the PDF to sign"
mkdir -p db && certutil -N -d sql:db --empty-password || fail "certutil -N failed"
modutil -dbdir sql:db -add jpki -libfile "$M" -force >modutil.txt 2>&1 || { cat modutil.txt; fail "modutil -add failed"; }
# A database without the module, trusting only the signature CA, to check the result.
mkdir -p vdb && certutil -N -d sql:vdb --empty-password || fail "certutil -N failed"
certutil -A -d sql:vdb -n "JPKI test signature CA" -t "C,C,C" -i "$PKI/sign_ca.pem" || fail "cannot import the signature CA"
make_pdf in.pdf "jpki-pkcs11 interop $(date -u +%F)"
pdfinfo in.pdf >pdfinfo.txt 2>&1 || { cat pdfinfo.txt; fail "the test PDF is not readable"; }
if grep -qi 'error' pdfinfo.txt; then cat pdfinfo.txt; fail "poppler reports errors in the test PDF"; fi
expect_grep '^Pages: +1$' pdfinfo.txt "the test PDF has not one page"
echo "configuration: $JPKI_PKCS11_CONF (the installed file: every setting commented out)"
if grep -Eq '^[[:space:]]*[^#[:space:]]' "$JPKI_PKCS11_CONF"; then fail "the shipped configuration sets something"; fi
pass "pdfsig $(pdfsig -v 2>&1 | sed -n 's/^pdfsig version //p' | head -n1); in.pdf $(stat -c %s in.pdf) bytes"

step "pdfsig -add-signature -nick '$NICK' -nss-pwd (installed configuration)"
card_mark
rc=0
run_pdfsig sign.txt -add-signature -nssdir sql:db -nick "$NICK" -nss-pwd "$SIGN_PIN" \
  -reason "jpki-pkcs11 interop test" in.pdf out.pdf || rc=$?
cat sign.txt
# pdfsig itself prints "NSS_Shutdown failed: … Objects are still in use" at exit, with a software
# key as well (its own references); the exit code is what counts.
((rc == 0)) || fail "pdfsig -add-signature exited $rc$( ((rc == 124)) && echo ' (hung)')$( ((rc > 128 && rc != 124)) && echo " (signal $((rc - 128)))")"
[[ -s out.pdf ]] || fail "pdfsig wrote no out.pdf"
card_delta "pdfsig -add-signature" 0 1 1+
expect_grep "pdfsig: built-in settings for pdfsig; tokens sign-only, sign-always-authenticate no" module.log \
  "the module did not apply its built-in settings for pdfsig"
grep 'initialized (config.*pdfsig' module.log
pass "pdfsig exit 0; one signature password on the card, no authentication PIN; the module's built-in settings for pdfsig applied"

step "pdfsig out.pdf (a database without the module, trusting the signature CA)"
run_pdfsig verify.txt -nssdir sql:vdb out.pdf || { cat verify.txt; fail "pdfsig out.pdf failed"; }
cat verify.txt
expect_grep '^Signature #1:' verify.txt "no signature in out.pdf"
if grep -q '^Signature #2:' verify.txt; then fail "more than one signature in out.pdf"; fi
expect_grep "Signer Certificate Common Name: $SIGN_CN\$" verify.txt "signer is not the card's signature certificate (CN=$SIGN_CN)"
expect_grep "Signer full Distinguished Name: $SIGN_SUBJECT\$" verify.txt "signer DN is not $SIGN_SUBJECT"
expect_grep 'Signing Hash Algorithm: SHA-256$' verify.txt "not a SHA-256 signature"
expect_grep 'Signature Type: adbe\.pkcs7\.detached$' verify.txt "not adbe.pkcs7.detached"
expect_grep 'Total document signed$' verify.txt "the signature does not cover the whole document"
expect_grep 'Signature Validation: Signature is Valid\.$' verify.txt "pdfsig does not find the signature valid"
expect_grep 'Certificate Validation: Certificate is Trusted\.$' verify.txt "the signer certificate does not chain to the signature CA"
pass "pdfsig: valid SHA-256 adbe.pkcs7.detached signature by CN=$SIGN_CN, certificate trusted through sign_ca.pem"

step "OpenSSL: cms -verify of the dumped signature over the signed byte ranges"
mkdir -p dump && (cd dump && run_pdfsig ../dump.txt -nocert -dump ../out.pdf) || { cat dump.txt; fail "pdfsig -dump failed"; }
[[ -s dump/out.pdf.sig0 ]] || { ls -l dump; fail "pdfsig -dump wrote no out.pdf.sig0"; }
read -r r0 l0 r1 l1 < <(grep -aoE '/ByteRange *\[ *[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ *\]' out.pdf | tail -n1 | tr -dc '0-9 \n' | xargs)
[[ -n ${l1:-} && $r0 == 0 ]] || fail "no /ByteRange [0 …] in out.pdf"
((r1 + l1 == $(stat -c %s out.pdf))) || fail "/ByteRange does not end at the end of the file"
{ head -c "$l0" out.pdf; tail -c +"$((r1 + 1))" out.pdf | head -c "$l1"; } >signed-ranges.bin
openssl cms -verify -binary -inform DER -in dump/out.pdf.sig0 -content signed-ranges.bin -CAfile "$PKI/sign_ca.pem" \
  -purpose any -signer cms-signer.pem -out /dev/null >cms-verify.txt 2>&1 || { cat cms-verify.txt; fail "openssl cms -verify failed"; }
cat cms-verify.txt
expect_grep '^CMS Verification successful' cms-verify.txt "CMS verification"
cmp <(openssl x509 -in cms-signer.pem -outform DER) "$PKI/sign.der" || fail "the CMS signer is not the card's signature certificate"
pass "OpenSSL verifies the CMS signature over ByteRange [0 $l0 $r1 $l1]; signer = \$PKI/sign.pem"

step "a tampered copy does not verify"
LC_ALL=C sed 's/jpki-pkcs11 interop/jpki-pkcs11 INTEROP/' out.pdf >tampered.pdf
cmp -s out.pdf tampered.pdf && fail "the tampered copy is unchanged"
((($(stat -c %s tampered.pdf)) == $(stat -c %s out.pdf))) || fail "the tampered copy changed length"
run_pdfsig tampered.txt -nssdir sql:vdb tampered.pdf || true
grep 'Signature Validation' tampered.txt
expect_grep 'Signature Validation: ' tampered.txt "pdfsig did not check the tampered copy"
if grep -q 'Signature is Valid' tampered.txt; then fail "the tampered copy verified"; fi
pass "tampered copy: $(sed -n 's/.*Signature Validation: //p' tampered.txt | head -n1)"

step "[program pdfsig] tokens = both: the section is honoured, the module protects the PIN"
printf '[program pdfsig]\ntokens = both\n' >both.conf
card_mark
rc=0
JPKI_PKCS11_CONF=$JPKI_WORK/both.conf run_pdfsig sign-both.txt -add-signature -nssdir sql:db -nick "$NICK" \
  -nss-pwd "$SIGN_PIN" in.pdf out-both.pdf || rc=$?
cat sign-both.txt
echo "exit code: $rc"
((rc < 124)) || fail "pdfsig with both tokens hung or died of a signal (exit $rc)"
expect_grep "pdfsig: built-in settings for pdfsig, '\[program pdfsig\]' at line 1; tokens both, sign-always-authenticate no" \
  module.log "the module did not apply the [program pdfsig] section over its built-in settings"
if ((rc == 0)); then
  echo "note: this pdfsig logs in to each token with its own password"
  card_delta "pdfsig with both tokens" 0 1 1+
else
  # pdfsig offers the signature password to the authentication token first; the module refuses
  # it (not a 4-digit PIN) before the card, and pdfsig stops.
  expect_grep 'Password was not accepted' sign-both.txt "pdfsig failed for another reason"
  card_delta "pdfsig with both tokens" 0 0 0
fi
pass "with both tokens the authentication token got no VERIFY with the signature password (pdfsig exit $rc)"
echo "pdfsig interop: all checks passed"
