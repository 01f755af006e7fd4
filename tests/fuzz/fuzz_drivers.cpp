// SPDX-License-Identifier: MIT
#include "fuzz_drivers.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "jpki/error.h"
#include "reader_factory.h"

namespace jpki::fuzz {
namespace {

std::shared_ptr<ReaderSystem> g_next;  // handed to the module by makeReaderSystem()

template <class F>
void tolerate(F&& f) {
  try {
    f();
  } catch (const Error&) {
    // Any typed card or transport error is a correct outcome for a hostile card.
  }
}

const Bytes kDigestInfo = [] {
  // DigestInfo(SHA-256, 32 bytes of 0x5A).
  Bytes d = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  d.insert(d.end(), 32, 0x5A);
  return d;
}();

void fillAttributes(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
  static constexpr CK_ATTRIBUTE_TYPE kTypes[] = {CKA_CLASS,
                                                 CKA_ID,
                                                 CKA_LABEL,
                                                 CKA_VALUE,
                                                 CKA_SUBJECT,
                                                 CKA_ISSUER,
                                                 CKA_SERIAL_NUMBER,
                                                 CKA_MODULUS,
                                                 CKA_PUBLIC_EXPONENT,
                                                 CKA_MODULUS_BITS,
                                                 CKA_PUBLIC_KEY_INFO,
                                                 CKA_START_DATE,
                                                 CKA_END_DATE,
                                                 CKA_SIGN,
                                                 CKA_PRIVATE_EXPONENT,
                                                 CKA_ALWAYS_AUTHENTICATE};
  std::vector<CK_ATTRIBUTE> tmpl;
  for (CK_ATTRIBUTE_TYPE t : kTypes) {
    tmpl.push_back({t, nullptr, 0});
  }
  f->C_GetAttributeValue(s, o, tmpl.data(), tmpl.size());
  std::vector<std::vector<CK_BYTE>> buffers;
  for (CK_ATTRIBUTE& a : tmpl) {
    if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 65536) {
      a.ulValueLen = 0;
    }
    buffers.emplace_back(a.ulValueLen);
    a.pValue = buffers.back().data();
  }
  f->C_GetAttributeValue(s, o, tmpl.data(), tmpl.size());
  CK_ULONG size = 0;
  f->C_GetObjectSize(s, o, &size);
}

std::vector<CK_OBJECT_HANDLE> findAll(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s) {
  std::vector<CK_OBJECT_HANDLE> out;
  if (f->C_FindObjectsInit(s, nullptr, 0) != CKR_OK) {
    return out;
  }
  CK_OBJECT_HANDLE buf[4];
  CK_ULONG n = 0;
  while (f->C_FindObjects(s, buf, 4, &n) == CKR_OK && n > 0 && out.size() < 64) {
    out.insert(out.end(), buf, buf + n);
  }
  f->C_FindObjectsFinal(s);
  return out;
}

CK_OBJECT_HANDLE keyOf(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls) {
  CK_ATTRIBUTE t{CKA_CLASS, &cls, sizeof cls};
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_ULONG n = 0;
  if (f->C_FindObjectsInit(s, &t, 1) == CKR_OK) {
    f->C_FindObjects(s, &h, 1, &n);
    f->C_FindObjectsFinal(s);
  }
  return n == 1 ? h : CK_INVALID_HANDLE;
}

void signAndVerify(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, bool contextLogin,
                   const char* pin) {
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE data[] = "fuzz";
  CK_BYTE sig[512];
  CK_ULONG len = 0;
  const CK_OBJECT_HANDLE priv = keyOf(f, s, CKO_PRIVATE_KEY);
  if (f->C_SignInit(s, &m, priv) == CKR_OK) {
    if (contextLogin) {
      std::vector<CK_UTF8CHAR> p(pin, pin + std::strlen(pin));
      f->C_Login(s, CKU_CONTEXT_SPECIFIC, p.data(), p.size());
    }
    if (f->C_Sign(s, data, 4, nullptr, &len) == CKR_OK && len <= sizeof sig) {
      f->C_Sign(s, data, 4, sig, &len);
    }
    f->C_SignFinal(s, sig, &len);  // ends anything left over (OPERATION_NOT_INITIALIZED)
  }
  const CK_OBJECT_HANDLE pub = keyOf(f, s, CKO_PUBLIC_KEY);
  if (f->C_VerifyInit(s, &m, pub) == CKR_OK) {
    f->C_Verify(s, data, 4, sig, len <= sizeof sig ? len : 0);
  }
}

}  // namespace

