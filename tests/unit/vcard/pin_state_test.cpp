// SPDX-License-Identifier: MIT
// Retry counters persist in the state file across VirtualCard instances (card "restarts").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/pin_store.h"
#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

void wrongAuthPin(VirtualCard& card) {
  send(card, kSelectJpki);
  send(card, selectEf("0018"));
  send(card,
       "0020008004"
       "30303030");
}

TEST(PinState, CountersSurviveRestart) {
  TempDir dir;
  const auto state = dir.path() / "state";
  {
    auto card = makeCard(Profile::Normal, state);
    EXPECT_EQ(card->triesLeft(false), 3);
    wrongAuthPin(*card);
    wrongAuthPin(*card);
    EXPECT_EQ(card->triesLeft(false), 1);
  }
  auto card = makeCard(Profile::Normal, state);
  EXPECT_EQ(card->triesLeft(false), 1);
  EXPECT_EQ(card->triesLeft(true), 5);
  send(*card, kSelectJpki);
  send(*card, selectEf("0018"));
  EXPECT_EQ(sw(*card, "00200080"), "63C1");
  EXPECT_EQ(sw(*card, kVerifyAuthOk), "9000");
  EXPECT_EQ(makeCard(Profile::Normal, state)->triesLeft(false), 3);
}

TEST(PinState, LockoutSurvivesRestart) {
  TempDir dir;
  const auto state = dir.path() / "state";
  {
    auto card = makeCard(Profile::Normal, state);
    for (int i = 0; i < 3; ++i) wrongAuthPin(*card);
  }
  auto card = makeCard(Profile::Normal, state);
  send(*card, kSelectJpki);
  send(*card, selectEf("0018"));
  EXPECT_EQ(sw(*card, kVerifyAuthOk), "6984");
}

TEST(PinState, LockedProfileStartsAtZeroOnlyWithoutStateFile) {
  TempDir dir;
  const auto state = dir.path() / "state";
  EXPECT_EQ(makeCard(Profile::Locked, state)->triesLeft(false), 0);
  EXPECT_EQ(makeCard(Profile::Locked, state)->triesLeft(true), 0);
  std::ofstream(state) << "auth=3\nsign=5\n";
  EXPECT_EQ(makeCard(Profile::Locked, state)->triesLeft(false), 3);
}

TEST(PinState, FileFormatAndGarbage) {
  TempDir dir;
  const auto state = dir.path() / "state";
  {
    PinStore store(state, 3, 5, "1234", "ABC123");
    store.set(true, 2);
  }
  std::ifstream in(state);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "auth=3\nsign=2\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "state.tmp"));

  std::ofstream(state) << "garbage\nauth=x\nsign=99\n";
  PinStore store(state, 3, 5, "1234", "ABC123");
  EXPECT_EQ(store.tries(false), 3);
  EXPECT_EQ(store.tries(true), 5);  // clamped to the maximum
}

// CHANGE REFERENCE DATA writes the new PIN to the state file with the counters: the next start
// of the card (same --state) answers to the new PIN only, whatever --auth-pin says.
TEST(PinState, ChangedPinSurvivesRestart) {
  TempDir dir;
  const auto state = dir.path() / "state";
  {
    auto card = makeCard(Profile::Normal, state);
    send(*card, kSelectJpki);
    send(*card, selectEf("0018"));
    ASSERT_EQ(sw(*card, kVerifyAuthOk), "9000");
    ASSERT_EQ(sw(*card,
                 "0024018004"
                 "35363738"),
              "9000");
    send(*card, selectEf("001B"));
    ASSERT_EQ(sw(*card, kVerifySignOk), "9000");
    ASSERT_EQ(sw(*card,
                 "0024018008"
                 "4E45575041535331"),
              "9000");  // "NEWPASS1"
  }
  std::ifstream in(state);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "auth=3\nsign=5\nauth-pin=5678\nsign-pin=NEWPASS1\n");
  auto card = makeCard(Profile::Normal, state);
  send(*card, kSelectJpki);
  send(*card, selectEf("0018"));
  EXPECT_EQ(sw(*card, kVerifyAuthOk), "63C2");
  EXPECT_EQ(sw(*card,
               "0020008004"
               "35363738"),
            "9000");
  send(*card, selectEf("001B"));
  EXPECT_EQ(sw(*card, kVerifySignOk), "63C4");
  EXPECT_EQ(sw(*card,
               "0020008008"
               "4E45575041535331"),
            "9000");
}

// A refused value changes nothing on disk; a stored PIN that breaks the card's rule is ignored.
TEST(PinState, OnlyValidChangedPinsAreKept) {
  TempDir dir;
  const auto state = dir.path() / "state";
  {
    auto card = makeCard(Profile::Normal, state);
    send(*card, kSelectJpki);
    send(*card, selectEf("0018"));
    ASSERT_EQ(sw(*card, kVerifyAuthOk), "9000");
    ASSERT_EQ(sw(*card,
                 "0024018003"
                 "353637"),
              "6A80");
  }
  {
    std::ifstream in(state);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "auth=3\nsign=5\n");
  }
  std::ofstream(state) << "auth=3\nsign=5\nauth-pin=12a4\nsign-pin=lower1\n";
  PinStore store(state, 3, 5, "1234", "ABC123");
  EXPECT_EQ(store.pin(false), "1234");
  EXPECT_EQ(store.pin(true), "ABC123");
}

TEST(PinState, CardRuleForNewValues) {
  const auto ok = [](bool sign, const std::string& v) {
    return validPinValue(sign, ByteView(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()));
  };
  EXPECT_TRUE(ok(false, "0000"));
  EXPECT_FALSE(ok(false, "123"));
  EXPECT_FALSE(ok(false, "12345"));
  EXPECT_FALSE(ok(false, "12A4"));
  EXPECT_TRUE(ok(true, "ABC123"));
  EXPECT_TRUE(ok(true, "ABCDEFGHIJ123456"));
  EXPECT_FALSE(ok(true, "ABCDEFGHIJ1234567"));
  EXPECT_FALSE(ok(true, "ABC12"));
  EXPECT_FALSE(ok(true, "abc123"));
  EXPECT_FALSE(ok(true, "ABC 12"));
}

// Without a path the counters and PINs live in memory only: nothing is written anywhere (checked
// in the working directory, where a relative or empty path would land), and a new store starts
// from the defaults again.
TEST(PinState, MemoryOnlyWithoutPath) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  {
    PinStore store({}, 3, 5, "1234", "ABC123");
    store.set(false, 1);
    store.setPin(true, "NEWPASS1");
    EXPECT_EQ(store.tries(false), 1);
    EXPECT_EQ(store.pin(true), "NEWPASS1");
  }
  PinStore fresh({}, 3, 5, "1234", "ABC123");
  EXPECT_EQ(fresh.tries(false), 3);
  EXPECT_EQ(fresh.pin(true), "ABC123");
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a file was written";
}

}  // namespace
}  // namespace jpki::vcard::test
