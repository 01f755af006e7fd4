// SPDX-License-Identifier: MIT
// The one place where jpki::Error becomes a CK_RV, per function. Each kind of error has the code
// that says what happened (a removed card: CKR_TOKEN_NOT_PRESENT for the functions that name a
// slot, CKR_DEVICE_REMOVED for those that name a session; 6982 from the card:
// CKR_USER_NOT_LOGGED_IN); when the function may not return it (permitted.cpp: C_Login may not
// return CKR_USER_NOT_LOGGED_IN, C_GetSlotInfo no CKR_TOKEN_NOT_PRESENT), the nearest code it may
// return: CKR_DEVICE_ERROR, else CKR_FUNCTION_FAILED, else CKR_GENERAL_ERROR (v2.40 §5.1.1: any
// function).
#include <array>
#include <atomic>

#include "guard.h"
#include "log.h"
#include "names.h"

namespace jpki::module {
namespace {

std::atomic<std::size_t> g_unpermitted{0};

// The codes that say what `code` means, most specific first (0: none).
std::array<CK_RV, 2> meaning(Errc code) noexcept {
  switch (code) {
    case Errc::NoReader:
    case Errc::NoCard:
    case Errc::CardRemoved:
    case Errc::CardReplaced:
      return {CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED};
    case Errc::NotJpki:
      return {CKR_TOKEN_NOT_RECOGNIZED, 0};
    case Errc::SecurityStatus:
      return {CKR_USER_NOT_LOGGED_IN, 0};
    case Errc::InvalidInput:
      return {CKR_DATA_LEN_RANGE, CKR_ARGUMENTS_BAD};
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
      break;
  }
  return {0, 0};
}

}  // namespace

bool isRemoval(Errc code) noexcept {
  return code == Errc::NoReader || code == Errc::NoCard || code == Errc::CardRemoved ||
         code == Errc::CardReplaced;
}

CK_RV rvFromError(const jpki::Error& e, Fn fn) noexcept {
  for (CK_RV rv : meaning(e.code())) {
    if (rv != 0 && permitted(fn, rv)) {
      return rv;
    }
  }
  for (CK_RV rv : {CKR_DEVICE_ERROR, CKR_FUNCTION_FAILED}) {
    if (permitted(fn, rv)) {
      return rv;
    }
  }
  return CKR_GENERAL_ERROR;
}

CK_RV checkedRv(Fn fn, CK_RV rv) noexcept {
  if (permitted(fn, rv)) {
    return rv;
  }
  ++g_unpermitted;
  JPKI_LOG_ERROR("%s would return %s, which %s does not permit: CKR_GENERAL_ERROR instead",
                 fnName(fn), names::rv(rv), fnSection(fn));
  return CKR_GENERAL_ERROR;
}

std::size_t unpermittedReturns() noexcept { return g_unpermitted.load(); }

}  // namespace jpki::module
