// SPDX-License-Identifier: MIT
// The browser rule: web browsers see `browser-tokens` (auth-only by default) so that listing
// certificates never asks for the signature password; JPKI_PKCS11_TOKENS still wins.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "jpki/config.h"

namespace jpki::config {
namespace {

struct ProgramCase {
  const char* name;
  bool browser;
};

class BrowserProgramTest : public ::testing::TestWithParam<ProgramCase> {};

TEST_P(BrowserProgramTest, RecognisesBrowsersByExecutableName) {
  EXPECT_EQ(isBrowserProgram(GetParam().name), GetParam().browser) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Names, BrowserProgramTest,
    ::testing::Values(ProgramCase{"firefox", true}, ProgramCase{"firefox-esr", true},
                      ProgramCase{"firefox-bin", true}, ProgramCase{"chromium", true},
                      ProgramCase{"chrome", true}, ProgramCase{"google-chrome-stable", true},
                      ProgramCase{"msedge", true}, ProgramCase{"brave", true},
                      ProgramCase{"Firefox", true}, ProgramCase{"thunderbird", false},
                      ProgramCase{"pkcs11-tool", false}, ProgramCase{"xmlsec1", false},
                      ProgramCase{"p11tool", false}, ProgramCase{"", false},
                      ProgramCase{"myfirefox", false}));

// Runs load() for a program name with a configuration file text and JPKI_PKCS11_TOKENS.
LoadResult loadAs(const char* program, const std::string& text, const char* envTokens) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("jpki-browser-test-" + std::to_string(::getpid()) + ".conf");
  std::ofstream(path) << text;
  ::setenv(kPathEnv, path.c_str(), 1);
  if (envTokens != nullptr) {
    ::setenv("JPKI_PKCS11_TOKENS", envTokens, 1);
  } else {
    ::unsetenv("JPKI_PKCS11_TOKENS");
  }
  auto result = load(program);
  ::unsetenv(kPathEnv);
  ::unsetenv("JPKI_PKCS11_TOKENS");
  std::filesystem::remove(path);
  return result;
}

TEST(BrowserRule, BrowserSeesOnlyTheAuthenticationTokenByDefault) {
  const auto r = loadAs("firefox-esr", "tokens = both\n", nullptr);
  EXPECT_EQ(r.config.tokens, Tokens::AuthOnly);
  EXPECT_TRUE(r.browser);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(BrowserRule, OtherProgramsKeepTokens) {
  const auto r = loadAs("pkcs11-tool", "tokens = both\n", nullptr);
  EXPECT_EQ(r.config.tokens, Tokens::Both);
  EXPECT_FALSE(r.browser);
}

TEST(BrowserRule, BrowserTokensIsConfigurable) {
  const auto r = loadAs("chromium", "browser-tokens = both\n", nullptr);
  EXPECT_EQ(r.config.tokens, Tokens::Both);
  EXPECT_TRUE(r.browser);
}

TEST(BrowserRule, ExplicitEnvironmentWins) {
  const auto r = loadAs("chromium", "", "both");
  EXPECT_EQ(r.config.tokens, Tokens::Both);
  EXPECT_FALSE(r.browser);
}

TEST(BrowserRule, BadBrowserTokensIsAWarningAndKeepsTheDefault) {
  const auto r = loadAs("firefox", "browser-tokens = all\n", nullptr);
  EXPECT_EQ(r.config.browserTokens, Tokens::AuthOnly);
  EXPECT_EQ(r.config.tokens, Tokens::AuthOnly);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("browser-tokens"), std::string::npos);
}

TEST(BrowserRule, CurrentProgramIsTheTestBinary) {
  EXPECT_EQ(currentProgramName(), "config_unit_tests");
}

}  // namespace
}  // namespace jpki::config
