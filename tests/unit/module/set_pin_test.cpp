// SPDX-License-Identifier: MIT
// C_SetPIN (v2.40 §5.6) against the in-process card: R/W sessions only, the new PIN's rules
// before any APDU, VERIFY + CHANGE REFERENCE DATA on the card, wrong / locked current PINs, the
// login state after a change, and only the return codes C_SetPIN's section lists.
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>

#include "fixture.h"
#include "jpki/error.h"

namespace jt {
namespace {

constexpr CK_FLAGS kRw = CKF_SERIAL_SESSION | CKF_RW_SESSION;

// v2.40 §5.6 C_SetPIN, "Return values".
const std::set<CK_RV> kSetPinCodes = {CKR_ARGUMENTS_BAD,     CKR_CRYPTOKI_NOT_INITIALIZED,
                                      CKR_DEVICE_ERROR,      CKR_DEVICE_MEMORY,
                                      CKR_DEVICE_REMOVED,    CKR_FUNCTION_CANCELED,
                                      CKR_FUNCTION_FAILED,   CKR_GENERAL_ERROR,
                                      CKR_HOST_MEMORY,       CKR_OK,
                                      CKR_PIN_INCORRECT,     CKR_PIN_INVALID,
                                      CKR_PIN_LEN_RANGE,     CKR_PIN_LOCKED,
                                      CKR_SESSION_CLOSED,    CKR_SESSION_HANDLE_INVALID,
                                      CKR_SESSION_READ_ONLY, CKR_TOKEN_WRITE_PROTECTED};

CK_RV setPin(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, const std::string& oldPin,
             const std::string& newPin) {
  std::string o = oldPin, n = newPin;
  return f->C_SetPIN(s, reinterpret_cast<CK_UTF8CHAR_PTR>(o.data()), o.size(),
                     reinterpret_cast<CK_UTF8CHAR_PTR>(n.data()), n.size());
}

// CHANGE REFERENCE DATA commands in the card's log (masked like VERIFY: "0024018004**").
std::size_t changeCommands(const VirtualCard& card) {
  std::size_t n = 0;
  for (const auto& e : card.log()) {
    if (e.command.rfind("0024", 0) == 0) {
      ++n;
    }
  }
  return n;
}

// SHA-256 with RSA PKCS#1 v1.5, checked with OpenSSL against the certificate of the test PKI.
bool verifiesWith(const Bytes& certDer, const Bytes& data, const Bytes& sig) {
  const unsigned char* p = certDer.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(certDer.size()));
  EVP_PKEY* k = X509_get_pubkey(x);
  X509_free(x);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, k) == 1 &&
                  EVP_DigestVerify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(k);
  return ok;
}

struct Role {
  const char* name;
  CK_SLOT_ID slot;
  bool sign;
  const char* oldPin;
  const char* newPin;     // as given to C_SetPIN
  const char* newOnCard;  // as the card stores it
  std::uint8_t keyId;
};

const Role kAuth{"Auth", kAuthSlot, false, kAuthPin, "5678", "5678", 1};
const Role kSign{"Sign", kSignSlot, true, kSignPin, "newPass12", "NEWPASS12", 2};

class SetPinRole : public ModuleTest, public ::testing::WithParamInterface<Role> {
 protected:
  Bytes certificate() const { return GetParam().sign ? pkiA().signCert : pkiA().authCert; }
  // Logs in with `pin` (for the signature key also C_Login(CKU_CONTEXT_SPECIFIC)), signs and
  // checks the signature with OpenSSL.
  void signAndCheck(CK_SESSION_HANDLE s, const std::string& pin) {
    const CK_OBJECT_HANDLE key = findOne(s, CKO_PRIVATE_KEY, GetParam().keyId);
    const Bytes data = {'c', 'h', 'a', 'n', 'g', 'e', 'd'};
    CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
    ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
    if (GetParam().sign) {
      ASSERT_EQ(login(s, CKU_CONTEXT_SPECIFIC, pin), CKR_OK);
    }
    Bytes sig(256);
    CK_ULONG len = sig.size();
    ASSERT_EQ(f->C_Sign(s, const_cast<CK_BYTE_PTR>(data.data()), data.size(), sig.data(), &len),
              CKR_OK);
    sig.resize(len);
    EXPECT_TRUE(verifiesWith(certificate(), data, sig));
  }
};

