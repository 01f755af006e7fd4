// SPDX-License-Identifier: MIT
// The bodies of the entry points, grouped by file. Each runs under dispatch() (guard.h) with its
// declared preconditions already checked; `c.session` is set for session functions.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "guard.h"

namespace jpki::module {

// library / entry.cpp
CK_RV getInfo(CK_INFO_PTR info, CK_VERSION version);

// slots.cpp
CK_RV getSlotList(Call& c, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR list, CK_ULONG_PTR count);
CK_RV getSlotInfo(Call& c, CK_SLOT_INFO_PTR info);
CK_RV waitForSlotEvent(Call& c, CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved);

// token.cpp
CK_RV getTokenInfo(Call& c, CK_TOKEN_INFO_PTR info);

// mechanisms.cpp
CK_RV getMechanismList(Call& c, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count);
CK_RV getMechanismInfo(Call& c, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info);

// session.cpp
CK_RV openSession(Call& c, CK_FLAGS flags, CK_SESSION_HANDLE_PTR out);
CK_RV closeSession(CK_SESSION_HANDLE handle);  // own dispatch: a dead session closes quietly
CK_RV closeAllSessions(Call& c);
CK_RV getSessionInfo(Call& c, CK_SESSION_INFO_PTR info);
CK_RV login(Call& c, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pinLen);
CK_RV logout(Call& c);
CK_RV setPin(Call& c, CK_UTF8CHAR_PTR oldPin, CK_ULONG oldLen, CK_UTF8CHAR_PTR newPin,
             CK_ULONG newLen);

// attributes.cpp
CK_RV getAttributeValue(Call& c, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
CK_RV getObjectSize(Call& c, CK_OBJECT_HANDLE object, CK_ULONG_PTR size);

// find.cpp
CK_RV findObjectsInit(Call& c, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
CK_RV findObjects(Call& c, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count);
CK_RV findObjectsFinal(Call& c);

// sign.cpp
CK_RV signInit(Call& c, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key);
CK_RV sign(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen);
CK_RV signUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len);
CK_RV signFinal(Call& c, CK_BYTE_PTR sig, CK_ULONG_PTR sigLen);

// verify.cpp
CK_RV verifyInit(Call& c, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key);
CK_RV verify(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG sigLen);
CK_RV verifyUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len);
CK_RV verifyFinal(Call& c, CK_BYTE_PTR sig, CK_ULONG sigLen);

// digest.cpp
CK_RV digestInit(Call& c, CK_MECHANISM_PTR mech);
CK_RV digest(Call& c, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out, CK_ULONG_PTR outLen);
CK_RV digestUpdate(Call& c, CK_BYTE_PTR part, CK_ULONG len);
CK_RV digestFinal(Call& c, CK_BYTE_PTR out, CK_ULONG_PTR outLen);

// Helpers shared by the operation files.
// v2.40 §5.2 for the lists (C_GetSlotList, C_GetMechanismList, C_GetInterfaceList): a NULL list
// asks for the count (CKR_OK); a *count smaller than the list gets the count and
// CKR_BUFFER_TOO_SMALL; otherwise the items and their count.
template <class T>
CK_RV writeList(std::span<const T> items, T* list, CK_ULONG_PTR count) {
  if (count == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  CK_RV rv = CKR_OK;
  if (list != nullptr && *count < items.size()) {
    rv = CKR_BUFFER_TOO_SMALL;
  } else if (list != nullptr) {
    std::copy(items.begin(), items.end(), list);
  }
  *count = items.size();
  return rv;
}

// PKCS#11 text fields are blank-padded, not NUL-terminated.
inline void padCopy(CK_UTF8CHAR* dst, std::size_t size, const std::string& text) {
  std::memset(dst, ' ', size);
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
  std::memcpy(dst, text.data(), std::min(size, text.size()));
}

// Ends the session's active operation when the scope is left, whatever happens.
struct EndOperation {
  Session& session;
  // Switching a variant to monostate only runs destructors, which do not throw.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  ~EndOperation() { session.op.emplace<std::monostate>(); }
};

// v2.40 §5.12-5.14: a call to C_Sign/C_Verify/C_Digest (and their Update/Final) that fails ends
// the active operation, unless it returns CKR_BUFFER_TOO_SMALL or was a successful size query;
// that includes CKR_ARGUMENTS_BAD and errors thrown by the card. An operation of another kind is
// left alone (its caller gets CKR_OPERATION_NOT_INITIALIZED).
template <class Op, class F>
CK_RV endOnError(Session& session, F&& body) {
  CK_RV rv = CKR_GENERAL_ERROR;
  try {
    rv = body();
  } catch (...) {
    if (std::holds_alternative<Op>(session.op)) {
      session.op.template emplace<std::monostate>();
    }
    throw;
  }
  if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL && std::holds_alternative<Op>(session.op)) {
    session.op.template emplace<std::monostate>();
  }
  return rv;
}

inline ByteView view(const CK_BYTE* ptr, CK_ULONG len) {
  return ptr == nullptr ? ByteView{} : ByteView(ptr, len);
}

// Hashing shared by signing, verification and digesting (digest.cpp). Failures of OpenSSL are
// CKR_GENERAL_ERROR (thrown), a failed allocation std::bad_alloc.
MdCtx newDigest(const EVP_MD* md);
void hashUpdate(EVP_MD_CTX* ctx, ByteView data);
Bytes hashFinal(EVP_MD_CTX* ctx);

// Makes the operation single- or multi-part (state.h, Part); false if it already is the other.
inline bool claimPart(Part& part, Part want) {
  if (part == Part::Open) {
    part = want;
  }
  return part == want;
}

// C_SignUpdate / C_VerifyUpdate: the part goes into the hash (hash-and-sign mechanisms) or is kept
// as it is (CKM_RSA_PKCS) up to rawLimit bytes in all; past that the operation ends with
// CKR_DATA_LEN_RANGE.
template <class Op>
CK_RV absorbPart(Session& session, Op& op, ByteView part, std::size_t rawLimit) {
  if (!claimPart(op.part, Part::Multi)) {
    return CKR_OPERATION_ACTIVE;  // C_Sign / C_Verify was called: single-part
  }
  if (op.md != nullptr) {
    hashUpdate(op.ctx.get(), part);
    return CKR_OK;
  }
  if (op.data.size() + part.size() > rawLimit) {
    session.op = std::monostate{};
    return CKR_DATA_LEN_RANGE;
  }
  op.data.insert(op.data.end(), part.begin(), part.end());
  return CKR_OK;
}

// What the key works on once the message is complete (`tail` is the last part): its digest for
// hash-and-sign mechanisms, else the data itself. A copy: the operation may end before it is used.
template <class Op>
Bytes messageInput(Op& op, ByteView tail) {
  if (op.md != nullptr) {
    hashUpdate(op.ctx.get(), tail);
    return hashFinal(op.ctx.get());
  }
  Bytes input = op.data;
  input.insert(input.end(), tail.begin(), tail.end());
  return input;
}

}  // namespace jpki::module
