// SPDX-License-Identifier: MIT
// Transaction: begin/end, 61xx / 6Cxx handling, APDU count and the trace (never VERIFY data).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "jpki/apdu.h"
#include "scripted_connection.h"

namespace jpki::apdu {
namespace {

using test::Script;
using test::ScriptedConnection;

class TransactionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    setTraceSink(nullptr);
    script->checkDone();
  }
  std::shared_ptr<Script> script = std::make_shared<Script>();
  ScriptedConnection connection{script};
};

TEST_F(TransactionTest, BeginAndEndAroundLifetime) {
  {
    Transaction tx(connection);
    EXPECT_EQ(script->begins, 1);
    EXPECT_FALSE(tx.cardWasReset());
  }
  EXPECT_EQ(script->ends, 1);
}

TEST_F(TransactionTest, ReportsReset) {
  script->resetOnNextBegin();
  Transaction tx(connection);
  EXPECT_TRUE(tx.cardWasReset());
}

TEST_F(TransactionTest, GetResponseOn61xx) {
  Bytes first(256, 0x11);
  first.push_back(0x61);
  first.push_back(0x04);
  script->expect("00 B0 00 00 00", "61 00")
      .expect("00 C0 00 00 00", first)
      .expect("00 C0 00 00 04", "22 22 22 22 90 00");
  Transaction tx(connection);
  const Response r = tx.send(readBinary(0, 256));
  EXPECT_EQ(r.sw, 0x9000);
  ASSERT_EQ(r.data.size(), 260U);
  EXPECT_EQ(r.data[0], 0x11);
  EXPECT_EQ(r.data[259], 0x22);
  EXPECT_EQ(tx.apduCount(), 3U);
}

TEST_F(TransactionTest, ResendOn6Cxx) {
  script->expect("00 B0 00 00 20", "6C 10").expect("00 B0 00 00 10", "4A 50 4B 49 90 00");
  Transaction tx(connection);
  const Response r = tx.send(readBinary(0, 0x20));
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_EQ(toHex(r.data), "4A 50 4B 49");
  EXPECT_EQ(tx.apduCount(), 2U);
}

// A VERIFY (sensitive, no Le) answered 6Cxx is not resent: the PIN goes to the card once.
TEST_F(TransactionTest, VerifyIsNeverResentOn6Cxx) {
  const Bytes pin = {'1', '2', '3', '4'};
  script->expect("00 20 00 80 04 31 32 33 34", "6C 04");
  Transaction tx(connection);
  const Response r = tx.send(verify(pin));
  EXPECT_EQ(r.sw, 0x6C04);
  EXPECT_EQ(tx.apduCount(), 1U);
}

// Nor is a CHANGE REFERENCE DATA: the new PIN goes to the card once, whatever the answer.
TEST_F(TransactionTest, ChangeReferenceDataIsNeverResentOn6Cxx) {
  script->expect("00 24 01 80 04 35 36 37 38", "6C 04");
  Transaction tx(connection);
  const Response r = tx.send(changeReferenceData(parseHex("35 36 37 38")));
  EXPECT_EQ(r.sw, 0x6C04);
  EXPECT_EQ(tx.apduCount(), 1U);
}

// Nor is any command without Le (6Cxx is about Le).
TEST_F(TransactionTest, CommandWithoutLeIsNotResentOn6Cxx) {
  script->expect("00 A4 02 0C 02 00 18", "6C 00");
  Transaction tx(connection);
  EXPECT_EQ(tx.send(selectEf(0x0018)).sw, 0x6C00);
  EXPECT_EQ(tx.apduCount(), 1U);
}

TEST_F(TransactionTest, Bounded6CxxLoop) {
  script->expect("00 B0 00 00 20", "6C 10")
      .expect("00 B0 00 00 10", "6C 08")
      .expect("00 B0 00 00 08", "6C 04");
  Transaction tx(connection);
  try {
    (void)tx.send(readBinary(0, 0x20));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::BadResponse);
  }
}

