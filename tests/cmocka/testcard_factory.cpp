// SPDX-License-Identifier: MIT
// The reader factory of the CMocka test build of the module (libjpki-pkcs11-testcard.so): instead
// of PC/SC, the module sees one in-process reader holding a virtual JPKI card. The tests steer the
// card through the one extra exported function, jpki_testcard_control(); the shipped
// libjpki-pkcs11.so links pcsc_factory.cpp instead and has neither the card nor that function.
//
// Environment:
//   JPKI_TESTCARD_PKI    directory holding the test PKI (generated there on first use, reused
//                        afterwards so repeated runs skip RSA key generation); default: generated
//                        in memory once per process.
//   JPKI_TESTCARD_STATE  file keeping the retry counters of the main card across processes;
//                        default: none, i.e. every test process starts with a fresh card
//                        (3 authentication tries, 5 signature tries).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/virtual_card.h"
#include "reader_factory.h"

namespace {

namespace fs = std::filesystem;
using jpki::vcard::CardOptions;
using jpki::vcard::CardPki;
using jpki::vcard::InProcessReaderSystem;
using jpki::vcard::Profile;
using jpki::vcard::VirtualCard;

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// Holds an flock() on <dir>/.lock so that parallel test processes do not generate the same PKI
// directory at the same time.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fs::create_directories(dir);
    fd_ = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

CardPki loadPki(const char* subdir, const char* holder) {
  if (const char* dir = env("JPKI_TESTCARD_PKI")) {
    const fs::path path = fs::path(dir) / subdir;
    DirLock lock(path);
    return jpki::vcard::loadOrCreatePki(path, Profile::Normal);
  }
  return jpki::vcard::generatePki(Profile::Normal, holder);
}

// Everything the control function acts on. The module may create several reader systems over a
// process's life (one per C_Initialize); all of them see the same card, and control commands
// apply to every one still alive.
class TestBench {
 public:
  // Never destroyed, like the module's globals: C_Finalize may come from an exit handler after
  // the static destructors (test_exit.c).
  static TestBench& instance() {
    static TestBench& bench = *new TestBench;
    return bench;
  }

  std::unique_ptr<jpki::ReaderSystem> newReaderSystem();
  int control(std::string_view command);

 private:
  class Forwarder;

  std::shared_ptr<VirtualCard> mainCardLocked() {
    if (!mainPki_) mainPki_ = loadPki("main", "JPKI TARO");
    if (!last_) {
      CardOptions options;
      if (const char* state = env("JPKI_TESTCARD_STATE")) options.stateFile = state;
      last_ = std::make_shared<VirtualCard>(*mainPki_, options);
      present_ = true;
    }
    return last_;
  }
  template <typename F>
  void forEachSystem(F&& f) {
    std::erase_if(systems_, [](const auto& w) { return w.expired(); });
    for (auto& w : systems_) {
      if (auto s = w.lock()) f(*s);
    }
  }
  void insertLocked(std::shared_ptr<VirtualCard> card) {
    if (present_) forEachSystem([](InProcessReaderSystem& s) { s.remove(0); });
    last_ = std::move(card);
    present_ = true;
    forEachSystem([&](InProcessReaderSystem& s) { s.insert(0, last_); });
  }

