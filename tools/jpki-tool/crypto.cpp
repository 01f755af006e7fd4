// SPDX-License-Identifier: MIT
// The card as an OpenSSL key: OpenSSL 3.0 still routes a "foreign" RSA key (one with its own
// RSA_METHOD) through the legacy code path, where RSA_sign() builds the DigestInfo and calls the
// method's private "encryption" with PKCS#1 padding: exactly the card's COMPUTE DIGITAL
// SIGNATURE. The RSA_METHOD API is deprecated in 3.0 but is still the one way to plug an external
// key into CMS_sign without an engine or a provider.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstring>
#include <exception>
#include <memory>

#include "exit_codes.h"
#include "jpki/digest.h"

namespace jpki::tool {

namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Free<CMS_ContentInfo, CMS_ContentInfo_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX, X509_STORE_CTX_free>>;
using MethPtr = std::unique_ptr<RSA_METHOD, Free<RSA_METHOD, RSA_meth_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>>;

std::string opensslError() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

X509Ptr parseCert(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) throw ToolError(Exit::Error, "not a DER certificate");
  return x;
}

// What the RSA_METHOD callback needs: the card, the key, and the first error it met (rethrown
// after OpenSSL returns, so the exit code reflects the card's answer).
struct CardKey {
  JpkiCard* card = nullptr;
  KeyRole role = KeyRole::Auth;
  std::exception_ptr error;
};

int cardKeyIndex() {
  static const int index = RSA_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int cardPrivEnc(int flen, const unsigned char* from, unsigned char* to, RSA* rsa, int padding) {
  auto* key = static_cast<CardKey*>(RSA_get_ex_data(rsa, cardKeyIndex()));
  if (key == nullptr || padding != RSA_PKCS1_PADDING || flen <= 0) return -1;
  try {
    const Bytes sig = key->card->sign(key->role, ByteView(from, static_cast<std::size_t>(flen)));
    if (sig.size() != static_cast<std::size_t>(RSA_size(rsa))) return -1;
    std::memcpy(to, sig.data(), sig.size());
    return static_cast<int>(sig.size());
  } catch (...) {
    if (!key->error) key->error = std::current_exception();
    return -1;
  }
}

// An EVP_PKEY with the certificate's public key whose private operation is done by the card.
PkeyPtr cardPkey(X509* cert, CardKey* ctx, RSA_METHOD* meth) {
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  if (pub == nullptr || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
    throw ToolError(Exit::Error, "the card's certificate has no RSA key");
  }
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(pub, "n", &n) != 1 || EVP_PKEY_get_bn_param(pub, "e", &e) != 1) {
    BN_free(n);
    BN_free(e);
    throw ToolError(Exit::Error, "cannot read the certificate's RSA key: " + opensslError());
  }
  RSA* rsa = RSA_new();
  if (rsa == nullptr || RSA_set0_key(rsa, n, e, nullptr) != 1) {
    RSA_free(rsa);
    BN_free(n);
    BN_free(e);
    throw ToolError(Exit::Error, "RSA key setup failed");
  }
  RSA_set_method(rsa, meth);
  RSA_set_ex_data(rsa, cardKeyIndex(), ctx);
  PkeyPtr pkey(EVP_PKEY_new());
  if (!pkey || EVP_PKEY_assign_RSA(pkey.get(), rsa) != 1) {
    RSA_free(rsa);
    throw ToolError(Exit::Error, "EVP_PKEY setup failed");
  }
  return pkey;
}

VerifyReport chainCheck(X509* cert, const Bytes& caDer, VerifyReport report) {
  X509Ptr ca = parseCert(caDer);
  StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  StoreCtxPtr sctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(sctx.get(), store.get(), cert, nullptr);
  const int ok = X509_verify_cert(sctx.get());
  report.chainOk = ok == 1;
  report.chainDetail =
      ok == 1 ? "ok" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx.get()));
  ERR_clear_error();
  return report;
}

