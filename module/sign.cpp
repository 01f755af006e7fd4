// SPDX-License-Identifier: MIT
// Signing. The card computes PKCS#1 v1.5 signatures over a DigestInfo it receives (it adds the
// 00 01 FF.. padding); hash-and-sign mechanisms hash on the host with OpenSSL and build the
// DigestInfo with jpki::digestInfo (jpki/digest.h).
//
// Output size is known before any card I/O (the modulus length), so a size query
// (pSignature NULL) and CKR_BUFFER_TOO_SMALL never send an APDU and leave the operation active;
// any other outcome ends it (v2.40 §5.2).
#include "jpki/digest.h"
#include "ops.h"

namespace jpki::module {
namespace {

// The card's input: the DigestInfo of the message's digest, or the raw data for CKM_RSA_PKCS.
Bytes signInput(SignOp& op, ByteView tail) {
  Bytes input = messageInput(op, tail);
  return op.md != nullptr ? digestInfo(op.md, input) : input;
}

// Produces the signature and ends the operation (success or failure).
CK_RV finish(Call& c, SignOp& op, ByteView input, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  EndOperation end{*c.session};
  Token& token = *c.session->token;
  if (!token.loggedIn()) {
    return CKR_USER_NOT_LOGGED_IN;
  }
  // CKA_ALWAYS_AUTHENTICATE: a C_Login(CKU_CONTEXT_SPECIFIC) is needed for every signature.
  if (op.needContextLogin && !op.contextLoggedIn) {
    return CKR_USER_NOT_LOGGED_IN;
  }
  const Bytes signature = token.card->jpki->sign(token.role, input);
  if (signature.size() != op.sigLen) {
    return CKR_DEVICE_ERROR;
  }
  writeOutput(sig, sigLen, signature);
  return CKR_OK;
}

}  // namespace

CK_RV signInit(Call& c, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key) {
  Session& s = *c.session;
  CK_RV rv = CKR_OK;
  const MechDef* m = checkInit(s, mech, CKF_SIGN, &rv);
  if (m == nullptr) {
    return rv;
  }
  Token& token = *s.token;
  const ObjectEntry* obj = findObject(token, key);  // a handle of another token is not found
  if (obj == nullptr) {
    return CKR_KEY_HANDLE_INVALID;
  }
  if (!visible(token, *obj)) {
    return CKR_USER_NOT_LOGGED_IN;
  }
  switch (obj->def->kind) {
    case ObjKind::PrivateKey:
      break;
    case ObjKind::PublicKey:
      return CKR_KEY_FUNCTION_NOT_PERMITTED;  // CKA_SIGN is false
    case ObjKind::Certificate:
    case ObjKind::Profile:
      return CKR_KEY_HANDLE_INVALID;  // not a key
  }
  if (attributes(token, *obj, false) == nullptr) {  // exists; no certificate read
    return CKR_KEY_HANDLE_INVALID;
  }
  SignOp op;
  op.sigLen = 256;  // RSA-2048: JpkiCard::sign() returns exactly 256 bytes
  op.needContextLogin = alwaysAuthenticate(token, *obj->def);
  if (m->digest != nullptr) {
    op.md = EVP_get_digestbyname(m->digest);
    if (op.md == nullptr) {
      return CKR_MECHANISM_INVALID;
    }
    op.ctx = newDigest(op.md);
  }
  s.op = std::move(op);
  return CKR_OK;
}

namespace {

CK_RV signBody(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  if ((data == nullptr && len != 0) || sigLen == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<SignOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Single)) {
    return CKR_OPERATION_ACTIVE;  // C_SignUpdate started: finish with C_SignFinal
  }
  if (op->md == nullptr && (len == 0 || len > layout::kMaxSignInput)) {
    c.session->op = std::monostate{};
    return CKR_DATA_LEN_RANGE;
  }
  if (auto rv = checkOutput(sig, sigLen, op->sigLen)) {
    return *rv;
  }
  return finish(c, *op, signInput(*op, view(data, len)), sig, sigLen);
}

CK_RV signUpdateBody(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  if (part == nullptr && len != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<SignOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  return absorbPart(*c.session, *op, view(part, len), layout::kMaxSignInput);
}

CK_RV signFinalBody(Call& c, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  if (sigLen == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<SignOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Multi)) {
    return CKR_OPERATION_ACTIVE;  // C_Sign was called: single-part
  }
  if (op->md == nullptr && op->data.empty()) {
    c.session->op = std::monostate{};
    return CKR_DATA_LEN_RANGE;
  }
  if (auto rv = checkOutput(sig, sigLen, op->sigLen)) {
    return *rv;
  }
  return finish(c, *op, signInput(*op, {}), sig, sigLen);
}

}  // namespace

CK_RV sign(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  return endOnError<SignOp>(*c.session, [&] { return signBody(c, data, len, sig, sigLen); });
}

CK_RV signUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  return endOnError<SignOp>(*c.session, [&] { return signUpdateBody(c, part, len); });
}

CK_RV signFinal(Call& c, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen) {
  return endOnError<SignOp>(*c.session, [&] { return signFinalBody(c, sig, sigLen); });
}

}  // namespace jpki::module
