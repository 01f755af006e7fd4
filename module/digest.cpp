// SPDX-License-Identifier: MIT
// Software digests (CKM_SHA_1, CKM_SHA224 … CKM_SHA512) with OpenSSL EVP. Size query and
// CKR_BUFFER_TOO_SMALL keep the operation; everything else ends it.
#include "ops.h"

namespace jpki::module {
namespace {

CK_RV finish(Session& s, DigestOp& op, CK_BYTE_PTR out, CK_ULONG_PTR outLen) {
  const Bytes hash = hashFinal(op.ctx.get());
  s.op = std::monostate{};
  writeOutput(out, outLen, hash);
  return CKR_OK;
}

}  // namespace

CK_RV digestInit(Call& c, CK_MECHANISM_PTR mech) {
  Session& s = *c.session;
  CK_RV rv = CKR_OK;
  const MechDef* m = checkInit(s, mech, CKF_DIGEST, &rv);
  if (m == nullptr) {
    return rv;
  }
  DigestOp op;
  op.md = EVP_get_digestbyname(m->digest);
  if (op.md == nullptr) {
    return CKR_GENERAL_ERROR;
  }
  op.ctx = newDigest(op.md);
  s.op = std::move(op);
  return CKR_OK;
}

namespace {

CK_RV digestBody(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out, CK_ULONG_PTR outLen) {
  if ((data == nullptr && len != 0) || outLen == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<DigestOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Single)) {
    return CKR_OPERATION_ACTIVE;
  }
  if (auto rv = checkOutput(out, outLen, static_cast<std::size_t>(EVP_MD_get_size(op->md)))) {
    return *rv;
  }
  hashUpdate(op->ctx.get(), view(data, len));
  return finish(*c.session, *op, out, outLen);
}

CK_RV digestUpdateBody(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  if (part == nullptr && len != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<DigestOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Multi)) {
    return CKR_OPERATION_ACTIVE;
  }
  hashUpdate(op->ctx.get(), view(part, len));
  return CKR_OK;
}

CK_RV digestFinalBody(Call& c, CK_BYTE_PTR out, CK_ULONG_PTR outLen) {
  if (outLen == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  auto* op = std::get_if<DigestOp>(&c.session->op);
  if (op == nullptr) {
    return CKR_OPERATION_NOT_INITIALIZED;
  }
  if (!claimPart(op->part, Part::Multi)) {
    return CKR_OPERATION_ACTIVE;
  }
  if (auto rv = checkOutput(out, outLen, static_cast<std::size_t>(EVP_MD_get_size(op->md)))) {
    return *rv;
  }
  return finish(*c.session, *op, out, outLen);
}

}  // namespace

CK_RV digest(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out, CK_ULONG_PTR outLen) {
  return endOnError<DigestOp>(*c.session, [&] { return digestBody(c, data, len, out, outLen); });
}

CK_RV digestUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len) {
  return endOnError<DigestOp>(*c.session, [&] { return digestUpdateBody(c, part, len); });
}

CK_RV digestFinal(Call& c, CK_BYTE_PTR out, CK_ULONG_PTR outLen) {
  return endOnError<DigestOp>(*c.session, [&] { return digestFinalBody(c, out, outLen); });
}

MdCtx newDigest(const EVP_MD* md) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) {
    throw std::bad_alloc();
  }
  if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    fail(CKR_GENERAL_ERROR);
  }
  return ctx;
}

void hashUpdate(EVP_MD_CTX* ctx, ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    fail(CKR_GENERAL_ERROR);
  }
}

Bytes hashFinal(EVP_MD_CTX* ctx) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &n) != 1) {
    fail(CKR_GENERAL_ERROR);
  }
  out.resize(n);
  return out;
}

}  // namespace jpki::module