// The change itself: VERIFY of the current PIN then CHANGE REFERENCE DATA, in a R/W public session;
// then the old PIN is refused (one try) and the new one logs in and signs.
TEST_P(SetPinRole, ChangesThePinOnTheCard) {
  const Role& r = GetParam();
  CK_SESSION_HANDLE s = open(r.slot, kRw);
  clearLog();
  ASSERT_EQ(setPin(f, s, r.oldPin, r.newPin), CKR_OK);
  EXPECT_EQ(verifyWithData(), 1u);
  EXPECT_EQ(changeCommands(*card()), 1u);
  // C_SetPIN does not log in: still public, and the VERIFY made for the change is not left on the
  // card (SELECT AID, as at the end of a login).
  EXPECT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  EXPECT_FALSE(card()->verified(r.sign));
  EXPECT_EQ(card()->log().back().command, "00A4040C0AD392F000260100000001");

  EXPECT_EQ(login(s, CKU_USER, r.oldPin), CKR_PIN_INCORRECT);
  EXPECT_EQ(card()->triesLeft(r.sign), r.sign ? 4 : 2);
  ASSERT_EQ(login(s, CKU_USER, r.newOnCard), CKR_OK);
  EXPECT_EQ(card()->triesLeft(r.sign), r.sign ? 5 : 3);
  signAndCheck(s, r.newOnCard);
}

// v2.40 §5.6: "C_SetPIN can only be called in the R/W Public Session state, R/W SO Functions state,
// or R/W User Functions state": a R/O session gets CKR_SESSION_READ_ONLY, logged in or not, and
// the card sees nothing.
TEST_P(SetPinRole, ReadOnlySessionIsRefusedWithoutApdu) {
  const Role& r = GetParam();
  CK_SESSION_HANDLE ro = open(r.slot);
  clearLog();
  EXPECT_EQ(setPin(f, ro, r.oldPin, r.newPin), CKR_SESSION_READ_ONLY);
  EXPECT_EQ(apdus(), 0u);
  ASSERT_EQ(login(ro, CKU_USER, r.oldPin), CKR_OK);
  clearLog();
  EXPECT_EQ(setPin(f, ro, r.oldPin, r.newPin), CKR_SESSION_READ_ONLY);
  EXPECT_EQ(apdus(), 0u);
  EXPECT_EQ(sessionState(ro), CKS_RO_USER_FUNCTIONS);
}

// The PIN of the user who is logged in: the login survives the change (C_SetPIN does not change
// the login state) and the key signs without a new C_Login(CKU_USER).
TEST_P(SetPinRole, LoggedInUserStaysLoggedIn) {
  const Role& r = GetParam();
  CK_SESSION_HANDLE s = open(r.slot, kRw);
  ASSERT_EQ(login(s, CKU_USER, r.oldPin), CKR_OK);
  ASSERT_EQ(setPin(f, s, r.oldPin, r.newPin), CKR_OK);
  EXPECT_EQ(sessionState(s), CKS_RW_USER_FUNCTIONS);
  EXPECT_TRUE(card()->verified(r.sign));
  signAndCheck(s, r.newOnCard);
  ASSERT_EQ(f->C_Logout(s), CKR_OK);
  EXPECT_EQ(login(s, CKU_USER, r.newOnCard), CKR_OK);
}

