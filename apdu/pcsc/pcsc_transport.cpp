// SPDX-License-Identifier: MIT
// The PC/SC implementation of jpki::ReaderSystem / jpki::CardConnection (the only code that
// includes winscard.h). RAII for SCARDCONTEXT and SCARDHANDLE; resets are recovered with
// SCardReconnect and reported to the caller; every wait is bounded, card calls by CallRunner.
#include <winscard.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "call_runner.h"
#include "handoff_lock.h"
#include "jpki/error.h"
#include "jpki/transport.h"
#include "pcsc_error.h"

namespace jpki {
namespace {

using pcsc::CallRunner;
using pcsc::HandoffLock;
using pcsc::StuckReaders;
using pcsc::throwPcsc;

constexpr int kMaxResetRecoveries = 3;
constexpr DWORD kProtocols = SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
constexpr std::size_t kMaxResponse = 65536 + 2;
constexpr DWORD kMaxWaitMs = DWORD{60} * 60 * 1000;  // no wait longer than an hour
const char kPnpReader[] = "\\\\?PnP?\\Notification";
// A process that goes on using the reader keeps it: endTransaction() leaves the PC/SC transaction
// open, with the hand-over lock (handoff_lock.h), until the process has made no card call for
// kHandoffGrace, or ends it at once when it has lasted kHandoffMaxHold. A beginTransaction()
// within the grace continues it without a word to pcscd: nothing else can have reached the card,
// so what was selected is still selected (issue 20: a signature is then one APDU, COMPUTE, instead
// of SELECT + COMPUTE, and one round trip to pcscd instead of four). A reset or a removal meanwhile
// still shows: pcsc-lite answers the next SCardTransmit with it before sending anything, and while
// the transaction is open no other program can reset the card (SCardReconnect is refused and
// SCardDisconnect with a reset waits for the end of the transaction, pcsc-lite winscard.c).
// Another process thus never finds the card taken in the middle of a login-then-sign sequence,
// nor waits longer than that for it.
constexpr std::chrono::milliseconds kHandoffGrace{20};
constexpr std::chrono::milliseconds kHandoffMaxHold{1000};

// One SCARDCONTEXT, established lazily and re-established when pcscd went away.
class Context {
 public:
  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() { release(); }

  SCARDCONTEXT get() {
    std::lock_guard lock(mutex_);
    if (valid_ && SCardIsValidContext(handle_) != SCARD_S_SUCCESS) {
      releaseLocked();
    }
    if (!valid_) {
      SCARDCONTEXT h = 0;
      const LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &h);
      if (rv != SCARD_S_SUCCESS) {
        throwPcsc(rv, "SCardEstablishContext");
      }
      handle_ = h;
      valid_ = true;
    }
    return handle_;
  }
  // Forgets the context (after SCARD_E_NO_SERVICE etc.); the next get() establishes a new one.
  void release() noexcept {
    std::lock_guard lock(mutex_);
    releaseLocked();
  }
  // Interrupts a blocking SCardGetStatusChange on this context (callable from any thread).
  void cancel() noexcept {
    std::lock_guard lock(mutex_);
    if (valid_) {
      SCardCancel(handle_);
    }
  }

