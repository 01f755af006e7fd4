// SPDX-License-Identifier: MIT
// InProcessReaderSystem: reader list, connect errors, reset/removal reporting, transactions,
// waitForChange/cancel, fault hook.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "jpki/error.h"
#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

using namespace std::chrono_literals;

template <typename F>
Errc errcOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no jpki::Error thrown";
  return Errc::Transport;
}

class ReaderSystemTest : public ::testing::Test {
 protected:
  InProcessReaderSystem system{2};
  std::shared_ptr<VirtualCard> card = makeCard();
};

TEST_F(ReaderSystemTest, ListsReadersAndCards) {
  auto readers = system.readers();
  ASSERT_EQ(readers.size(), 2U);
  EXPECT_EQ(readers[0].name, "Virtual PCD 00 00");
  EXPECT_EQ(readers[1].name, "Virtual PCD 00 01");
  EXPECT_FALSE(readers[0].cardPresent);
  system.insert(0, card);
  readers = system.readers();
  EXPECT_TRUE(readers[0].cardPresent);
  EXPECT_EQ(readers[0].atr, card->atr());
  EXPECT_EQ(readers[0].eventCount, 1U);
  system.remove(0);
  readers = system.readers();
  EXPECT_FALSE(readers[0].cardPresent);
  EXPECT_TRUE(readers[0].atr.empty());
  EXPECT_EQ(readers[0].eventCount, 2U);
  EXPECT_EQ(readers[1].eventCount, 0U);
  system.addReader("Extra");
  EXPECT_EQ(system.readers().size(), 3U);
}

TEST_F(ReaderSystemTest, ConnectErrors) {
  EXPECT_EQ(errcOf([&] { system.connect("Virtual PCD 00 00"); }), Errc::NoCard);
  EXPECT_EQ(errcOf([&] { system.connect("nope"); }), Errc::NoReader);
  system.setServiceAvailable(false);
  EXPECT_EQ(errcOf([&] { system.readers(); }), Errc::NoService);
  EXPECT_EQ(errcOf([&] { system.connect("Virtual PCD 00 00"); }), Errc::NoService);
  system.setServiceAvailable(true);
  EXPECT_NO_THROW(system.readers());
}

TEST_F(ReaderSystemTest, TransmitReachesTheCard) {
  system.insert(1, card);
  auto conn = system.connect("Virtual PCD 00 01");
  EXPECT_EQ(conn->readerName(), "Virtual PCD 00 01");
  EXPECT_EQ(conn->atr(), card->atr());
  EXPECT_EQ(errcOf([&] { conn->transmit(hex(kSelectJpki)); }), Errc::Transport);  // no transaction
  EXPECT_FALSE(conn->beginTransaction());
  EXPECT_EQ(swOf(conn->transmit(hex(kSelectJpki))), 0x9000);
  conn->endTransaction();
  EXPECT_EQ(system.card(1), card);
}

TEST_F(ReaderSystemTest, ResetIsReportedOnce) {
  system.insert(0, card);
  auto conn = system.connect("Virtual PCD 00 00");
  ASSERT_FALSE(conn->beginTransaction());
  conn->transmit(hex(kSelectJpki));
  conn->transmit(hex(selectEf("0018")));
  conn->transmit(hex(kVerifyAuthOk));
  conn->endTransaction();
  EXPECT_TRUE(card->verified(false));

  system.resetCard(0);
  EXPECT_FALSE(card->verified(false));
  EXPECT_TRUE(conn->beginTransaction());
  conn->endTransaction();
  EXPECT_FALSE(conn->beginTransaction());
  conn->endTransaction();
}

TEST_F(ReaderSystemTest, ResetDuringTransaction) {
  system.insert(0, card);
  auto conn = system.connect("Virtual PCD 00 00");
  conn->beginTransaction();
  system.resetCard(0);
  EXPECT_EQ(errcOf([&] { conn->transmit(hex(kSelectJpki)); }), Errc::CardReset);
  conn->endTransaction();
  EXPECT_TRUE(conn->beginTransaction());
  EXPECT_EQ(swOf(conn->transmit(hex(kSelectJpki))), 0x9000);
}

TEST_F(ReaderSystemTest, RemovalAndReinsertion) {
  system.insert(0, card);
  auto conn = system.connect("Virtual PCD 00 00");
  conn->beginTransaction();
  system.remove(0);
  EXPECT_EQ(errcOf([&] { conn->transmit(hex(kSelectJpki)); }), Errc::CardRemoved);
  conn->endTransaction();
  EXPECT_EQ(errcOf([&] { conn->beginTransaction(); }), Errc::CardRemoved);
  system.insert(0, card);
  EXPECT_TRUE(conn->beginTransaction());  // re-inserted = reset since last use
  EXPECT_EQ(swOf(conn->transmit(hex(kSelectJpki))), 0x9000);
}

TEST_F(ReaderSystemTest, WaitForChange) {
  EXPECT_FALSE(system.waitForChange(20ms));
  auto waiter = std::async(std::launch::async, [&] { return system.waitForChange(5s); });
  std::this_thread::sleep_for(50ms);
  system.insert(0, card);
  EXPECT_TRUE(waiter.get());

  auto cancelled = std::async(std::launch::async, [&] { return system.waitForChange(5s); });
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  system.cancel();
  EXPECT_FALSE(cancelled.get());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ReaderSystemTest, FaultHookSeesEveryApduAndMayThrow) {
  system.insert(0, card);
  std::vector<Bytes> seen;
  system.setFaultHook([&](std::size_t reader, const Bytes& command) {
    EXPECT_EQ(reader, 0U);
    seen.push_back(command);
    if (command.size() > 1 && command[1] == 0x84) throw Error(Errc::Timeout, "injected");
  });
  auto conn = system.connect("Virtual PCD 00 00");
  conn->beginTransaction();
  conn->transmit(hex(kSelectJpki));
  EXPECT_EQ(errcOf([&] { conn->transmit(hex("0084000008")); }), Errc::Timeout);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0], hex(kSelectJpki));
  EXPECT_EQ(card->log().size(), 1U);  // the faulted APDU never reached the card
}

TEST_F(ReaderSystemTest, FaultHookMayRemoveTheCard) {
  system.insert(0, card);
  system.setFaultHook([&](std::size_t reader, const Bytes&) { system.remove(reader); });
  auto conn = system.connect("Virtual PCD 00 00");
  conn->beginTransaction();
  EXPECT_EQ(errcOf([&] { conn->transmit(hex(kSelectJpki)); }), Errc::CardRemoved);
}

TEST_F(ReaderSystemTest, TransactionsAreExclusive) {
  system.insert(0, card);
  auto first = system.connect("Virtual PCD 00 00");
  auto second = system.connect("Virtual PCD 00 00");
  first->beginTransaction();
  std::atomic<bool> entered{false};
  auto other = std::async(std::launch::async, [&] {
    second->beginTransaction();
    entered = true;
    second->endTransaction();
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(entered.load());
  first->endTransaction();
  other.get();
  EXPECT_TRUE(entered.load());
}

TEST_F(ReaderSystemTest, DestroyingAConnectionEndsItsTransaction) {
  system.insert(0, card);
  auto second = system.connect("Virtual PCD 00 00");
  {
    auto first = system.connect("Virtual PCD 00 00");
    first->beginTransaction();
  }
  auto done = std::async(std::launch::async, [&] {
    second->beginTransaction();
    second->endTransaction();
  });
  EXPECT_EQ(done.wait_for(2s), std::future_status::ready);
}

}  // namespace
}  // namespace jpki::vcard::test
