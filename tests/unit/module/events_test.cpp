// SPDX-License-Identifier: MIT
// Card removal, replacement, slot events, C_Finalize from another thread, transport faults.
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "fixture.h"
#include "jpki/error.h"

namespace jt {
namespace {

using namespace std::chrono_literals;

TEST_F(ModuleTest, RemovalGivesDeviceRemovedOnceThenSessionHandleInvalid) {
  CK_SESSION_HANDLE a = open(kAuthSlot), b = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  g_readers->remove(0);
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(a, &info), CKR_DEVICE_REMOVED);
  EXPECT_EQ(f->C_GetSessionInfo(a, &info), CKR_SESSION_HANDLE_INVALID);
  CK_ULONG n;
  CK_OBJECT_HANDLE h;
  EXPECT_EQ(f->C_FindObjectsInit(b, nullptr, 0), CKR_DEVICE_REMOVED);
  EXPECT_EQ(f->C_FindObjects(b, &h, 1, &n), CKR_SESSION_HANDLE_INVALID);
  CK_SESSION_HANDLE c;
  EXPECT_EQ(f->C_OpenSession(kAuthSlot, CKF_SERIAL_SESSION, nullptr, nullptr, &c),
            CKR_TOKEN_NOT_PRESENT);
}

TEST_F(ModuleTest, ReinsertedCardIsANewTokenWithNewHandles) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  auto before = find(a);
  CK_TOKEN_INFO t1;
  ASSERT_EQ(f->C_GetTokenInfo(kAuthSlot, &t1), CKR_OK);
  auto same = card();
  g_readers->remove(0);
  g_readers->insert(0, same);  // same card back before the module looked: still a new token
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(a, &info), CKR_DEVICE_REMOVED);
  CK_SESSION_HANDLE b = open(kAuthSlot);
  EXPECT_EQ(sessionState(b), CKS_RO_PUBLIC_SESSION);  // the login did not survive
  for (CK_OBJECT_HANDLE h : find(b)) {
    EXPECT_EQ(std::count(before.begin(), before.end(), h), 0) << "handle reused";
  }
  CK_TOKEN_INFO t2;
  ASSERT_EQ(f->C_GetTokenInfo(kAuthSlot, &t2), CKR_OK);
  EXPECT_EQ(trimmed(t1.serialNumber, 16), trimmed(t2.serialNumber, 16));

  // A different card: different identity.
  g_readers->remove(0);
  g_readers->insert(0, makeCard(pkiB()));
  CK_TOKEN_INFO t3;
  ASSERT_EQ(f->C_GetTokenInfo(kAuthSlot, &t3), CKR_OK);
  EXPECT_NE(trimmed(t1.serialNumber, 16), trimmed(t3.serialNumber, 16));
  EXPECT_EQ(f->C_GetSessionInfo(b, &info), CKR_DEVICE_REMOVED);
  CK_SESSION_HANDLE c = open(kAuthSlot);
  Bytes value = attr(c, findOne(c, CKO_CERTIFICATE, 1), CKA_VALUE);
  EXPECT_EQ(value, pkiB().authCert);
}

TEST_F(ModuleTest, TransportFaultsMapToDeviceErrors) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE key = findOne(a, CKO_PRIVATE_KEY, 1);
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0x2A) {
      throw jpki::Error(jpki::Errc::Timeout, "injected");
    }
  });
  CK_RV rv = CKR_OK;
  signWith(a, CKM_SHA256_RSA_PKCS, key, Bytes{1}, &rv);
  EXPECT_EQ(rv, CKR_DEVICE_ERROR);
  g_readers->setFaultHook([](std::size_t, const Bytes& cmd) {
    if (cmd.size() > 1 && cmd[1] == 0x2A) {
      throw jpki::Error(jpki::Errc::CardRemoved, "injected");
    }
  });
  signWith(a, CKM_SHA256_RSA_PKCS, key, Bytes{1}, &rv);
  EXPECT_EQ(rv, CKR_DEVICE_REMOVED);
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(a, &info), CKR_SESSION_HANDLE_INVALID);
  g_readers->setFaultHook(nullptr);
}

TEST_F(ModuleTest, WaitForSlotEventDontBlock) {
  CK_SLOT_ID slot = 99;
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  g_readers->remove(0);
  std::set<CK_SLOT_ID> events;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_OK);
    events.insert(slot);
  }
  EXPECT_EQ(events, (std::set<CK_SLOT_ID>{kAuthSlot, kSignSlot}));
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  g_readers->insert(0, makeCard(pkiA()));
  ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_OK);
  ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_OK);
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  // A new reader is an event for its (new) slots.
  g_readers->addReader("Second Reader");
  ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);  // empty reader
  g_readers->insert(1, makeCard(pkiB()));
  ASSERT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_OK);
  EXPECT_GE(slot, 2u);
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, nullptr, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(ModuleTest, BlockingWaitReturnsOnInsertion) {
  CK_SLOT_ID slot = 99;
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  auto waiter = std::async(std::launch::async, [&] {
    CK_SLOT_ID s = 99;
    CK_RV rv = f->C_WaitForSlotEvent(0, &s, nullptr);
    return std::pair{rv, s};
  });
  std::this_thread::sleep_for(100ms);
  // Other calls are not blocked by the waiting thread.
  CK_INFO info;
  EXPECT_EQ(f->C_GetInfo(&info), CKR_OK);
  g_readers->remove(0);
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
  auto [rv, s] = waiter.get();
  EXPECT_EQ(rv, CKR_OK);
  EXPECT_TRUE(s == kAuthSlot || s == kSignSlot);
}

TEST_F(ModuleTest, FinalizeFromAnotherThreadUnblocksWait) {
  CK_SLOT_ID slot = 99;
  EXPECT_EQ(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, nullptr), CKR_NO_EVENT);
  auto waiter = std::async(std::launch::async, [&] {
    CK_SLOT_ID s = 99;
    return f->C_WaitForSlotEvent(0, &s, nullptr);
  });
  std::this_thread::sleep_for(150ms);
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(waiter.get(), CKR_CRYPTOKI_NOT_INITIALIZED);
  // NSS re-initialises right away.
  ASSERT_EQ(f->C_Initialize(nullptr), CKR_OK);
  initialized = true;
}

}  // namespace
}  // namespace jt