 private:
  void releaseLocked() noexcept {
    if (valid_) {
      SCardReleaseContext(handle_);
      valid_ = false;
    }
  }
  std::mutex mutex_;
  SCARDCONTEXT handle_ = 0;
  bool valid_ = false;
};

// Runs `call(context)` and re-establishes the context once when the service was lost.
template <typename Call>
LONG withContext(Context& context, Call call) {
  LONG rv = call(context.get());
  if (pcsc::serviceLost(rv)) {
    context.release();
    rv = call(context.get());
  }
  return rv;
}

// One pcscd round trip (issue 20): pcsc-lite allocates the list (SCARD_AUTOALLOCATE) instead of
// being asked for its size first; SCardFreeMemory is a local free.
std::vector<std::string> listReaders(Context& context) {
  char* list = nullptr;
  DWORD size = 0;
  SCARDCONTEXT used = 0;
  const LONG rv = withContext(context, [&](SCARDCONTEXT c) {
    used = c;
    size = SCARD_AUTOALLOCATE;
    // pcsc-lite's convention: with SCARD_AUTOALLOCATE the buffer argument receives a pointer.
    return SCardListReaders(c, nullptr, reinterpret_cast<LPSTR>(&list), &size);
  });
  if (rv == SCARD_E_NO_READERS_AVAILABLE) {
    return {};
  }
  if (rv != SCARD_S_SUCCESS) {
    throwPcsc(rv, "SCardListReaders");
  }
  if (list == nullptr) {
    return {};
  }
  std::vector<std::string> names;
  try {
    // A multi-string: names separated by NUL, ended by an empty one; `size` counts every byte.
    for (const char* p = list; p < list + size && *p != '\0'; p += names.back().size() + 1) {
      names.emplace_back(p, strnlen(p, static_cast<std::size_t>(list + size - p)));
    }
  } catch (...) {
    SCardFreeMemory(used, list);
    throw;
  }
  SCardFreeMemory(used, list);
  return names;
}

// Current states of the given readers (timeout 0: never blocks).
std::vector<SCARD_READERSTATE> currentStates(SCARDCONTEXT context,
                                             const std::vector<std::string>& names) {
  std::vector<SCARD_READERSTATE> states(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    states[i].szReader = names[i].c_str();
    states[i].dwCurrentState = SCARD_STATE_UNAWARE;
  }
  if (states.empty()) {
    return states;
  }
  const LONG rv =
      SCardGetStatusChange(context, 0, states.data(), static_cast<DWORD>(states.size()));
  if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
    throwPcsc(rv, "SCardGetStatusChange");
  }
  return states;
}

// A connection's PC/SC resources: its own context (pcsc-lite serialises the calls made on one
// context, so a call blocked on a mute card must not hold up anything else) and the card handle.
// Released by whoever drops the last reference: the connection, or the helper thread of a call
// that returned after its caller had given up on it. The hand-over lock (handoff_lock.h) is held
// from before SCardBeginTransaction to after SCardEndTransaction, and around SCardConnect; only
// the calls (on the runner's thread, one at a time) touch it.
struct Link {
  explicit Link(const std::string& reader) : handoff(reader) {}
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link() {
    if (connected) {
      SCardDisconnect(handle, SCARD_LEAVE_CARD);
    }
    if (hasContext) {
      SCardReleaseContext(context);
    }
  }
  SCARDCONTEXT context = 0;
  SCARDHANDLE handle = 0;
  bool hasContext = false;
  bool connected = false;
  HandoffLock handoff;  // destroyed after the disconnect above: a held lock goes with it

  // The PC/SC transaction, shared by the caller's thread (which continues a kept one without a
  // call) and the runner's (which begins and ends it): open (possibly kept past
  // endTransaction()), in use between beginTransaction() and endTransaction(), to be ended at
  // endTransaction() because a call in it failed, and when it was begun.
  std::mutex txMutex;
  bool inTransaction = false;
  bool inUse = false;
  bool endAtOnce = false;
  std::chrono::steady_clock::time_point begunAt{};

  // Runner's thread. Ends the transaction when `idleOnly` is false or nobody uses it, and gives the
  // hand-over lock back (after the end, so that the next holder's begin never finds the card
  // locked).
  LONG end(bool idleOnly) {
    {
      std::lock_guard lock(txMutex);
      if (idleOnly && (inUse || !inTransaction)) {
        return SCARD_S_SUCCESS;
      }
      inTransaction = false;
    }
    const LONG rv = SCardEndTransaction(handle, SCARD_LEAVE_CARD);
    handoff.unlock();
    return rv;
  }
};

struct Attached {  // what connecting and reconnecting learn
  LONG rv = SCARD_S_SUCCESS;
  const char* step = "";
  DWORD protocol = 0;
  Bytes atr;
};

