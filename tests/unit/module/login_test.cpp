// SPDX-License-Identifier: MIT
// Login: malformed PINs never reach the card, state shared per token, logout clears both tokens of
// a card, user types, reset by another process.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "fixture.h"

namespace jt {
namespace {

struct Malformed {
  CK_SLOT_ID slot;
  std::string pin;
};

class MalformedPin : public ModuleTest, public ::testing::WithParamInterface<Malformed> {};

TEST_P(MalformedPin, RefusedWithoutCardContact) {
  const Malformed& m = GetParam();
  CK_SESSION_HANDLE s = open(m.slot);
  const CK_FLAGS before = tokenFlags(m.slot);
  clearLog();
  EXPECT_EQ(login(s, CKU_USER, m.pin), CKR_PIN_INCORRECT);
  EXPECT_EQ(apdus(), 0u) << "no APDU at all for a malformed PIN";
  EXPECT_EQ(tokenFlags(m.slot), before);
  EXPECT_EQ(sessionState(s), CKS_RO_PUBLIC_SESSION);
}

INSTANTIATE_TEST_SUITE_P(
    Pins, MalformedPin,
    ::testing::Values(Malformed{kAuthSlot, ""}, Malformed{kAuthSlot, "123"},
                      Malformed{kAuthSlot, "12345"}, Malformed{kAuthSlot, "12a4"},
                      Malformed{kAuthSlot, std::string("12\0"
                                                       "4",
                                                       4)},
                      Malformed{kSignSlot, "ABC12"}, Malformed{kSignSlot, "ABC 123"},
                      Malformed{kSignSlot, "ABCDEFGHIJKLMNOPQ"}, Malformed{kSignSlot, "ABC-123"}));

TEST_F(ModuleTest, LoginStateIsSharedByTheTokensSessions) {
  CK_SESSION_HANDLE a = open(kAuthSlot), b = open(kAuthSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  CK_SESSION_HANDLE other = open(kSignSlot);
  EXPECT_EQ(sessionState(a), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(sessionState(b), CKS_RW_PUBLIC_SESSION);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  EXPECT_EQ(sessionState(a), CKS_RO_USER_FUNCTIONS);
  EXPECT_EQ(sessionState(b), CKS_RW_USER_FUNCTIONS);
  EXPECT_EQ(sessionState(other), CKS_RO_PUBLIC_SESSION);  // the other token has its own PIN
  EXPECT_EQ(login(b, CKU_USER, kAuthPin), CKR_USER_ALREADY_LOGGED_IN);
  ASSERT_EQ(f->C_Logout(b), CKR_OK);
  EXPECT_EQ(sessionState(a), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(f->C_Logout(a), CKR_USER_NOT_LOGGED_IN);
}

TEST_F(ModuleTest, LogoutClearsBothTokensOfTheCard) {
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  EXPECT_EQ(sessionState(s), CKS_RO_USER_FUNCTIONS);
  ASSERT_EQ(f->C_Logout(a), CKR_OK);
  EXPECT_EQ(sessionState(a), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(sessionState(s), CKS_RO_PUBLIC_SESSION);  // documented: the card logs out both keys
}

TEST_F(ModuleTest, LowerCaseSignPasswordIsNormalised) {
  CK_SESSION_HANDLE s = open(kSignSlot);
  EXPECT_EQ(login(s, CKU_USER, "abc123"), CKR_OK);
  EXPECT_EQ(sessionState(s), CKS_RO_USER_FUNCTIONS);
}

TEST_F(ModuleTest, UserTypes) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  // CKU_SO is a valid user type, but the card has no SO PIN (v2.40 §5.6 C_Login): refused by the
  // state of the sessions first, else as an incorrect PIN; no PIN reaches the card.
  EXPECT_EQ(login(s, CKU_SO, kAuthPin), CKR_SESSION_READ_ONLY_EXISTS);
  EXPECT_EQ(f->C_CloseSession(s), CKR_OK);
  const CK_SESSION_HANDLE rw = open(kAuthSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  EXPECT_EQ(login(rw, CKU_SO, kAuthPin), CKR_PIN_INCORRECT);
  ASSERT_EQ(login(rw, CKU_USER, kAuthPin), CKR_OK);
  EXPECT_EQ(login(rw, CKU_SO, kAuthPin), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
  EXPECT_EQ(f->C_Logout(rw), CKR_OK);
  EXPECT_EQ(verifyWithData(), 1u) << "only the user's login";
  s = open(kAuthSlot);
  EXPECT_EQ(login(s, 77, kAuthPin), CKR_USER_TYPE_INVALID);
  EXPECT_EQ(login(s, CKU_CONTEXT_SPECIFIC, kAuthPin), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(f->C_Login(s, CKU_USER, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(login(9999, CKU_USER, kAuthPin), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(verifyWithData(), 1u) << "only the one user login above reached the card";
}

TEST_F(ModuleTest, CardResetByAnotherProcessLogsOut) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(sessionState(s), CKS_RO_USER_FUNCTIONS);
  g_readers->resetCard(0);
  tokenFlags(kAuthSlot);  // the next card access notices the reset
  EXPECT_EQ(sessionState(s), CKS_RO_PUBLIC_SESSION);
  EXPECT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);  // and a new login works
  EXPECT_EQ(sessionState(s), CKS_RO_USER_FUNCTIONS);
}

// A login ended by a reset stays ended even when the card's verified flag comes back without a
// C_Login: C_SetPIN on the token VERIFYs the current PIN, and must then clear that VERIFY again
// (the token was not logged in) instead of taking it for the old login (Token::loginGeneration).
TEST_F(ModuleTest, LoginEndedByResetDoesNotComeBackWithSetPin) {
  CK_SESSION_HANDLE s = open(kAuthSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  g_readers->resetCard(0);
  tokenFlags(kAuthSlot);  // the next card access notices the reset
  ASSERT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  std::string oldPin = kAuthPin, newPin = "5678";
  ASSERT_EQ(f->C_SetPIN(s, reinterpret_cast<CK_UTF8CHAR_PTR>(oldPin.data()), oldPin.size(),
                        reinterpret_cast<CK_UTF8CHAR_PTR>(newPin.data()), newPin.size()),
            CKR_OK);
  EXPECT_EQ(sessionState(s), CKS_RW_PUBLIC_SESSION);
  EXPECT_FALSE(card()->verified(false)) << "the VERIFY made for the change was left on the card";
}

}  // namespace
}  // namespace jt

namespace jt {
namespace {

// Debug log with the APDU trace: calls and APDUs are there, the PINs are not.
TEST_F(ModuleTest, DebugLogAndApduTraceNeverContainAPin) {
  const std::string path = "/tmp/jpki-module-unit-log-" + std::to_string(getpid()) + ".log";
  std::remove(path.c_str());
  restart("log-level = debug\nlog-file = " + path + "\napdu-trace = yes\n");
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  ASSERT_EQ(login(a, CKU_USER, "12"), CKR_PIN_INCORRECT);  // malformed: reason logged
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  EXPECT_NE(text.find("C_Login -> CKR_OK"), std::string::npos);
  EXPECT_NE(text.find("C_Login: PIN refused"), std::string::npos);
  EXPECT_NE(text.find("apdu"), std::string::npos);
  for (const char* secret :
       {"31323334", "31 32 33 34", "414243313233", "41 42 43 31 32 33", "ABC123"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace jt
