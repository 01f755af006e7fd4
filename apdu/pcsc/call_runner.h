// SPDX-License-Identifier: MIT
// Bounded PC/SC calls. pcsc-lite has no timeout for SCardTransmit (nor for SCardBeginTransaction
// while another handle holds the card), and a reader driver may wait for a card forever, so a card
// that never answers would freeze the application. A CallRunner runs each call of one connection
// on its own helper thread and waits at most `limit` for it:
//
//   * in time: the result is returned as if the call had been made directly;
//   * too late: Errc::Timeout is thrown and the runner is abandoned. The helper thread stays
//   blocked
//     inside pcsc-lite until the call finally returns (the card is pulled, the reader unplugged),
//     then releases what the call owned and ends. Until then the reader is "stuck" in StuckReaders:
//     every new connection to it fails at once with Errc::Timeout, because any PC/SC call on that
//     reader would queue behind the blocked one. The runner refuses every later call.
//
// A call must own everything it touches (capture shared_ptrs and values, never references to the
// caller's stack): after a timeout it outlives the caller. With limit 0 (configured off, or the
// application set CKF_LIBRARY_CANT_CREATE_OS_THREADS) calls run inline and may block forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "jpki/error.h"

namespace jpki::pcsc {

// Readers with a call still blocked after its caller gave up, shared by the reader system and the
// helper threads (which may outlive it).
class StuckReaders {
 public:
  struct Mark {  // one call; guarded by StuckReaders' mutex
    bool finished = false;
    bool abandoned = false;
  };
  // The helper thread: the call returned. Clears the reader when its caller had given up on it.
  void finished(Mark& mark, const std::string& reader);
  // The caller: gives up on the call. False when it finished meanwhile (its result is good).
  bool abandon(Mark& mark, const std::string& reader);
  [[nodiscard]] bool stuck(const std::string& reader) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> blocked_;  // reader → calls still blocked
};

class CallRunner {
 public:
  CallRunner(std::string reader, std::chrono::milliseconds limit,
             std::shared_ptr<StuckReaders> stuck);
  ~CallRunner();  // ends (joins) the helper thread; detaches it when abandoned
  CallRunner(const CallRunner&) = delete;
  CallRunner& operator=(const CallRunner&) = delete;

  // Runs call() and returns its result, or throws Errc::Timeout (see above). Exceptions thrown by
  // call() reach the caller. Not reentrant: one call at a time (the caller serialises).
  template <typename Call>
  auto run(Call call) -> decltype(call()) {
    if (limit_.count() <= 0) {
      return call();
    }
    if (abandoned_) {
      throw timeoutError(false);
    }
    using Result = decltype(call());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(call));
    std::future<Result> result = task->get_future();
    auto mark = std::make_shared<StuckReaders::Mark>();
    post([task, mark, stuck = stuck_, reader = reader_] {
      (*task)();
      stuck->finished(*mark, reader);
    });
    if (result.wait_for(limit_) == std::future_status::timeout && stuck_->abandon(*mark, reader_)) {
      abandon();
      throw timeoutError(true);
    }
    return result.get();
  }

  // Queues call() behind the calls before it and returns at once; its result and exceptions are
  // dropped. The next run() waits for it within its own limit, so a call that hangs here is caught
  // there (or by the destructor). For SCardEndTransaction (issue 20): the caller has nothing to
  // learn from it, and not waiting saves a thread hand-over per card transaction.
  template <typename Call>
  void runLater(Call call) noexcept {
    auto quiet = quietly(std::move(call));
    if (limit_.count() <= 0) {
      quiet();
      return;
    }
    if (abandoned_) {
      return;
    }
    try {
      post(std::move(quiet));
    } catch (...) {  // no thread or no memory: run it here, unbounded as with limit 0
      quiet();
    }
  }

  // Runs job() on the helper thread once no call has been posted for `after`; a call posted
  // before then puts it off (it is not dropped), a later runWhenIdle() replaces it. Without a
  // helper thread (limit 0) job() runs now; when abandoned, never. For the hand-over lock: a
  // process keeps the reader while it goes on using it, and lets go once it pauses
  // (handoff_lock.h).
  void runWhenIdle(std::function<void()> job, std::chrono::milliseconds after) noexcept;

  [[nodiscard]] bool abandoned() const noexcept { return abandoned_; }

 private:
  // call() with its result and exceptions dropped: for the jobs nobody waits for.
  template <typename Call>
  static auto quietly(Call call) {
    return [call = std::move(call)]() mutable noexcept {
      try {
        (void)call();
      } catch (...) {  // NOLINT(bugprone-empty-catch): nobody waits for this result
      }
    };
  }

  struct Mailbox {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;  // in the order posted
    bool quit = false;                       // after the jobs already queued
    std::function<void()> idle;              // runWhenIdle(): pending, may be empty
    std::chrono::milliseconds idleAfter{0};
  };
  static void serve(const std::shared_ptr<Mailbox>& box);
  void post(std::function<void()> job);
  void abandon();
  [[nodiscard]] Error timeoutError(bool now) const;

  std::string reader_;
  std::chrono::milliseconds limit_;
  std::shared_ptr<StuckReaders> stuck_;
  std::shared_ptr<Mailbox> box_ = std::make_shared<Mailbox>();
  std::thread thread_;  // started by the first call
  bool abandoned_ = false;
};

}  // namespace jpki::pcsc