std::string subjectOf(X509* x) {
  char* s = X509_NAME_oneline(X509_get_subject_name(x), nullptr, 0);
  std::string out = s != nullptr ? s : "";
  OPENSSL_free(s);
  return out;
}

}  // namespace

Bytes signRaw(JpkiCard& card, KeyRole role, ByteView data) {
  return card.sign(role, digestInfo(EVP_sha256(), sha256(data)));
}

Bytes signCms(JpkiCard& card, KeyRole role, const Bytes& signerCertDer, ByteView data) {
  X509Ptr cert = parseCert(signerCertDer);
  MethPtr meth(RSA_meth_dup(RSA_PKCS1_OpenSSL()));
  if (!meth) throw ToolError(Exit::Error, "RSA_meth_dup failed");
  RSA_meth_set1_name(meth.get(), "jpki-tool card key");
  RSA_meth_set_priv_enc(meth.get(), cardPrivEnc);
  CardKey ctx{&card, role, nullptr};
  PkeyPtr pkey = cardPkey(cert.get(), &ctx, meth.get());

  const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  if (!cms) throw ToolError(Exit::Error, "CMS_sign failed: " + opensslError());
  if (CMS_add1_signer(cms.get(), cert.get(), pkey.get(), EVP_sha256(), flags) == nullptr) {
    if (ctx.error) std::rethrow_exception(ctx.error);
    throw ToolError(Exit::Error, "CMS_add1_signer failed: " + opensslError());
  }
  BioPtr in(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (CMS_final(cms.get(), in.get(), nullptr, flags) != 1) {
    if (ctx.error) std::rethrow_exception(ctx.error);
    throw ToolError(Exit::Error, "CMS signing failed: " + opensslError());
  }
  unsigned char* out = nullptr;
  const int len = i2d_CMS_ContentInfo(cms.get(), &out);
  if (len <= 0) throw ToolError(Exit::Error, "CMS encoding failed: " + opensslError());
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

VerifyReport verifyRaw(const Bytes& certDer, const Bytes& caDer, ByteView data, ByteView sig) {
  X509Ptr cert = parseCert(certDer);
  VerifyReport report;
  report.signer = subjectOf(cert.get());
  MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  const int ok = pub != nullptr &&
                 EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, pub) == 1 &&
                 EVP_DigestVerify(md.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
  report.signatureOk = ok;
  report.signatureDetail = ok ? "ok" : "the signature does not match the data and certificate";
  ERR_clear_error();
  return chainCheck(cert.get(), caDer, report);
}

VerifyReport verifyCms(const Bytes& certDer, const Bytes& caDer, ByteView data, ByteView cmsDer) {
  const unsigned char* p = cmsDer.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cmsDer.size())));
  if (!cms) throw ToolError(Exit::Error, "the signature file is not a DER CMS structure");
  VerifyReport report;
  STACK_OF(X509)* signers = nullptr;
  // Signature first, without the chain (reported separately below).
  BioPtr content(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  const int ok = CMS_verify(cms.get(), nullptr, nullptr, content.get(), nullptr,
                            CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
  report.signatureOk = ok == 1;
  report.signatureDetail = ok == 1 ? "ok" : opensslError();
  ERR_clear_error();
  signers = CMS_get0_signers(cms.get());
  if (signers == nullptr || sk_X509_num(signers) != 1) {
    sk_X509_free(signers);
    report.signatureOk = false;
    report.chainDetail = "the CMS structure does not carry exactly one signer certificate";
    return report;
  }
  X509* signer = sk_X509_value(signers, 0);
  sk_X509_free(signers);
  report.signer = subjectOf(signer);
  if (!certDer.empty()) {
    X509Ptr expected = parseCert(certDer);
    if (X509_cmp(expected.get(), signer) != 0) {
      report.signatureOk = false;
      report.signatureDetail = "signed by another certificate (" + report.signer + ")";
    }
  }
  return chainCheck(signer, caDer, report);
}

}  // namespace jpki::tool
