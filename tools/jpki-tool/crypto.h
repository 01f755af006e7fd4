// SPDX-License-Identifier: MIT
// Signing with the card and verifying in software (OpenSSL): raw PKCS#1 v1.5 SHA-256 signatures
// and detached CMS SignedData whose signature the card computes.
#pragma once

#include <string>

#include "jpki/bytes.h"
#include "jpki/jpki_card.h"

namespace jpki::tool {

// Raw signature: the card signs the DigestInfo of SHA-256(data) (jpki/digest.h). The PIN must be
// verified.
Bytes signRaw(JpkiCard& card, KeyRole role, ByteView data);

// Detached CMS SignedData (DER) over `data` with signed attributes (contentType, messageDigest,
// signingTime), SHA-256 and rsaEncryption; the signer certificate is embedded. The card computes
// the signature through an OpenSSL RSA key whose private operation calls JpkiCard::sign.
Bytes signCms(JpkiCard& card, KeyRole role, const Bytes& signerCertDer, ByteView data);

struct VerifyReport {
  bool signatureOk = false;
  std::string signatureDetail;  // OpenSSL's reason when it failed
  bool chainOk = false;
  std::string chainDetail;  // X509_verify_cert_error_string, or "ok"
  std::string signer;       // subject of the signer certificate
};

// Raw: checks the PKCS#1 v1.5 SHA-256 signature with `certDer`'s key, then the chain to `caDer`.
VerifyReport verifyRaw(const Bytes& certDer, const Bytes& caDer, ByteView data, ByteView sig);
// CMS: checks the detached SignedData over `data` and the signer's chain to `caDer`. When
// `certDer` is not empty the signer must be that certificate.
VerifyReport verifyCms(const Bytes& certDer, const Bytes& caDer, ByteView data, ByteView cms);

}  // namespace jpki::tool
