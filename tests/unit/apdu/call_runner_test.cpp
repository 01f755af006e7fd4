// SPDX-License-Identifier: MIT
// CallRunner: bounded calls on a helper thread (apdu/pcsc/call_runner.h). No PC/SC involved: the
// "calls" are lambdas that block on a gate the test opens, standing in for SCardTransmit on a mute
// card.
#include "../../../apdu/pcsc/call_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace jpki::pcsc {
namespace {

using namespace std::chrono_literals;

// A call blocked until open() (the card answering late, or being pulled).
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  std::atomic<bool> returned{false};
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
  int wait() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return open; });
    returned = true;
    return 7;
  }
};

// Polls until pred() or 5 s passed.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(CallRunner, ReturnsResultsAndRunsOffTheCallingThread) {
  auto stuck = std::make_shared<StuckReaders>();
  CallRunner runner("R", 2000ms, stuck);
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 100; ++i) {
    const auto [value, where] =
        runner.run([i] { return std::pair(i * 2, std::this_thread::get_id()); });
    EXPECT_EQ(value, i * 2);
    EXPECT_NE(where, caller);
  }
  EXPECT_FALSE(runner.abandoned());
  EXPECT_FALSE(stuck->stuck("R"));
}

TEST(CallRunner, ZeroLimitRunsInline) {
  CallRunner runner("R", 0ms, std::make_shared<StuckReaders>());
  EXPECT_EQ(runner.run([] { return std::this_thread::get_id(); }), std::this_thread::get_id());
}

TEST(CallRunner, ExceptionsReachTheCaller) {
  CallRunner runner("R", 2000ms, std::make_shared<StuckReaders>());
  EXPECT_THROW(runner.run([]() -> int { throw std::runtime_error("x"); }), std::runtime_error);
  EXPECT_EQ(runner.run([] { return 1; }), 1);  // still usable
}

TEST(CallRunner, MuteCallTimesOutMarksTheReaderAndClearsItWhenItReturns) {
  auto stuck = std::make_shared<StuckReaders>();
  auto gate = std::make_shared<Gate>();
  {
    CallRunner runner("Reader A", 200ms, stuck);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      runner.run([gate] { return gate->wait(); });
      FAIL() << "no timeout";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::Timeout);
      EXPECT_NE(std::string(e.what()).find("Reader A"), std::string::npos);
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 2000ms);
    EXPECT_TRUE(runner.abandoned());
    EXPECT_TRUE(stuck->stuck("Reader A"));
    EXPECT_FALSE(stuck->stuck("Reader B"));

    // Later calls fail at once and never run.
    std::atomic<bool> ran{false};
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_THROW(runner.run([&ran] { return ran.exchange(true); }), Error);
    EXPECT_LT(std::chrono::steady_clock::now() - t1, 100ms);
    EXPECT_FALSE(ran);
  }  // the runner goes while its thread is still blocked: no join, no crash
  EXPECT_TRUE(stuck->stuck("Reader A"));
  gate->release();  // the card finally answers (or is pulled)
  EXPECT_TRUE(eventually([&] { return !stuck->stuck("Reader A"); }));
  EXPECT_TRUE(gate->returned);
}

TEST(CallRunner, CallOwningItsDataSurvivesTheCaller) {
  auto stuck = std::make_shared<StuckReaders>();
  auto gate = std::make_shared<Gate>();
  auto owned = std::make_shared<int>(42);
  std::weak_ptr<int> watch = owned;
  {
    CallRunner runner("R", 50ms, stuck);
    EXPECT_THROW(runner.run([gate, data = std::move(owned)] { return gate->wait() + *data; }),
                 Error);
  }
  EXPECT_FALSE(watch.expired());  // still owned by the blocked call
  gate->release();
  EXPECT_TRUE(eventually([&] { return watch.expired(); }));  // released by the helper thread
}

TEST(StuckReaders, CallFinishingBeforeTheCallerGivesUpIsNotStuck) {
  StuckReaders stuck;
  StuckReaders::Mark mark;
  stuck.finished(mark, "R");
  EXPECT_FALSE(stuck.abandon(mark, "R"));  // its result is good
  EXPECT_FALSE(stuck.stuck("R"));
}

TEST(StuckReaders, TwoBlockedCallsOnOneReader) {
  StuckReaders stuck;
  StuckReaders::Mark a, b;
  EXPECT_TRUE(stuck.abandon(a, "R"));
  EXPECT_TRUE(stuck.abandon(b, "R"));
  stuck.finished(a, "R");
  EXPECT_TRUE(stuck.stuck("R"));
  stuck.finished(b, "R");
  EXPECT_FALSE(stuck.stuck("R"));
}

// runLater (SCardEndTransaction): returns at once, runs before the next call, and a hang in it is
// caught by the next call's limit or by the destructor's, never waited for without bound.
TEST(CallRunner, RunLaterRunsInOrderBeforeTheNextCall) {
  CallRunner runner("R", 2000ms, std::make_shared<StuckReaders>());
  auto order = std::make_shared<std::vector<int>>();
  auto mutex = std::make_shared<std::mutex>();
  for (int i = 0; i < 50; ++i) {
    runner.runLater([order, mutex, i] {
      std::lock_guard lock(*mutex);
      order->push_back(i);
      return 0;
    });
  }
  runner.runLater([]() -> int { throw std::runtime_error("dropped"); });
  EXPECT_EQ(runner.run([order, mutex] {
    std::lock_guard lock(*mutex);
    return order->size();
  }),
            50U);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ((*order)[static_cast<std::size_t>(i)], i);
  }
  EXPECT_FALSE(runner.abandoned());
}

TEST(CallRunner, HungRunLaterIsCaughtByTheNextCall) {
  auto stuck = std::make_shared<StuckReaders>();
  auto gate = std::make_shared<Gate>();
  {
    CallRunner runner("R", 200ms, stuck);
    const auto t0 = std::chrono::steady_clock::now();
    runner.runLater([gate] { return gate->wait(); });
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);  // not waited for
    EXPECT_THROW(runner.run([] { return 1; }), Error);
    EXPECT_TRUE(runner.abandoned());
    EXPECT_TRUE(stuck->stuck("R"));
  }
  gate->release();
  EXPECT_TRUE(eventually([&] { return !stuck->stuck("R"); }));
}

TEST(CallRunner, DestructorBoundsAHungRunLater) {
  auto gate = std::make_shared<Gate>();
  const auto t0 = std::chrono::steady_clock::now();
  {
    CallRunner runner("R", 200ms, std::make_shared<StuckReaders>());
    runner.runLater([gate] { return gate->wait(); });
  }  // must not join a thread blocked forever
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2000ms);
  gate->release();
  EXPECT_TRUE(eventually([&] { return gate->returned.load(); }));
}

TEST(CallRunner, RunLaterWithZeroLimitRunsInline) {
  CallRunner runner("R", 0ms, std::make_shared<StuckReaders>());
  std::thread::id where;
  runner.runLater([&where] {
    where = std::this_thread::get_id();
    return 0;
  });
  EXPECT_EQ(where, std::this_thread::get_id());
}
}  // namespace
}  // namespace jpki::pcsc
