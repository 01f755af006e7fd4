// SPDX-License-Identifier: MIT
// See handoff_lock.h.
#include "handoff_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace jpki::pcsc {
namespace {

// A directory of this user's that nobody else can write into.
bool privateDir(const std::string& path) {
  struct stat st = {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// XDG_RUNTIME_DIR (XDG Base Directory Specification), or logind's /run/user/UID when the variable
// is unset (sudo, some services).
std::string runtimeDir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && xdg[0] == '/') {
    return privateDir(xdg) ? std::string(xdg) : std::string();
  }
  const std::string run = "/run/user/" + std::to_string(geteuid());
  return privateDir(run) ? run : std::string();
}

}  // namespace

std::string handoffLockPath(const std::string& reader) {
  const std::string base = runtimeDir();
  if (base.empty()) {
    return {};
  }
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bits: reader names may hold any byte
  for (const char c : reader) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  char name[40];
  std::snprintf(name, sizeof name, "reader-%016llx.lock", static_cast<unsigned long long>(hash));
  return base + "/jpki-pkcs11/" + name;
}

HandoffLock::HandoffLock(const std::string& reader) noexcept {
  try {
    const std::string path = handoffLockPath(reader);
    if (path.empty()) {
      return;
    }
    const std::string dir = path.substr(0, path.rfind('/'));
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return;
    }
    if (!privateDir(dir)) {
      return;
    }
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory for a path: go without the lock
    fd_ = -1;
  }
}

HandoffLock::~HandoffLock() {
  if (fd_ >= 0) {
    close(fd_);  // also releases a lock still held
  }
}

void HandoffLock::lock() noexcept {
  if (fd_ < 0 || held_) {
    return;
  }
  int rc = 0;
  do {
    rc = flock(fd_, LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  held_ = rc == 0;
}

void HandoffLock::unlock() noexcept {
  if (held_) {
    flock(fd_, LOCK_UN);
    held_ = false;
  }
}

}  // namespace jpki::pcsc
