// SPDX-License-Identifier: MIT
// The C boundary: the function list and every C_* entry point, one line each. Preconditions are
// declared here (Pre::Initialized / Slot / Token / Session / LoggedIn, see guard.h); the bodies
// live in the files named in ops.h. Only C_GetFunctionList, C_GetInterfaceList and C_GetInterface
// are exported (jpki-pkcs11.map).
//
// Interfaces (v3.0 §5.2): "PKCS 11" 3.0, the default, whose CK_FUNCTION_LIST_3_0 adds the 3.0
// functions (C_LoginUser, C_SessionCancel and the message-based functions answer
// CKR_FUNCTION_NOT_SUPPORTED, after the initialization and session checks: v3.0 §5.1.6 "even
// unsupported functions ... should have a stub"), and "PKCS 11" 2.40, the CK_FUNCTION_LIST that
// C_GetFunctionList returns. p11-kit >= 0.25 loads modules with C_GetInterface("PKCS 11", NULL).
#include <algorithm>
#include <array>
#include <cstring>

#include "ops.h"

namespace jpki::module {

CK_RV getInfo(CK_INFO_PTR info, CK_VERSION version) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  *info = {};
  info->cryptokiVersion = version;  // the version of the interface the caller called through
  std::memset(info->manufacturerID, ' ', sizeof info->manufacturerID);
  std::memcpy(info->manufacturerID, "jpki-pkcs11", 11);
  info->flags = 0;
  std::memset(info->libraryDescription, ' ', sizeof info->libraryDescription);
  std::memcpy(info->libraryDescription, "JPKI My Number Card PKCS#11", 27);
  info->libraryVersion = {0, 1};
  return CKR_OK;
}

}  // namespace jpki::module

namespace {

using namespace jpki::module;  // NOLINT(google-build-using-namespace): entry points only

// Functions the module does not offer: initialization and session checked first (v2.40 §5.1).
CK_RV unsupported(Fn fn, CK_SESSION_HANDLE h) {
  return dispatch(fn, Pre::Session, h, [](Call&) { return CKR_FUNCTION_NOT_SUPPORTED; });
}
// Object writes and C_InitPIN: the token is write-protected (after the argument and session
// checks). C_SetPIN is not among them: the user's PIN can change (session.cpp).
CK_RV writeProtected(Fn fn, CK_SESSION_HANDLE h, bool argsOk) {
  return dispatch(fn, Pre::Session, h,
                  [&](Call&) { return argsOk ? CKR_TOKEN_WRITE_PROTECTED : CKR_ARGUMENTS_BAD; });
}

// The table below is kept one line per entry point on purpose.
// clang-format off
// ---- general purpose ----
CK_RV C_Initialize(CK_VOID_PTR a) { return barrier(Fn::Initialize, [&] { return initialize(a); }); }
CK_RV C_Finalize(CK_VOID_PTR r) { return barrier(Fn::Finalize, [&] { return finalize(r); }); }
CK_RV C_GetInfo(CK_INFO_PTR i) { return dispatch(Fn::GetInfo, [&](Call&) { return getInfo(i, {2, 40}); }); }
CK_RV C_GetInfo30(CK_INFO_PTR i) { return dispatch(Fn::GetInfo, [&](Call&) { return getInfo(i, {3, 0}); }); }
// The three exported functions are wrappers around these: the function lists must point into
// this library, and a reference to an exported name may bind to another library's (libp11-kit,
// p11-kit-proxy.so, exports C_GetInterfaceList and C_GetInterface too).
CK_RV C_GetFunctionListImpl(CK_FUNCTION_LIST_PTR_PTR out);
CK_RV C_GetInterfaceListImpl(CK_INTERFACE_PTR list, CK_ULONG_PTR count);
CK_RV C_GetInterfaceImpl(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
                         CK_FLAGS flags);

// ---- slots and tokens ----
CK_RV C_GetSlotList(CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR n) { return dispatch(Fn::GetSlotList, [&](Call& c) { return getSlotList(c, p, l, n); }); }
CK_RV C_GetSlotInfo(CK_SLOT_ID s, CK_SLOT_INFO_PTR i) { return dispatch(Fn::GetSlotInfo, Pre::Slot, s, [&](Call& c) { return getSlotInfo(c, i); }); }
CK_RV C_GetTokenInfo(CK_SLOT_ID s, CK_TOKEN_INFO_PTR i) { return dispatch(Fn::GetTokenInfo, Pre::Token, s, [&](Call& c) { return getTokenInfo(c, i); }); }
CK_RV C_GetMechanismList(CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR n) { return dispatch(Fn::GetMechanismList, Pre::Token, s, [&](Call& c) { return getMechanismList(c, l, n); }); }
CK_RV C_GetMechanismInfo(CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i) { return dispatch(Fn::GetMechanismInfo, Pre::Token, s, [&](Call& c) { return getMechanismInfo(c, t, i); }); }
CK_RV C_WaitForSlotEvent(CK_FLAGS f, CK_SLOT_ID_PTR s, CK_VOID_PTR r) { return dispatch(Fn::WaitForSlotEvent, [&](Call& c) { return waitForSlotEvent(c, f, s, r); }); }
CK_RV C_InitToken(CK_SLOT_ID s, CK_UTF8CHAR_PTR p, CK_ULONG n, CK_UTF8CHAR_PTR l) { return dispatch(Fn::InitToken, Pre::Slot, s, [&](Call&) { return (p == nullptr && n != 0) || l == nullptr ? CKR_ARGUMENTS_BAD : CKR_TOKEN_WRITE_PROTECTED; }); }
CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR p, CK_ULONG n) { return writeProtected(Fn::InitPIN, h, p != nullptr || n == 0); }
CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR o, CK_ULONG on, CK_UTF8CHAR_PTR p, CK_ULONG n) { return dispatch(Fn::SetPIN, Pre::Session, h, [&](Call& c) { return setPin(c, o, on, p, n); }); }

