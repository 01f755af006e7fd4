// SPDX-License-Identifier: MIT
// The C boundary: function list, interfaces, C_GetInfo, initialization rules, NULL arguments,
// unsupported and write functions, fork.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>

#include "fixture.h"

namespace jt {
namespace {

TEST(EntryPoints, FunctionListAndInterfaces) {
  EXPECT_EQ(C_GetFunctionList(nullptr), CKR_ARGUMENTS_BAD);
  CK_FUNCTION_LIST_PTR list = nullptr;
  ASSERT_EQ(C_GetFunctionList(&list), CKR_OK);
  EXPECT_EQ(list->version.major, 2);
  EXPECT_EQ(list->version.minor, 40);

  // v3.0 §5.2: two interfaces, "PKCS 11" 3.0 (the default, first) and "PKCS 11" 2.40.
  CK_ULONG n = 0;
  EXPECT_EQ(C_GetInterfaceList(nullptr, nullptr), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(C_GetInterfaceList(nullptr, &n), CKR_OK);
  ASSERT_EQ(n, 2u);
  CK_INTERFACE ifaces[2]{};
  n = 1;
  EXPECT_EQ(C_GetInterfaceList(ifaces, &n), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(C_GetInterfaceList(ifaces, &n), CKR_OK);
  ASSERT_EQ(n, 2u);
  for (const CK_INTERFACE& i : ifaces) {
    EXPECT_STREQ(reinterpret_cast<char*>(i.pInterfaceName), "PKCS 11");
    EXPECT_EQ(i.flags, 0u);
  }
  auto* list30 = static_cast<CK_FUNCTION_LIST_3_0*>(ifaces[0].pFunctionList);
  EXPECT_EQ(list30->version.major, 3);
  EXPECT_EQ(list30->version.minor, 0);
  EXPECT_EQ(ifaces[1].pFunctionList, list);
  // The 3.0 list starts with the 2.40 functions (C_GetInfo aside: it reports the version called).
  EXPECT_EQ(list30->C_Initialize, list->C_Initialize);
  EXPECT_EQ(list30->C_Sign, list->C_Sign);
  EXPECT_EQ(list30->C_WaitForSlotEvent, list->C_WaitForSlotEvent);
  // The 3.0 list's C_GetInterfaceList / C_GetInterface are this module's (internal functions: an
  // exported name could bind to libp11-kit's, which exports the same ones).
  CK_INTERFACE again[2]{};
  CK_ULONG againN = 2;
  ASSERT_EQ(list30->C_GetInterfaceList(again, &againN), CKR_OK);
  EXPECT_EQ(again[0].pFunctionList, list30);
  EXPECT_EQ(again[1].pFunctionList, list);
  CK_INTERFACE_PTR via30 = nullptr;
  ASSERT_EQ(list30->C_GetInterface(nullptr, nullptr, &via30, 0), CKR_OK);
  EXPECT_EQ(via30->pFunctionList, list30);
  EXPECT_NE(list30->C_MessageVerifyFinal, nullptr);

  CK_INTERFACE_PTR got = nullptr;
  EXPECT_EQ(C_GetInterface(nullptr, nullptr, &got, 0), CKR_OK);
  EXPECT_EQ(got->pFunctionList, list30);
  CK_UTF8CHAR name[] = "PKCS 11";
  CK_VERSION v240{2, 40}, v30{3, 0}, v31{3, 1}, v220{2, 20};
  EXPECT_EQ(C_GetInterface(name, nullptr, &got, 0), CKR_OK);
  EXPECT_EQ(got->pFunctionList, list30);
  EXPECT_EQ(C_GetInterface(name, &v30, &got, 0), CKR_OK);
  EXPECT_EQ(got->pFunctionList, list30);
  EXPECT_EQ(C_GetInterface(name, &v240, &got, 0), CKR_OK);
  EXPECT_EQ(got->pFunctionList, list);
  EXPECT_EQ(C_GetInterface(name, &v31, &got, 0), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name, &v220, &got, 0), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name, nullptr, &got, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
  CK_UTF8CHAR other[] = "Vendor";
  EXPECT_EQ(C_GetInterface(other, nullptr, &got, 0), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(C_GetInterface(name, nullptr, nullptr, 0), CKR_ARGUMENTS_BAD);
}

TEST(EntryPoints, NotInitialized) {
  CK_FUNCTION_LIST_PTR f = nullptr;
  ASSERT_EQ(C_GetFunctionList(&f), CKR_OK);
  CK_INFO info;
  CK_ULONG n = 0;
  EXPECT_EQ(f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f->C_GetSlotList(CK_FALSE, nullptr, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f->C_EncryptInit(1, nullptr, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f->C_Finalize(nullptr), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST_F(ModuleTest, GetInfo) {
  CK_INFO info;
  ASSERT_EQ(f->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 2);
  EXPECT_EQ(info.cryptokiVersion.minor, 40);
  EXPECT_EQ(trimmed(info.manufacturerID, 32), "jpki-pkcs11");
  EXPECT_EQ(trimmed(info.libraryDescription, 32), "JPKI My Number Card PKCS#11");
  EXPECT_EQ(info.libraryVersion.major, 0);
  EXPECT_EQ(info.libraryVersion.minor, 1);
}

TEST_F(ModuleTest, InitializeRules) {
  EXPECT_EQ(f->C_Initialize(nullptr), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  EXPECT_EQ(f->C_Finalize(reinterpret_cast<CK_VOID_PTR>(1)), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;

  CK_C_INITIALIZE_ARGS args{};
  int reserved = 0;
  args.pReserved = &reserved;
  EXPECT_EQ(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);
  args = {};
  args.CreateMutex = [](CK_VOID_PTR_PTR) -> CK_RV { return CKR_OK; };
  EXPECT_EQ(f->C_Initialize(&args), CKR_ARGUMENTS_BAD);  // some but not all callbacks
  args = {};
  args.flags = CKF_OS_LOCKING_OK | CKF_LIBRARY_CANT_CREATE_OS_THREADS;  // what NSS passes
  ASSERT_EQ(f->C_Initialize(&args), CKR_OK);
  initialized = true;
}

std::atomic<int> g_locks{0};
std::atomic<int> g_creates{0};
std::atomic<int> g_destroys{0};

TEST_F(ModuleTest, ApplicationMutexCallbacksAreUsed) {
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  CK_C_INITIALIZE_ARGS args{};
  args.CreateMutex = [](CK_VOID_PTR_PTR m) -> CK_RV {
    ++g_creates;
    *m = new std::mutex;
    return CKR_OK;
  };
  args.DestroyMutex = [](CK_VOID_PTR m) -> CK_RV {
    ++g_destroys;
    delete static_cast<std::mutex*>(m);
    return CKR_OK;
  };
  args.LockMutex = [](CK_VOID_PTR m) -> CK_RV {
    ++g_locks;
    static_cast<std::mutex*>(m)->lock();
    return CKR_OK;
  };
  args.UnlockMutex = [](CK_VOID_PTR m) -> CK_RV {
    static_cast<std::mutex*>(m)->unlock();
    return CKR_OK;
  };
  ASSERT_EQ(f->C_Initialize(&args), CKR_OK);
  EXPECT_EQ(g_creates.load(), 1);
  CK_INFO info;
  const int before = g_locks.load();
  EXPECT_EQ(f->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(g_locks.load(), before + 1);
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  EXPECT_EQ(g_destroys.load(), 1);
}

TEST_F(ModuleTest, NullArgumentsAreRejected) {
  CK_SESSION_HANDLE s = open(kAuthSlot);
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_MECHANISM dmech{CKM_SHA256, nullptr, 0};
  const std::vector<std::pair<const char*, std::function<CK_RV()>>> calls = {
      {"GetInfo", [&] { return f->C_GetInfo(nullptr); }},
      {"GetSlotList", [&] { return f->C_GetSlotList(CK_FALSE, nullptr, nullptr); }},
      {"GetSlotInfo", [&] { return f->C_GetSlotInfo(kAuthSlot, nullptr); }},
      {"GetTokenInfo", [&] { return f->C_GetTokenInfo(kAuthSlot, nullptr); }},
      {"GetMechanismList", [&] { return f->C_GetMechanismList(kAuthSlot, nullptr, nullptr); }},
      {"GetMechanismInfo", [&] { return f->C_GetMechanismInfo(kAuthSlot, CKM_RSA_PKCS, nullptr); }},
      {"OpenSession",
       [&] { return f->C_OpenSession(kAuthSlot, CKF_SERIAL_SESSION, nullptr, nullptr, nullptr); }},
      {"GetSessionInfo", [&] { return f->C_GetSessionInfo(s, nullptr); }},
      {"Login", [&] { return f->C_Login(s, CKU_USER, nullptr, 4); }},
      {"GetAttributeValue", [&] { return f->C_GetAttributeValue(s, 1, nullptr, 1); }},
      {"GetObjectSize", [&] { return f->C_GetObjectSize(s, 1, nullptr); }},
      {"FindObjectsInit", [&] { return f->C_FindObjectsInit(s, nullptr, 1); }},
      {"SignInit", [&] { return f->C_SignInit(s, nullptr, 1); }},
      {"VerifyInit", [&] { return f->C_VerifyInit(s, nullptr, 1); }},
      {"DigestInit", [&] { return f->C_DigestInit(s, nullptr); }},
      {"WaitForSlotEvent", [&] { return f->C_WaitForSlotEvent(CKF_DONT_BLOCK, nullptr, nullptr); }},
      {"CreateObject", [&] { return f->C_CreateObject(s, nullptr, 1, nullptr); }},
      {"GenerateKeyPair",
       [&] { return f->C_GenerateKeyPair(s, &mech, nullptr, 0, nullptr, 0, nullptr, nullptr); }},
  };
  for (const auto& [name, call] : calls) {
    EXPECT_EQ(call(), CKR_ARGUMENTS_BAD) << name;
  }

  // Within operations.
  ASSERT_EQ(f->C_DigestInit(s, &dmech), CKR_OK);
  EXPECT_EQ(f->C_Digest(s, nullptr, 3, nullptr, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_DigestFinal(s, nullptr, nullptr), CKR_ARGUMENTS_BAD);
  CK_SESSION_HANDLE s2 = open(kAuthSlot);
  ASSERT_EQ(f->C_FindObjectsInit(s2, nullptr, 0), CKR_OK);
  CK_ULONG n;
  EXPECT_EQ(f->C_FindObjects(s2, nullptr, 1, &n), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_FindObjects(s2, nullptr, 1, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(ModuleTest, UnsupportedAndWriteFunctions) {
  CK_SESSION_HANDLE s = open(kAuthSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  CK_BYTE buf[16];
  CK_ULONG len = sizeof buf;
  CK_OBJECT_HANDLE o;
  CK_ATTRIBUTE a{CKA_LABEL, buf, 4};
  CK_UTF8CHAR pin[] = "1234";
  // Invalid session first, then the function's answer.
  EXPECT_EQ(f->C_EncryptInit(9999, &mech, 1), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(f->C_EncryptInit(s, &mech, 1), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_DecryptInit(s, &mech, 1), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_Decrypt(s, buf, 4, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_SignRecoverInit(s, &mech, 1), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_WrapKey(s, &mech, 1, 1, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_GetOperationState(s, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  EXPECT_EQ(f->C_SeedRandom(9999, buf, 4), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(f->C_SeedRandom(s, buf, 4), CKR_RANDOM_NO_RNG);
  EXPECT_EQ(f->C_GenerateRandom(s, buf, 4), CKR_RANDOM_NO_RNG);
  // Argument checks come before the function's own answer (v2.40 §5.15: CKR_ARGUMENTS_BAD).
  EXPECT_EQ(f->C_SeedRandom(s, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_GenerateRandom(s, nullptr, 4), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_GenerateRandom(s, nullptr, 0), CKR_RANDOM_NO_RNG);
  EXPECT_EQ(f->C_CreateObject(s, &a, 1, &o), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(f->C_CreateObject(9999, &a, 1, &o), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(f->C_CopyObject(s, 1, &a, 1, &o), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(f->C_DestroyObject(s, 1), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(f->C_SetAttributeValue(s, 1, &a, 1), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(f->C_InitPIN(s, pin, 4), CKR_TOKEN_WRITE_PROTECTED);
  // The PIN is not write protected (set_pin_test.cpp); a malformed new PIN fails before the card.
  EXPECT_EQ(f->C_SetPIN(s, pin, 4, pin, 3), CKR_PIN_LEN_RANGE);
  EXPECT_EQ(f->C_InitToken(kAuthSlot, pin, 4, buf), CKR_TOKEN_WRITE_PROTECTED);
  EXPECT_EQ(f->C_InitToken(77, pin, 4, buf), CKR_SLOT_ID_INVALID);
}

// v3.0 §5.1.6: the functions 3.0 added that the module does not offer answer
// CKR_FUNCTION_NOT_SUPPORTED, after the initialization and session checks; C_GetInfo through the
// 3.0 list reports Cryptoki 3.0.
TEST_F(ModuleTest, Pkcs11v30Functions) {
  CK_INTERFACE_PTR iface = nullptr;
  ASSERT_EQ(C_GetInterface(nullptr, nullptr, &iface, 0), CKR_OK);
  auto* f3 = static_cast<CK_FUNCTION_LIST_3_0*>(iface->pFunctionList);
  CK_INFO info;
  ASSERT_EQ(f3->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 3);
  EXPECT_EQ(info.cryptokiVersion.minor, 0);
  ASSERT_EQ(f->C_GetInfo(&info), CKR_OK);
  EXPECT_EQ(info.cryptokiVersion.major, 2);

  CK_SESSION_HANDLE s = open(kAuthSlot);
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE buf[256];
  CK_ULONG len = sizeof buf;
  CK_UTF8CHAR pin[] = "1234", user[] = "user";
  for (CK_SESSION_HANDLE h : {CK_SESSION_HANDLE{9999}, s}) {
    const CK_RV want = h == s ? CKR_FUNCTION_NOT_SUPPORTED : CKR_SESSION_HANDLE_INVALID;
    EXPECT_EQ(f3->C_LoginUser(h, CKU_USER, pin, 4, user, 4), want);
    EXPECT_EQ(f3->C_SessionCancel(h, CKF_SIGN), want);
    EXPECT_EQ(f3->C_MessageEncryptInit(h, &mech, 1), want);
    EXPECT_EQ(f3->C_EncryptMessage(h, nullptr, 0, buf, 1, buf, 1, buf, &len), want);
    EXPECT_EQ(f3->C_EncryptMessageBegin(h, nullptr, 0, buf, 1), want);
    EXPECT_EQ(f3->C_EncryptMessageNext(h, nullptr, 0, buf, 1, buf, &len, 0), want);
    EXPECT_EQ(f3->C_MessageEncryptFinal(h), want);
    EXPECT_EQ(f3->C_MessageDecryptInit(h, &mech, 1), want);
    EXPECT_EQ(f3->C_DecryptMessage(h, nullptr, 0, buf, 1, buf, 1, buf, &len), want);
    EXPECT_EQ(f3->C_DecryptMessageBegin(h, nullptr, 0, buf, 1), want);
    EXPECT_EQ(f3->C_DecryptMessageNext(h, nullptr, 0, buf, 1, buf, &len, 0), want);
    EXPECT_EQ(f3->C_MessageDecryptFinal(h), want);
    EXPECT_EQ(f3->C_MessageSignInit(h, &mech, 1), want);
    EXPECT_EQ(f3->C_SignMessage(h, nullptr, 0, buf, 1, buf, &len), want);
    EXPECT_EQ(f3->C_SignMessageBegin(h, nullptr, 0), want);
    EXPECT_EQ(f3->C_SignMessageNext(h, nullptr, 0, buf, 1, buf, &len), want);
    EXPECT_EQ(f3->C_MessageSignFinal(h), want);
    EXPECT_EQ(f3->C_MessageVerifyInit(h, &mech, 1), want);
    EXPECT_EQ(f3->C_VerifyMessage(h, nullptr, 0, buf, 1, buf, 256), want);
    EXPECT_EQ(f3->C_VerifyMessageBegin(h, nullptr, 0), want);
    EXPECT_EQ(f3->C_VerifyMessageNext(h, nullptr, 0, buf, 1, buf, 256), want);
    EXPECT_EQ(f3->C_MessageVerifyFinal(h), want);
  }
  ASSERT_EQ(f->C_Finalize(nullptr), CKR_OK);
  initialized = false;
  EXPECT_EQ(f3->C_LoginUser(s, CKU_USER, pin, 4, user, 4), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f3->C_MessageSignInit(s, &mech, 1), CKR_CRYPTOKI_NOT_INITIALIZED);
  EXPECT_EQ(f3->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
}

TEST_F(ModuleTest, SessionsRequireSerialFlagAndHandlesAreNeverReused) {
  CK_SESSION_HANDLE h;
  EXPECT_EQ(f->C_OpenSession(kAuthSlot, 0, nullptr, nullptr, &h),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED);
  EXPECT_EQ(f->C_OpenSession(42, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_SLOT_ID_INVALID);
  std::vector<CK_SESSION_HANDLE> seen;
  for (int i = 0; i < 5; ++i) {
    CK_SESSION_HANDLE s = open(kAuthSlot);
    for (CK_SESSION_HANDLE old : seen) {
      EXPECT_NE(old, s);
    }
    seen.push_back(s);
    EXPECT_EQ(f->C_CloseSession(s), CKR_OK);
    EXPECT_EQ(f->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
  }
  CK_SESSION_HANDLE a = open(kAuthSlot), b = open(kSignSlot);
  EXPECT_EQ(f->C_CloseAllSessions(kAuthSlot), CKR_OK);
  CK_SESSION_INFO info;
  EXPECT_EQ(f->C_GetSessionInfo(a, &info), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(f->C_GetSessionInfo(b, &info), CKR_OK);
  EXPECT_EQ(info.slotID, kSignSlot);
  EXPECT_EQ(info.flags, CKF_SERIAL_SESSION);
}

TEST_F(ModuleTest, ForkChildMustReinitialize) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    CK_INFO info;
    int code = 0;
    if (f->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED) {
      code |= 1;
    }
    if (f->C_Initialize(nullptr) != CKR_OK) {
      code |= 2;  // p11-kit: no C_Finalize in the child
    }
    if (f->C_GetInfo(&info) != CKR_OK) {
      code |= 4;
    }
    CK_ULONG n = 0;
    if (f->C_GetSlotList(CK_TRUE, nullptr, &n) != CKR_OK || n != 2) {
      code |= 8;
    }
    if (f->C_Finalize(nullptr) != CKR_OK) {
      code |= 16;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  CK_INFO info;
  EXPECT_EQ(f->C_GetInfo(&info), CKR_OK);  // the parent is unaffected
}

}  // namespace
}  // namespace jt