// A wrong current PIN changes nothing and costs exactly one try; the token flags say so.
TEST_P(SetPinRole, WrongCurrentPinCostsOneTry) {
  const Role& r = GetParam();
  CK_SESSION_HANDLE s = open(r.slot, kRw);
  EXPECT_EQ(tokenFlags(r.slot) & CKF_USER_PIN_COUNT_LOW, 0u);
  clearLog();
  EXPECT_EQ(setPin(f, s, r.sign ? "WRONG1" : "9999", r.newPin), CKR_PIN_INCORRECT);
  EXPECT_EQ(verifyWithData(), 1u);
  EXPECT_EQ(changeCommands(*card()), 0u);
  EXPECT_EQ(card()->triesLeft(r.sign), r.sign ? 4 : 2);
  EXPECT_NE(tokenFlags(r.slot) & CKF_USER_PIN_COUNT_LOW, 0u);
  EXPECT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  EXPECT_EQ(login(s, CKU_USER, r.newOnCard), CKR_PIN_INCORRECT);  // not changed
  EXPECT_EQ(login(s, CKU_USER, r.oldPin), CKR_OK);
}

// Locked: CKR_PIN_LOCKED, and no VERIFY with data reaches the card (the counter is read first).
TEST_P(SetPinRole, LockedPinReceivesNoVerify) {
  const Role& r = GetParam();
  jpki::vcard::CardOptions options;
  options.profile = jpki::vcard::Profile::Locked;
  auto locked = std::make_shared<VirtualCard>(pkiA(), options);
  g_readers->remove(0);
  g_readers->insert(0, locked);
  CK_SESSION_HANDLE s = open(r.slot, kRw);
  clearLog();
  EXPECT_EQ(setPin(f, s, r.oldPin, r.newPin), CKR_PIN_LOCKED);
  EXPECT_EQ(verifyWithData(), 0u);
  EXPECT_EQ(changeCommands(*card()), 0u);
  EXPECT_EQ(setPin(f, s, r.oldPin, r.newPin), CKR_PIN_LOCKED);  // known now: no APDU at all
  EXPECT_EQ(verifyWithData(), 0u);
  EXPECT_NE(tokenFlags(r.slot) & CKF_USER_PIN_LOCKED, 0u);
}

// The attempt that exhausts the counter: the card locks, C_SetPIN answers CKR_PIN_LOCKED.
TEST_P(SetPinRole, LastTryLocks) {
  const Role& r = GetParam();
  CK_SESSION_HANDLE s = open(r.slot, kRw);
  const int tries = r.sign ? 5 : 3;
  for (int i = 1; i < tries; ++i) {
    ASSERT_EQ(setPin(f, s, r.sign ? "WRONG1" : "9999", r.newPin), CKR_PIN_INCORRECT);
  }
  EXPECT_NE(tokenFlags(r.slot) & CKF_USER_PIN_FINAL_TRY, 0u);
  EXPECT_EQ(setPin(f, s, r.sign ? "WRONG1" : "9999", r.newPin), CKR_PIN_LOCKED);
  EXPECT_EQ(card()->triesLeft(r.sign), 0);
  EXPECT_NE(tokenFlags(r.slot) & CKF_USER_PIN_LOCKED, 0u);
}

INSTANTIATE_TEST_SUITE_P(Tokens, SetPinRole, ::testing::Values(kAuth, kSign),
                         [](const auto& info) { return std::string(info.param.name); });

struct Malformed {
  const char* name;
  CK_SLOT_ID slot;
  std::string oldPin;
  std::string newPin;
  CK_RV rv;
};

class SetPinMalformed : public ModuleTest, public ::testing::WithParamInterface<Malformed> {};

// A new PIN that breaks the rules of the PIN it replaces: CKR_PIN_LEN_RANGE (length) or
// CKR_PIN_INVALID (characters); a malformed current PIN cannot be right: CKR_PIN_INCORRECT. No
// APDU at all, so no try is spent and the flags do not move.
TEST_P(SetPinMalformed, RefusedWithoutAnyApdu) {
  const Malformed& m = GetParam();
  CK_SESSION_HANDLE s = open(m.slot, kRw);
  const CK_FLAGS before = tokenFlags(m.slot);
  clearLog();
  EXPECT_EQ(setPin(f, s, m.oldPin, m.newPin), m.rv);
  EXPECT_EQ(apdus(), 0u) << "no APDU at all for a malformed PIN";
  EXPECT_EQ(tokenFlags(m.slot), before);
}