Bytes currentAtr(SCARDHANDLE handle) {
  BYTE atr[MAX_ATR_SIZE];
  DWORD atrLength = sizeof atr;
  char name[MAX_READERNAME];
  DWORD nameLength = sizeof name;
  DWORD state = 0;
  DWORD protocol = 0;
  if (SCardStatus(handle, name, &nameLength, &state, &protocol, atr, &atrLength) !=
      SCARD_S_SUCCESS) {
    return {};
  }
  return {atr, atr + std::min<DWORD>(atrLength, sizeof atr)};
}

// Every PC/SC call on the handle goes through runner_ (bounded, see call_runner.h) and owns what it
// touches: the Link by shared_ptr, its inputs by value.
class PcscConnection final : public CardConnection {
 public:
  PcscConnection(std::string reader, std::chrono::milliseconds limit,
                 const std::shared_ptr<StuckReaders>& stuck)
      : reader_(std::move(reader)),
        link_(std::make_shared<Link>(reader_)),
        runner_(reader_, limit, stuck) {
    if (stuck->stuck(reader_)) {
      throw Error(Errc::Timeout, "the card in reader \"" + reader_ +
                                     "\" is still not answering a command this process gave up "
                                     "on; remove it and insert it again");
    }
    const Attached a = runner_.run([link = link_, reader = reader_] {
      Attached out;
      out.step = "SCardEstablishContext";
      out.rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &link->context);
      if (out.rv != SCARD_S_SUCCESS) {
        return out;
      }
      link->hasContext = true;
      out.step = "SCardConnect";
      // pcsc-lite makes a connect and the status after it wait (polling) while another handle's
      // transaction is open.
      link->handoff.lock();
      out.rv = SCardConnect(link->context, reader.c_str(), SCARD_SHARE_SHARED, kProtocols,
                            &link->handle, &out.protocol);
      if (out.rv == SCARD_S_SUCCESS) {
        link->connected = true;
        out.atr = currentAtr(link->handle);
      }
      link->handoff.unlock();
      return out;
    });
    if (a.rv != SCARD_S_SUCCESS) {
      throwPcsc(a.rv, std::string(a.step) + "(" + reader_ + ")");
    }
    protocol_ = a.protocol;
    atr_ = a.atr;
  }
  PcscConnection(const PcscConnection&) = delete;
  PcscConnection& operator=(const PcscConnection&) = delete;
  // The Link (SCardDisconnect, SCardReleaseContext) goes with the last reference: here, or in the
  // helper thread of a call still blocked.
  ~PcscConnection() override = default;

  bool beginTransaction() override {
    if (!resetPending_ && !runner_.abandoned()) {
      std::lock_guard lock(link_->txMutex);
      if (link_->inTransaction) {
        link_->inUse = true;
        continued_ = true;
        return false;
      }
    }
    continued_ = false;
    bool reset = resetPending_;
    for (int attempt = 0; attempt <= kMaxResetRecoveries; ++attempt) {
      const LONG rv = runner_.run([link = link_] {
        link->handoff.lock();
        const LONG begun = SCardBeginTransaction(link->handle);
        if (begun != SCARD_S_SUCCESS) {
          link->handoff.unlock();
          return begun;
        }
        std::lock_guard lock(link->txMutex);
        link->inTransaction = true;
        link->inUse = true;
        link->endAtOnce = false;
        link->begunAt = std::chrono::steady_clock::now();
        return begun;
      });
      if (rv == SCARD_S_SUCCESS) {
        resetPending_ = false;
        return reset;
      }
      if (rv == SCARD_W_RESET_CARD) {
        reconnect();
        reset = true;
        continue;
      }
      if (rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD) {
        throw Error(Errc::CardRemoved, "SCardBeginTransaction(" + reader_ + "): card removed; " +
                                           "a new card needs a new connection");
      }
      throwPcsc(rv, "SCardBeginTransaction(" + reader_ + ")");
    }
    throw Error(Errc::CardReset, "SCardBeginTransaction(" + reader_ + "): card keeps resetting");
  }

  void endTransaction() noexcept override {
    if (runner_.abandoned()) {
      return;  // the blocked call's thread releases the handle (and the transaction) when done
    }
    bool now = false;
    {
      std::lock_guard lock(link_->txMutex);
      link_->inUse = false;
      now =
          link_->endAtOnce || std::chrono::steady_clock::now() - link_->begunAt >= kHandoffMaxHold;
      if (now) {
        link_->inTransaction = false;  // a begin from now on begins anew, after this end
      }
    }
    if (now) {
      // Nothing to learn from the answer: not waited for (a hang shows at the next call).
      runner_.runLater([link = link_] { return link->end(false); });
    } else {
      runner_.runWhenIdle([link = link_] { link->end(true); }, kHandoffGrace);
    }
  }

  [[nodiscard]] bool continuesLastTransaction() const override { return continued_; }

  Bytes transmit(const Bytes& command) override {
    struct Reply {
      LONG rv = SCARD_S_SUCCESS;
      Bytes response;
    };
    const SCARD_IO_REQUEST* pci = protocol_ == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
    // The command may carry a PIN: the call's own copy is a SecretBytes, wiped when it is done.
    Reply reply = runner_.run([link = link_, pci, apdu = SecretBytes(command)] {
      Reply r;
      // Uninitialised on purpose: zero-filling 64 KiB for a 258-byte answer was half the host
      // instructions of a signature (issue 20). Only the `length` bytes pcsc-lite wrote are read.
      const auto buffer = std::make_unique_for_overwrite<BYTE[]>(kMaxResponse);
      auto length = static_cast<DWORD>(kMaxResponse);
      r.rv = SCardTransmit(link->handle, pci, apdu.view().data(), static_cast<DWORD>(apdu.size()),
                           nullptr, buffer.get(), &length);
      if (r.rv == SCARD_S_SUCCESS) {
        r.response.assign(buffer.get(), buffer.get() + std::min<std::size_t>(length, kMaxResponse));
      } else {
        std::lock_guard lock(link->txMutex);
        link->endAtOnce = true;  // nothing of this transaction is worth keeping
      }
      return r;
    });
    switch (reply.rv) {
      case SCARD_S_SUCCESS:
        return std::move(reply.response);
      case SCARD_W_RESET_CARD:
        // Reconnect now so the next transaction works; the caller restarts its operation.
        reconnect();
        resetPending_ = true;
        throw Error(Errc::CardReset, "SCardTransmit(" + reader_ + "): card was reset");
      case SCARD_W_REMOVED_CARD:
      case SCARD_E_NO_SMARTCARD:
        throw Error(Errc::CardRemoved, "SCardTransmit(" + reader_ + "): card removed");
      default:
        throwPcsc(reply.rv, "SCardTransmit(" + reader_ + ")");
    }
  }

  [[nodiscard]] Bytes atr() const override { return atr_; }
  [[nodiscard]] std::string readerName() const override { return reader_; }
  [[nodiscard]] bool usable() const override { return !runner_.abandoned(); }

 private:
  void reconnect() {
    const Attached a = runner_.run([link = link_] {
      Attached out;
      out.rv = SCardReconnect(link->handle, SCARD_SHARE_SHARED, kProtocols, SCARD_LEAVE_CARD,
                              &out.protocol);
      if (out.rv == SCARD_S_SUCCESS) {
        out.atr = currentAtr(link->handle);
      }
      return out;
    });
    if (a.rv == SCARD_W_REMOVED_CARD || a.rv == SCARD_E_NO_SMARTCARD) {
      throw Error(Errc::CardRemoved, "SCardReconnect(" + reader_ + "): card removed");
    }
    if (a.rv != SCARD_S_SUCCESS) {
      throwPcsc(a.rv, "SCardReconnect(" + reader_ + ")");
    }
    protocol_ = a.protocol;
    atr_ = a.atr;
  }

  std::string reader_;
  std::shared_ptr<Link> link_;
  CallRunner runner_;  // after link_: joined before the Link is released
  DWORD protocol_ = 0;
  Bytes atr_;
  bool resetPending_ = false;  // a transmit saw a reset: report it at the next transaction
  bool continued_ = false;     // the last beginTransaction() continued a kept transaction
};