void driveCard(JpkiCard& card) {
  tolerate([&] { card.kind(); });
  tolerate([&] { card.identity(); });
  tolerate([&] { card.certificate(CertFile::AuthCa); });
  tolerate([&] { card.pinStatus(KeyRole::Auth); });
  const Bytes authPin = {'1', '2', '3', '4'};
  const Bytes signPin = {'A', 'B', 'C', '1', '2', '3'};
  tolerate([&] { card.verify(KeyRole::Auth, authPin); });
  tolerate([&] { card.sign(KeyRole::Auth, kDigestInfo); });
  tolerate([&] { card.verify(KeyRole::Sign, signPin); });
  tolerate([&] { card.certificate(CertFile::Sign); });
  tolerate([&] { card.certificate(CertFile::SignCa); });
  tolerate([&] { card.sign(KeyRole::Sign, kDigestInfo); });
  tolerate([&] { card.pinStatus(KeyRole::Sign); });
  tolerate([&] { card.logout(); });
  tolerate([&] { card.sign(KeyRole::Auth, kDigestInfo); });  // must not reach the card
}

void quietModuleEnvironment() {
  setenv("JPKI_PKCS11_CONF", "/dev/null", 1);
  setenv("JPKI_PKCS11_TOKENS", "", 1);
  setenv("JPKI_PKCS11_LOG_FILE", "", 1);
  // Not a directory, so no certificate cache: every input is judged by the card answers alone,
  // and the fuzzer writes nothing to $HOME.
  setenv("JPKI_PKCS11_CACHE_DIR", "/dev/null", 1);
  setenv("JPKI_PKCS11_LOG_LEVEL", "off", 0);  // JPKI_PKCS11_LOG_LEVEL=debug to see the calls
}

void withModule(std::shared_ptr<ReaderSystem> readers,
                const std::function<void(CK_FUNCTION_LIST_PTR)>& body) {
  CK_FUNCTION_LIST_PTR f = nullptr;
  if (C_GetFunctionList(&f) != CKR_OK) {
    std::abort();
  }
  g_next = std::move(readers);
  if (f->C_Initialize(nullptr) != CKR_OK) {
    std::abort();  // C_Initialize does no card I/O: it must always work
  }
  body(f);
  if (f->C_Finalize(nullptr) != CKR_OK) {
    std::abort();
  }
  g_next.reset();
}

void driveModule(CK_FUNCTION_LIST_PTR f) {
  CK_SLOT_ID slots[8];
  CK_ULONG count = 8;
  f->C_GetSlotList(CK_TRUE, slots, &count);
  for (CK_SLOT_ID slot : {CK_SLOT_ID{0}, CK_SLOT_ID{1}}) {
    CK_TOKEN_INFO info;
    f->C_GetTokenInfo(slot, &info);
  }
  struct Step {
    CK_SLOT_ID slot;
    const char* pin;
    bool contextLogin;
  };
  for (const Step& step : {Step{0, "1234", false}, Step{1, "abc123", true}}) {
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (f->C_OpenSession(step.slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) {
      continue;
    }
    for (CK_OBJECT_HANDLE o : findAll(f, s)) {
      fillAttributes(f, s, o);
    }
    std::vector<CK_UTF8CHAR> pin(step.pin, step.pin + std::strlen(step.pin));
    f->C_Login(s, CKU_USER, pin.data(), pin.size());
    CK_SESSION_INFO si;
    f->C_GetSessionInfo(s, &si);
    for (CK_OBJECT_HANDLE o : findAll(f, s)) {
      fillAttributes(f, s, o);
    }
    signAndVerify(f, s, step.contextLogin, step.pin);
    CK_TOKEN_INFO info;
    f->C_GetTokenInfo(step.slot, &info);
    f->C_Logout(s);
    f->C_CloseSession(s);
  }
}

}  // namespace jpki::fuzz

namespace jpki::module {
// The module's reader factory for the fuzz targets: whatever withModule() was given.
std::unique_ptr<ReaderSystem> makeReaderSystem() {
  struct Proxy final : ReaderSystem {
    explicit Proxy(std::shared_ptr<ReaderSystem> t) : target(std::move(t)) {}
    std::vector<ReaderState> readers() override { return target->readers(); }
    std::unique_ptr<CardConnection> connect(const std::string& r) override {
      return target->connect(r);
    }
    bool waitForChange(std::chrono::milliseconds t) override { return target->waitForChange(t); }
    void cancel() noexcept override { target->cancel(); }
    std::shared_ptr<ReaderSystem> target;
  };
  return std::make_unique<Proxy>(fuzz::g_next);
}
}  // namespace jpki::module
