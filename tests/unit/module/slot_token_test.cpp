// SPDX-License-Identifier: MIT
// Slots and tokens: ids, presence, labels and identity, PIN flags (no try spent), no card I/O
// where none is allowed.
#include <regex>
#include <set>

#include "fixture.h"

namespace jt {
namespace {

std::vector<CK_SLOT_ID> slots(CK_FUNCTION_LIST_PTR f, CK_BBOOL present) {
  CK_ULONG n = 0;
  EXPECT_EQ(f->C_GetSlotList(present, nullptr, &n), CKR_OK);
  std::vector<CK_SLOT_ID> ids(n);
  if (n > 0) {
    CK_ULONG small = 0;
    EXPECT_EQ(f->C_GetSlotList(present, ids.data(), &small), CKR_BUFFER_TOO_SMALL);
    EXPECT_EQ(small, n);
    EXPECT_EQ(f->C_GetSlotList(present, ids.data(), &n), CKR_OK);
  }
  return ids;
}

TEST_F(ModuleTest, InitializeAndSlotQueriesDoNoCardIo) {
  EXPECT_EQ(slots(f, CK_FALSE), (std::vector<CK_SLOT_ID>{kAuthSlot, kSignSlot}));
  CK_SLOT_INFO info;
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &info), CKR_OK);
  EXPECT_EQ(info.flags, CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | CKF_TOKEN_PRESENT);
  EXPECT_NE(trimmed(info.slotDescription, 64).find("Virtual PCD"), std::string::npos);
  CK_ULONG n = 0;
  EXPECT_EQ(f->C_GetMechanismList(kAuthSlot, nullptr, &n), CKR_OK);
  EXPECT_EQ(apdus(), 0u);
  EXPECT_EQ(f->C_GetSlotInfo(7, &info), CKR_SLOT_ID_INVALID);
}

TEST_F(ModuleTest, SlotListNeverShrinksAndNewReadersAreAppended) {
  g_readers->remove(0);
  EXPECT_EQ(slots(f, CK_FALSE).size(), 2u);
  EXPECT_TRUE(slots(f, CK_TRUE).empty());
  CK_SLOT_INFO info;
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &info), CKR_OK);
  EXPECT_EQ(info.flags & CKF_TOKEN_PRESENT, 0u);
  CK_TOKEN_INFO ti;
  EXPECT_EQ(f->C_GetTokenInfo(kAuthSlot, &ti), CKR_TOKEN_NOT_PRESENT);
  g_readers->addReader("Second Reader");
  EXPECT_EQ(slots(f, CK_FALSE), (std::vector<CK_SLOT_ID>{0, 1, 2, 3}));
  g_readers->insert(1, makeCard(pkiB()));
  EXPECT_EQ(slots(f, CK_TRUE), (std::vector<CK_SLOT_ID>{2, 3}));
}

TEST_F(ModuleTest, TokenInfo) {
  CK_TOKEN_INFO auth, sign;
  ASSERT_EQ(f->C_GetTokenInfo(kAuthSlot, &auth), CKR_OK);
  ASSERT_EQ(f->C_GetTokenInfo(kSignSlot, &sign), CKR_OK);
  const std::string authLabel = trimmed(auth.label, 32), signLabel = trimmed(sign.label, 32);
  const std::string serial = trimmed(auth.serialNumber, 16);
  EXPECT_TRUE(std::regex_match(serial, std::regex("[0-9A-F]{16}"))) << serial;
  EXPECT_EQ(trimmed(sign.serialNumber, 16), serial);
  EXPECT_EQ(authLabel, "JPKI Auth " + serial.substr(0, 8));
  EXPECT_EQ(signLabel, "JPKI Sign " + serial.substr(0, 8));
  EXPECT_EQ(authLabel.find(':'), std::string::npos);
  EXPECT_EQ(trimmed(auth.manufacturerID, 32), "J-LIS");
  EXPECT_EQ(trimmed(auth.model, 16), "MyNumberCard");
  EXPECT_EQ(auth.ulMinPinLen, 4u);
  EXPECT_EQ(auth.ulMaxPinLen, 4u);
  EXPECT_EQ(sign.ulMinPinLen, 6u);
  EXPECT_EQ(sign.ulMaxPinLen, 16u);
  const CK_FLAGS base =
      CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED;
  EXPECT_EQ(auth.flags, base);
  EXPECT_EQ(sign.flags, base);
  EXPECT_EQ(auth.flags & CKF_RNG, 0u);
  EXPECT_EQ(verifyWithData(), 0u);
}

TEST_F(ModuleTest, TwoCardsHaveDifferentSerials) {
  restart("", 2);
  g_readers->insert(1, makeCard(pkiB()));
  CK_TOKEN_INFO a, b;
  ASSERT_EQ(f->C_GetTokenInfo(0, &a), CKR_OK);
  ASSERT_EQ(f->C_GetTokenInfo(2, &b), CKR_OK);
  EXPECT_NE(trimmed(a.serialNumber, 16), trimmed(b.serialNumber, 16));
  EXPECT_NE(trimmed(a.label, 32), trimmed(b.label, 32));
}

TEST_F(ModuleTest, ConfigAuthOnlyExposesOneSlotPerReader) {
  restart("tokens = auth-only\n");
  EXPECT_EQ(slots(f, CK_FALSE), (std::vector<CK_SLOT_ID>{kAuthSlot}));
  restart("tokens = sign-only\n");
  EXPECT_EQ(slots(f, CK_FALSE), (std::vector<CK_SLOT_ID>{kSignSlot}));
}