// Reader states as a listing saw them (without SCARD_STATE_CHANGED), the notification
// pseudo-reader last.
using StateList = std::vector<std::pair<std::string, DWORD>>;

// Issue 20: a thread that waits, on a context of its own, on the states of the last listing, so
// that changedSinceListing() reads a flag instead of asking pcscd. pcsc-lite compares each state
// given with the reader's current one, so whatever moved after the listing is reported, however
// late the wait starts. The wait is bounded (kWatchMs) so that a cancel that came just before the
// wait began costs at most that long; a new listing or stop() cancels the wait.
class ChangeWatcher {
 public:
  ChangeWatcher() {
    thread_ = std::thread([this] { run(); });
  }  // std::system_error if refused
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;
  ~ChangeWatcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    // A cancel sent just before the thread enters its wait is lost: repeat until it has left.
    std::unique_lock lock(mutex_);
    while (!exited_) {
      lock.unlock();
      context_.cancel();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return exited_; });
    }
    lock.unlock();
    thread_.join();
  }

  // Watch these states (a listing's) from now on.
  void watch(StateList states) {
    std::unique_lock lock(mutex_);
    states_ = std::move(states);
    ++generation_;
    changed_ = false;
    cv_.notify_all();
    // The thread waits on the previous listing's states, or is about to: cancel that wait until
    // it has left it. A cancel that reaches pcscd before the wait does is lost (pcsc-lite only
    // cancels a wait in progress), and the thread would stay on stale states for kWatchMs. Bounded
    // here (a listing is rare); changed() repeats the cancel should this give up.
    for (int i = 0; i < kCancelTries && waiting_ != 0 && waiting_ != generation_; ++i) {
      lock.unlock();
      context_.cancel();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(1),
                   [this] { return waiting_ == 0 || waiting_ == generation_; });
    }
  }

  // true: something moved (or the wait failed) since the listing being watched; false: the thread
  // waits on that listing's states and nothing moved; nullopt: it does not wait on them yet.
  std::optional<bool> changed() {
    bool stale = false;
    {
      std::lock_guard lock(mutex_);
      if (changed_) {
        return true;
      }
      if (generation_ != 0 && waiting_ == generation_) {
        return false;
      }
      stale = waiting_ != 0;
    }
    if (stale) {
      // Still waiting on an older listing's states: watch()'s cancel came before that wait
      // reached pcscd and was lost. Until it is repeated the wait lasts kWatchMs, and every check
      // meanwhile costs the caller its own pcscd call (seen in the bench: one run in four, 1.4 ms
      // per call on pcsc-lite 1.9).
      context_.cancel();
    }
    return std::nullopt;
  }

 private:
  static constexpr DWORD kWatchMs = 30000;
  static constexpr int kCancelTries = 20;

  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (generation_ == 0 || changed_) {
        cv_.wait(lock);  // nothing to watch, or the change is reported: wait for the next listing
        continue;
      }
      const std::uint64_t generation = generation_;
      waiting_ = generation;
      LONG rv = SCARD_E_NO_SERVICE;
      try {
        const StateList watched = states_;
        lock.unlock();
        std::vector<SCARD_READERSTATE> states(watched.size());
        for (std::size_t i = 0; i < watched.size(); ++i) {
          states[i].szReader = watched[i].first.c_str();
          states[i].dwCurrentState = watched[i].second;
        }
        rv = SCardGetStatusChange(context_.get(), kWatchMs, states.data(),
                                  static_cast<DWORD>(states.size()));
      } catch (const Error&) {
        rv = SCARD_E_NO_SERVICE;  // no context (pcscd gone): a change like any failed wait
      } catch (...) {
        rv = SCARD_E_NO_MEMORY;  // nothing may leave this thread: std::terminate ends the host
      }
      if (!lock.owns_lock()) {
        lock.lock();
      }
      if (pcsc::serviceLost(rv)) {
        lock.unlock();  // release() takes the context's lock; never hold both
        context_.release();
        lock.lock();
      }
      waiting_ = 0;
      cv_.notify_all();  // watch() may wait for this wait to end
      if (stop_ || generation != generation_ || rv == SCARD_E_TIMEOUT || rv == SCARD_E_CANCELLED) {
        continue;  // stopping, a newer listing to watch, or nothing moved: wait again
      }
      changed_ = true;  // a state moved, or the wait failed: the caller lists again
    }
    exited_ = true;
    cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  StateList states_;
  std::uint64_t generation_ = 0;  // of states_; 0: nothing listed yet
  std::uint64_t waiting_ = 0;     // the generation the thread waits on (0: none)
  bool changed_ = false;
  bool stop_ = false;
  bool exited_ = false;
  Context context_;
  std::thread thread_;  // last: started once everything above exists
};

