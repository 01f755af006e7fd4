// SPDX-License-Identifier: MIT
// Global state: C_Initialize / C_Finalize, CK_C_INITIALIZE_ARGS locking, fork detection.
//
// Fork (p11-kit and pkcs11-tool --test-fork call C_Initialize again in the child without
// C_Finalize): the State remembers getpid() at C_Initialize. In a child every call but
// C_Initialize sees no State (CKR_CRYPTOKI_NOT_INITIALIZED); C_Initialize abandons the parent's
// State without running any destructor (its PC/SC handles belong to the parent) and starts fresh.
//
// Threads: the PC/SC transport runs each card call on one helper thread per connection so that a
// card that never answers costs `card-timeout` seconds, not a frozen application. With
// CKF_LIBRARY_CANT_CREATE_OS_THREADS no thread is created and card calls may block. Otherwise one
// more thread waits on the readers' states so that calls needing nothing from the card learn of a
// card change without asking pcscd (ReaderSystem::watchChanges); it is stopped at C_Finalize, at
// exit, and never exists in a forked child (whose C_Initialize starts its own).
//
// Exit handlers (STYLE.md practice 14): poppler's pdfsig registers atexit(NSS_Shutdown) before NSS
// dlopen()s us, so at exit whatever was registered later runs first (our static destructors,
// OpenSSL's atexit(OPENSSL_cleanup)), and only then does NSS call C_CloseAllSessions/C_Finalize
// (OpenSSL 3 with pkcs11-provider likewise calls C_CloseSession from OPENSSL_cleanup). Hence:
// * the globals below are never destroyed, so a late call finds them intact;
// * the first C_Initialize registers OpenSSL's exit handler and then ExitWatch, whose destructor
//   therefore runs before OPENSSL_cleanup: it finalizes the module while OpenSSL and PC/SC still
//   work (EVP contexts of pending operations freed, connections released; no APDU) and marks the
//   process as exiting, after which every call answers CKR_CRYPTOKI_NOT_INITIALIZED. Nothing may
//   run an operation after OPENSSL_cleanup: OpenSSL 3.0 crashes fetching a digest then.
// ExitWatch also runs when the module is dlclose()d without C_Finalize: the same cleanup, in time.
#include <openssl/crypto.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "guard.h"
#include "jpki/config.h"
#include "jpki/never_destroyed.h"
#include "log.h"
#include "reader_factory.h"

namespace jpki::module {
namespace {

// Never destroyed (see the top of this file; std::mutex has no destructor to run). g_lifecycle
// guards only g_state and g_exiting; it is never held while another lock is taken or while working.
std::mutex g_lifecycle;
NeverDestroyed<std::shared_ptr<State>> g_stateStorage;
std::shared_ptr<State>& g_state = g_stateStorage.get();
bool g_exiting = false;  // the process is exiting (or the module unloading): ExitWatch ran

std::atomic<CK_SESSION_HANDLE> g_nextSession{0};
std::atomic<CK_OBJECT_HANDLE> g_nextObject{0};

class StdLock final : public Lock {
 public:
  CK_RV lock() noexcept override {
    mutex_.lock();
    return CKR_OK;
  }
  CK_RV unlock() noexcept override {
    mutex_.unlock();
    return CKR_OK;
  }

 private:
  std::mutex mutex_;
};

// The application's mutex callbacks (CK_C_INITIALIZE_ARGS without CKF_OS_LOCKING_OK).
class AppLock final : public Lock {
 public:
  AppLock(const CK_C_INITIALIZE_ARGS& args) : args_(args) {
    if (CK_RV rv = args_.CreateMutex(&mutex_); rv != CKR_OK) {
      fail(rv);
    }
  }
  ~AppLock() override {
    if (mutex_ != nullptr) {
      args_.DestroyMutex(mutex_);
    }
  }
  CK_RV lock() noexcept override { return args_.LockMutex(mutex_); }
  CK_RV unlock() noexcept override { return args_.UnlockMutex(mutex_); }

