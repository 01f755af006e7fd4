// SPDX-License-Identifier: MIT
// Hashing and DigestInfo with OpenSSL: the DigestInfo comes from its X509_SIG encoder, so every
// digest's OID is OpenSSL's and no prefix is written out by hand.
#include "jpki/digest.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace jpki {

Bytes sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  return out;
}

Bytes digestInfo(const EVP_MD* md, ByteView hash) {
  struct SigFree {
    void operator()(X509_SIG* s) const noexcept { X509_SIG_free(s); }
  };
  const std::unique_ptr<X509_SIG, SigFree> sig(X509_SIG_new());
  if (!sig) {
    throw std::bad_alloc();
  }
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* digest = nullptr;
  X509_SIG_getm(sig.get(), &alg, &digest);
  if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, nullptr) != 1 ||
      ASN1_OCTET_STRING_set(digest, hash.data(), static_cast<int>(hash.size())) != 1) {
    throw std::runtime_error("DigestInfo encoding failed (OpenSSL)");
  }
  const int n = i2d_X509_SIG(sig.get(), nullptr);
  if (n <= 0) {
    throw std::runtime_error("DigestInfo encoding failed (OpenSSL)");
  }
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509_SIG(sig.get(), &p);
  return out;
}

}  // namespace jpki
