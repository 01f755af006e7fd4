// SPDX-License-Identifier: MIT
// dispatch(): the preconditions of every entry point, checked in one order, and the exception
// barrier. See guard.h.
#include "guard.h"

#include <unistd.h>

#include <new>

#include "log.h"
#include "names.h"

namespace jpki::module {
namespace {

// A removal seen while talking to the card: the card's tokens die, so every session on them gets
// CKR_DEVICE_REMOVED once (this one now) and CKR_SESSION_HANDLE_INVALID afterwards.
void noteRemoval(State& st, Session* session) {
  if (session != nullptr && session->token && session->token->card) {
    invalidateCard(st, *session->token->card);
    st.sessions.erase(session->handle);
  }
}

CK_RV run(Fn fn, Pre pre, CK_ULONG target, Body body) {
  std::shared_ptr<State> st = currentState();
  if (!st) {
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  }
  LockHolder lock(*st->lock);
  if (CK_RV rv = lock.acquire(); rv != CKR_OK) {
    return rv;
  }
  if (st->finalized) {
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  }

  Session* session = nullptr;
  if (pre == Pre::Session || pre == Pre::LoggedIn) {
    const CK_SESSION_HANDLE handle = target;
    auto it = st->sessions.find(handle);
    if (it == st->sessions.end()) {
      return CKR_SESSION_HANDLE_INVALID;
    }
    session = &it->second;
    refreshReaders(*st);
    if (!session->token->alive()) {
      JPKI_LOG_DEBUG("%s: session %lu lost its token (card removed)", fnName(fn), handle);
      st->sessions.erase(it);
      return CKR_DEVICE_REMOVED;
    }
    if (pre == Pre::LoggedIn && !session->token->loggedIn()) {
      return CKR_USER_NOT_LOGGED_IN;
    }
  }

  Call call{*st, session, nullptr, lock, st};
  try {
    if (pre == Pre::Slot || pre == Pre::Token) {
      refreshReaders(*st);
      call.slot = &findSlot(*st, target);  // CKR_SLOT_ID_INVALID
      // v2.40 §5.5: token and mechanism information are the token's (reader state only).
      if (pre == Pre::Token && !readerOf(*st, *call.slot).present) {
        return CKR_TOKEN_NOT_PRESENT;
      }
    }
    return body(call);
  } catch (const CkError& e) {
    return e.rv;
  } catch (const jpki::Error& e) {
    JPKI_LOG_DEBUG("%s: %s: %s", fnName(fn), errcName(e.code()), e.what());
    if (isRemoval(e.code()) && !st->finalized) {
      noteRemoval(*st, session);
    } else if (e.code() == Errc::Timeout && !st->finalized) {
      // The card never answered (card-timeout; rv.cpp: CKR_DEVICE_ERROR): the reader listing
      // drops the given-up connection, so the card's tokens die (their sessions answer
      // CKR_DEVICE_REMOVED next) and the next use connects again.
      JPKI_LOG_WARN("%s: %s", fnName(fn), e.what());
      syncReaders(*st);
    } else if (session != nullptr && !st->finalized && e.code() == Errc::Transport) {
      // A card pulled in the middle of an exchange often surfaces as a plain transport failure
      // (pcsc-lite: SCARD_E_NOT_TRANSACTED): ask the reader (no APDU) and report the removal.
      syncReaders(*st);
      if (!session->token->alive()) {
        st->sessions.erase(session->handle);
        return CKR_DEVICE_REMOVED;
      }
    }
    return rvFromError(e, fn);
  }
}

}  // namespace

CK_RV dispatch(Fn fn, Pre pre, CK_ULONG target, Body body) noexcept {
  CK_RV rv = CKR_GENERAL_ERROR;
  try {
    rv = run(fn, pre, target, body);
  } catch (const std::bad_alloc&) {
    rv = CKR_HOST_MEMORY;
  } catch (const std::exception& e) {
    JPKI_LOG_ERROR("%s: unexpected exception: %s", fnName(fn), e.what());
    rv = CKR_GENERAL_ERROR;
  } catch (...) {
    JPKI_LOG_ERROR("%s: unexpected exception", fnName(fn));
    rv = CKR_GENERAL_ERROR;
  }
  rv = checkedRv(fn, rv);
  JPKI_LOG_DEBUG("%s -> %s", fnName(fn), names::rv(rv));
  return rv;
}

CK_RV barrier(Fn fn, FnRef<CK_RV()> body) noexcept {
  CK_RV rv = CKR_GENERAL_ERROR;
  try {
    rv = body();
  } catch (const CkError& e) {
    rv = e.rv;
  } catch (const std::bad_alloc&) {
    rv = CKR_HOST_MEMORY;
  } catch (const std::exception& e) {
    JPKI_LOG_ERROR("%s: unexpected exception: %s", fnName(fn), e.what());
  } catch (...) {
    JPKI_LOG_ERROR("%s: unexpected exception", fnName(fn));
  }
  rv = checkedRv(fn, rv);
  JPKI_LOG_DEBUG("%s -> %s", fnName(fn), names::rv(rv));
  return rv;
}

}  // namespace jpki::module