TEST_F(TransactionTest, Bounded61xxLoop) {
  script->expect("00 B0 00 00 00", "61 01");
  for (int i = 0; i < 8; ++i) {
    script->expect("00 C0 00 00 01", "AA 61 01");
  }
  Transaction tx(connection);
  EXPECT_THROW((void)tx.send(readBinary(0, 256)), Error);
}

TEST_F(TransactionTest, GarbageResponseIsBadResponse) {
  script->expect("00 A4 02 0C 02 00 0A", "90");
  Transaction tx(connection);
  try {
    (void)tx.send(selectEf(0x000A));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::BadResponse);
  }
}

TEST_F(TransactionTest, TransportErrorPropagates) {
  script->expectError("00 A4 02 0C 02 00 0A", Errc::CardRemoved);
  Transaction tx(connection);
  try {
    (void)tx.send(selectEf(0x000A));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::CardRemoved);
  }
}

TEST_F(TransactionTest, TraceNeverShowsVerifyData) {
  std::vector<std::string> lines;
  setTraceSink([&lines](const std::string& line) { lines.push_back(line); });
  script->expect("00 20 00 80 04 31 39 37 35", "63 C2").expect("00 A4 02 0C 02 00 18", "90 00");
  Transaction tx(connection);
  (void)tx.send(verify(parseHex("31 39 37 35")));
  (void)tx.send(selectEf(0x0018));
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].find("31 39"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("63 C2"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("00 A4 02 0C 02 00 18"), std::string::npos) << lines[1];
}

TEST_F(TransactionTest, TraceNeverShowsTheNewPin) {
  std::vector<std::string> lines;
  setTraceSink([&lines](const std::string& line) { lines.push_back(line); });
  script->expect("00 24 01 80 04 35 36 37 38", "90 00");
  Transaction tx(connection);
  (void)tx.send(changeReferenceData(parseHex("35 36 37 38")));
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].find("35 36"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("04"), std::string::npos) << "PIN length leaked: " << lines[0];
  EXPECT_NE(lines[0].find("00 24 01 80"), std::string::npos) << lines[0];
}

// After setTraceSink(nullptr) nothing is traced: not to a sink installed before, and not to a file
// JPKI_APDU_TRACE names (the apdu layer reads no environment: config::load() hands it down).
TEST_F(TransactionTest, TraceOffByDefaultAfterReset) {
  std::vector<std::string> lines;
  setTraceSink([&lines](const std::string& line) { lines.push_back(line); });
  setTraceSink(nullptr);
  const std::string file = ::testing::TempDir() + "jpki-trace-" + std::to_string(::getpid());
  std::remove(file.c_str());
  ::setenv("JPKI_APDU_TRACE", file.c_str(), 1);
  script->expect("00 A4 02 0C 02 00 18", "90 00");
  Transaction tx(connection);
  EXPECT_EQ(tx.send(selectEf(0x0018)).sw, 0x9000);
  ::unsetenv("JPKI_APDU_TRACE");
  EXPECT_TRUE(lines.empty()) << lines.front();
  EXPECT_FALSE(std::ifstream(file).good()) << "a trace file was written after the reset";
  std::remove(file.c_str());
}

TEST_F(TransactionTest, TraceFileAppendsLines) {
  const std::string file = ::testing::TempDir() + "jpki-trace-file-" + std::to_string(::getpid());
  std::remove(file.c_str());
  setTraceSink(traceFile(file));
  script->expect("00 A4 02 0C 02 00 18", "90 00");
  {
    Transaction tx(connection);
    (void)tx.send(selectEf(0x0018));
  }
  setTraceSink(nullptr);  // closes the file
  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.rfind("jpki-apdu: > 00 A4 02 0C 02 00 18  < 90 00", 0), 0U) << line;
  std::remove(file.c_str());
}

}  // namespace
}  // namespace jpki::apdu
