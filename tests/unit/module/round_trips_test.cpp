// SPDX-License-Identifier: MIT
// Issue 20 "host-side cost: no idle round trips": what each entry point asks of the reader system,
// counted (never timed) by the fixture's proxy (g_calls). A call that needs nothing from the card
// lists no readers, connects nothing, opens no transaction and sends no APDU; it may ask the
// reader system at most once whether its last listing is stale (ReaderSystem::changedSinceListing).
// And a change is still seen by the next call.
#include "fixture.h"

namespace jt {
namespace {

class RoundTripTest : public ModuleTest {
 protected:
  // Nothing but (at most `checks`) change checks since the last g_calls.reset().
  void expectNoRoundTrip(const char* what, std::size_t checks = 1) {
    EXPECT_EQ(g_calls.listings, 0U) << what;
    EXPECT_EQ(g_calls.connects, 0U) << what;
    EXPECT_EQ(g_calls.transactions, 0U) << what;
    EXPECT_EQ(g_calls.transmits, 0U) << what;
    EXPECT_EQ(g_calls.waits, 0U) << what;
    EXPECT_LE(g_calls.changeChecks, checks) << what;
    g_calls.reset();
  }
};

TEST_F(RoundTripTest, MemoryOnlyCallsMakeNoRoundTrip) {
  const CK_SESSION_HANDLE s = open(kAuthSlot);
  // Warm the object catalogue and the attribute cache (reads the certificate once).
  CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
  const std::vector<CK_OBJECT_HANDLE> certs = find(s, {{CKA_CLASS, &cls, sizeof cls}});
  ASSERT_FALSE(certs.empty());
  const Bytes value = attr(s, certs[0], CKA_VALUE);
  ASSERT_FALSE(value.empty());
  g_calls.reset();

  ASSERT_EQ(f->C_FindObjectsInit(s, nullptr, 0), CKR_OK);
  expectNoRoundTrip("C_FindObjectsInit");
  CK_OBJECT_HANDLE found[8];
  CK_ULONG n = 0;
  ASSERT_EQ(f->C_FindObjects(s, found, 8, &n), CKR_OK);
  EXPECT_GT(n, 0U);
  expectNoRoundTrip("C_FindObjects");
  ASSERT_EQ(f->C_FindObjectsFinal(s), CKR_OK);
  expectNoRoundTrip("C_FindObjectsFinal");

  CK_SESSION_INFO info;
  ASSERT_EQ(f->C_GetSessionInfo(s, &info), CKR_OK);
  expectNoRoundTrip("C_GetSessionInfo");

  EXPECT_EQ(attr(s, certs[0], CKA_VALUE), value);  // a size query and the value: two calls
  expectNoRoundTrip("C_GetAttributeValue (cached)", 2);
  EXPECT_EQ(attrUlong(s, certs[0], CKA_CLASS), CKO_CERTIFICATE);
  expectNoRoundTrip("C_GetAttributeValue (table)", 2);

  CK_SLOT_INFO slotInfo;
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &slotInfo), CKR_OK);
  expectNoRoundTrip("C_GetSlotInfo");
}

// The check does not see a reader plugged in (pcsc-lite 1.9 cannot tell cheaply): C_GetSlotList
// and C_WaitForSlotEvent list, and so show it.
TEST_F(RoundTripTest, SlotListAndEventsSeeNewReader) {
  CK_ULONG before = 0;
  ASSERT_EQ(f->C_GetSlotList(CK_FALSE, nullptr, &before), CKR_OK);
  CK_SLOT_INFO info;
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &info), CKR_OK);
  g_readers->addReader("Second Reader 01");
  g_readers->insert(1, makeCard(pkiB()));
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &info), CKR_OK);  // a known slot: no listing needed
  CK_SLOT_ID event = 0;
  ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event, nullptr), CKR_OK);
  EXPECT_GE(event, before);
  CK_ULONG after = 0;
  ASSERT_EQ(f->C_GetSlotList(CK_FALSE, nullptr, &after), CKR_OK);
  EXPECT_EQ(after, before + 2);
}

