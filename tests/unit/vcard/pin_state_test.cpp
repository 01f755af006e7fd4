// Retry counters persist in the state file across VirtualCard instances (card "restarts").
#include <gtest/gtest.h>

#include <fstream>

#include "core/pin_store.h"
#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

void wrongAuthPin(VirtualCard& card) {
  send(card, kSelectJpki);
  send(card, selectEf("0018"));
  send(card, "0020008004" "30303030");
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
    PinStore store(state, 3, 5);
    store.set(true, 2);
  }
  std::ifstream in(state);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "auth=3\nsign=2\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "state.tmp"));

  std::ofstream(state) << "garbage\nauth=x\nsign=99\n";
  PinStore store(state, 3, 5);
  EXPECT_EQ(store.tries(false), 3);
  EXPECT_EQ(store.tries(true), 5);  // clamped to the maximum
}

TEST(PinState, MemoryOnlyWithoutPath) {
  PinStore store({}, 3, 5);
  store.set(false, 1);
  EXPECT_EQ(store.tries(false), 1);
}

}  // namespace
}  // namespace jpki::vcard::test
