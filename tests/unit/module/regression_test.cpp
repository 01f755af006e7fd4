// SPDX-License-Identifier: MIT
// Regression tests for findings of the CMocka suite and the reliability work (issue 9). Each test
// names the rule it pins down.
#include <cstring>

#include "fixture.h"
#include "jpki/error.h"

namespace jt {
namespace {

class Regression : public ModuleTest {};

// v2.40 §5.6: closing the last session of a token logs its user out, and the card keeps no
// verified PIN for another process.
TEST_F(Regression, CloseLastSessionLogsOutAndClearsCard) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_TRUE(card()->verified(false));
  ASSERT_EQ(f->C_CloseSession(s), CKR_OK);
  EXPECT_FALSE(card()->verified(false));
  s = open(kAuthSlot);
  EXPECT_EQ(sessionState(s), CKS_RO_PUBLIC_SESSION);
}

TEST_F(Regression, CloseOneOfTwoSessionsKeepsLogin) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  CK_SESSION_HANDLE b = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(f->C_CloseSession(a), CKR_OK);
  EXPECT_EQ(sessionState(b), CKS_RO_USER_FUNCTIONS);
  EXPECT_TRUE(card()->verified(false));
}

TEST_F(Regression, CloseAllSessionsLogsOutButKeepsOtherTokenLogin) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  ASSERT_EQ(f->C_CloseAllSessions(kAuthSlot), CKR_OK);
  // The signature token is still logged in, so the card's login stays.
  EXPECT_EQ(sessionState(s), CKS_RO_USER_FUNCTIONS);
  EXPECT_TRUE(card()->verified(true));
  a = open(kAuthSlot);
  EXPECT_EQ(sessionState(a), CKS_RO_PUBLIC_SESSION);
  ASSERT_EQ(f->C_CloseAllSessions(kSignSlot), CKR_OK);
  ASSERT_EQ(f->C_CloseAllSessions(kAuthSlot), CKR_OK);
  EXPECT_FALSE(card()->verified(true));
  EXPECT_FALSE(card()->verified(false));
}

TEST_F(Regression, CloseSessionOfRemovedCardIsQuiet) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  g_readers->remove(0);
  EXPECT_EQ(f->C_CloseSession(s), CKR_OK);
}

// C_Finalize leaves no verified PIN on the card.
TEST_F(Regression, FinalizeClearsCardLogin) {
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  auto c = card();
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  EXPECT_FALSE(c->verified(true));
}

// v2.40 §5.12: a C_Sign that fails (here CKR_ARGUMENTS_BAD) ends the operation.
TEST_F(Regression, SignArgumentsBadEndsOperation) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  CK_OBJECT_HANDLE key = findOne(s, CKO_PRIVATE_KEY, 1);
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  CK_BYTE data[3] = {1, 2, 3};

  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  EXPECT_EQ(f->C_Sign(s, nullptr, 3, sig, &len), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_Sign(s, data, 3, sig, &len), CKR_OPERATION_NOT_INITIALIZED);

  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  EXPECT_EQ(f->C_Sign(s, data, 3, sig, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_SignUpdate(s, data, 3), CKR_OPERATION_NOT_INITIALIZED);

  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  EXPECT_EQ(f->C_SignUpdate(s, nullptr, 3), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED);

  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  ASSERT_EQ(f->C_SignUpdate(s, data, 3), CKR_OK);
  EXPECT_EQ(f->C_SignFinal(s, sig, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED);

  // Size query and CKR_BUFFER_TOO_SMALL keep it.
  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  len = 0;
  EXPECT_EQ(f->C_Sign(s, data, 3, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 256u);
  len = 10;
  EXPECT_EQ(f->C_Sign(s, data, 3, sig, &len), CKR_BUFFER_TOO_SMALL);
  len = sizeof sig;
  EXPECT_EQ(f->C_Sign(s, data, 3, sig, &len), CKR_OK);
}

// A card error during C_Sign ends the operation as well.
TEST_F(Regression, SignCardErrorEndsOperation) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  CK_OBJECT_HANDLE key = findOne(s, CKO_PRIVATE_KEY, 1);
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  CK_BYTE data[3] = {1, 2, 3};
  ASSERT_EQ(f->C_SignInit(s, &m, key), CKR_OK);
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0x2A) {
      throw jpki::Error(jpki::Errc::Transport, "injected");
    }
  });
  EXPECT_NE(f->C_Sign(s, data, 3, sig, &len), CKR_OK);
  g_readers->setFaultHook(nullptr);
  EXPECT_EQ(f->C_Sign(s, data, 3, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
}

// Fault matrix finding: a card pulled in the middle of an exchange surfaces as a transport
// failure; the session function must report CKR_DEVICE_REMOVED (then the session is gone), not
// CKR_DEVICE_ERROR with a session left on a dead token.
TEST_F(Regression, TransportFailureWithCardGoneIsDeviceRemoved) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  CK_OBJECT_HANDLE key = findOne(s, CKO_PRIVATE_KEY, 1);
  g_readers->setFaultHook([](std::size_t reader, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0x2A) {
      g_readers->remove(reader);
      throw jpki::Error(jpki::Errc::Transport, "injected: SCARD_E_NOT_TRANSACTED");
    }
  });
  CK_RV rv = CKR_OK;
  signWith(s, CKM_SHA256_RSA_PKCS, key, Bytes{1}, &rv);
  g_readers->setFaultHook(nullptr);
  EXPECT_EQ(rv, CKR_DEVICE_REMOVED);
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);
  g_readers->insert(0, makeCard(pkiA()));
  s = open(kAuthSlot);
  ASSERT_EQ(login(s, CKU_USER, kAuthPin), CKR_OK);
  signWith(s, CKM_SHA256_RSA_PKCS, findOne(s, CKO_PRIVATE_KEY, 1), Bytes{1});
}