INSTANTIATE_TEST_SUITE_P(
    Pins, SetPinMalformed,
    ::testing::Values(
        Malformed{"AuthShort", kAuthSlot, kAuthPin, "567", CKR_PIN_LEN_RANGE},
        Malformed{"AuthLong", kAuthSlot, kAuthPin, "56789", CKR_PIN_LEN_RANGE},
        Malformed{"AuthEmpty", kAuthSlot, kAuthPin, "", CKR_PIN_LEN_RANGE},
        Malformed{"AuthLetter", kAuthSlot, kAuthPin, "56a8", CKR_PIN_INVALID},
        Malformed{"AuthNul", kAuthSlot, kAuthPin,
                  std::string("56\0"
                              "8",
                              4),
                  CKR_PIN_INVALID},
        Malformed{"AuthOldMalformed", kAuthSlot, "12a4", "5678", CKR_PIN_INCORRECT},
        Malformed{"AuthBothMalformed", kAuthSlot, "12", "5", CKR_PIN_LEN_RANGE},
        Malformed{"SignShort", kSignSlot, kSignPin, "NEW12", CKR_PIN_LEN_RANGE},
        Malformed{"SignLong", kSignSlot, kSignPin, "NEWPASSWORD123456", CKR_PIN_LEN_RANGE},
        Malformed{"SignDash", kSignSlot, kSignPin, "NEW-PASS", CKR_PIN_INVALID},
        Malformed{"SignUtf8", kSignSlot, kSignPin,
                  "\xC3\x84"
                  "BCDEF",
                  CKR_PIN_INVALID},
        Malformed{"SignOldMalformed", kSignSlot, "ABC 123", "NEWPASS1", CKR_PIN_INCORRECT}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ModuleTest, SetPinArguments) {
  CK_SESSION_HANDLE s = open(kAuthSlot, kRw);
  CK_UTF8CHAR pin[] = "1234";
  clearLog();
  EXPECT_EQ(f->C_SetPIN(s, nullptr, 4, pin, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_SetPIN(s, pin, 4, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_SetPIN(9999, pin, 4, pin, 4), CKR_SESSION_HANDLE_INVALID);
  // No protected authentication path: NULL PINs are just empty ones.
  EXPECT_EQ(f->C_SetPIN(s, nullptr, 0, nullptr, 0), CKR_PIN_LEN_RANGE);
  EXPECT_EQ(apdus(), 0u);
}

// A change on one token does not log out the other: the VERIFY made for it is cleared only when no
// token of the card is logged in (SELECT AID would log out both).
TEST_F(ModuleTest, SetPinKeepsTheOtherTokensLogin) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  CK_SESSION_HANDLE s = open(kSignSlot, kRw);
  clearLog();
  ASSERT_EQ(setPin(f, s, kSignPin, "NEWPASS1"), CKR_OK);
  for (const auto& e : card()->log()) {
    EXPECT_NE(e.command, "00A4040C0AD392F000260100000001") << "SELECT AID logs out the other token";
  }
  EXPECT_EQ(sessionState(a), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  EXPECT_EQ(login(s, CKU_USER, "NEWPASS1"), CKR_OK);
}

// A wrong current PIN on a logged-in token: the card's failed VERIFY drops its verified PIN, so
// the login ends (Token::loggedIn follows the card, module/README.md); nothing else changes.
TEST_F(ModuleTest, SetPinWithWrongCurrentPinWhileLoggedIn) {
  CK_SESSION_HANDLE s = open(kAuthSlot, kRw);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  EXPECT_EQ(setPin(f, s, "9999", "5678"), CKR_PIN_INCORRECT);
  EXPECT_EQ(card()->triesLeft(false), 2);
  EXPECT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  EXPECT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
}

// Debug log and APDU trace of a change: the calls and the masked APDUs are there, no PIN is.
TEST_F(ModuleTest, SetPinLogNeverContainsAPin) {
  const std::string path = "/tmp/jpki-module-unit-setpin-" + std::to_string(getpid()) + ".log";
  std::remove(path.c_str());
  restart("log-level = debug\nlog-file = " + path + "\napdu-trace = yes\n");
  CK_SESSION_HANDLE s = open(kSignSlot, kRw);
  ASSERT_EQ(setPin(f, s, kSignPin, "QWERTY99"), CKR_OK);
  ASSERT_EQ(setPin(f, s, "QWERTY99", "zxcv-1"), CKR_PIN_INVALID);
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_NE(text.find("C_SetPIN -> CKR_OK"), std::string::npos);
  EXPECT_NE(text.find("00 24 01 80 ** [secret data masked]"), std::string::npos);
  EXPECT_NE(text.find("C_SetPIN: new PIN refused"), std::string::npos);
  for (const char* secret :
       {"QWERTY99", "515745525459", "51 57 45 52 54 59", "ABC123", "41 42 43 31 32 33", "zxcv"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

struct Fault {
  const char* name;
  jpki::Errc error;
  std::uint8_t ins;  // the APDU that fails: 0x20 VERIFY with data, 0x24 CHANGE REFERENCE DATA
};

class SetPinFault : public ModuleTest, public ::testing::WithParamInterface<Fault> {};

// Whatever goes wrong on the way, C_SetPIN answers one of the codes its section lists (not, e.g.,
// CKR_USER_NOT_LOGGED_IN or CKR_DATA_LEN_RANGE, which rv.cpp gives other session functions).
TEST_P(SetPinFault, OnlyPermittedCodes) {
  const Fault& fault = GetParam();
  CK_SESSION_HANDLE s = open(kAuthSlot, kRw);
  g_readers->setFaultHook([&](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 5 && cmd[1] == fault.ins) {
      throw jpki::Error(fault.error, "injected");
    }
  });
  const CK_RV rv = setPin(f, s, kAuthPin, "5678");
  g_readers->setFaultHook(nullptr);
  EXPECT_TRUE(kSetPinCodes.count(rv)) << "C_SetPIN returned 0x" << std::hex << rv;
  EXPECT_NE(rv, CKR_OK);
}

std::vector<Fault> allFaults() {
  using jpki::Errc;
  const std::pair<const char*, Errc> errors[] = {{"NoService", Errc::NoService},
                                                 {"NoReader", Errc::NoReader},
                                                 {"NoCard", Errc::NoCard},
                                                 {"CardRemoved", Errc::CardRemoved},
                                                 {"CardReset", Errc::CardReset},
                                                 {"CardReplaced", Errc::CardReplaced},
                                                 {"Timeout", Errc::Timeout},
                                                 {"Sharing", Errc::Sharing},
                                                 {"Transport", Errc::Transport},
                                                 {"NotJpki", Errc::NotJpki},
                                                 {"FileNotFound", Errc::FileNotFound},
                                                 {"SecurityStatus", Errc::SecurityStatus},
                                                 {"PinLocked", Errc::PinLocked},
                                                 {"PinFormat", Errc::PinFormat},
                                                 {"NewPinFormat", Errc::NewPinFormat},
                                                 {"BadResponse", Errc::BadResponse},
                                                 {"CardStatus", Errc::CardStatus},
                                                 {"InvalidInput", Errc::InvalidInput}};
  std::vector<Fault> out;
  for (const auto& [name, e] : errors) {
    out.push_back({name, e, 0x20});
    out.push_back({name, e, 0x24});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Errors, SetPinFault, ::testing::ValuesIn(allFaults()),
                         [](const auto& info) {
                           return std::string(info.param.ins == 0x20 ? "Verify" : "Change") +
                                  info.param.name;
                         });

}  // namespace
}  // namespace jt
