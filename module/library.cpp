// Global state: C_Initialize / C_Finalize, CK_C_INITIALIZE_ARGS locking, fork detection.
//
// Fork (p11-kit and pkcs11-tool --test-fork call C_Initialize again in the child without
// C_Finalize): the State remembers getpid() at C_Initialize. In a child every call but
// C_Initialize sees no State (CKR_CRYPTOKI_NOT_INITIALIZED); C_Initialize abandons the parent's
// State without running any destructor (its PC/SC handles belong to the parent) and starts fresh.
//
// Threads: the PC/SC transport runs each card call on one helper thread per connection so that a
// card that never answers costs `card-timeout` seconds, not a frozen application. With
// CKF_LIBRARY_CANT_CREATE_OS_THREADS no thread is created and card calls may block.
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "guard.h"
#include "jpki/config.h"
#include "log.h"
#include "reader_factory.h"

namespace jpki::module {
namespace {

// Guards only g_state (the pointer); never held while another lock is taken or while working.
std::mutex g_lifecycle;
std::shared_ptr<State> g_state;

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

}  // namespace

State::~State() = default;

std::shared_ptr<State> currentState() {
  std::lock_guard<std::mutex> lock(g_lifecycle);
  if (g_state && g_state->pid != getpid()) {
    return nullptr;
  }
  return g_state;
}

CK_SESSION_HANDLE newSessionHandle() { return ++g_nextSession; }
CK_OBJECT_HANDLE newObjectHandle() { return ++g_nextObject; }

CK_RV initialize(CK_VOID_PTR args) {
  std::lock_guard<std::mutex> lock(g_lifecycle);
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
  JPKI_LOG_INFO("initialized (config %s, tokens %s)",
                loaded.source.empty() ? "defaults" : loaded.source.c_str(),
                config::name(st->config.tokens));
  st->certStore = makeCertificateStore(st->config);  // no disk access until a card is read

  // No card I/O and no PC/SC call here: the reader system connects lazily.
  st->readers = std::shared_ptr<ReaderSystem>(makeReaderSystem());
  const bool threadsAllowed =
      args == nullptr ||
      (static_cast<CK_C_INITIALIZE_ARGS_PTR>(args)->flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS) == 0;
  st->readers->setCallTimeout(threadsAllowed
                                  ? std::chrono::milliseconds(st->config.cardTimeoutSeconds * 1000L)
                                  : std::chrono::milliseconds(0));
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
    if (!g_state || g_state->pid != getpid()) {
      return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    st = std::move(g_state);
    g_state.reset();
  }
  // Wake a thread blocked in C_WaitForSlotEvent first (it holds no lock while blocked), then
  // tear down under the State lock so no call is still running on it.
  st->readers->cancel();
  LockHolder lock(*st->lock);
  if (CK_RV rv = lock.acquire(); rv != CKR_OK) {
    return rv;
  }
  st->finalized = true;
  st->sessions.clear();
  // All sessions are closed: leave no verified PIN on the card for another process (the PC/SC
  // connection is released with SCARD_LEAVE_CARD).
  for (Reader& r : st->readerList) {
    for (auto& t : r.tokens) {
      if (t) {
        t->userLogin = false;
      }
    }
    if (r.card) {
      releaseCardLogin(*st, *r.card);
    }
  }
  for (Reader& r : st->readerList) {
    if (r.card) {
      r.card->alive = false;
    }
    r.tokens = {};
    r.card.reset();
  }
  st->readers->cancel();
  lock.release();
  JPKI_LOG_INFO("finalized");
  return CKR_OK;
}

}  // namespace jpki::module
