// SPDX-License-Identifier: MIT
// load(): the file named by JPKI_PKCS11_CONF, the default path, unreadable files and the
// environment overrides.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../common/as_unprivileged.h"
#include "jpki/config.h"
#include "load_fixture.h"

namespace jpki::config {
namespace {

namespace fs = std::filesystem;

using test::LoadTest;
using test::ScopedEnv;

TEST_F(LoadTest, ReadsTheFileNamedByTheVariable) {
  const auto path = write("a.conf", "tokens = auth-only\nlog-level = debug\n");
  ScopedEnv conf(kPathEnv, path.c_str());
  const auto r = load();
  EXPECT_EQ(r.source, path);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.config.tokens, Tokens::AuthOnly);
  EXPECT_EQ(r.config.logLevel, LogLevel::Debug);
}

TEST_F(LoadTest, WarningsNameTheFileAndLine) {
  const auto path = write("b.conf", "\nbogus = 1\n");
  ScopedEnv conf(kPathEnv, path.c_str());
  const auto r = load();
  ASSERT_EQ(r.warnings.size(), 1U);
  EXPECT_NE(r.warnings[0].find(path.string()), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("line 2"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("bogus"), std::string::npos) << r.warnings[0];
}

TEST_F(LoadTest, MissingNamedFileIsAWarning) {
  const auto path = dir_ / "missing.conf";
  ScopedEnv conf(kPathEnv, path.c_str());
  const auto r = load();
  ASSERT_EQ(r.warnings.size(), 1U);
  EXPECT_NE(r.warnings[0].find(path.string()), std::string::npos) << r.warnings[0];
  EXPECT_TRUE(r.source.empty());
  EXPECT_EQ(r.config.tokens, Tokens::Both);
}

TEST_F(LoadTest, DirectoryIsAWarning) {
  ScopedEnv conf(kPathEnv, dir_.c_str());
  const auto r = load();
  EXPECT_FALSE(r.warnings.empty());
  EXPECT_EQ(r.config.tokens, Tokens::Both);
}

TEST_F(LoadTest, UnreadableFileIsAWarning) {
  const auto path = write("secret.conf", "tokens = auth-only\n");
  fs::permissions(path, fs::perms::none);
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  ScopedEnv conf(kPathEnv, path.c_str());
  jt::asUnprivileged([] {  // root would read it anyway
    const auto r = load();
    ASSERT_EQ(r.warnings.size(), 1U);
    EXPECT_NE(r.warnings[0].find("secret.conf"), std::string::npos) << r.warnings[0];
    EXPECT_EQ(r.config.tokens, Tokens::Both);
  });
}

TEST_F(LoadTest, DefaultPathWithoutVariable) {
  ScopedEnv conf(kPathEnv, nullptr);
  const auto r = load();
  if (fs::exists(kDefaultPath)) {
    EXPECT_EQ(r.source, fs::path(kDefaultPath));
  } else {
    EXPECT_TRUE(r.warnings.empty()) << "a missing default file is not a warning";
    EXPECT_TRUE(r.source.empty());
  }
}

// An empty JPKI_PKCS11_CONF is the same as none: the default path, not a file named "".
TEST_F(LoadTest, EmptyVariableMeansDefaultPath) {
  LoadResult unset;
  {
    ScopedEnv conf(kPathEnv, nullptr);
    unset = load();
  }
  ScopedEnv conf(kPathEnv, "");
  const auto r = load();
  EXPECT_EQ(r.source, unset.source);
  EXPECT_EQ(r.warnings, unset.warnings);
  EXPECT_EQ(r.config.tokens, unset.config.tokens);
  if (!fs::exists(kDefaultPath)) {
    EXPECT_TRUE(r.source.empty());
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  } else {
    EXPECT_EQ(r.source, fs::path(kDefaultPath));
  }
}

struct EnvCase {
  const char* name;
  const char* variable;
  const char* value;
  bool warns;
  bool (*check)(const Config&);
};

const EnvCase kEnvCases[] = {
    {"TokensAuthOnly", "JPKI_PKCS11_TOKENS", "auth-only", false,
     [](const Config& c) { return c.tokens == Tokens::AuthOnly; }},
    {"TokensSignOnly", "JPKI_PKCS11_TOKENS", "sign-only", false,
     [](const Config& c) { return c.tokens == Tokens::SignOnly; }},
    {"TokensBothOverridesFile", "JPKI_PKCS11_TOKENS", "both", false,
     [](const Config& c) { return c.tokens == Tokens::Both; }},
    {"TokensBadKeepsFile", "JPKI_PKCS11_TOKENS", "all", true,
     [](const Config& c) { return c.tokens == Tokens::SignOnly; }},
    {"TokensEmptyIgnored", "JPKI_PKCS11_TOKENS", "", false,
     [](const Config& c) { return c.tokens == Tokens::SignOnly; }},
    {"LogLevelDebug", "JPKI_PKCS11_LOG_LEVEL", "debug", false,
     [](const Config& c) { return c.logLevel == LogLevel::Debug; }},
    {"LogLevelOff", "JPKI_PKCS11_LOG_LEVEL", "off", false,
     [](const Config& c) { return c.logLevel == LogLevel::Off; }},
    {"LogLevelBadKeepsFile", "JPKI_PKCS11_LOG_LEVEL", "loud", true,
     [](const Config& c) { return c.logLevel == LogLevel::Error; }},
    {"LogFile", "JPKI_PKCS11_LOG_FILE", "/tmp/env.log", false,
     [](const Config& c) { return c.logFile == "/tmp/env.log"; }},
    {"ApduTraceFile", "JPKI_APDU_TRACE", "stderr", false,
     [](const Config& c) { return c.apduTraceFile == "stderr"; }},
};

class EnvOverrideTest : public LoadTest, public ::testing::WithParamInterface<EnvCase> {};

TEST_P(EnvOverrideTest, OverridesTheFile) {
  const auto& c = GetParam();
  const auto path =
      write("env.conf", "tokens = sign-only\nlog-level = error\nlog-file = /tmp/file.log\n");
  ScopedEnv conf(kPathEnv, path.c_str());
  ScopedEnv var(c.variable, c.value);
  const auto r = load();
  EXPECT_TRUE(c.check(r.config));
  EXPECT_EQ(r.warnings.size(), c.warns ? 1U : 0U);
  if (c.warns && !r.warnings.empty()) {
    EXPECT_NE(r.warnings[0].find(c.variable), std::string::npos) << r.warnings[0];
  }
  // The other settings still come from the file.
  if (std::string(c.variable) != "JPKI_PKCS11_LOG_FILE") {
    EXPECT_EQ(r.config.logFile, "/tmp/file.log");
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, EnvOverrideTest, ::testing::ValuesIn(kEnvCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(LoadTest, EnvironmentAppliesWithoutAFile) {
  ScopedEnv conf(kPathEnv, (dir_ / "none.conf").c_str());
  ScopedEnv tokens("JPKI_PKCS11_TOKENS", "auth-only");
  const auto r = load();
  EXPECT_EQ(r.config.tokens, Tokens::AuthOnly);
  EXPECT_EQ(r.warnings.size(), 1U);  // only the missing file
}

// cache-dir unset: load() fills in the XDG base directory default (moved here from apdu/).
TEST_F(LoadTest, DefaultCacheDirFollowsXdgThenHome) {
  const auto path = write("a.conf", "tokens = both\n");
  ScopedEnv conf(kPathEnv, path.c_str());
  ScopedEnv cacheDir("JPKI_PKCS11_CACHE_DIR", nullptr);
  ScopedEnv xdg("XDG_CACHE_HOME", "/x/cache");
  ScopedEnv home("HOME", "/home/u");
  EXPECT_EQ(load().config.cacheDir, "/x/cache/jpki-pkcs11");
  ::setenv("XDG_CACHE_HOME", "relative", 1);  // not absolute: ignored (XDG base directory spec)
  EXPECT_EQ(load().config.cacheDir, "/home/u/.cache/jpki-pkcs11");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(load().config.cacheDir, "/home/u/.cache/jpki-pkcs11");
  ::unsetenv("HOME");
  EXPECT_EQ(load().config.cacheDir, "");
  ::setenv("JPKI_PKCS11_CACHE_DIR", "/var/cache/x", 1);
  EXPECT_EQ(load().config.cacheDir, "/var/cache/x");
}

TEST_F(LoadTest, ShippedExampleParsesWithoutWarnings) {
  ScopedEnv conf(kPathEnv, JPKI_CONFIG_EXAMPLE);
  const auto r = load();
  EXPECT_EQ(r.source, fs::path(JPKI_CONFIG_EXAMPLE));
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  const Config d;
  EXPECT_EQ(r.config.tokens, d.tokens);
  EXPECT_EQ(r.config.logLevel, d.logLevel);
  EXPECT_TRUE(r.config.readerInclude.empty());
}

TEST_F(LoadTest, ExampleSettingsAreValidWhenUncommented) {
  // Every "# key = value" line of the example, uncommented, must parse without a warning.
  std::ifstream in(JPKI_CONFIG_EXAMPLE);
  std::string line;
  std::string text;
  int settings = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) != 0) continue;
    const auto body = line.substr(2);
    const auto eq = body.find(" = ");
    if (eq == std::string::npos || body.find(' ') < eq) continue;  // prose, not a setting
    text += body + "\n";
    ++settings;
  }
  const auto r = parse(text);
  EXPECT_GE(settings, 7);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
}

}  // namespace
}  // namespace jpki::config
