// SPDX-License-Identifier: MIT
// Hand-over of a reader between processes of this module (issue 20).
//
// pcsc-lite hands a card from one process's transaction to another's by polling: a process whose
// SCardBeginTransaction finds the card locked by another handle is told so and asks again 100 ms
// later (PCSCLITE_LOCK_POLL_RATE), and pcscd makes an SCardConnect wait the same way while a
// transaction is open. Every hand-over between processes thus leaves the card idle for up to
// 100 ms, and which process gets it depends on where each one is in its polling cycle: with four
// processes signing at once, half of the batch's time was such idling, and the total swung by half
// from run to run.
//
// Before those calls, a connection takes an advisory lock (flock) on a file named after the
// reader in the user's runtime directory, and gives it back right after SCardEndTransaction. A
// process waiting for it sleeps in the kernel and is woken the moment the holder is done, so its
// own SCardBeginTransaction then succeeds at once. The lock only orders processes of this module
// run by one user; correctness still comes from the PC/SC transaction. Without a usable runtime
// directory (no XDG_RUNTIME_DIR and no /run/user/UID, another user, another sandbox) nothing is
// locked and pcsc-lite's polling applies as before. The kernel drops the lock when its holder
// exits or is killed.
#pragma once

#include <string>

namespace jpki::pcsc {

class HandoffLock {
 public:
  // Opens (creates) the reader's lock file; a lock that cannot be had is simply absent.
  explicit HandoffLock(const std::string& reader) noexcept;
  ~HandoffLock();
  HandoffLock(const HandoffLock&) = delete;
  HandoffLock& operator=(const HandoffLock&) = delete;

  void lock() noexcept;    // blocks until no other holder is left; no-op when absent or held
  void unlock() noexcept;  // no-op when not held
  [[nodiscard]] bool present() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

// The lock file of a reader: <runtime dir>/jpki-pkcs11/reader-<FNV-1a of the name>.lock, or ""
// when there is no runtime directory of this user.
std::string handoffLockPath(const std::string& reader);

}  // namespace jpki::pcsc