// ---- sessions ----
CK_RV C_OpenSession(CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR, CK_NOTIFY, CK_SESSION_HANDLE_PTR h) { return dispatch(Fn::OpenSession, Pre::Token, s, [&](Call& c) { return openSession(c, f, h); }); }
CK_RV C_CloseSession(CK_SESSION_HANDLE h) { return closeSession(h); }
CK_RV C_CloseAllSessions(CK_SLOT_ID s) { return dispatch(Fn::CloseAllSessions, Pre::Slot, s, [&](Call& c) { return closeAllSessions(c); }); }
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR i) { return dispatch(Fn::GetSessionInfo, Pre::Session, h, [&](Call& c) { return getSessionInfo(c, i); }); }
CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::GetOperationState, h); }
CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) { return unsupported(Fn::SetOperationState, h); }
CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG n) { return dispatch(Fn::Login, Pre::Session, h, [&](Call& c) { return login(c, u, p, n); }); }
CK_RV C_Logout(CK_SESSION_HANDLE h) { return dispatch(Fn::Logout, Pre::LoggedIn, h, [&](Call& c) { return logout(c); }); }

// ---- objects ----
CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o) { return writeProtected(Fn::CreateObject, h, (t != nullptr || n == 0) && o != nullptr); }
CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o) { return writeProtected(Fn::CopyObject, h, (t != nullptr || n == 0) && o != nullptr); }
CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE) { return writeProtected(Fn::DestroyObject, h, true); }
CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG_PTR n) { return dispatch(Fn::GetObjectSize, Pre::Session, h, [&](Call& c) { return getObjectSize(c, o, n); }); }
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n) { return dispatch(Fn::GetAttributeValue, Pre::Session, h, [&](Call& c) { return getAttributeValue(c, o, t, n); }); }
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE, CK_ATTRIBUTE_PTR t, CK_ULONG n) { return writeProtected(Fn::SetAttributeValue, h, t != nullptr || n == 0); }
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n) { return dispatch(Fn::FindObjectsInit, Pre::Session, h, [&](Call& c) { return findObjectsInit(c, t, n); }); }
CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR o, CK_ULONG m, CK_ULONG_PTR n) { return dispatch(Fn::FindObjects, Pre::Session, h, [&](Call& c) { return findObjects(c, o, m, n); }); }
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h) { return dispatch(Fn::FindObjectsFinal, Pre::Session, h, [&](Call& c) { return findObjectsFinal(c); }); }

// ---- encryption / decryption: not offered by the card ----
CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::EncryptInit, h); }
CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::Encrypt, h); }
CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::EncryptUpdate, h); }
CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::EncryptFinal, h); }
CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::DecryptInit, h); }
CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::Decrypt, h); }
CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DecryptUpdate, h); }
CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DecryptFinal, h); }

// ---- digests (software) ----
CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m) { return dispatch(Fn::DigestInit, Pre::Session, h, [&](Call& c) { return digestInit(c, m); }); }
CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR o, CK_ULONG_PTR on) { return dispatch(Fn::Digest, Pre::Session, h, [&](Call& c) { return digest(c, d, n, o, on); }); }
CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return dispatch(Fn::DigestUpdate, Pre::Session, h, [&](Call& c) { return digestUpdate(c, d, n); }); }
CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE) { return unsupported(Fn::DigestKey, h); }
CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR o, CK_ULONG_PTR on) { return dispatch(Fn::DigestFinal, Pre::Session, h, [&](Call& c) { return digestFinal(c, o, on); }); }

