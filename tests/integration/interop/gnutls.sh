#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# GnuTLS: gnutls-cli makes a TLS 1.2 client-authenticated handshake with the card's authentication
# key and certificate given as pkcs11: URIs, against a local gnutls-serv that requires and verifies
# a client certificate issued by the test authentication CA. With only TLS 1.3 allowed the
# handshake fails cleanly (the card cannot make RSA-PSS signatures): a clear error, no crash, the
# card is never asked to sign, and the server keeps running.
source "$(dirname "$0")/common.sh"
cd "$JPKI_WORK"
card_facts
make_server_pki srv
PORT=4433
CERT_URI="$AUTH_TOKEN_URI;id=%01;type=cert"
KEY_URI="$AUTH_TOKEN_URI;id=%01;type=private"
# The card's sign command (INTERNAL AUTHENTICATE-like "80 2A 00 80") in the APDU log.
card_signatures() { grep -c '^> 802A0080' "$JPKI_CARD_LOG" || true; }

step "gnutls-serv on 127.0.0.1:$PORT (client certificate required and verified against auth_ca.pem)"
gnutls-serv -p $PORT --x509certfile srv/srv.pem --x509keyfile srv/srv_key.pem \
  --x509cafile "$PKI/auth_ca.pem" --require-client-cert --verify-client-cert --priority NORMAL \
  >serv.log 2>&1 &
srv=$!
trap 'stop_pid $srv' EXIT
wait_port $PORT $srv

# --provider loads our module alone (no p11-kit configuration needed, and OpenSC's module, which
# would see the same card, stays out).
cli() {
  GNUTLS_PIN=$AUTH_PIN timeout 30 gnutls-cli --provider "$M" -p $PORT 127.0.0.1 --x509cafile srv/srv_ca.pem \
    --x509certfile "$CERT_URI" --x509keyfile "$KEY_URI" "$@"
}

step "gnutls-cli TLS 1.2 with $KEY_URI"
sigs0=$(card_signatures)
printf 'GET / HTTP/1.0\r\n\r\n' | cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 >cli12.log 2>&1 ||
  { cat cli12.log serv.log; fail "gnutls-cli TLS 1.2 handshake failed"; }
grep -E '^- (Description|Handshake|Status)|^\*\*\*' cli12.log || true
expect_grep '^- Description: \(TLS1\.2-X\.509\)' cli12.log "client did not negotiate TLS 1.2"
expect_grep '^- Handshake was completed' cli12.log "client handshake not completed"
sigs1=$(card_signatures)
((sigs1 == sigs0 + 1)) || fail "expected exactly one card signature for the handshake ($sigs0 -> $sigs1)"
# The server's own log: the certificate it received, verified, and the negotiated parameters.
for _ in $(seq 50); do grep -q '^- MAC:' serv.log && break; sleep 0.1; done
grep -E '^- (Status|Description|Version|Client Signature|Cipher)|Subject:' serv.log
expect_grep '^- Status: The certificate is trusted' serv.log "server did not verify the client certificate"
expect_grep "^	Subject: CN=$AUTH_CN,C=JP\$" serv.log "server did not see the card's certificate subject"
expect_grep '^- Version: TLS1\.2$' serv.log "server did not negotiate TLS 1.2"
expect_grep '^- Client Signature: RSA-SHA256$' serv.log "client signature not RSA-SHA256 (PKCS#1 v1.5)"
expect_grep '^- Description: \(TLS1\.2-X\.509\)-\(ECDHE-[A-Z0-9]+\)-\(RSA-SHA256\)-\(AES-(128|256)-GCM\)' serv.log "server description"
cipher=$(sed -n 's/^- Description: //p' serv.log | head -n1)
pass "TLS 1.2 client auth with the card: server trusted CN=$AUTH_CN, $cipher, client signature RSA-SHA256"

step "gnutls-cli TLS 1.3 only (must fail cleanly)"

rc=0
cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 </dev/null >cli13.log 2>&1 || rc=$?
grep -E '^- (Description|Handshake)|^- No certificate|^\*\*\*' cli13.log || true
echo "gnutls-cli exit code: $rc"
((rc != 0)) || fail "TLS 1.3 client auth unexpectedly succeeded"
((rc < 124)) || fail "gnutls-cli did not end cleanly (exit $rc: timeout or signal)"
expect_grep 'No certificate was sent to peer' cli13.log "client should have offered no certificate (no PSS)"
expect_grep 'Received alert \[116\]: Certificate is required' cli13.log "no clear 'certificate required' error"
sigs2=$(card_signatures)
((sigs2 == sigs1)) || fail "the card was asked to sign during the TLS 1.3 attempt"
for _ in $(seq 50); do grep -q 'Error in handshake: Certificate is required' serv.log && break; sleep 0.1; done
expect_grep 'Error in handshake: Certificate is required' serv.log "server did not report the missing certificate"
kill -0 $srv 2>/dev/null || fail "gnutls-serv died"
pass "TLS 1.3 only: clean failure (exit $rc, alert 116 'Certificate is required'), no card signature attempted"

step "TLS 1.2 again after the failed attempt (module state intact)"
printf 'GET / HTTP/1.0\r\n\r\n' | cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 >cli12b.log 2>&1 ||
  { cat cli12b.log; fail "second TLS 1.2 handshake failed"; }
expect_grep '^- Handshake was completed' cli12b.log "second handshake"
pass "second TLS 1.2 handshake completed"
echo "GnuTLS interop: all checks passed"
