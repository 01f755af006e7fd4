// SPDX-License-Identifier: MIT
// Verification in software with the public key from the certificate (EVP_PKEY_verify,
// RSA_PKCS1_PADDING). The operation ends after C_Verify / C_VerifyFinal whatever the outcome.
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ops.h"

namespace jpki::module {
namespace {

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

CK_RV check(VerifyOp& op, ByteView tbs, ByteView sig) {
  if (sig.size() != op.sigLen) {
    return CKR_SIGNATURE_LEN_RANGE;
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new(op.key.get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      (op.md != nullptr && EVP_PKEY_CTX_set_signature_md(ctx.get(), op.md) != 1)) {
    fail(CKR_GENERAL_ERROR);
  }
  const int r = EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), tbs.data(), tbs.size());
  return r == 1 ? CKR_OK : CKR_SIGNATURE_INVALID;
}

}  // namespace

CK_RV verifyInit(Call& c, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key) {
  Session& s = *c.session;
  CK_RV rv = CKR_OK;
  const MechDef* m = checkInit(s, mech, CKF_VERIFY, &rv);
  if (m == nullptr) {
    return rv;
  }
  Token& token = *s.token;
  const ObjectEntry* obj = findObject(token, key);
  if (obj == nullptr) {
    return CKR_KEY_HANDLE_INVALID;
  }
  if (!visible(token, *obj)) {
    return CKR_USER_NOT_LOGGED_IN;
  }
  switch (obj->def->kind) {
    case ObjKind::PublicKey:
      break;
    case ObjKind::PrivateKey:
      return CKR_KEY_FUNCTION_NOT_PERMITTED;  // no CKA_VERIFY
    case ObjKind::Certificate:
    case ObjKind::Profile:
      return CKR_KEY_HANDLE_INVALID;
  }
  const AttrMap* attrs = attributes(token, *obj);
  if (attrs == nullptr) {
    return CKR_KEY_HANDLE_INVALID;
  }
  const Bytes& spki = attrs->at(CKA_PUBLIC_KEY_INFO);
  const unsigned char* p = spki.data();
  VerifyOp op;
  op.key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!op.key) {
    fail(CKR_GENERAL_ERROR);
  }
  op.sigLen = attrs->at(CKA_MODULUS).size();
  if (m->digest != nullptr) {
    op.md = EVP_get_digestbyname(m->digest);
    if (op.md == nullptr) {
      fail(CKR_GENERAL_ERROR);
    }
    op.ctx = newDigest(op.md);
  }
  s.op = std::move(op);
  return CKR_OK;
}

namespace {

CK_RV verifyBody(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG sigLen) {
  if ((data == nullptr && len != 0) || sig == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<VerifyOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Single)) {
    return CKR_OPERATION_ACTIVE;
  }
  EndOperation end{*c.session};
  return check(*op, messageInput(*op, view(data, len)), view(sig, sigLen));
}

CK_RV verifyUpdateBody(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  if (part == nullptr && len != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<VerifyOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  return absorbPart(*c.session, *op, view(part, len), SIZE_MAX);
}

CK_RV verifyFinalBody(Call& c, CK_BYTE_PTR sig, CK_ULONG sigLen) {
  if (sig == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<VerifyOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Multi)) {
    return CKR_OPERATION_ACTIVE;  // C_Verify was called: single-part
  }
  EndOperation end{*c.session};
  return check(*op, messageInput(*op, {}), view(sig, sigLen));
}

}  // namespace

CK_RV verify(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG sigLen) {
  return endOnError<VerifyOp>(*c.session, [&] { return verifyBody(c, data, len, sig, sigLen); });
}

CK_RV verifyUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  return endOnError<VerifyOp>(*c.session, [&] { return verifyUpdateBody(c, part, len); });
}

CK_RV verifyFinal(Call& c, CK_BYTE_PTR sig, CK_ULONG sigLen) {
  return endOnError<VerifyOp>(*c.session, [&] { return verifyFinalBody(c, sig, sigLen); });
}

}  // namespace jpki::module
