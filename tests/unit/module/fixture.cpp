// SPDX-License-Identifier: MIT
#include "fixture.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "guard.h"
#include "reader_factory.h"

namespace jt {

std::shared_ptr<InProcessReaderSystem> g_readers;
ReaderCalls g_calls;

const CardPki& pkiA() {
  static const CardPki pki = jpki::vcard::generatePki(jpki::vcard::Profile::Normal, "JPKI TARO");
  return pki;
}
const CardPki& pkiB() {
  static const CardPki pki = jpki::vcard::generatePki(jpki::vcard::Profile::Normal, "JPKI HANAKO");
  return pki;
}

namespace {

// Counts what the module asks of a connection (each a PC/SC round trip in the shipped module).
class CountingConnection final : public jpki::CardConnection {
 public:
  explicit CountingConnection(std::unique_ptr<jpki::CardConnection> inner)
      : inner_(std::move(inner)) {}
  bool beginTransaction() override {
    ++g_calls.transactions;
    return inner_->beginTransaction();
  }
  void endTransaction() noexcept override {
    ++g_calls.transactions;
    inner_->endTransaction();
  }
  Bytes transmit(const Bytes& command) override {
    ++g_calls.transmits;
    return inner_->transmit(command);
  }
  [[nodiscard]] Bytes atr() const override { return inner_->atr(); }
  [[nodiscard]] std::string readerName() const override { return inner_->readerName(); }
  [[nodiscard]] bool usable() const override { return inner_->usable(); }

 private:
  std::unique_ptr<jpki::CardConnection> inner_;
};

// What PC/SC's change check can tell: a reader of the last listing gone or in another state.
// A reader added is not reported (pcsc-lite 1.9 cannot tell cheaply), so neither is it here.
bool knownReadersChanged(const std::vector<jpki::ReaderState>& last,
                         const std::vector<jpki::ReaderState>& now) {
  return std::any_of(last.begin(), last.end(), [&](const jpki::ReaderState& was) {
    auto it =
        std::find_if(now.begin(), now.end(), [&](const auto& r) { return r.name == was.name; });
    return it == now.end() || it->cardPresent != was.cardPresent || it->atr != was.atr ||
           it->eventCount != was.eventCount;
  });
}

// The module owns its ReaderSystem; the test keeps control of the real one through this proxy,
// which counts the calls that cost a PC/SC round trip in the shipped module (g_calls).
// changedSinceListing() compares the in-process readers with the last listing as PC/SC's check
// does (ReaderCalls::changeChecks counts it; here it costs nothing).
class Proxy final : public jpki::ReaderSystem {
 public:
  explicit Proxy(std::shared_ptr<InProcessReaderSystem> target) : target_(std::move(target)) {}
  std::vector<jpki::ReaderState> readers() override {
    ++g_calls.listings;
    listed_ = false;
    last_ = target_->readers();
    listed_ = true;
    return last_;
  }
  bool changedSinceListing() override {
    ++g_calls.changeChecks;
    try {
      return !listed_ || knownReadersChanged(last_, target_->readers());
    } catch (const jpki::Error&) {
      return true;
    }
  }
  std::unique_ptr<jpki::CardConnection> connect(const std::string& r) override {
    ++g_calls.connects;
    return std::make_unique<CountingConnection>(target_->connect(r));
  }
  bool waitForChange(std::chrono::milliseconds t) override {
    ++g_calls.waits;
    return target_->waitForChange(t);
  }
  void cancel() noexcept override { target_->cancel(); }

 private:
  std::shared_ptr<InProcessReaderSystem> target_;
  std::vector<jpki::ReaderState> last_;
  bool listed_ = false;
};

std::string configPath() { return "/tmp/jpki-module-unit-" + std::to_string(getpid()) + ".conf"; }

}  // namespace

std::string trimmed(const CK_UTF8CHAR* text, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(text), size);
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  return s;
}

void ModuleTest::SetUp() {
  unpermittedExpected = jpki::module::unpermittedReturns();
  ASSERT_EQ(C_GetFunctionList(&f), CKR_OK);
  restart("");
}

void ModuleTest::TearDown() {
  if (initialized) {
    f->C_Finalize(nullptr);
  }
  EXPECT_EQ(jpki::module::unpermittedReturns(), unpermittedExpected)
      << "an entry point returned a code PKCS#11 does not permit it (see the module log)";
  initialized = false;
  std::remove(configPath().c_str());
}

void ModuleTest::restart(const std::string& configText, std::size_t readers) {
  if (initialized) {
    ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  }
  initialized = false;
  {
    std::ofstream out(configPath());
    // No cross-process certificate cache unless a test turns it on (with its own cache-dir):
    // APDU sequences must not depend on what an earlier test left on disk.
    out << "log-level = " << (std::getenv("JPKI_TEST_DEBUG") ? "debug" : "off") << "\n"
        << "certificate-cache = no\n"
        << configText;
  }
  setenv("JPKI_PKCS11_CONF", configPath().c_str(), 1);
  g_readers = std::make_shared<InProcessReaderSystem>(readers);
  g_readers->insert(0, makeCard(pkiA()));
  ASSERT_EQ(f->C_Initialize(nullptr), CKR_OK);
  initialized = true;
}

