// SPDX-License-Identifier: MIT
// readerSelected(): exclude wins, an empty include list selects every reader.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jpki/config.h"

namespace jpki::config {
namespace {

struct ReaderCase {
  const char* name;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  const char* reader;
  bool selected;
};

const ReaderCase kReaderCases[] = {
    {"NoPatternsSelectsAll", {}, {}, "SONY FeliCa Port/PaSoRi 3.0 00 00", true},
    {"NoPatternsSelectsEmptyName", {}, {}, "", true},
    {"IncludeMatches", {"SONY*"}, {}, "SONY FeliCa Port/PaSoRi 3.0 00 00", true},
    {"IncludeDoesNotMatch", {"SONY*"}, {}, "ACS ACR1252 Dual Reader 00 00", false},
    {"IncludeIsWholeName", {"ACR1252"}, {}, "ACS ACR1252 Dual Reader 00 00", false},
    {"AnyIncludeMatches", {"SONY*", "*ACR1252*"}, {}, "ACS ACR1252 Dual Reader 00 00", true},
    {"ExcludeMatches", {}, {"*Yubico*"}, "Yubico YubiKey OTP+FIDO+CCID 00 00", false},
    {"ExcludeDoesNotMatch", {}, {"*Yubico*"}, "Virtual PCD 00 00", true},
    {"ExcludeWinsOverInclude", {"*"}, {"Virtual PCD 00 01"}, "Virtual PCD 00 01", false},
    {"ExcludeOnlyThatOne", {"*"}, {"Virtual PCD 00 01"}, "Virtual PCD 00 00", true},
    {"QuestionMark", {"Virtual PCD 00 0?"}, {}, "Virtual PCD 00 07", true},
    {"BracketClass", {"Virtual PCD 00 0[01]"}, {}, "Virtual PCD 00 02", false},
    {"CaseSensitive", {"sony*"}, {}, "SONY FeliCa", false},
    {"SlashIsOrdinary", {"SONY*3.0*"}, {}, "SONY FeliCa Port/PaSoRi 3.0 00 00", true},
    {"LiteralName", {"Virtual PCD 00 00"}, {}, "Virtual PCD 00 00", true},
};

class ReaderTest : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(ReaderTest, Selection) {
  const auto& c = GetParam();
  Config config;
  config.readerInclude = c.include;
  config.readerExclude = c.exclude;
  EXPECT_EQ(readerSelected(config, c.reader), c.selected) << c.reader;
}

INSTANTIATE_TEST_SUITE_P(Cases, ReaderTest, ::testing::ValuesIn(kReaderCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ReaderSelection, FromParsedFile) {
  const auto r = parse("reader-include = SONY*, ACS*\nreader-exclude = *SAM*\n");
  ASSERT_TRUE(r.warnings.empty());
  EXPECT_TRUE(readerSelected(r.config, "SONY FeliCa Port/PaSoRi 3.0 00 00"));
  EXPECT_TRUE(readerSelected(r.config, "ACS ACR1252 Dual Reader PICC 00 00"));
  EXPECT_FALSE(readerSelected(r.config, "ACS ACR1252 Dual Reader SAM 00 01"));
  EXPECT_FALSE(readerSelected(r.config, "Gemalto PC Twin Reader 00 00"));
}

}  // namespace
}  // namespace jpki::config
