// SPDX-License-Identifier: MIT
// Building blocks of the test PKI (test_pki.cpp issues certificates, pki_files.cpp stores them).
#pragma once

#include <string>

#include "core/ossl.h"
#include "core/virtual_card.h"

namespace jpki::vcard::pki {

ossl::PkeyPtr newRsaKey();  // RSA-2048, e = 65537
// Self-signed root with the production DN of the auth (sign=false) or signature CA (§8).
ossl::X509Ptr makeCaCert(EVP_PKEY* key, bool sign);
// End-entity certificates (§8); Expired profile: notAfter = yesterday.
ossl::X509Ptr makeAuthCert(EVP_PKEY* key, X509* ca, EVP_PKEY* caKey, Profile profile);
ossl::X509Ptr makeSignCert(EVP_PKEY* key, X509* ca, EVP_PKEY* caKey, Profile profile,
                           const std::string& holderName);

Bytes certDer(X509* cert);
std::string certPem(X509* cert);
std::string keyPem(EVP_PKEY* key);  // PKCS#8
ossl::X509Ptr certFromDer(const Bytes& der);
ossl::PkeyPtr keyFromPem(const std::string& pem);

}  // namespace jpki::vcard::pki
