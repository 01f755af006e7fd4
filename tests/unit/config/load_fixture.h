// SPDX-License-Identifier: MIT
// What the load() tests of config_load_test.cpp and config_program_test.cpp share: environment
// variables set for one scope, and a fixture with a private directory for configuration files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace jpki::config::test {

namespace fs = std::filesystem;

// Sets or unsets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jpki-config-test-" + std::to_string(::getpid()) + "-" + testName());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  // A parameterised test's name ("Test/Case") as one path component.
  static std::string testName() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    return name;
  }

  fs::path dir_;
  // No override leaks in from the developer's shell.
  ScopedEnv tokens_{"JPKI_PKCS11_TOKENS", nullptr};
  ScopedEnv level_{"JPKI_PKCS11_LOG_LEVEL", nullptr};
  ScopedEnv file_{"JPKI_PKCS11_LOG_FILE", nullptr};
};

}  // namespace jpki::config::test
