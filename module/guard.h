// SPDX-License-Identifier: MIT
// The C boundary: every C_* in entry.cpp is one line calling dispatch() with the preconditions
// of that entry point. dispatch() checks them in order (initialized → slot exists → token present,
// or initialized → session exists → token still present → user logged in), runs the body with the
// State lock held and turns every exception into a CK_RV (rv.cpp), only ever one that function may
// return (permitted.cpp). Nothing escapes to the host; nothing calls exit or abort.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "state.h"

namespace jpki::module {

// The entry points, in CK_FUNCTION_LIST_3_0 order: the identity entry.cpp passes through the guard
// to the CK_RV mapping (permitted.cpp holds the codes each may return).
// clang-format off
enum class Fn : unsigned char {
  Initialize, Finalize, GetInfo, GetFunctionList, GetSlotList, GetSlotInfo, GetTokenInfo,
  GetMechanismList, GetMechanismInfo, InitToken, InitPIN, SetPIN, OpenSession, CloseSession,
  CloseAllSessions, GetSessionInfo, GetOperationState, SetOperationState, Login, Logout,
  CreateObject, CopyObject, DestroyObject, GetObjectSize, GetAttributeValue, SetAttributeValue,
  FindObjectsInit, FindObjects, FindObjectsFinal, EncryptInit, Encrypt, EncryptUpdate,
  EncryptFinal, DecryptInit, Decrypt, DecryptUpdate, DecryptFinal, DigestInit, Digest,
  DigestUpdate, DigestKey, DigestFinal, SignInit, Sign, SignUpdate, SignFinal, SignRecoverInit,
  SignRecover, VerifyInit, Verify, VerifyUpdate, VerifyFinal, VerifyRecoverInit, VerifyRecover,
  DigestEncryptUpdate, DecryptDigestUpdate, SignEncryptUpdate, DecryptVerifyUpdate, GenerateKey,
  GenerateKeyPair, WrapKey, UnwrapKey, DeriveKey, SeedRandom, GenerateRandom, GetFunctionStatus,
  CancelFunction, WaitForSlotEvent, GetInterfaceList, GetInterface, LoginUser, SessionCancel,
  MessageEncryptInit, EncryptMessage, EncryptMessageBegin, EncryptMessageNext,
  MessageEncryptFinal, MessageDecryptInit, DecryptMessage, DecryptMessageBegin,
  DecryptMessageNext, MessageDecryptFinal, MessageSignInit, SignMessage, SignMessageBegin,
  SignMessageNext, MessageSignFinal, MessageVerifyInit, VerifyMessage, VerifyMessageBegin,
  VerifyMessageNext, MessageVerifyFinal, Count
};
// clang-format on
const char* fnName(Fn fn) noexcept;     // "C_Login"
const char* fnSection(Fn fn) noexcept;  // "v2.40 §5.6.7"
// Whether PKCS#11 permits `fn` to return `rv` (permitted.cpp: the one table).
bool permitted(Fn fn, CK_RV rv) noexcept;

enum class Pre {
  Initialized,  // C_Initialize done in this process
  Slot,         // + slotID names a slot (else CKR_SLOT_ID_INVALID), readers listed first (no APDU)
  Token,        // + a card is in that slot's reader (else CKR_TOKEN_NOT_PRESENT; no APDU)
  Session,      // + hSession names an open session whose token is still present
  LoggedIn,     // + the session's token has its user logged in (else CKR_USER_NOT_LOGGED_IN)
};

class LockHolder;

// What a body receives.
struct Call {
  State& st;
  Session* session;             // set for Pre::Session and Pre::LoggedIn
  Slot* slot;                   // set for Pre::Slot and Pre::Token (a body lists no readers again)
  LockHolder& lock;             // lets C_WaitForSlotEvent release the lock while it blocks
  std::shared_ptr<State> keep;  // keeps the State alive while the lock is released
};

class LockHolder {
 public:
  explicit LockHolder(Lock& lock) : lock_(lock) {}
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  ~LockHolder() { release(); }
  CK_RV acquire() noexcept {
    CK_RV rv = lock_.lock();
    held_ = rv == CKR_OK;
    return rv;
  }
  void release() noexcept {
    if (held_) {
      lock_.unlock();
    }
    held_ = false;
  }

 private:
  Lock& lock_;
  bool held_ = false;
};

// A non-owning reference to a callable (no allocation, so nothing can throw before the guard).
template <class Sig>
class FnRef;
template <class R, class... A>
class FnRef<R(A...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FnRef>>>
  FnRef(F&& f) noexcept  // NOLINT(google-explicit-constructor)
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

using Body = FnRef<CK_RV(Call&)>;

// `target`: the session handle (Pre::Session, Pre::LoggedIn) or slot id (Pre::Slot, Pre::Token).
CK_RV dispatch(Fn fn, Pre pre, CK_ULONG target, Body body) noexcept;
inline CK_RV dispatch(Fn fn, Body body) noexcept { return dispatch(fn, Pre::Initialized, 0, body); }
// For C_Initialize / C_Finalize: no State yet; only the exception barrier.
CK_RV barrier(Fn fn, FnRef<CK_RV()> body) noexcept;

// rv.cpp: the one mapping from exceptions to CK_RV, per function: the code that says what
// happened when `fn` may return it, else the nearest one it may (permitted.cpp).
CK_RV rvFromError(const jpki::Error& e, Fn fn) noexcept;
bool isRemoval(Errc code) noexcept;
// The guard's last check: a code `fn` may not return is logged, counted and replaced by
// CKR_GENERAL_ERROR (a bug in the module; the unit tests require the count to stay 0).
CK_RV checkedRv(Fn fn, CK_RV rv) noexcept;
std::size_t unpermittedReturns() noexcept;

}  // namespace jpki::module