// The removal is seen by the very next memory-only call, without an APDU to the card.
TEST_F(RoundTripTest, RemovalSeenByMemoryOnlyCall) {
  const CK_SESSION_HANDLE s = open(kAuthSlot);
  (void)find(s);
  g_readers->remove(0);
  g_calls.reset();
  EXPECT_EQ(f->C_FindObjectsInit(s, nullptr, 0), CKR_DEVICE_REMOVED);
  EXPECT_EQ(g_calls.listings, 1U);  // the check said "changed": listed once
  EXPECT_EQ(g_calls.transmits, 0U);
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);
}

// Another card in the reader before the module looked: the old session dies, no APDU reaches the
// new card on its behalf, and the new card is a new token.
TEST_F(RoundTripTest, SwapSeenByMemoryOnlyCall) {
  const CK_SESSION_HANDLE s = open(kAuthSlot);
  (void)find(s);
  g_readers->remove(0);
  g_readers->insert(0, makeCard(pkiB()));
  clearLog();
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_DEVICE_REMOVED);
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(apdus(), 0U);
  const CK_SESSION_HANDLE t = open(kAuthSlot);
  EXPECT_EQ(login(t, CKU_USER, kAuthPin), CKR_OK);
}

// A listing that cannot be trusted is never reused: with the service gone every call lists again.
TEST_F(RoundTripTest, ServiceLossListsAgain) {
  const CK_SESSION_HANDLE s = open(kAuthSlot);
  g_readers->setServiceAvailable(false);
  g_calls.reset();
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(s, &info), CKR_DEVICE_REMOVED);
  EXPECT_EQ(g_calls.listings, 1U);
  CK_SLOT_INFO slotInfo;
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &slotInfo), CKR_OK);
  EXPECT_EQ(slotInfo.flags & CKF_TOKEN_PRESENT, 0U);
  EXPECT_EQ(g_calls.listings, 2U);
  g_readers->setServiceAvailable(true);
  ASSERT_EQ(f->C_GetSlotInfo(kAuthSlot, &slotInfo), CKR_OK);
  EXPECT_NE(slotInfo.flags & CKF_TOKEN_PRESENT, 0U);
}

// C_GetTokenInfo shows the PIN counter this process learnt without an APDU; a reset of the card
// (seen at the transaction it still opens) makes it ask the card again.
TEST_F(RoundTripTest, TokenInfoSendsNoApduOnceTheCounterIsKnown) {
  (void)tokenFlags(kAuthSlot);  // learns the counter (empty VERIFY)
  clearLog();
  g_calls.reset();
  EXPECT_EQ(tokenFlags(kAuthSlot) & CKF_USER_PIN_COUNT_LOW, 0U);
  EXPECT_EQ(apdus(), 0U);
  EXPECT_EQ(g_calls.transmits, 0U);
  g_readers->resetCard(0);
  clearLog();
  (void)tokenFlags(kAuthSlot);
  EXPECT_GT(apdus(), 0U) << "after a reset the counter is not known to be current";
}

// Another process typed wrong PINs since this one learnt the counter: the counter this process
// shows is stale, but a PIN still never reaches a locked card, since C_Login reads the counter in
// the transaction of its VERIFY.
TEST_F(RoundTripTest, StaleCounterNeverSendsAPinToALockedCard) {
  const CK_SESSION_HANDLE s = open(kAuthSlot);
  EXPECT_EQ(tokenFlags(kAuthSlot) & CKF_USER_PIN_LOCKED, 0U);
  // The other process: three wrong PINs straight to the card.
  for (const char* apdu : {"00A4040C0AD392F000260100000001", "00A4020C020018", "002000800431313131",
                           "002000800431313131", "002000800431313131"}) {
    (void)card()->process(jpki::parseHex(apdu));
  }
  ASSERT_EQ(card()->triesLeft(false), 0);
  EXPECT_EQ(tokenFlags(kAuthSlot) & CKF_USER_PIN_LOCKED, 0U) << "stale, as documented";
  clearLog();
  EXPECT_EQ(login(s, CKU_USER, kAuthPin), CKR_PIN_LOCKED);
  EXPECT_EQ(verifyWithData(), 0U) << "a PIN was sent to a locked card";
  EXPECT_NE(tokenFlags(kAuthSlot) & CKF_USER_PIN_LOCKED, 0U) << "learnt from the login's check";
}

}  // namespace
}  // namespace jt
