// SPDX-License-Identifier: MIT
// Hashing and the PKCS#1 v1.5 DigestInfo, for every layer that signs or names a certificate by
// its hash (OpenSSL underneath).
#pragma once

#include <openssl/types.h>

#include "jpki/bytes.h"

namespace jpki {

// SHA-256 of `data`. Throws std::runtime_error when OpenSSL fails.
Bytes sha256(ByteView data);

// DER DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier (md's OID, parameters NULL),
// digest OCTET STRING } (RFC 8017 §9.2): the input the card pads and signs. Throws
// std::runtime_error when OpenSSL fails, std::bad_alloc when it cannot allocate.
Bytes digestInfo(const EVP_MD* md, ByteView hash);

}  // namespace jpki