// ---- signing (card) and verification (software) ----
CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { return dispatch(Fn::SignInit, Pre::Session, h, [&](Call& c) { return signInit(c, m, k); }); }
CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR s, CK_ULONG_PTR sn) { return dispatch(Fn::Sign, Pre::Session, h, [&](Call& c) { return sign(c, d, n, s, sn); }); }
CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return dispatch(Fn::SignUpdate, Pre::Session, h, [&](Call& c) { return signUpdate(c, d, n); }); }
CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG_PTR sn) { return dispatch(Fn::SignFinal, Pre::Session, h, [&](Call& c) { return signFinal(c, s, sn); }); }
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::SignRecoverInit, h); }
CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::SignRecover, h); }
CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) { return dispatch(Fn::VerifyInit, Pre::Session, h, [&](Call& c) { return verifyInit(c, m, k); }); }
CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR s, CK_ULONG sn) { return dispatch(Fn::Verify, Pre::Session, h, [&](Call& c) { return verify(c, d, n, s, sn); }); }
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n) { return dispatch(Fn::VerifyUpdate, Pre::Session, h, [&](Call& c) { return verifyUpdate(c, d, n); }); }
CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG sn) { return dispatch(Fn::VerifyFinal, Pre::Session, h, [&](Call& c) { return verifyFinal(c, s, sn); }); }
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::VerifyRecoverInit, h); }
CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::VerifyRecover, h); }

// ---- dual-function, key management, random, legacy ----
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DigestEncryptUpdate, h); }
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DecryptDigestUpdate, h); }
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::SignEncryptUpdate, h); }
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DecryptVerifyUpdate, h); }
CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o) { return writeProtected(Fn::GenerateKey, h, m != nullptr && (t != nullptr || n == 0) && o != nullptr); }
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pn, CK_ATTRIBUTE_PTR vt, CK_ULONG vn, CK_OBJECT_HANDLE_PTR po, CK_OBJECT_HANDLE_PTR vo) { return writeProtected(Fn::GenerateKeyPair, h, m != nullptr && (pt != nullptr || pn == 0) && (vt != nullptr || vn == 0) && po != nullptr && vo != nullptr); }
CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::WrapKey, h); }
CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) { return unsupported(Fn::UnwrapKey, h); }
CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) { return unsupported(Fn::DeriveKey, h); }
CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG n) { return dispatch(Fn::SeedRandom, Pre::Session, h, [&](Call&) { return p == nullptr && n != 0 ? CKR_ARGUMENTS_BAD : CKR_RANDOM_NO_RNG; }); }
CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG n) { return dispatch(Fn::GenerateRandom, Pre::Session, h, [&](Call&) { return p == nullptr && n != 0 ? CKR_ARGUMENTS_BAD : CKR_RANDOM_NO_RNG; }); }
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h) { return dispatch(Fn::GetFunctionStatus, Pre::Session, h, [](Call&) { return CKR_FUNCTION_NOT_PARALLEL; }); }
CK_RV C_CancelFunction(CK_SESSION_HANDLE h) { return dispatch(Fn::CancelFunction, Pre::Session, h, [](Call&) { return CKR_FUNCTION_NOT_PARALLEL; }); }

// ---- added by v3.0: not offered (no user names, no cancellation, no message-based operations) ----
CK_RV C_LoginUser(CK_SESSION_HANDLE h, CK_USER_TYPE, CK_UTF8CHAR_PTR, CK_ULONG, CK_UTF8CHAR_PTR, CK_ULONG) { return unsupported(Fn::LoginUser, h); }
CK_RV C_SessionCancel(CK_SESSION_HANDLE h, CK_FLAGS) { return unsupported(Fn::SessionCancel, h); }
CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::MessageEncryptInit, h); }
CK_RV C_EncryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::EncryptMessage, h); }
CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return unsupported(Fn::EncryptMessageBegin, h); }
CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS) { return unsupported(Fn::EncryptMessageNext, h); }
CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE h) { return unsupported(Fn::MessageEncryptFinal, h); }
CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::MessageDecryptInit, h); }
CK_RV C_DecryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::DecryptMessage, h); }
CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return unsupported(Fn::DecryptMessageBegin, h); }
CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS) { return unsupported(Fn::DecryptMessageNext, h); }
CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE h) { return unsupported(Fn::MessageDecryptFinal, h); }
CK_RV C_MessageSignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::MessageSignInit, h); }
CK_RV C_SignMessage(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::SignMessage, h); }
CK_RV C_SignMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG) { return unsupported(Fn::SignMessageBegin, h); }
CK_RV C_SignMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) { return unsupported(Fn::SignMessageNext, h); }
CK_RV C_MessageSignFinal(CK_SESSION_HANDLE h) { return unsupported(Fn::MessageSignFinal, h); }
CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) { return unsupported(Fn::MessageVerifyInit, h); }
CK_RV C_VerifyMessage(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return unsupported(Fn::VerifyMessage, h); }
CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG) { return unsupported(Fn::VerifyMessageBegin, h); }
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) { return unsupported(Fn::VerifyMessageNext, h); }
CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE h) { return unsupported(Fn::MessageVerifyFinal, h); }

