// SPDX-License-Identifier: MIT
// HandoffLock (apdu/pcsc/handoff_lock.h): the per-reader advisory lock that lets a waiting process
// take the card the moment the holder's transaction ends. flock() locks belong to an open file, so
// two HandoffLocks in one process exclude each other as two processes would.
#include "../../../apdu/pcsc/handoff_lock.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace jpki::pcsc {
namespace {

using namespace std::chrono_literals;

class HandoffLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/jpki-handoff-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;  // mode 0700, ours: a runtime directory
    const char* old = std::getenv("XDG_RUNTIME_DIR");
    hadOld_ = old != nullptr;
    old_ = hadOld_ ? old : "";
    setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (hadOld_) {
      setenv("XDG_RUNTIME_DIR", old_.c_str(), 1);
    } else {
      unsetenv("XDG_RUNTIME_DIR");
    }
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::string old_;
  bool hadOld_ = false;
};

TEST_F(HandoffLockTest, SecondHolderWaitsUntilTheFirstUnlocks) {
  HandoffLock first("Virtual PCD 00 00");
  HandoffLock second("Virtual PCD 00 00");
  ASSERT_TRUE(first.present());
  ASSERT_TRUE(second.present());
  EXPECT_EQ(handoffLockPath("Virtual PCD 00 00").rfind(dir_ + "/jpki-pkcs11/reader-", 0), 0U);
  first.lock();
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    second.lock();
    got = true;
    second.unlock();
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(got);  // still held by first
  first.unlock();
  waiter.join();
  EXPECT_TRUE(got);
}

TEST_F(HandoffLockTest, ReadersHaveTheirOwnLocks) {
  EXPECT_NE(handoffLockPath("Reader A"), handoffLockPath("Reader B"));
  HandoffLock a("Reader A");
  HandoffLock b("Reader B");
  a.lock();
  std::atomic<bool> got{false};
  std::thread other([&] {
    b.lock();
    got = true;
    b.unlock();
  });
  other.join();  // never blocked by a
  EXPECT_TRUE(got);
  a.unlock();
}

TEST_F(HandoffLockTest, DestroyingAHolderReleasesTheLock) {
  HandoffLock second("R");
  {
    // Closed while held, as when the helper thread drops the last reference.
    HandoffLock first("R");
    first.lock();
  }
  second.lock();  // would block forever otherwise
  second.unlock();
  SUCCEED();
}

TEST_F(HandoffLockTest, NoLockWithoutAPrivateRuntimeDirectory) {
  setenv("XDG_RUNTIME_DIR", "/tmp", 1);  // world-writable: not a runtime directory of ours
  EXPECT_EQ(handoffLockPath("R"), "");
  HandoffLock lock("R");
  EXPECT_FALSE(lock.present());
  lock.lock();  // a no-op, never blocks
  lock.unlock();
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);  // group/other-writable: refused too
  setenv("XDG_RUNTIME_DIR", dir_.c_str(), 1);
  EXPECT_EQ(handoffLockPath("R"), "");
}

}  // namespace
}  // namespace jpki::pcsc
