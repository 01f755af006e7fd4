// SPDX-License-Identifier: MIT
// Sessions and login. Login state lives on the token and is shared by all its sessions.
//
// C_Logout runs JpkiCard::logout(), which clears the card's verified state for BOTH keys: the
// other token of the same card is logged out too (the card offers no per-key logout).
// A card reset by another process also drops the verified state; Token::loggedIn() follows the
// card (JpkiCard::verified), so sessions fall back to the public state.
//
// Closing the last session of a token returns it to the public state (v2.40 §5.6 C_CloseSession,
// C_CloseAllSessions: "the user is logged out"); the card's verified state is cleared too unless
// the other token of the same card is still logged in, so no verified PIN lingers on the card
// for another process to use.
//
// C_SetPIN changes the token's PIN on the card (JpkiCard::changePin, jpki-card.md §3.5).
#include "log.h"
#include "ops.h"

namespace jpki::module {

void releaseCardLogin(State& st, Card& card) {
  if (!card.alive || !card.jpki->mayHoldLogin()) {
    return;
  }
  for (const Reader& r : st.readerList) {
    if (r.card.get() != &card) {
      continue;
    }
    for (const auto& t : r.tokens) {
      if (t && t->loggedIn()) {
        return;  // the other token still needs the card's login
      }
    }
  }
  try {
    card.jpki->logout();
  } catch (const Error& e) {
    // Closing never fails because of the card: a card that is gone has no login left to clear.
    JPKI_LOG_DEBUG("logout after the last session: %s", e.what());
  }
}

namespace {

// The signature objects exist only if EF 0001 does (objects.cpp). Learnt right after the login's
// VERIFY, in its transaction (the AP is confirmed there, so it is one SELECT EF), so that the
// C_FindObjects that follows needs no transaction of its own. A failure here does not undo the
// login: the question is asked again when the objects are.
void learnSignCertificatePresence(Token& token) {
  if (token.role != KeyRole::Sign) {
    return;
  }
  try {
    (void)token.card->jpki->certificatePresent(CertFile::Sign);  // no APDU once known
  } catch (const Error& e) {
    JPKI_LOG_DEBUG("C_Login: presence of the signature certificate not learnt: %s", e.what());
  }
}

// After sessions were closed: each token left without a session is logged out.
void logoutUnusedTokens(State& st, const std::vector<std::shared_ptr<Token>>& closed) {
  for (const auto& token : closed) {
    const bool used = std::any_of(st.sessions.begin(), st.sessions.end(),
                                  [&](const auto& e) { return e.second.token == token; });
    if (used || !token->card) {
      continue;
    }
    token->userLogin = false;
    releaseCardLogin(st, *token->card);
  }
}

}  // namespace

CK_RV openSession(Call& c, CK_FLAGS flags, CK_SESSION_HANDLE_PTR out) {
  if (out == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  // v2.40 §5.6: CKF_SERIAL_SESSION must always be set (legacy parallel sessions do not exist).
  if ((flags & CKF_SERIAL_SESSION) == 0) {
    return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
  }
  // Read-write sessions are allowed: C_SetPIN needs one (v2.40 §5.6), some callers always ask for
  // one; every object write fails with CKR_TOKEN_WRITE_PROTECTED.
  Session s;
  s.token = ensureToken(c.st, *c.slot);
  s.handle = newSessionHandle();
  s.slot = c.slot->id;
  s.flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
  *out = s.handle;
  c.st.sessions.emplace(s.handle, std::move(s));
  return CKR_OK;
}

CK_RV closeSession(CK_SESSION_HANDLE handle) {
  // Pre::Initialized only: a session whose card is gone can still be closed without an error.
  return dispatch(Fn::CloseSession, Pre::Initialized, 0, [&](Call& c) -> CK_RV {
    auto it = c.st.sessions.find(handle);
    if (it == c.st.sessions.end()) {
      return CKR_SESSION_HANDLE_INVALID;
    }
    std::shared_ptr<Token> token = it->second.token;
    c.st.sessions.erase(it);
    logoutUnusedTokens(c.st, {token});
    return CKR_OK;
  });
}

CK_RV closeAllSessions(Call& c) {
  const CK_SLOT_ID id = c.slot->id;
  std::vector<std::shared_ptr<Token>> closed;
  std::erase_if(c.st.sessions, [&](const auto& entry) {
    if (entry.second.slot != id) {
      return false;
    }
    closed.push_back(entry.second.token);
    return true;
  });
  logoutUnusedTokens(c.st, closed);
  return CKR_OK;
}

CK_RV getSessionInfo(Call& c, CK_SESSION_INFO_PTR info) {
  if (info == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  const Session& s = *c.session;
  const bool rw = (s.flags & CKF_RW_SESSION) != 0;
  const bool user = s.token->loggedIn();
  *info = {};
  info->slotID = s.slot;
  info->state = user ? (rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS)
                     : (rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION);
  info->flags = s.flags;
  info->ulDeviceError = 0;
  return CKR_OK;
}

CK_RV login(Call& c, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pinLen) {
  if (pin == nullptr && pinLen != 0) {
    return CKR_ARGUMENTS_BAD;
  }
  Token& token = *c.session->token;
  if (user == CKU_SO) {
    // A valid user type, but the card has no security officer PIN (v2.40 §5.6 C_Login): the SO
    // cannot log in while a read-only session of the token exists, nor while the user is logged
    // in; otherwise no PIN is right, and none is sent to the card.
    for (const auto& [handle, other] : c.st.sessions) {
      if (other.token == c.session->token && (other.flags & CKF_RW_SESSION) == 0) {
        return CKR_SESSION_READ_ONLY_EXISTS;
      }
    }
    return token.loggedIn() ? CKR_USER_ANOTHER_ALREADY_LOGGED_IN : CKR_PIN_INCORRECT;
  }
  if (user != CKU_USER && user != CKU_CONTEXT_SPECIFIC) {
    return CKR_USER_TYPE_INVALID;
  }
  SignOp* op = nullptr;
  if (user == CKU_CONTEXT_SPECIFIC) {
    // v2.40 §5.6 C_Login: only right after C_SignInit on a CKA_ALWAYS_AUTHENTICATE key.
    op = std::get_if<SignOp>(&c.session->op);
    if (op == nullptr || !op->needContextLogin) {
      return CKR_OPERATION_NOT_INITIALIZED;
    }
  } else if (token.loggedIn()) {
    return CKR_USER_ALREADY_LOGGED_IN;
  }
  // JpkiCard::verify applies the format rules before any APDU: a malformed PIN never reaches the
  // card and costs no try (Errc::PinFormat). CKR_PIN_INCORRECT rather than CKR_PIN_LEN_RANGE: NSS
  // re-prompts on the former only.
  JpkiCard::Batch batch(*token.card->jpki);  // VERIFY and the presence check: one transaction
  VerifyResult result;
  try {
    result = token.card->jpki->verify(token.role, ByteView(pin, pin == nullptr ? 0 : pinLen));
  } catch (const Error& e) {
    // The PIN outcomes of the card client are C_Login's codes (rv.cpp maps them elsewhere).
    if (e.code() == Errc::PinLocked) {
      return CKR_PIN_LOCKED;
    }
    if (e.code() == Errc::PinFormat) {
      JPKI_LOG_DEBUG("C_Login: %s", e.what());  // the reason only, never the PIN
      return CKR_PIN_INCORRECT;
    }
    throw;
  }
  switch (result.outcome) {
    case VerifyOutcome::Ok:
      token.userLogin = true;
      token.loginGeneration = token.card->jpki->resetGeneration();
      if (op != nullptr) {
        op->contextLoggedIn = true;
      } else {
        learnSignCertificatePresence(token);
      }
      return CKR_OK;
    case VerifyOutcome::WrongPin:
      JPKI_LOG_INFO("C_Login: wrong PIN, %d tries left", result.triesLeft);
      return CKR_PIN_INCORRECT;  // the next attempt after the last try gets CKR_PIN_LOCKED
    case VerifyOutcome::Locked:
      return CKR_PIN_LOCKED;
  }
  return CKR_GENERAL_ERROR;
}

namespace {

// Errors after which the card may no longer be reached (the guard deals with them): no logout is
// attempted, it would only fail or wait for the card-timeout again.
bool transportLevel(Errc code) {
  switch (code) {
    case Errc::NoService:
    case Errc::NoReader:
    case Errc::NoCard:
    case Errc::CardRemoved:
    case Errc::CardReset:
    case Errc::CardReplaced:
    case Errc::Timeout:
    case Errc::Sharing:
    case Errc::Transport:
      return true;
    default:
      return false;
  }
}

}  // namespace

// v2.40 §5.6 C_SetPIN: changes the PIN of the user who is logged in, or the CKU_USER PIN when the
// session is not logged in; here always the token's one PIN (no SO). Only in the "R/W Public
// Session" and "R/W User Functions" states: a R/O session gets CKR_SESSION_READ_ONLY. The token
// keeps CKF_WRITE_PROTECTED (objects only, token.cpp).
//
// The new PIN obeys the rules of the PIN it replaces (normalisePin, the one copy of them): too
// short or long → CKR_PIN_LEN_RANGE, another character → CKR_PIN_INVALID, with no APDU. A
// malformed current PIN cannot be the right one: CKR_PIN_INCORRECT, no APDU (as C_Login).
// JpkiCard::changePin then verifies the current PIN and changes it in one transaction: a wrong
// one is CKR_PIN_INCORRECT and costs one try (C_GetTokenInfo's COUNT_LOW / FINAL_TRY / LOCKED
// follow the card's counter), a locked PIN is CKR_PIN_LOCKED without any VERIFY, a new value the
// card refuses is CKR_PIN_INVALID.
//
// Login state: C_SetPIN does not change it. A logged-in token stays logged in (the card keeps the
// PIN verified through the change); on a token that was not, the VERIFY made for the change is
// cleared like an ended login (releaseCardLogin). The card drops a verified PIN on a failed
// VERIFY, so a wrong current PIN on a logged-in token ends that login, as any logout on the card
// does (Token::loggedIn follows the card).
//
// Only C_SetPIN's return codes (v2.40 §5.5.9): SecurityStatus and InvalidInput are the card's
// doing here, CKR_DEVICE_ERROR (rv.cpp would make InvalidInput CKR_ARGUMENTS_BAD).
CK_RV setPin(Call& c, CK_UTF8CHAR_PTR oldPin, CK_ULONG oldLen, CK_UTF8CHAR_PTR newPin,
             CK_ULONG newLen) {
  if ((oldPin == nullptr && oldLen != 0) || (newPin == nullptr && newLen != 0)) {
    return CKR_ARGUMENTS_BAD;
  }
  if ((c.session->flags & CKF_RW_SESSION) == 0) {
    return CKR_SESSION_READ_ONLY;
  }
  Token& token = *c.session->token;
  const ByteView current = view(oldPin, oldLen);
  const ByteView replacement = view(newPin, newLen);
  std::string reason;
  PinFault fault = PinFault::Characters;
  if (!normalisePin(token.role, replacement, &reason, &fault)) {
    JPKI_LOG_DEBUG("C_SetPIN: new PIN refused: %s", reason.c_str());  // never the PIN
    return fault == PinFault::Length ? CKR_PIN_LEN_RANGE : CKR_PIN_INVALID;
  }

  Card& card = *token.card;
  const bool wasLoggedIn = token.loggedIn();
  JpkiCard::Batch batch(*card.jpki);  // the change and the logout after it: one transaction
  ChangePinResult result;
  try {
    result = card.jpki->changePin(token.role, current, replacement);
  } catch (const Error& e) {
    if (!wasLoggedIn && !transportLevel(e.code())) {
      releaseCardLogin(c.st, card);  // e.g. an unexpected answer to the CHANGE after the VERIFY
    }
    switch (e.code()) {
      case Errc::PinLocked:
        return CKR_PIN_LOCKED;
      case Errc::PinFormat:
        JPKI_LOG_DEBUG("C_SetPIN: %s", e.what());
        return CKR_PIN_INCORRECT;
      case Errc::NewPinFormat:  // refused above already
        return CKR_PIN_INVALID;
      case Errc::SecurityStatus:
      case Errc::InvalidInput:
        JPKI_LOG_DEBUG("C_SetPIN: %s", e.what());
        return CKR_DEVICE_ERROR;
      default:
        throw;
    }
  }
  if (!wasLoggedIn) {
    releaseCardLogin(c.st, card);
  }
  switch (result.outcome) {
    case ChangePinOutcome::Ok:
      JPKI_LOG_INFO("C_SetPIN: PIN changed");
      return CKR_OK;
    case ChangePinOutcome::WrongPin:
      JPKI_LOG_INFO("C_SetPIN: wrong current PIN, %d tries left", result.triesLeft);
      return CKR_PIN_INCORRECT;
    case ChangePinOutcome::Locked:
      return CKR_PIN_LOCKED;
    case ChangePinOutcome::NewPinRefused:
      JPKI_LOG_INFO("C_SetPIN: the card refused the new PIN; the PIN is unchanged");
      return CKR_PIN_INVALID;
  }
  return CKR_GENERAL_ERROR;
}

CK_RV logout(Call& c) {
  Card& card = *c.session->token->card;
  for (Reader& r : c.st.readerList) {
    if (r.card.get() != &card) {
      continue;
    }
    for (auto& t : r.tokens) {
      if (t) {
        t->userLogin = false;  // the card's logout clears both keys
      }
    }
  }
  c.session->token->userLogin = false;
  card.jpki->logout();
  return CKR_OK;
}

}  // namespace jpki::module