// clang-format on

// The 2.40 functions after C_GetInfo, in CK_FUNCTION_LIST order (v2.40 §3.6); both lists share
// them.
// clang-format off
#define JPKI_FUNCTIONS_AFTER_GETINFO \
  C_GetFunctionListImpl, C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, \
  C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession, \
  C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState, C_SetOperationState, C_Login, \
  C_Logout, C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize, C_GetAttributeValue, \
  C_SetAttributeValue, C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal, C_EncryptInit, \
  C_Encrypt, C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate, \
  C_DecryptFinal, C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit, \
  C_Sign, C_SignUpdate, C_SignFinal, C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, \
  C_VerifyUpdate, C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate, \
  C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey, \
  C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom, \
  C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent,

CK_FUNCTION_LIST kFunctions = {
    {2, 40}, C_Initialize, C_Finalize, C_GetInfo, JPKI_FUNCTIONS_AFTER_GETINFO
};

CK_FUNCTION_LIST_3_0 kFunctions30 = {
    {3, 0}, C_Initialize, C_Finalize, C_GetInfo30, JPKI_FUNCTIONS_AFTER_GETINFO
    C_GetInterfaceListImpl, C_GetInterfaceImpl, C_LoginUser, C_SessionCancel,
    C_MessageEncryptInit, C_EncryptMessage, C_EncryptMessageBegin, C_EncryptMessageNext, C_MessageEncryptFinal,
    C_MessageDecryptInit, C_DecryptMessage, C_DecryptMessageBegin, C_DecryptMessageNext, C_MessageDecryptFinal,
    C_MessageSignInit, C_SignMessage, C_SignMessageBegin, C_SignMessageNext, C_MessageSignFinal,
    C_MessageVerifyInit, C_VerifyMessage, C_VerifyMessageBegin, C_VerifyMessageNext, C_MessageVerifyFinal,
};
#undef JPKI_FUNCTIONS_AFTER_GETINFO
// clang-format on

char kInterfaceName[] = "PKCS 11";
// The default (3.0) first. Flags 0: not CKF_INTERFACE_FORK_SAFE (a forked child must call
// C_Initialize again; its sessions and logins are not the parent's).
std::array<CK_INTERFACE, 2> kInterfaces = {{
    {kInterfaceName, &kFunctions30, 0},
    {kInterfaceName, &kFunctions, 0},
}};

CK_RV C_GetFunctionListImpl(CK_FUNCTION_LIST_PTR_PTR out) {
  if (out == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  *out = &kFunctions;
  return CKR_OK;
}

CK_RV C_GetInterfaceListImpl(CK_INTERFACE_PTR list, CK_ULONG_PTR count) {
  return writeList<CK_INTERFACE>(kInterfaces, list, count);
}

// v3.0 §5.2: the interface named (NULL: the default, "PKCS 11"), of the version given (NULL: the
// default, 3.0), that has every flag asked for; none such is CKR_ARGUMENTS_BAD.
CK_RV C_GetInterfaceImpl(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
                         CK_FLAGS flags) {
  if (out == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  if (name != nullptr && std::strcmp(reinterpret_cast<const char*>(name), kInterfaceName) != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  for (CK_INTERFACE& iface : kInterfaces) {
    const auto* v = static_cast<const CK_VERSION*>(iface.pFunctionList);
    if (version != nullptr && (version->major != v->major || version->minor != v->minor)) {
      continue;
    }
    if ((flags & ~iface.flags) != 0) {
      continue;
    }
    *out = &iface;
    return CKR_OK;
  }
  return CKR_ARGUMENTS_BAD;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {
  return C_GetFunctionListImpl(out);
}

__attribute__((visibility("default"))) CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list,
                                                                CK_ULONG_PTR count) {
  return C_GetInterfaceListImpl(list, count);
}

__attribute__((visibility("default"))) CK_RV C_GetInterface(CK_UTF8CHAR_PTR name,
                                                            CK_VERSION_PTR version,
                                                            CK_INTERFACE_PTR_PTR out,
                                                            CK_FLAGS flags) {
  return C_GetInterfaceImpl(name, version, out, flags);
}

}  // extern "C"