TEST_F(ModuleTest, ReaderExcludeFilter) {
  restart("reader-exclude = Virtual*\n");
  EXPECT_TRUE(slots(f, CK_FALSE).empty());
}

struct PinCase {
  CK_SLOT_ID slot;
  const char* wrong;
  const char* right;
  int tries;
};

class PinFlags : public ModuleTest, public ::testing::WithParamInterface<PinCase> {};

// Each wrong PIN updates the flags (read with the empty VERIFY: no try spent); at 0 the token is
// locked and the right PIN is refused without a VERIFY reaching the card.
TEST_P(PinFlags, WrongPinsUntilLocked) {
  const PinCase& pc = GetParam();
  CK_SESSION_HANDLE s = open(pc.slot);
  for (int i = 1; i <= pc.tries; ++i) {
    // The attempt that exhausts the counter reports CKR_PIN_LOCKED (the card answers 63C0).
    ASSERT_EQ(login(s, CKU_USER, pc.wrong), i < pc.tries ? CKR_PIN_INCORRECT : CKR_PIN_LOCKED)
        << "attempt " << i;
    const CK_FLAGS flags = tokenFlags(pc.slot);
    const int left = pc.tries - i;
    EXPECT_EQ((flags & CKF_USER_PIN_COUNT_LOW) != 0, left > 0) << left;
    EXPECT_EQ((flags & CKF_USER_PIN_FINAL_TRY) != 0, left == 1) << left;
    EXPECT_EQ((flags & CKF_USER_PIN_LOCKED) != 0, left == 0) << left;
    EXPECT_EQ(card()->triesLeft(pc.slot == kSignSlot), left);
  }
  const std::size_t verifies = verifyWithData();
  EXPECT_EQ(login(s, CKU_USER, pc.right), CKR_PIN_LOCKED);
  EXPECT_EQ(verifyWithData(), verifies);
  EXPECT_EQ(sessionState(s), CKS_RO_PUBLIC_SESSION);
}

TEST_P(PinFlags, RightPinResetsTheCounter) {
  const PinCase& pc = GetParam();
  CK_SESSION_HANDLE s = open(pc.slot);
  ASSERT_EQ(login(s, CKU_USER, pc.wrong), CKR_PIN_INCORRECT);
  EXPECT_NE(tokenFlags(pc.slot) & CKF_USER_PIN_COUNT_LOW, 0u);
  ASSERT_EQ(login(s, CKU_USER, pc.right), CKR_OK);
  EXPECT_EQ(tokenFlags(pc.slot) & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY), 0u);
}

INSTANTIATE_TEST_SUITE_P(Tokens, PinFlags,
                         ::testing::Values(PinCase{kAuthSlot, "9999", kAuthPin, 3},
                                           PinCase{kSignSlot, "WRONG1", kSignPin, 5}));

}  // namespace
}  // namespace jt

namespace jt {
namespace {

std::shared_ptr<VirtualCard> profileCard(jpki::vcard::Profile profile) {
  static const CardPki noSign = jpki::vcard::generatePki(jpki::vcard::Profile::NoSignCert);
  jpki::vcard::CardOptions options;
  options.profile = profile;
  return std::make_shared<VirtualCard>(
      profile == jpki::vcard::Profile::NoSignCert ? noSign : pkiA(), options);
}

TEST_F(ModuleTest, LockedCardReportsLockedWithoutSpendingATry) {
  g_readers->remove(0);
  g_readers->insert(0, profileCard(jpki::vcard::Profile::Locked));
  for (CK_SLOT_ID slot : {kAuthSlot, kSignSlot}) {
    EXPECT_NE(tokenFlags(slot) & CKF_USER_PIN_LOCKED, 0u) << slot;
    CK_SESSION_HANDLE s = open(slot);
    EXPECT_EQ(login(s, CKU_USER, slot == kAuthSlot ? kAuthPin : kSignPin), CKR_PIN_LOCKED);
  }
  EXPECT_EQ(verifyWithData(), 0u);
}

TEST_F(ModuleTest, JukiCardModel) {
  g_readers->remove(0);
  g_readers->insert(0, profileCard(jpki::vcard::Profile::Juki));
  CK_TOKEN_INFO info;
  ASSERT_EQ(f->C_GetTokenInfo(kAuthSlot, &info), CKR_OK);
  EXPECT_EQ(trimmed(info.model, 16), "JukiCard");
}

TEST_F(ModuleTest, CardWithoutSignatureCertificate) {
  g_readers->remove(0);
  g_readers->insert(0, profileCard(jpki::vcard::Profile::NoSignCert));
  CK_SESSION_HANDLE a = open(kAuthSlot);
  EXPECT_EQ(find(a).size(), 4u);
  CK_SESSION_HANDLE s = open(kSignSlot);
  for (CK_OBJECT_HANDLE h : find(s)) {
    CK_OBJECT_CLASS cls = 0;
    CK_ATTRIBUTE attr{CKA_CLASS, &cls, sizeof cls};
    EXPECT_EQ(f->C_GetAttributeValue(s, h, &attr, 1), CKR_OK);
    EXPECT_EQ(cls, CKO_CERTIFICATE);  // at most the CA certificate
  }
}

}  // namespace
}  // namespace jt
