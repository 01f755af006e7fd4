#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# XML signatures (e-Gov / e-Tax style): xmlsec with its NSS backend signs an XML document
# (enveloped XMLDSig, RSA-SHA256) with the card's signature key, found in an NSS database holding
# our module by its nickname "token:label"; then xmlsec1 --verify accepts it with the signature CA
# as the only trust anchor, and rejects a tampered copy.
# Debian 12's xmlsec1 program has the OpenSSL backend only, so the NSS signing is done by
# xmlsec_nss_sign (built from xmlsec_nss_sign.c against libxmlsec1-nss; path in
# JPKI_XMLSEC_NSS_SIGN, else compiled here).
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$JPKI_WORK"
card_facts
SIGNER=${JPKI_XMLSEC_NSS_SIGN:-}
if [[ -z $SIGNER ]]; then
  SIGNER=$JPKI_WORK/xmlsec_nss_sign
  # shellcheck disable=SC2046 # pkg-config's flags are word-split on purpose
  cc -O1 -o "$SIGNER" "$here/xmlsec_nss_sign.c" $(pkg-config --cflags --libs xmlsec1-nss) ||
    fail "cannot build xmlsec_nss_sign (needs libxmlsec1-dev, libxmlsec1-nss)"
fi
[[ -x $SIGNER ]] || fail "xmlsec_nss_sign not found: $SIGNER"
NICK="$SIGN_LABEL:JPKI Digital Signature"
echo "$SIGN_PIN" >sign.pw

step "NSS database with our module"
mkdir -p db && certutil -N -d sql:db --empty-password || fail "certutil -N failed"
modutil -dbdir sql:db -add jpki -libfile "$M" -force >modutil.txt 2>&1 || { cat modutil.txt; fail "modutil -add failed"; }

cat >template.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Application xmlns="urn:example:e-tax-style">
  <Form id="F1"><Name>jpki-pkcs11 interop</Name><Amount>12345</Amount></Form>
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
      <Reference URI="">
        <Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <DigestValue/>
      </Reference>
    </SignedInfo>
    <SignatureValue/>
    <KeyInfo><KeyName>$NICK</KeyName><X509Data><X509Certificate/></X509Data></KeyInfo>
  </Signature>
</Application>
EOF

# sign_with CONFIG_TEXT OUT: sign template.xml through NSS with the module configured by CONFIG_TEXT.
sign_with() {
  printf '%s\n' "$1" >"module-$2.conf"
  JPKI_PKCS11_CONF=$JPKI_WORK/module-$2.conf timeout 40 "$SIGNER" "$JPKI_WORK/db" sign.pw template.xml "$2.xml" \
    </dev/null >"sign-$2.txt" 2>&1
}

# verify OUT: xmlsec1 (OpenSSL backend) with the signature CA as the only trust anchor.
verify() {
  xmlsec1 --verify --trusted-pem "$PKI/sign_ca.pem" --enabled-key-data x509 "$1" >"verify-$1.txt" 2>&1
}

step "enveloped XMLDSig RSA-SHA256 with '$NICK' (default: CKA_ALWAYS_AUTHENTICATE)"
logins0=$(login_count)
sign_with "sign-always-authenticate = yes" signed || { cat sign-signed.txt; fail "xmlsec NSS signing with the CKA_ALWAYS_AUTHENTICATE key failed"; }
cat sign-signed.txt
expect_grep "signed with key \"$NICK\"" sign-signed.txt "not signed with the card's signature key"
expect_grep 'NSS asked for the password 2 time' sign-signed.txt "NSS should ask twice: token login + context-specific login"
logins1=$(login_count)
((logins1 - logins0 == 2)) || fail "expected 2 VERIFY with the signature password, got $((logins1 - logins0))"
tr -d '\n' <signed.xml >signed.flat
expect_grep '<SignatureValue>[A-Za-z0-9+/=]{340,}</SignatureValue>' signed.flat "no 2048-bit signature value"
cert_b64=$(sed -E 's|.*<X509Certificate>([^<]*)</X509Certificate>.*|\1|' signed.flat)
cmp <(base64 -d <<<"$cert_b64") "$PKI/sign.der" || fail "X509Certificate in the signature is not the card's signature certificate"
pass "signed through NSS (token login + context-specific login, 2 VERIFY); KeyInfo carries the card's certificate"

step "xmlsec1 --verify --trusted-pem sign_ca.pem"
verify signed.xml || { cat verify-signed.xml.txt; fail "xmlsec1 --verify rejected the signature"; }
cat verify-signed.xml.txt
expect_grep '^OK$' verify-signed.xml.txt "verification status"
expect_grep 'SignedInfo References \(ok/all\): 1/1' verify-signed.xml.txt "reference check"
openssl x509 -in "$PKI/sign.pem" -noout -subject
sed 's|<Amount>12345</Amount>|<Amount>99999</Amount>|' signed.xml >tampered.xml
if verify tampered.xml; then fail "a tampered document verified"; fi
expect_grep 'FAIL' verify-tampered.xml.txt "tampered document: no FAIL status"
pass "xmlsec1 verifies the enveloped RSA-SHA256 signature of $SIGN_SUBJECT against sign_ca.pem; tampered copy FAILs"

step "the same with sign-always-authenticate = no (one password request)"
logins2=$(login_count)
sign_with "sign-always-authenticate = no" signed-noaa || { cat sign-signed-noaa.txt; fail "xmlsec NSS signing with sign-always-authenticate = no failed"; }
expect_grep 'NSS asked for the password 1 time' sign-signed-noaa.txt "NSS should ask once without CKA_ALWAYS_AUTHENTICATE"
logins3=$(login_count)
((logins3 - logins2 == 1)) || fail "expected 1 VERIFY with sign-always-authenticate = no, got $((logins3 - logins2))"
verify signed-noaa.xml || { cat verify-signed-noaa.xml.txt; fail "xmlsec1 --verify rejected the second signature"; }
pass "sign-always-authenticate = no: one login, signature verifies"
echo "xmlsec interop: all checks passed"
