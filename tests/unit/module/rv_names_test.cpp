// The CK_RV mapping (rv.cpp) stays within the codes PKCS#11 v2.40 permits for session and for
// slot/token functions, and the names table knows the constants the log prints.
#include <set>

#include "fixture.h"
#include "guard.h"
#include "names.h"

namespace jt {
namespace {

using jpki::Errc;

const Errc kAll[] = {
    Errc::NoService,    Errc::NoReader,       Errc::NoCard,    Errc::CardRemoved, Errc::CardReset,
    Errc::CardReplaced, Errc::Timeout,        Errc::Sharing,   Errc::Transport,   Errc::NotJpki,
    Errc::FileNotFound, Errc::SecurityStatus, Errc::PinLocked, Errc::PinFormat,   Errc::BadResponse,
    Errc::CardStatus,   Errc::InvalidInput,   Errc::NewPinFormat};

TEST(RvMapping, SessionFunctionsGetSessionCodes) {
  // Codes every session function with card I/O may return (v2.40 §5.1 common + §5.2 per function).
  // (CKR_PIN_LOCKED / CKR_PIN_INCORRECT are C_Login's and C_SetPIN's alone: session.cpp returns
  // them itself.)
  const std::set<CK_RV> permitted = {CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR, CKR_USER_NOT_LOGGED_IN,
                                     CKR_DATA_LEN_RANGE};
  for (Errc e : kAll) {
    const CK_RV rv = jpki::module::rvFromError(jpki::Error(e, "x"), true);
    EXPECT_TRUE(permitted.count(rv)) << jpki::errcName(e) << " -> " << jpki::module::names::rv(rv);
    EXPECT_NE(rv, CKR_TOKEN_NOT_PRESENT);  // not a session-function code
  }
  EXPECT_EQ(jpki::module::rvFromError(jpki::Error(Errc::CardRemoved, "x"), true),
            CKR_DEVICE_REMOVED);
  EXPECT_EQ(jpki::module::rvFromError(jpki::Error(Errc::SecurityStatus, "x"), true),
            CKR_USER_NOT_LOGGED_IN);
  EXPECT_EQ(jpki::module::rvFromError(jpki::Error(Errc::Timeout, "x"), true), CKR_DEVICE_ERROR);
}

TEST(RvMapping, SlotFunctionsGetSlotCodes) {
  const std::set<CK_RV> permitted = {CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED,
                                     CKR_DEVICE_ERROR, CKR_ARGUMENTS_BAD};
  for (Errc e : kAll) {
    const CK_RV rv = jpki::module::rvFromError(jpki::Error(e, "x"), false);
    EXPECT_TRUE(permitted.count(rv)) << jpki::errcName(e) << " -> " << jpki::module::names::rv(rv);
    EXPECT_NE(rv, CKR_DEVICE_REMOVED);
  }
  EXPECT_EQ(jpki::module::rvFromError(jpki::Error(Errc::NoCard, "x"), false),
            CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(jpki::module::rvFromError(jpki::Error(Errc::NotJpki, "x"), false),
            CKR_TOKEN_NOT_RECOGNIZED);
}

TEST(Names, KnownAndUnknownConstants) {
  using namespace jpki::module::names;
  EXPECT_STREQ(rv(CKR_OK), "CKR_OK");
  EXPECT_STREQ(rv(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
  EXPECT_STREQ(rv(0x12345), "CKR_0x12345");
  EXPECT_STREQ(attribute(CKA_ALWAYS_AUTHENTICATE), "CKA_ALWAYS_AUTHENTICATE");
  EXPECT_STREQ(attribute(CKA_PROFILE_ID), "CKA_PROFILE_ID");
  EXPECT_STREQ(mechanism(CKM_SHA256_RSA_PKCS), "CKM_SHA256_RSA_PKCS");
}

// A card inserted that is not a JPKI card: a present slot, but an unrecognised token.
TEST_F(ModuleTest, NonJpkiCardIsNotRecognized) {
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0xA4) {
      throw jpki::Error(jpki::Errc::NotJpki, "injected");
    }
  });
  CK_TOKEN_INFO info;
  const CK_RV rv = f->C_GetTokenInfo(kAuthSlot, &info);
  EXPECT_TRUE(rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_DEVICE_ERROR) << rv;
  g_readers->setFaultHook(nullptr);
}

}  // namespace
}  // namespace jt