 private:
  CK_C_INITIALIZE_ARGS args_;
  void* mutex_ = nullptr;
};

std::unique_ptr<Lock> makeLock(CK_VOID_PTR raw) {
  if (raw == nullptr) {
    return std::make_unique<StdLock>();
  }
  const auto& args = *static_cast<CK_C_INITIALIZE_ARGS_PTR>(raw);
  // v2.40 §5.4: pReserved must be NULL; the four callbacks are all given or none.
  if (args.pReserved != nullptr) {
    fail(CKR_ARGUMENTS_BAD);
  }
  const int given = (args.CreateMutex != nullptr) + (args.DestroyMutex != nullptr) +
                    (args.LockMutex != nullptr) + (args.UnlockMutex != nullptr);
  if (given != 0 && given != 4) {
    fail(CKR_ARGUMENTS_BAD);
  }
  // With CKF_OS_LOCKING_OK the OS primitives are preferred; without it, use the callbacks.
  if (given == 4 && (args.flags & CKF_OS_LOCKING_OK) == 0) {
    return std::make_unique<AppLock>(args);
  }
  return std::make_unique<StdLock>();
}

// Ends the sessions of a State taken out of g_state, under its lock so that no call is still
// running on it; with releaseLogins (C_Finalize) also the card's verified PINs (an APDU). At exit
// no APDU is sent: a process that ends without C_Finalize has always left the card as it was.
CK_RV teardown(State& st, bool releaseLogins) {
  // Wake a thread blocked in C_WaitForSlotEvent first (it holds no lock while blocked).
  st.readers->cancel();
  LockHolder lock(*st.lock);
  if (CK_RV rv = lock.acquire(); rv != CKR_OK) {
    return rv;
  }
  st.finalized = true;
  st.sessions.clear();
  // All sessions are closed: leave no verified PIN on the card for another process (the PC/SC
  // connection is released with SCARD_LEAVE_CARD).
  for (Reader& r : st.readerList) {
    for (auto& t : r.tokens) {
      if (t) {
        t->userLogin = false;
      }
    }
    if (r.card && releaseLogins) {
      releaseCardLogin(st, *r.card);
    }
  }
  for (Reader& r : st.readerList) {
    if (r.card) {
      r.card->alive = false;
    }
    r.tokens = {};
    r.card.reset();
  }
  st.readers->cancel();
  lock.release();
  return CKR_OK;
}

// At exit (or dlclose): the implicit C_Finalize described at the top of this file.
struct ExitWatch {
  ExitWatch() = default;
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;
  ~ExitWatch() {
    try {
      std::shared_ptr<State> st;
      {
        std::lock_guard<std::mutex> lock(g_lifecycle);
        g_exiting = true;
        // A forked child leaves its parent's State alone.
        if (g_state && g_state->pid == getpid()) {
          st = std::move(g_state);
          g_state.reset();
        }
      }
      if (st && teardown(*st, false) == CKR_OK) {
        JPKI_LOG_INFO("finalized at exit");
      }
    } catch (...) {
      // ignored: nothing can be reported from an exit handler.
    }
  }
};

// False once OpenSSL is cleaned up (a first C_Initialize from an exit handler).
bool watchExit() {
  // Any OpenSSL init option but BASE_ONLY registers atexit(OPENSSL_cleanup) (a no-op when done
  // before); ExitWatch, registered next, is thus destroyed before OpenSSL is cleaned up.
  if (OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_DIGESTS, nullptr) != 1) {
    return false;
  }
  static ExitWatch watch;
  return true;
}

}  // namespace

State::~State() = default;

std::shared_ptr<State> currentState() {
  std::lock_guard<std::mutex> lock(g_lifecycle);
  if (g_exiting || (g_state && g_state->pid != getpid())) {
    return nullptr;
  }
  return g_state;
}

CK_SESSION_HANDLE newSessionHandle() { return ++g_nextSession; }
CK_OBJECT_HANDLE newObjectHandle() { return ++g_nextObject; }

CK_RV initialize(CK_VOID_PTR args) {
  const bool watched = watchExit();
  std::lock_guard<std::mutex> lock(g_lifecycle);
  if (!watched || g_exiting) {
    return CKR_FUNCTION_FAILED;  // no new State at exit: OpenSSL is or may be cleaned up
  }
  if (g_state) {
    if (g_state->pid == getpid()) {
      return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    // Child of a fork: deliberately leak the parent's State (no PC/SC call on its handles).
    new std::shared_ptr<State>(std::move(g_state));  // NOLINT: intentional leak
    g_state.reset();
  }
  auto st = std::make_shared<State>();
  st->lock = makeLock(args);
  st->pid = getpid();

  auto loaded = config::load();
  st->config = loaded.config;
  log::configure(st->config);
  for (const auto& w : loaded.warnings) {
    JPKI_LOG_WARN("configuration: %s", w.c_str());
  }
  std::string rules;
  for (const auto& rule : loaded.programRules) {
    rules += (rules.empty() ? "; " + loaded.program + ": " : ", ") + rule;
  }
  JPKI_LOG_INFO("initialized (config %s%s; tokens %s, sign-always-authenticate %s)",
                loaded.source.empty() ? "defaults" : loaded.source.c_str(), rules.c_str(),
                config::name(st->config.tokens), st->config.signAlwaysAuthenticate ? "yes" : "no");
  st->certStore = makeCertificateStore(st->config);  // no disk access until a card is read

  // No card I/O and no PC/SC call here: the reader system connects lazily.
  st->readers = std::shared_ptr<ReaderSystem>(makeReaderSystem());
  const bool threadsAllowed =
      args == nullptr || (static_cast<CK_C_INITIALIZE_ARGS_PTR>(args)->flags &
                          CKF_LIBRARY_CANT_CREATE_OS_THREADS) == 0;
  st->readers->setCallTimeout(threadsAllowed
                                  ? std::chrono::milliseconds(st->config.cardTimeoutSeconds * 1000L)
                                  : std::chrono::milliseconds(0));
  if (threadsAllowed) {
    // Issue 20: calls that need nothing from the card ask pcscd nothing.
    st->readers->watchChanges();
  }
  g_state = std::move(st);
  return CKR_OK;
}

CK_RV finalize(CK_VOID_PTR reserved) {
  if (reserved != nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  std::shared_ptr<State> st;
  {
    std::lock_guard<std::mutex> lock(g_lifecycle);
    if (g_exiting || !g_state || g_state->pid != getpid()) {
      return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    st = std::move(g_state);
    g_state.reset();
  }
  if (CK_RV rv = teardown(*st, true); rv != CKR_OK) {
    return rv;
  }
  JPKI_LOG_INFO("finalized");
  return CKR_OK;
}

}  // namespace jpki::module