class PcscReaderSystem final : public ReaderSystem {
 public:
  PcscReaderSystem()
      : context_(std::make_shared<Context>()), waitContext_(std::make_unique<Context>()) {}

  std::vector<ReaderState> readers() override {
    known_.clear();
    std::vector<std::string> names = listReaders(*context_);
    // The notification pseudo-reader rides along (same call; see changedSinceListing()).
    names.emplace_back(kPnpReader);
    const std::vector<SCARD_READERSTATE> states = currentStates(context_->get(), names);
    for (std::size_t i = 0; i < names.size(); ++i) {
      known_.emplace_back(names[i],
                          states[i].dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED));
    }
    names.pop_back();
    startWatching();
    std::vector<ReaderState> out;
    out.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      ReaderState r;
      r.name = names[i];
      const DWORD event = states[i].dwEventState;
      r.cardPresent = (event & SCARD_STATE_PRESENT) != 0 && (event & SCARD_STATE_MUTE) == 0;
      if (r.cardPresent) {
        const DWORD n = std::min<DWORD>(states[i].cbAtr, sizeof states[i].rgbAtr);
        r.atr.assign(states[i].rgbAtr, states[i].rgbAtr + n);
      }
      r.eventCount = static_cast<std::uint32_t>((event >> 16) & 0xFFFF);
      out.push_back(std::move(r));
    }
    return out;
  }

  // One SCardGetStatusChange with timeout 0 on the states the last listing saw: pcsc-lite answers
  // SCARD_E_TIMEOUT when none of them moved (presence, mute, in-use bits; the card-event counter in
  // the upper 16 bits; a reader gone shows as SCARD_STATE_UNKNOWN). Anything else, an error
  // included, is a change, and stays one until readers() lists again. The notification
  // pseudo-reader rides along: pcsc-lite 2.x counts reader events in its upper 16 bits and reports
  // a reader added; 1.9 keeps it 0 and reports nothing (hence the interface's caveat).
  //
  // pcsc-lite only compares a counter that is not 0: a card already in the reader when pcscd
  // started may have counter 0, and a swap (present before and after) would go unreported; such a
  // reader makes every check a "changed" (the old cost, never a stale answer).
  bool changedSinceListing() override {
    if (known_.empty()) {
      return true;
    }
    for (const auto& [name, state] : known_) {
      if (name != kPnpReader && (state & SCARD_STATE_PRESENT) != 0 && (state >> 16) == 0) {
        return true;
      }
    }
    if (watcher_) {
      if (const std::optional<bool> changed = watcher_->changed()) {
        if (*changed) {
          known_.clear();
        }
        return *changed;
      }
    }
    std::vector<SCARD_READERSTATE> states(known_.size());
    for (std::size_t i = 0; i < known_.size(); ++i) {
      states[i].szReader = known_[i].first.c_str();
      states[i].dwCurrentState = known_[i].second;
    }
    const LONG rv =
        SCardGetStatusChange(context_->get(), 0, states.data(), static_cast<DWORD>(states.size()));
    if (rv == SCARD_E_TIMEOUT) {
      return false;
    }
    known_.clear();
    if (pcsc::serviceLost(rv)) {
      context_->release();
    }
    return true;
  }

  std::unique_ptr<CardConnection> connect(const std::string& reader) override {
    return std::make_unique<PcscConnection>(reader, callTimeout_, stuck_);
  }

  void setCallTimeout(std::chrono::milliseconds limit) override { callTimeout_ = limit; }

  void watchChanges() override { watchAllowed_ = true; }

  // Uses its own context so that cancel() only interrupts this wait.
  bool waitForChange(std::chrono::milliseconds timeout) override {
    if (cancelRequested_.exchange(false)) {
      return false;
    }
    std::vector<std::string> names = listReaders(*waitContext_);
    names.emplace_back(kPnpReader);
    SCARDCONTEXT context = waitContext_->get();
    std::vector<SCARD_READERSTATE> states = currentStates(context, names);

    // Something changed since the previous call: report it without waiting.
    std::map<std::string, DWORD> now;
    for (std::size_t i = 0; i < names.size(); ++i) {
      now[names[i]] = states[i].dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
    }
    const bool changedSinceLast = !lastStates_.empty() && now != lastStates_;
    lastStates_ = now;
    if (changedSinceLast) {
      return true;
    }

    for (auto& s : states) {
      s.dwCurrentState = s.dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
    }
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, kMaxWaitMs);
    const LONG rv = SCardGetStatusChange(context, static_cast<DWORD>(ms), states.data(),
                                         static_cast<DWORD>(states.size()));
    if (rv == SCARD_E_CANCELLED) {
      cancelRequested_ = false;  // this cancel() has been honoured
      return false;
    }
    if (rv == SCARD_E_TIMEOUT) {
      return false;
    }
    if (pcsc::serviceLost(rv)) {
      waitContext_->release();
      return true;  // the service went away: the reader set must be looked at again
    }
    if (rv != SCARD_S_SUCCESS) {
      throwPcsc(rv, "SCardGetStatusChange");
    }
    bool changed = false;
    for (std::size_t i = 0; i < states.size(); ++i) {
      if ((states[i].dwEventState & SCARD_STATE_CHANGED) != 0) {
        changed = true;
      }
      lastStates_[names[i]] = states[i].dwEventState & ~static_cast<DWORD>(SCARD_STATE_CHANGED);
    }
    return changed;
  }

  void cancel() noexcept override {
    cancelRequested_ = true;
    waitContext_->cancel();
  }

 private:
  // Hands the listing's states to the change watcher, started the first time (when allowed).
  void startWatching() {
    if (!watchAllowed_) {
      return;
    }
    if (!watcher_) {
      try {
        watcher_ = std::make_unique<ChangeWatcher>();
      } catch (const std::system_error&) {
        watchAllowed_ = false;  // no thread: changedSinceListing() asks pcscd, as without a watcher
        return;
      }
    }
    watcher_->watch(known_);
  }

  std::shared_ptr<Context> context_;
  // The states the last readers() saw ("\\\\?PnP?\\Notification" last), without
  // SCARD_STATE_CHANGED; empty when no listing is current.
  StateList known_;
  bool watchAllowed_ = false;
  std::unique_ptr<ChangeWatcher> watcher_;  // with watchAllowed_, from the first listing on
  std::unique_ptr<Context> waitContext_;
  std::atomic<bool> cancelRequested_{false};
  std::map<std::string, DWORD> lastStates_;
  std::chrono::milliseconds callTimeout_{0};
  // Shared with helper threads, which may outlive this object.
  std::shared_ptr<StuckReaders> stuck_ = std::make_shared<StuckReaders>();
};

}  // namespace

std::unique_ptr<ReaderSystem> makePcscReaderSystem() {
  return std::make_unique<PcscReaderSystem>();
}

}  // namespace jpki
