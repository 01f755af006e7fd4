// SPDX-License-Identifier: MIT
// Per-program settings: the [program NAME] sections of the file (syntax and warnings), the layers
// environment > section > built-in program settings > browser rule > global > defaults (one table
// of cases through load()), and the built-in table itself (valid, documented where users read).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "jpki/config.h"
#include "load_fixture.h"

namespace jpki::config {
namespace {

// --- Sections: syntax, matching and warnings (parse, no environment) ---------------------------

struct SectionCase {
  const char* name;
  std::string_view text;
  const char* program;
  Tokens tokens;
  bool alwaysAuthenticate;
  // One entry per expected warning, in order: substrings it must contain, '|'-separated.
  std::vector<std::string> warningSubstrings;
};

std::ostream& operator<<(std::ostream& os, const SectionCase& c) { return os << c.name; }

const SectionCase kSectionCases[] = {
    {"SectionAppliesToItsProgram",
     "[program okular]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"SectionIgnoredByOtherPrograms",
     "[program okular]\ntokens = sign-only\n",
     "pkcs11-tool",
     Tokens::Both,
     true,
     {}},
    {"SectionIgnoredWithoutProgramName",
     "[program okular]\ntokens = sign-only\n",
     "",
     Tokens::Both,
     true,
     {}},
    {"GlobalLinesBeforeTheSection",
     "tokens = auth-only\n[program okular]\ntokens = sign-only\n",
     "p11tool",
     Tokens::AuthOnly,
     true,
     {}},
    {"SectionOverridesGlobal",
     "tokens = auth-only\n[program okular]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"GlobalHeaderEndsTheSection",
     "[program okular]\ntokens = sign-only\n[global]\nsign-always-authenticate = no\n",
     "p11tool",
     Tokens::Both,
     false,
     {}},
    {"GlobalHeaderCaseInsensitive",
     "[program x]\n[ GLOBAL ]\ntokens = auth-only\n",
     "p11tool",
     Tokens::AuthOnly,
     true,
     {}},
    {"KeywordCaseInsensitive",
     "[Program Okular]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"NameIgnoresCase",
     "[program OKULAR]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"NameIsWholeName",
     "[program okular]\ntokens = sign-only\n",
     "okular-bin",
     Tokens::Both,
     true,
     {}},
    {"GlobPattern",
     "[program soffice*]\ntokens = sign-only\n",
     "soffice.bin",
     Tokens::SignOnly,
     true,
     {}},
    {"GlobCharacterClass",
     "[program [ok]kular]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"HeaderWithComment",
     "[program okular]   # KDE's viewer\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"HeaderIndented",
     "  [program okular]\n  tokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {}},
    {"LaterSectionWins",
     "[program okular]\ntokens = sign-only\n[program oku*]\ntokens = auth-only\n",
     "okular",
     Tokens::AuthOnly,
     true,
     {}},
    {"SectionsMergeKeyByKey",
     "[program okular]\ntokens = sign-only\n[program oku*]\nsign-always-authenticate = no\n",
     "okular",
     Tokens::SignOnly,
     false,
     {}},
    {"BadValueInSectionWarnsForEveryProgram",
     "[program okular]\ntokens = maybe\n",
     "p11tool",
     Tokens::Both,
     true,
     {"line 2|maybe"}},
    {"BadValueInSectionKeepsTheRest",
     "[program okular]\ntokens = maybe\nsign-always-authenticate = no\n",
     "okular",
     Tokens::Both,
     false,
     {"line 2|maybe"}},
    {"UnknownKeyInSection",
     "[program okular]\ncolour = blue\n",
     "okular",
     Tokens::Both,
     true,
     {"line 2|colour"}},
    {"ReaderIncludeIsGlobalOnly",
     "[program okular]\nreader-include = A*\n",
     "okular",
     Tokens::Both,
     true,
     {"line 2|reader-include|global|[program okular]"}},
    {"BrowserTokensIsGlobalOnly",
     "[program firefox]\nbrowser-tokens = both\n",
     "firefox",
     Tokens::AuthOnly,
     true,
     {"line 2|browser-tokens|global"}},
    {"UnknownSectionIgnoresItsLines",
     "[printer x]\ntokens = sign-only\n",
     "okular",
     Tokens::Both,
     true,
     {"line 1|unknown section|[printer x]|ignored"}},
    {"UnclosedHeaderIgnoresItsLines",
     "[program okular\ntokens = sign-only\n",
     "okular",
     Tokens::Both,
     true,
     {"line 1|[program okular|ignored"}},
    {"UnclosedHeaderNeverAppliesGlobally",
     "[program okular\ntokens = sign-only\n",
     "p11tool",
     Tokens::Both,
     true,
     {"line 1"}},
    {"EmptyProgramName",
     "[program]\ntokens = sign-only\n",
     "okular",
     Tokens::Both,
     true,
     {"line 1|without a program name"}},
    {"EmptyBrackets", "[]\ntokens = sign-only\n", "okular", Tokens::Both, true, {"line 1"}},
    {"PathInsteadOfName",
     "[program /usr/bin/okular]\ntokens = sign-only\n",
     "okular",
     Tokens::Both,
     true,
     {"line 1|/usr/bin/okular|directory"}},
    {"IgnoredSectionLinesAreStillSyntaxChecked",
     "[printer]\ntokens sign-only\n",
     "okular",
     Tokens::Both,
     true,
     {"line 1|unknown section", "line 2|key = value"}},
    {"ValidHeaderAfterBadOneWorks",
     "[printer]\ntokens = auth-only\n[program okular]\ntokens = sign-only\n",
     "okular",
     Tokens::SignOnly,
     true,
     {"line 1"}},
    {"SectionOverridesBrowserRule",
     "[program firefox*]\ntokens = both\n",
     "firefox-esr",
     Tokens::Both,
     true,
     {}},
    {"SectionForAnotherBrowserKeepsTheRule",
     "[program chromium]\ntokens = both\n",
     "firefox-esr",
     Tokens::AuthOnly,
     true,
     {}},
};

class SectionTest : public ::testing::TestWithParam<SectionCase> {};

TEST_P(SectionTest, TokensAlwaysAuthenticateAndWarnings) {
  const auto& c = GetParam();
  const auto r = parse(c.text, c.program);
  EXPECT_EQ(r.config.tokens, c.tokens) << "text: " << c.text;
  EXPECT_EQ(r.config.signAlwaysAuthenticate, c.alwaysAuthenticate) << "text: " << c.text;
  EXPECT_EQ(r.program, c.program);
  ASSERT_EQ(r.warnings.size(), c.warningSubstrings.size())
      << "text: " << c.text << "\nfirst warning: " << (r.warnings.empty() ? "" : r.warnings[0]);
  for (std::size_t i = 0; i < c.warningSubstrings.size(); ++i) {
    std::string_view parts = c.warningSubstrings[i];
    while (!parts.empty()) {
      const auto bar = parts.find('|');
      const std::string part(parts.substr(0, bar));
      EXPECT_NE(r.warnings[i].find(part), std::string::npos)
          << "warning '" << r.warnings[i] << "' lacks '" << part << "'";
      parts.remove_prefix(bar == std::string_view::npos ? parts.size() : bar + 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SectionTest, ::testing::ValuesIn(kSectionCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Section, ProgramRulesNameEachLayerInOrder) {
  const auto r = parse("[program x]\n[program pdfsig]\nlog-level = debug\n", "pdfsig");
  ASSERT_EQ(r.programRules.size(), 2U);
  EXPECT_EQ(r.programRules[0], "built-in settings for pdfsig");
  EXPECT_EQ(r.programRules[1], "'[program pdfsig]' at line 2");
  EXPECT_EQ(r.config.logLevel, LogLevel::Debug);
  const auto browser = parse("", "chromium");
  ASSERT_EQ(browser.programRules.size(), 1U);
  EXPECT_NE(browser.programRules[0].find("browser-tokens"), std::string::npos);
  EXPECT_TRUE(parse("", "p11tool").programRules.empty());
}

TEST(Section, NeverThrowsOnGarbage) {
  for (const char* program : {"", "pdfsig", "okular"}) {
    EXPECT_NO_THROW(parse(std::string(100000, '['), program));
    EXPECT_NO_THROW(parse(std::string(100000, ']'), program));
    EXPECT_NO_THROW(parse("[program " + std::string(10000, '*') + "]\ntokens = both", program));
    EXPECT_NO_THROW(parse("[program [[[[]\ntokens = both\n[program \\]\n[program ]]", program));
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>("[]=\n#ab /*"[i * 7 % 11]));
    EXPECT_NO_THROW(parse(garbage, program));
  }
}

// --- Precedence through load(): file, built-in settings, browser rule and environment ----------

struct LayerCase {
  const char* name;
  const char* program;
  const char* file;       // nullptr: JPKI_PKCS11_CONF names a file that does not exist
  const char* envTokens;  // JPKI_PKCS11_TOKENS, nullptr: unset
  Tokens tokens;
  bool alwaysAuthenticate;
};

std::ostream& operator<<(std::ostream& os, const LayerCase& c) { return os << c.name; }

const LayerCase kLayerCases[] = {
    // Built-in settings: pdfsig gets the signature token without a per-signature login.
    {"PdfsigBuiltInWithEmptyFile", "pdfsig", "", nullptr, Tokens::SignOnly, false},
    {"PdfsigBuiltInWithoutFile", "pdfsig", nullptr, nullptr, Tokens::SignOnly, false},
    {"PdfsigBuiltInIgnoresCase", "PDFSIG", "", nullptr, Tokens::SignOnly, false},
    {"OtherProgramsKeepTheDefaults", "pdfsig2", "", nullptr, Tokens::Both, true},
    // Built-in settings > global.
    {"BuiltInBeatsGlobal", "pdfsig", "tokens = both\nsign-always-authenticate = yes\n", nullptr,
     Tokens::SignOnly, false},
    // Section > built-in settings, key by key.
    {"SectionBeatsBuiltInTokens", "pdfsig", "[program pdfsig]\ntokens = both\n", nullptr,
     Tokens::Both, false},
    {"SectionBeatsBuiltInAlwaysAuthenticate", "pdfsig",
     "[program pdfsig]\nsign-always-authenticate = yes\n", nullptr, Tokens::SignOnly, true},
    {"GlobPatternSectionBeatsBuiltIn", "pdfsig", "[program pdf*]\ntokens = auth-only\n", nullptr,
     Tokens::AuthOnly, false},
    // Environment > everything.
    {"EnvironmentBeatsBuiltIn", "pdfsig", "", "both", Tokens::Both, false},
    {"EnvironmentBeatsSection", "pdfsig", "[program pdfsig]\ntokens = auth-only\n", "sign-only",
     Tokens::SignOnly, false},
    {"BadEnvironmentKeepsSection", "pdfsig", "[program pdfsig]\ntokens = auth-only\n", "all",
     Tokens::AuthOnly, false},
    // Browser rule > global; section > browser rule; environment > browser rule.
    {"BrowserRuleBeatsGlobal", "firefox", "tokens = both\n", nullptr, Tokens::AuthOnly, true},
    {"BrowserTokensFromFile", "firefox", "browser-tokens = both\n", nullptr, Tokens::Both, true},
    {"SectionBeatsBrowserRule", "firefox", "[program firefox]\ntokens = both\n", nullptr,
     Tokens::Both, true},
    {"EnvironmentBeatsBrowserRule", "firefox", "", "sign-only", Tokens::SignOnly, true},
    // Global > defaults, for programs without a rule of their own.
    {"GlobalForOtherPrograms", "okular", "tokens = sign-only\nsign-always-authenticate = no\n",
     nullptr, Tokens::SignOnly, false},
    {"SectionForOkular", "okular", "[program okular]\ntokens = sign-only\n", nullptr,
     Tokens::SignOnly, true},
};

using test::LoadTest;
using test::ScopedEnv;

class LayerTest : public LoadTest, public ::testing::WithParamInterface<LayerCase> {};

TEST_P(LayerTest, MostSpecificLayerWins) {
  const auto& c = GetParam();
  const auto path = c.file != nullptr ? write("a.conf", c.file) : dir_ / "missing.conf";
  ScopedEnv conf(kPathEnv, path.c_str());
  ScopedEnv tokens("JPKI_PKCS11_TOKENS", c.envTokens);
  const auto r = load(c.program);
  EXPECT_EQ(r.config.tokens, c.tokens) << name(r.config.tokens);
  EXPECT_EQ(r.config.signAlwaysAuthenticate, c.alwaysAuthenticate);
  // Only the missing file and a bad JPKI_PKCS11_TOKENS are problems in this table.
  const std::size_t expectedWarnings =
      (c.file == nullptr ? 1U : 0U) + (c.envTokens != nullptr && std::string(c.envTokens) == "all");
  EXPECT_EQ(r.warnings.size(), expectedWarnings) << (r.warnings.empty() ? "" : r.warnings[0]);
}

INSTANTIATE_TEST_SUITE_P(Cases, LayerTest, ::testing::ValuesIn(kLayerCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(LoadTest, WarningsOfSectionsNameTheFile) {
  const auto path = write("a.conf", "[program pdfsig]\ntokens = sometimes\n");
  ScopedEnv conf(kPathEnv, path.c_str());
  const auto r = load("pdfsig");
  ASSERT_EQ(r.warnings.size(), 1U);
  EXPECT_EQ(r.warnings[0].rfind(path.string() + ": line 2: ", 0), 0U) << r.warnings[0];
  EXPECT_EQ(r.config.tokens, Tokens::SignOnly);  // the built-in setting is kept
}

// --- The built-in table -------------------------------------------------------------------------

std::string readFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The "key = value" lines of an entry.
std::vector<std::string> settingLines(std::string_view settings) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(settings)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(BuiltIn, EveryEntryIsAValidSection) {
  ASSERT_FALSE(builtInProgramSettings().empty());
  for (const auto& entry : builtInProgramSettings()) {
    SCOPED_TRACE(std::string(entry.pattern));
    EXPECT_FALSE(entry.reason.empty());
    EXPECT_EQ(entry.pattern.find('/'), std::string_view::npos);
    const auto section =
        "[program " + std::string(entry.pattern) + "]\n" + std::string(entry.settings);
    const auto r = parse(section, entry.pattern);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
    EXPECT_FALSE(settingLines(entry.settings).empty());
  }
}

TEST(BuiltIn, PdfsigSeesTheSignatureTokenWithoutPerSignatureLogin) {
  const auto r = parse("", "pdfsig");
  EXPECT_EQ(r.config.tokens, Tokens::SignOnly);
  EXPECT_FALSE(r.config.signAlwaysAuthenticate);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(BuiltIn, DocumentedInTheManualAndTheExample) {
  // Each entry's settings appear under "[program PATTERN]" in both documents, in the same order.
  const std::string manual = readFile(JPKI_CONFIG_MANUAL);
  const std::string example = readFile(JPKI_CONFIG_EXAMPLE);
  ASSERT_FALSE(manual.empty());
  ASSERT_FALSE(example.empty());
  for (const auto& entry : builtInProgramSettings()) {
    for (const auto* doc : {&manual, &example}) {
      const auto header = "[program " + std::string(entry.pattern) + "]";
      auto at = doc->find(header);
      ASSERT_NE(at, std::string::npos)
          << header << " missing in "
          << (doc == &manual ? JPKI_CONFIG_MANUAL : JPKI_CONFIG_EXAMPLE);
      for (const auto& line : settingLines(entry.settings)) {
        at = doc->find(line, at);
        EXPECT_NE(at, std::string::npos) << "'" << line << "' missing after " << header;
      }
    }
  }
}

TEST(ProgramMatches, Patterns) {
  EXPECT_TRUE(programMatches("pdfsig", "pdfsig"));
  EXPECT_TRUE(programMatches("pdfsig", "PdfSig"));
  EXPECT_TRUE(programMatches("soffice*", "soffice.bin"));
  EXPECT_TRUE(programMatches("*", "anything"));
  EXPECT_FALSE(programMatches("pdfsig", "pdfsig-qt"));
  EXPECT_FALSE(programMatches("pdfsig", ""));
  EXPECT_FALSE(programMatches("", "pdfsig"));
  EXPECT_FALSE(programMatches("*", ""));
}

}  // namespace
}  // namespace jpki::config