std::shared_ptr<VirtualCard> ModuleTest::makeCard(const CardPki& pki) {
  return std::make_shared<VirtualCard>(pki, jpki::vcard::CardOptions{});
}

CK_SESSION_HANDLE ModuleTest::open(CK_SLOT_ID slot, CK_FLAGS flags) {
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_EQ(f->C_OpenSession(slot, flags, nullptr, nullptr, &h), CKR_OK);
  return h;
}

CK_RV ModuleTest::login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const std::string& pin) {
  std::string copy = pin;
  return f->C_Login(s, user, reinterpret_cast<CK_UTF8CHAR_PTR>(copy.data()), copy.size());
}

std::vector<CK_OBJECT_HANDLE> ModuleTest::find(CK_SESSION_HANDLE s,
                                               std::vector<CK_ATTRIBUTE> tmpl) {
  std::vector<CK_OBJECT_HANDLE> out;
  EXPECT_EQ(f->C_FindObjectsInit(s, tmpl.empty() ? nullptr : tmpl.data(), tmpl.size()), CKR_OK);
  CK_OBJECT_HANDLE buf[3];
  CK_ULONG n = 0;
  do {
    EXPECT_EQ(f->C_FindObjects(s, buf, 3, &n), CKR_OK);
    out.insert(out.end(), buf, buf + n);
  } while (n > 0);
  EXPECT_EQ(f->C_FindObjectsFinal(s), CKR_OK);
  return out;
}

CK_OBJECT_HANDLE ModuleTest::findOne(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, std::uint8_t id) {
  CK_BYTE idByte = id;
  auto r = find(s, {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, &idByte, 1}});
  EXPECT_EQ(r.size(), 1u) << "class " << cls << " id " << int(id);
  return r.empty() ? CK_INVALID_HANDLE : r[0];
}

Bytes ModuleTest::attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  EXPECT_EQ(f->C_GetAttributeValue(s, o, &a, 1), CKR_OK) << "attribute 0x" << std::hex << type;
  if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return {};
  }
  Bytes value(a.ulValueLen);
  a.pValue = value.data();
  EXPECT_EQ(f->C_GetAttributeValue(s, o, &a, 1), CKR_OK);
  return value;
}

CK_ULONG ModuleTest::attrUlong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  Bytes v = attr(s, o, type);
  CK_ULONG out = 0;
  EXPECT_EQ(v.size(), sizeof out);
  if (v.size() == sizeof out) {
    std::memcpy(&out, v.data(), sizeof out);
  }
  return out;
}

bool ModuleTest::attrBool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  Bytes v = attr(s, o, type);
  EXPECT_EQ(v.size(), 1u);
  return !v.empty() && v[0] == CK_TRUE;
}

CK_FLAGS ModuleTest::tokenFlags(CK_SLOT_ID slot) {
  CK_TOKEN_INFO info{};
  EXPECT_EQ(f->C_GetTokenInfo(slot, &info), CKR_OK);
  return info.flags;
}

CK_STATE ModuleTest::sessionState(CK_SESSION_HANDLE s) {
  CK_SESSION_INFO info{};
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_OK);
  return info.state;
}

Bytes ModuleTest::signWith(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
                           const Bytes& data, CK_RV* rvOut) {
  CK_MECHANISM m{mech, nullptr, 0};
  CK_RV rv = f->C_SignInit(s, &m, key);
  if (rv == CKR_OK) {
    Bytes sig(256);
    CK_ULONG len = sig.size();
    rv = f->C_Sign(s, const_cast<CK_BYTE_PTR>(data.data()), data.size(), sig.data(), &len);
    if (rv == CKR_OK) {
      sig.resize(len);
    }
    if (rvOut != nullptr) {
      *rvOut = rv;
    }
    if (rvOut == nullptr) {
      EXPECT_EQ(rv, CKR_OK);
    }
    return rv == CKR_OK ? sig : Bytes{};
  }
  if (rvOut != nullptr) {
    *rvOut = rv;
  }
  if (rvOut == nullptr) {
    EXPECT_EQ(rv, CKR_OK);
  }
  return {};
}

std::size_t ModuleTest::verifyWithData(std::size_t reader) {
  std::size_t n = 0;
  for (const auto& e : card(reader)->log()) {
    if (e.command.rfind("0020", 0) == 0 && e.command.size() > 10) {
      ++n;
    }
  }
  return n;
}

std::size_t ModuleTest::apdus(std::size_t reader) { return card(reader)->log().size(); }

}  // namespace jt

namespace jpki::module {
std::unique_ptr<ReaderSystem> makeReaderSystem() {
  return std::make_unique<jt::Proxy>(jt::g_readers);
}
}  // namespace jpki::module
