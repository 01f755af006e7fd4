// SPDX-License-Identifier: MIT
// Parsing of the configuration text: one table of cases, each checked for the resulting value and
// for the warnings (which must name the line and keep the default).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jpki/config.h"

namespace jpki::config {
namespace {

struct ParseCase {
  const char* name;
  std::string_view text;
  std::function<bool(const Config&)> check;
  // One entry per expected warning, in order: the substrings it must contain, '|'-separated.
  std::vector<std::string> warningSubstrings;
};

std::ostream& operator<<(std::ostream& os, const ParseCase& c) { return os << c.name; }

bool isDefault(const Config& c) {
  const Config d;
  return c.readerInclude == d.readerInclude && c.readerExclude == d.readerExclude &&
         c.tokens == d.tokens && c.signAlwaysAuthenticate == d.signAlwaysAuthenticate &&
         c.logLevel == d.logLevel && c.logFile == d.logFile && c.apduTrace == d.apduTrace;
}

using Globs = std::vector<std::string>;
// The reader globs the include cases expect (named: clang-format 14 and 19 lay a lambda holding a
// braced list out differently).
const Globs kCommaSeparated{"A*", "*B*", "C"};
const Globs kRepeated{"A*", "B*", "C*"};
const Globs kExcluded{"*Yubico*", "*Nitro*"};
using namespace std::string_view_literals;

const ParseCase kCases[] = {
    {"Empty", "", isDefault, {}},
    {"CommentsAndBlanks", "# comment\n\n   \n\t# indented comment\n", isDefault, {}},
    {"TokensBoth", "tokens = both", [](auto& c) { return c.tokens == Tokens::Both; }, {}},
    {"TokensAuthOnly",
     "tokens = auth-only",
     [](auto& c) { return c.tokens == Tokens::AuthOnly; },
     {}},
    {"TokensSignOnly",
     "tokens=sign-only",
     [](auto& c) { return c.tokens == Tokens::SignOnly; },
     {}},
    {"TokensCaseInsensitive",
     "TOKENS = Auth-Only",
     [](auto& c) { return c.tokens == Tokens::AuthOnly; },
     {}},
    {"TokensBad",
     "tokens = auth",
     [](auto& c) { return c.tokens == Tokens::Both; },
     {"line 1|auth"}},
    {"TokensEmpty", "tokens =", [](auto& c) { return c.tokens == Tokens::Both; }, {"line 1"}},
    {"LastValueWins",
     "tokens = auth-only\ntokens = sign-only",
     [](auto& c) { return c.tokens == Tokens::SignOnly; },
     {}},
    {"BadValueKeepsEarlierValue",
     "tokens = auth-only\ntokens = nonsense",
     [](auto& c) { return c.tokens == Tokens::AuthOnly; },
     {"line 2"}},
    {"AlwaysAuthNo",
     "sign-always-authenticate = no",
     [](auto& c) { return !c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthFalse",
     "sign-always-authenticate = false",
     [](auto& c) { return !c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthZero",
     "sign-always-authenticate = 0",
     [](auto& c) { return !c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthYes",
     "sign-always-authenticate = no\nsign-always-authenticate = YES",
     [](auto& c) { return c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthTrue",
     "sign-always-authenticate = 0\nsign-always-authenticate = true",
     [](auto& c) { return c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthOne",
     "sign-always-authenticate = 0\nsign-always-authenticate = 1",
     [](auto& c) { return c.signAlwaysAuthenticate; },
     {}},
    {"AlwaysAuthBad",
     "sign-always-authenticate = maybe",
     [](auto& c) { return c.signAlwaysAuthenticate; },
     {"line 1|maybe"}},
    {"LogLevelOff", "log-level = off", [](auto& c) { return c.logLevel == LogLevel::Off; }, {}},
    {"LogLevelError",
     "log-level = error",
     [](auto& c) { return c.logLevel == LogLevel::Error; },
     {}},
    {"LogLevelWarning",
     "log-level = debug\nlog-level = warning",
     [](auto& c) { return c.logLevel == LogLevel::Warning; },
     {}},
    {"LogLevelInfo", "log-level = info", [](auto& c) { return c.logLevel == LogLevel::Info; }, {}},
    {"LogLevelDebug",
     "log-level = debug",
     [](auto& c) { return c.logLevel == LogLevel::Debug; },
     {}},
    {"LogLevelBad",
     "log-level = verbose",
     [](auto& c) { return c.logLevel == LogLevel::Warning; },
     {"line 1|verbose"}},
    {"LogFile",
     "log-file = /var/log/jpki.log",
     [](auto& c) { return c.logFile == "/var/log/jpki.log"; },
     {}},
    {"LogFileWithSpaces",
     "log-file =   /tmp/my log.txt  ",
     [](auto& c) { return c.logFile == "/tmp/my log.txt"; },
     {}},
    {"LogFileEmptyMeansStderr",
     "log-file = /x\nlog-file =",
     [](auto& c) { return c.logFile.empty(); },
     {}},
    {"ApduTraceYes", "apdu-trace = yes", [](auto& c) { return c.apduTrace; }, {}},
    {"ApduTraceNo", "apdu-trace = yes\napdu-trace = no", [](auto& c) { return !c.apduTrace; }, {}},
    {"ApduTraceBad",
     "apdu-trace = sometimes",
     [](auto& c) { return !c.apduTrace; },
     {"line 1|sometimes"}},
    {"CardTimeout", "card-timeout = 30", [](auto& c) { return c.cardTimeoutSeconds == 30; }, {}},
    {"CardTimeoutZeroWaitsForever",
     "card-timeout = 0",
     [](auto& c) { return c.cardTimeoutSeconds == 0; },
     {}},
    {"CardTimeoutMax",
     "card-timeout = 600",
     [](auto& c) { return c.cardTimeoutSeconds == 600; },
     {}},
    {"CardTimeoutTooLong",
     "card-timeout = 601",
     [](auto& c) { return c.cardTimeoutSeconds == 15; },
     {"line 1|601|card-timeout"}},
    {"CardTimeoutNegative",
     "card-timeout = -1",
     [](auto& c) { return c.cardTimeoutSeconds == 15; },
     {"line 1|-1"}},
    {"CardTimeoutWithUnit",
     "card-timeout = 15s",
     [](auto& c) { return c.cardTimeoutSeconds == 15; },
     {"line 1|15s"}},
    {"CardTimeoutHuge",
     "card-timeout = 99999999999999999999",
     [](auto& c) { return c.cardTimeoutSeconds == 15; },
     {"line 1"}},
    {"CardTimeoutEmpty",
     "card-timeout =",
     [](auto& c) { return c.cardTimeoutSeconds == 15; },
     {"line 1"}},
    {"CertificateCacheNo",
     "certificate-cache = no",
     [](auto& c) { return !c.certificateCache; },
     {}},
    {"CertificateCacheBad",
     "certificate-cache = maybe",
     [](auto& c) { return c.certificateCache; },
     {"line 1|maybe"}},
    {"CacheDir",
     "cache-dir = /var/cache/x",
     [](auto& c) { return c.cacheDir == "/var/cache/x"; },
     {}},
    {"IncludeOne",
     "reader-include = SONY*",
     [](auto& c) { return c.readerInclude == Globs{"SONY*"} && c.readerExclude.empty(); },
     {}},
    {"IncludeCommaSeparated",
     "reader-include = A*, *B* ,C",
     [](auto& c) { return c.readerInclude == kCommaSeparated; },
     {}},
    {"IncludeRepeated",
     "reader-include = A*\nreader-include = B*, C*",
     [](auto& c) { return c.readerInclude == kRepeated; },
     {}},
    {"IncludeEmptyItemsSkipped",
     "reader-include = ,A*,,",
     [](auto& c) { return c.readerInclude == Globs{"A*"}; },
     {}},
    {"IncludeEmpty",
     "reader-include =",
     [](auto& c) { return c.readerInclude.empty(); },
     {"line 1"}},
    {"ExcludeRepeated",
     "reader-exclude = *Yubico*\nreader-exclude = *Nitro*",
     [](auto& c) { return c.readerExclude == kExcluded; },
     {}},
    {"GlobKeepsSpacesInside",
     "reader-include = Virtual PCD 00 0*",
     [](auto& c) { return c.readerInclude == Globs{"Virtual PCD 00 0*"}; },
     {}},
    {"TrailingComment",
     "tokens = auth-only   # for browsers",
     [](auto& c) { return c.tokens == Tokens::AuthOnly; },
     {}},
    {"HashInsideWordKept",
     "reader-include = Reader#1",
     [](auto& c) { return c.readerInclude == Globs{"Reader#1"}; },
     {}},
    {"CrLfLineEnds",
     "tokens = auth-only\r\nlog-level = debug\r\n",
     [](auto& c) { return c.tokens == Tokens::AuthOnly && c.logLevel == LogLevel::Debug; },
     {}},
    {"UnknownKey", "colour = blue", isDefault, {"line 1|colour"}},
    {"MissingEquals", "# c\ntokens auth-only", isDefault, {"line 2"}},
    {"MissingKey", "= both", isDefault, {"line 1"}},
    {"WarningsNameEachLine",
     "tokens = x\n\nfoo = 1\nlog-level = y\ntokens = auth-only",
     [](auto& c) { return c.tokens == Tokens::AuthOnly && c.logLevel == LogLevel::Warning; },
     {"line 1", "line 3", "line 4"}},
    {"NoFinalNewline", "apdu-trace = 1", [](auto& c) { return c.apduTrace; }, {}},
    {"EmbeddedNulLineIsMalformed",
     "tokens = auth-only\n\0junk\nlog-level = info"sv,
     [](auto& c) { return c.tokens == Tokens::AuthOnly && c.logLevel == LogLevel::Info; },
     {"line 2"}},
    {"Everything",
     "reader-include = A*\nreader-exclude = B*\ntokens = sign-only\n"
     "sign-always-authenticate = no\nlog-level = info\nlog-file = /tmp/l\napdu-trace = yes\n",
     [](auto& c) {
       return c.readerInclude == Globs{"A*"} && c.readerExclude == Globs{"B*"} &&
              c.tokens == Tokens::SignOnly && !c.signAlwaysAuthenticate &&
              c.logLevel == LogLevel::Info && c.logFile == "/tmp/l" && c.apduTrace;
     },
     {}},
};

class ParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseTest, ValueAndWarnings) {
  const auto& c = GetParam();
  const auto result = parse(c.text);
  EXPECT_TRUE(c.check(result.config)) << "text: " << c.text;
  ASSERT_EQ(result.warnings.size(), c.warningSubstrings.size())
      << "text: " << c.text
      << "\nfirst warning: " << (result.warnings.empty() ? "" : result.warnings.front());
  for (std::size_t i = 0; i < c.warningSubstrings.size(); ++i) {
    std::string_view parts = c.warningSubstrings[i];
    while (!parts.empty()) {
      const auto bar = parts.find('|');
      const std::string part(parts.substr(0, bar));
      EXPECT_NE(result.warnings[i].find(part), std::string::npos)
          << "warning '" << result.warnings[i] << "' lacks '" << part << "'";
      parts.remove_prefix(bar == std::string_view::npos ? parts.size() : bar + 1);
    }
  }
  EXPECT_TRUE(result.source.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Parse, NeverThrowsOnGarbage) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  EXPECT_NO_THROW(parse(garbage));
  EXPECT_NO_THROW(parse(std::string(100000, '=')));
  EXPECT_NO_THROW(parse(std::string(100000, '\n')));
}

TEST(Parse, DefaultsMatchTheHeader) {
  const Config c;
  EXPECT_EQ(c.tokens, Tokens::Both);
  EXPECT_TRUE(c.signAlwaysAuthenticate);
  EXPECT_EQ(c.logLevel, LogLevel::Warning);
  EXPECT_FALSE(c.apduTrace);
  EXPECT_TRUE(c.logFile.empty());
  EXPECT_EQ(c.cardTimeoutSeconds, 15U);
  EXPECT_TRUE(c.certificateCache);
  EXPECT_TRUE(c.cacheDir.empty());
}

TEST(Names, RoundTripThroughParse) {
  for (auto t : {Tokens::Both, Tokens::AuthOnly, Tokens::SignOnly}) {
    const auto r = parse(std::string("tokens = ") + name(t));
    EXPECT_TRUE(r.warnings.empty()) << name(t);
    EXPECT_EQ(r.config.tokens, t);
  }
  for (auto l :
       {LogLevel::Off, LogLevel::Error, LogLevel::Warning, LogLevel::Info, LogLevel::Debug}) {
    const auto r = parse(std::string("log-level = ") + name(l));
    EXPECT_TRUE(r.warnings.empty()) << name(l);
    EXPECT_EQ(r.config.logLevel, l);
  }
}

}  // namespace
}  // namespace jpki::config
