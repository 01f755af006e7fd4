// SPDX-License-Identifier: MIT
// Permission checks in unit tests that also run as root (CI and the test command do): root reads
// and writes files whatever their mode, so such a check runs in a child process that has dropped to
// the user nobody; as any other user it runs in place. The child reports failed expectations
// through its exit status.
#pragma once

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

namespace jt {

inline constexpr uid_t kNobody = 65534;

inline void asUnprivileged(const std::function<void()>& body) {
  if (::geteuid() != 0) {
    body();
    return;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(3);
    }
    body();
    std::fflush(nullptr);
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the unprivileged child died";
  ASSERT_NE(WEXITSTATUS(status), 3) << "could not drop to the user nobody";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the checks failed as the user nobody (see above)";
}

}  // namespace jt