// Fault matrix finding: a card answering 6984 ("PIN locked") to a READ BINARY made C_OpenSession
// return CKR_PIN_LOCKED, a code PKCS#11 permits only for the PIN functions.
TEST_F(Regression, PinLockedStatusOutsideLoginIsDeviceError) {
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0xB0) {
      throw jpki::Error(jpki::Errc::PinLocked, "injected 6984 to READ BINARY", 0x6984);
    }
  });
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  // C_OpenSession reads nothing (one SELECT EF recognises the card); the first read is the
  // token information's.
  EXPECT_EQ(f->C_OpenSession(kAuthSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &s), CKR_OK);
  CK_TOKEN_INFO info;
  EXPECT_EQ(f->C_GetTokenInfo(kAuthSlot, &info), CKR_DEVICE_ERROR);
  g_readers->setFaultHook(nullptr);
  s = open(kAuthSlot);
  // C_Login keeps its own code for a PIN the card reports locked.
  for (int i = 0; i < 3; ++i) {
    login(s, CKU_USER, "9999");
  }
  EXPECT_EQ(login(s, CKU_USER, kAuthPin), CKR_PIN_LOCKED);
}

TEST_F(Regression, VerifyAndDigestArgumentsBadEndOperation) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  CK_OBJECT_HANDLE pub = findOne(s, CKO_PUBLIC_KEY, 1);
  CK_MECHANISM m{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE data[3] = {1, 2, 3};
  CK_BYTE sig[256] = {};
  ASSERT_EQ(f->C_VerifyInit(s, &m, pub), CKR_OK);
  EXPECT_EQ(f->C_Verify(s, data, 3, nullptr, 256), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_Verify(s, data, 3, sig, 256), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f->C_VerifyInit(s, &m, pub), CKR_OK);
  EXPECT_EQ(f->C_VerifyUpdate(s, nullptr, 3), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_VerifyFinal(s, sig, 256), CKR_OPERATION_NOT_INITIALIZED);

  CK_MECHANISM d{CKM_SHA256, nullptr, 0};
  CK_BYTE out[64];
  CK_ULONG len = sizeof out;
  ASSERT_EQ(f->C_DigestInit(s, &d), CKR_OK);
  EXPECT_EQ(f->C_Digest(s, data, 3, out, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_Digest(s, data, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f->C_DigestInit(s, &d), CKR_OK);
  EXPECT_EQ(f->C_DigestUpdate(s, nullptr, 3), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f->C_DigestInit(s, &d), CKR_OK);
  EXPECT_EQ(f->C_DigestFinal(s, out, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  // A failing C_Digest does not end an operation of another kind.
  ASSERT_EQ(f->C_FindObjectsInit(s, nullptr, 0), CKR_OK);
  EXPECT_EQ(f->C_Digest(s, data, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(f->C_FindObjectsFinal(s), CKR_OK);
}

// v2.40 §5.5: mechanisms belong to the token; a slot without one answers CKR_TOKEN_NOT_PRESENT.
TEST_F(Regression, MechanismsNeedToken) {
  g_readers->remove(0);
  CK_MECHANISM_TYPE list[32];
  CK_ULONG n = 32;
  CK_MECHANISM_INFO info;
  EXPECT_EQ(f->C_GetMechanismList(kAuthSlot, list, &n), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(f->C_GetMechanismList(kSignSlot, nullptr, &n), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(f->C_GetMechanismInfo(kAuthSlot, CKM_RSA_PKCS, &info), CKR_TOKEN_NOT_PRESENT);
  EXPECT_EQ(f->C_GetMechanismInfo(99, CKM_RSA_PKCS, &info), CKR_SLOT_ID_INVALID);
  g_readers->insert(0, makeCard(pkiA()));
  EXPECT_EQ(f->C_GetMechanismList(kAuthSlot, nullptr, &n), CKR_OK);
  EXPECT_EQ(f->C_GetMechanismInfo(kAuthSlot, CKM_RSA_PKCS, &info), CKR_OK);
}

}  // namespace
}  // namespace jt
