// The one place where jpki::Error becomes a CK_RV. Codes are chosen from those PKCS#11 v2.40
// permits for the kind of function: session functions may return CKR_DEVICE_REMOVED, slot/token
// functions (C_GetTokenInfo, C_OpenSession, C_GetMechanismList…) use CKR_TOKEN_NOT_PRESENT instead.
#include "guard.h"

namespace jpki::module {

bool isRemoval(Errc code) noexcept {
  return code == Errc::NoReader || code == Errc::NoCard || code == Errc::CardRemoved ||
         code == Errc::CardReplaced;
}

CK_RV rvFromError(const jpki::Error& e, bool sessionScope) noexcept {
  switch (e.code()) {
    case Errc::NoReader:
    case Errc::NoCard:
    case Errc::CardRemoved:
    case Errc::CardReplaced:
      return sessionScope ? CKR_DEVICE_REMOVED : CKR_TOKEN_NOT_PRESENT;
    case Errc::NotJpki:
      return sessionScope ? CKR_DEVICE_ERROR : CKR_TOKEN_NOT_RECOGNIZED;
    case Errc::SecurityStatus:
      return sessionScope ? CKR_USER_NOT_LOGGED_IN : CKR_DEVICE_ERROR;
    case Errc::InvalidInput:
      return sessionScope ? CKR_DATA_LEN_RANGE : CKR_ARGUMENTS_BAD;
    // PIN outcomes are C_Login's and C_SetPIN's own codes (session.cpp translates them there);
    // anywhere else a "PIN locked" status word is a card answering nonsense (CKR_PIN_LOCKED is not
    // permitted for, e.g., C_OpenSession or C_Sign).
    case Errc::PinLocked:
    case Errc::PinFormat:
    case Errc::NewPinFormat:
    case Errc::NoService:
    case Errc::CardReset:
    case Errc::Timeout:
    case Errc::Sharing:
    case Errc::Transport:
    case Errc::FileNotFound:
    case Errc::BadResponse:
    case Errc::CardStatus:
      return CKR_DEVICE_ERROR;
  }
  return CKR_GENERAL_ERROR;
}

}  // namespace jpki::module