  std::mutex mutex_;
  std::optional<CardPki> mainPki_, otherPki_;
  std::shared_ptr<VirtualCard> last_;  // the card in the reader, or the one last removed
  bool present_ = false;
  std::vector<std::weak_ptr<InProcessReaderSystem>> systems_;
};

// What the module owns: forwards to a shared InProcessReaderSystem the bench can still reach.
// changedSinceListing() compares the in-process readers with the last listing as PC/SC's check
// does, so the module skips the listing as it does over PC/SC.
class TestBench::Forwarder final : public jpki::ReaderSystem {
 public:
  explicit Forwarder(std::shared_ptr<InProcessReaderSystem> inner) : inner_(std::move(inner)) {}
  std::vector<jpki::ReaderState> readers() override {
    listed_ = false;
    last_ = inner_->readers();
    listed_ = true;
    return last_;
  }
  bool changedSinceListing() override {
    if (!listed_) return true;
    try {
      // As PC/SC's check: a reader of the last listing gone or changed; additions not reported.
      const std::vector<jpki::ReaderState> now = inner_->readers();
      return std::any_of(last_.begin(), last_.end(), [&](const jpki::ReaderState& was) {
        auto it =
            std::find_if(now.begin(), now.end(), [&](const auto& r) { return r.name == was.name; });
        return it == now.end() || it->cardPresent != was.cardPresent || it->atr != was.atr ||
               it->eventCount != was.eventCount;
      });
    } catch (...) {
      return true;
    }
  }
  std::unique_ptr<jpki::CardConnection> connect(const std::string& reader) override {
    return inner_->connect(reader);
  }
  bool waitForChange(std::chrono::milliseconds timeout) override {
    return inner_->waitForChange(timeout);
  }
  void cancel() noexcept override { inner_->cancel(); }

 private:
  std::shared_ptr<InProcessReaderSystem> inner_;
  std::vector<jpki::ReaderState> last_;
  bool listed_ = false;
};

std::unique_ptr<jpki::ReaderSystem> TestBench::newReaderSystem() {
  std::lock_guard lock(mutex_);
  auto card = mainCardLocked();
  auto system = std::make_shared<InProcessReaderSystem>(1);
  if (present_) system->insert(0, card);
  systems_.push_back(system);
  return std::make_unique<Forwarder>(std::move(system));
}

int TestBench::control(std::string_view command) {
  std::lock_guard lock(mutex_);
  auto card = mainCardLocked();
  if (command == "remove") {
    forEachSystem([](InProcessReaderSystem& s) { s.remove(0); });
    present_ = false;
    return 0;
  }
  if (command == "insert") {  // the same card again (same identity, same retry counters)
    insertLocked(card);
    return 0;
  }
  if (command == "insert-fresh") {  // the same PKI, fresh retry counters
    insertLocked(std::make_shared<VirtualCard>(*mainPki_, CardOptions{}));
    return 0;
  }
  if (command == "insert-other") {  // a different card: other keys, certificates and serial
    if (!otherPki_) otherPki_ = loadPki("other", "JPKI HANAKO");
    insertLocked(std::make_shared<VirtualCard>(*otherPki_, CardOptions{}));
    return 0;
  }
  if (command == "reset") {  // as if another process reset the card
    forEachSystem([](InProcessReaderSystem& s) { s.resetCard(0); });
    return 0;
  }
  if (command == "verify-count") {  // VERIFY APDUs carrying a PIN (the log masks it as "**")
    int count = 0;
    for (const auto& entry : card->log()) {
      const auto& c = entry.command;
      if (c.size() > 4 && c.ends_with("**") && (c.compare(2, 2, "20") == 0)) ++count;
    }
    return count;
  }
  if (command == "apdu-count") return static_cast<int>(card->log().size());
  if (command == "clear-log") {
    card->clearLog();
    return 0;
  }
  if (command == "auth-tries") return card->triesLeft(false);
  if (command == "sign-tries") return card->triesLeft(true);
  if (command == "present") return present_ ? 1 : 0;
  return -1;
}

}  // namespace

namespace jpki::module {
std::unique_ptr<ReaderSystem> makeReaderSystem() { return TestBench::instance().newReaderSystem(); }
}  // namespace jpki::module

// Commands: "remove", "insert" (the last card again), "insert-fresh" (same PKI, fresh counters),
// "insert-other" (a different card), "reset", "verify-count" (VERIFY-with-PIN APDUs since the
// last "clear-log"), "apdu-count", "clear-log", "auth-tries", "sign-tries", "present".
// Returns the number asked for, 0 for actions, -1 for an unknown command or a failure.
extern "C" __attribute__((visibility("default"))) int jpki_testcard_control(const char* command) {
  if (command == nullptr) return -1;
  try {
    return TestBench::instance().control(command);
  } catch (...) {
    return -1;
  }
}
