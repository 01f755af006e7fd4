// SPDX-License-Identifier: MIT
/* See all_functions.h. The arguments are valid in shape (non-NULL pointers, sensible lengths) so
 * that the state or handle check is the only reason for the expected answer. */
#include "all_functions.h"

#include <string.h>

#define EXPECT(call)                                                             \
  do {                                                                           \
    CK_RV got_ = p11->call;                                                      \
    if (got_ != expected)                                                        \
      fail_msg("C_" #call "\n  returned %s (0x%lx), expected %s", rv_name(got_), \
               (unsigned long)got_, rv_name(expected));                          \
    ++calls;                                                                     \
  } while (0)

int call_session_functions(CK_SESSION_HANDLE s, CK_RV expected) {
  int calls = 0;
  CK_BYTE buf[512];
  CK_ULONG len = sizeof buf;
  CK_ULONG count = 0;
  CK_SESSION_INFO sinfo;
  CK_OBJECT_HANDLE obj = BOGUS_HANDLE, obj2 = BOGUS_HANDLE;
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}};
  CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_MECHANISM digest = {CKM_SHA256, NULL, 0};
  CK_BYTE data[32] = {0};
  CK_UTF8CHAR pin[] = "1234";

  EXPECT(C_CloseSession(s));
  EXPECT(C_GetSessionInfo(s, &sinfo));
  len = sizeof buf;
  EXPECT(C_GetOperationState(s, buf, &len));
  EXPECT(C_SetOperationState(s, buf, 16, CK_INVALID_HANDLE, CK_INVALID_HANDLE));
  EXPECT(C_Login(s, CKU_USER, pin, 4));
  EXPECT(C_Logout(s));
  EXPECT(C_InitPIN(s, pin, 4));
  EXPECT(C_SetPIN(s, pin, 4, pin, 4));
  EXPECT(C_CreateObject(s, tmpl, 1, &obj));
  EXPECT(C_CopyObject(s, obj, tmpl, 1, &obj2));
  EXPECT(C_DestroyObject(s, obj));
  EXPECT(C_GetObjectSize(s, obj, &len));
  EXPECT(C_GetAttributeValue(s, obj, tmpl, 1));
  EXPECT(C_SetAttributeValue(s, obj, tmpl, 1));
  EXPECT(C_FindObjectsInit(s, tmpl, 1));
  EXPECT(C_FindObjects(s, &obj, 1, &count));
  EXPECT(C_FindObjectsFinal(s));
  len = sizeof buf;
  EXPECT(C_EncryptInit(s, &mech, obj));
  EXPECT(C_Encrypt(s, data, sizeof data, buf, &len));
  EXPECT(C_EncryptUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_EncryptFinal(s, buf, &len));
  EXPECT(C_DecryptInit(s, &mech, obj));
  EXPECT(C_Decrypt(s, data, sizeof data, buf, &len));
  EXPECT(C_DecryptUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_DecryptFinal(s, buf, &len));
  EXPECT(C_DigestInit(s, &digest));
  EXPECT(C_Digest(s, data, sizeof data, buf, &len));
  EXPECT(C_DigestUpdate(s, data, sizeof data));
  EXPECT(C_DigestKey(s, obj));
  EXPECT(C_DigestFinal(s, buf, &len));
  EXPECT(C_SignInit(s, &mech, obj));
  EXPECT(C_Sign(s, data, sizeof data, buf, &len));
  EXPECT(C_SignUpdate(s, data, sizeof data));
  EXPECT(C_SignFinal(s, buf, &len));
  EXPECT(C_SignRecoverInit(s, &mech, obj));
  EXPECT(C_SignRecover(s, data, sizeof data, buf, &len));
  EXPECT(C_VerifyInit(s, &mech, obj));
  EXPECT(C_Verify(s, data, sizeof data, buf, 256));
  EXPECT(C_VerifyUpdate(s, data, sizeof data));
  EXPECT(C_VerifyFinal(s, buf, 256));
  EXPECT(C_VerifyRecoverInit(s, &mech, obj));
  EXPECT(C_VerifyRecover(s, buf, 256, data, &len));
  EXPECT(C_DigestEncryptUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_DecryptDigestUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_SignEncryptUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_DecryptVerifyUpdate(s, data, sizeof data, buf, &len));
  EXPECT(C_GenerateKey(s, &mech, tmpl, 1, &obj));
  EXPECT(C_GenerateKeyPair(s, &mech, tmpl, 1, tmpl, 1, &obj, &obj2));
  EXPECT(C_WrapKey(s, &mech, obj, obj2, buf, &len));
  EXPECT(C_UnwrapKey(s, &mech, obj, data, sizeof data, tmpl, 1, &obj2));
  EXPECT(C_DeriveKey(s, &mech, obj, tmpl, 1, &obj2));
  EXPECT(C_SeedRandom(s, data, sizeof data));
  EXPECT(C_GenerateRandom(s, buf, 16));
  EXPECT(C_GetFunctionStatus(s));
  EXPECT(C_CancelFunction(s));
  return calls;
}

int call_global_functions(CK_SLOT_ID slot, CK_RV expected) {
  int calls = 0;
  CK_INFO info;
  CK_SLOT_ID slots[8];
  CK_ULONG count = 8;
  CK_SLOT_INFO slot_info;
  CK_TOKEN_INFO token_info;
  CK_MECHANISM_TYPE mechs[64];
  CK_MECHANISM_INFO mech_info;
  CK_UTF8CHAR pin[] = "1234";
  CK_UTF8CHAR label[32];
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  memset(label, ' ', sizeof label);

  EXPECT(C_GetInfo(&info));
  EXPECT(C_GetSlotList(CK_FALSE, slots, &count));
  EXPECT(C_GetSlotInfo(slot, &slot_info));
  EXPECT(C_GetTokenInfo(slot, &token_info));
  count = 64;
  EXPECT(C_GetMechanismList(slot, mechs, &count));
  EXPECT(C_GetMechanismInfo(slot, CKM_RSA_PKCS, &mech_info));
  EXPECT(C_InitToken(slot, pin, 4, label));
  EXPECT(C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
  EXPECT(C_CloseAllSessions(slot));
  CK_SLOT_ID event_slot = slot;
  EXPECT(C_WaitForSlotEvent(CKF_DONT_BLOCK, &event_slot, NULL));
  EXPECT(C_Finalize(NULL));
  return calls;
}
