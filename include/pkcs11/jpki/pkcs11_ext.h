// SPDX-License-Identifier: MIT
// PKCS#11 3.0 names for both header generations the supported distributions ship:
//  - p11-kit 0.24 (Debian 12): a v2.40 pkcs11.h (CRYPTOKI_VERSION_MAJOR 2) without the 3.0 types;
//    they are declared here, with the layout and spelling of p11-kit 0.25's header, so the module
//    code is the same for both (v3.0 §3.6 CK_INTERFACE, §4.2 CK_FUNCTION_LIST_3_0, §5.x types);
//  - p11-kit >= 0.25 (Debian 13): a v3.x pkcs11.h that has them all; nothing is declared again.
// The constants below are guarded one by one: either header may or may not have them.
#pragma once

#include <p11-kit/pkcs11.h>

#ifndef CKO_PROFILE
#define CKO_PROFILE (0x9UL)
#endif
#ifndef CKA_PROFILE_ID
#define CKA_PROFILE_ID (0x601UL)
#endif
#ifndef CKP_INVALID_ID
#define CKP_INVALID_ID (0x0UL)
#endif
#ifndef CKP_BASELINE_PROVIDER
#define CKP_BASELINE_PROVIDER (0x1UL)
#endif
#ifndef CKP_EXTENDED_PROVIDER
#define CKP_EXTENDED_PROVIDER (0x2UL)
#endif
#ifndef CKP_AUTHENTICATION_TOKEN
#define CKP_AUTHENTICATION_TOKEN (0x3UL)
#endif
#ifndef CKP_PUBLIC_CERTIFICATES_TOKEN
#define CKP_PUBLIC_CERTIFICATES_TOKEN (0x4UL)
#endif
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE (0x1UL)
#endif

#if CRYPTOKI_VERSION_MAJOR < 3

#ifdef __cplusplus
extern "C" {
#endif

// v3.0 §3.6: an interface is a name, a function list and flags (p11-kit spells the name char*).
typedef struct CK_INTERFACE {
  char* pInterfaceName;
  CK_VOID_PTR pFunctionList;
  CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE* CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR* CK_INTERFACE_PTR_PTR;

// v3.0 §5.2, §5.6.x, §5.x message-based functions: the function types of the 3.0 list.
typedef CK_RV (*CK_C_GetInterfaceList)(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
typedef CK_RV (*CK_C_GetInterface)(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                   CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);
typedef CK_RV (*CK_C_LoginUser)(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                                CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
                                CK_ULONG ulUsernameLen);
typedef CK_RV (*CK_C_SessionCancel)(CK_SESSION_HANDLE hSession, CK_FLAGS flags);
// C_MessageEncryptInit, C_MessageDecryptInit, C_MessageSignInit, C_MessageVerifyInit
typedef CK_RV (*CK_C_MessageInit_)(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE);
// C_EncryptMessage, C_DecryptMessage: parameter, associated data, input, output
typedef CK_RV (*CK_C_CryptMessage_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
                                    CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
// C_EncryptMessageBegin, C_DecryptMessageBegin: parameter, associated data
typedef CK_RV (*CK_C_CryptMessageBegin_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR,
                                         CK_ULONG);
// C_EncryptMessageNext, C_DecryptMessageNext: parameter, input part, output part, flags
typedef CK_RV (*CK_C_CryptMessageNext_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR,
                                        CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR, CK_FLAGS);
// C_MessageEncryptFinal, C_MessageDecryptFinal, C_MessageSignFinal, C_MessageVerifyFinal
typedef CK_RV (*CK_C_MessageFinal_)(CK_SESSION_HANDLE);
// C_SignMessage, C_SignMessageNext: parameter, data, signature (output)
typedef CK_RV (*CK_C_SignMessage_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG,
                                   CK_BYTE_PTR, CK_ULONG_PTR);
// C_SignMessageBegin, C_VerifyMessageBegin: parameter
typedef CK_RV (*CK_C_MessageBegin_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG);
// C_VerifyMessage, C_VerifyMessageNext: parameter, data, signature (input)
typedef CK_RV (*CK_C_VerifyMessage_)(CK_SESSION_HANDLE, CK_VOID_PTR, CK_ULONG, CK_BYTE_PTR,
                                     CK_ULONG, CK_BYTE_PTR, CK_ULONG);

// v3.0 §4.2 (pkcs11t.h): the 2.40 list followed by the 24 functions 3.0 added, in this order.
typedef struct CK_FUNCTION_LIST_3_0 {
  CK_VERSION version;
  CK_C_Initialize C_Initialize;
  CK_C_Finalize C_Finalize;
  CK_C_GetInfo C_GetInfo;
  CK_C_GetFunctionList C_GetFunctionList;
  CK_C_GetSlotList C_GetSlotList;
  CK_C_GetSlotInfo C_GetSlotInfo;
  CK_C_GetTokenInfo C_GetTokenInfo;
  CK_C_GetMechanismList C_GetMechanismList;
  CK_C_GetMechanismInfo C_GetMechanismInfo;
  CK_C_InitToken C_InitToken;
  CK_C_InitPIN C_InitPIN;
  CK_C_SetPIN C_SetPIN;
  CK_C_OpenSession C_OpenSession;
  CK_C_CloseSession C_CloseSession;
  CK_C_CloseAllSessions C_CloseAllSessions;
  CK_C_GetSessionInfo C_GetSessionInfo;
  CK_C_GetOperationState C_GetOperationState;
  CK_C_SetOperationState C_SetOperationState;
  CK_C_Login C_Login;
  CK_C_Logout C_Logout;
  CK_C_CreateObject C_CreateObject;
  CK_C_CopyObject C_CopyObject;
  CK_C_DestroyObject C_DestroyObject;
  CK_C_GetObjectSize C_GetObjectSize;
  CK_C_GetAttributeValue C_GetAttributeValue;
  CK_C_SetAttributeValue C_SetAttributeValue;
  CK_C_FindObjectsInit C_FindObjectsInit;
  CK_C_FindObjects C_FindObjects;
  CK_C_FindObjectsFinal C_FindObjectsFinal;
  CK_C_EncryptInit C_EncryptInit;
  CK_C_Encrypt C_Encrypt;
  CK_C_EncryptUpdate C_EncryptUpdate;
  CK_C_EncryptFinal C_EncryptFinal;
  CK_C_DecryptInit C_DecryptInit;
  CK_C_Decrypt C_Decrypt;
  CK_C_DecryptUpdate C_DecryptUpdate;
  CK_C_DecryptFinal C_DecryptFinal;
  CK_C_DigestInit C_DigestInit;
  CK_C_Digest C_Digest;
  CK_C_DigestUpdate C_DigestUpdate;
  CK_C_DigestKey C_DigestKey;
  CK_C_DigestFinal C_DigestFinal;
  CK_C_SignInit C_SignInit;
  CK_C_Sign C_Sign;
  CK_C_SignUpdate C_SignUpdate;
  CK_C_SignFinal C_SignFinal;
  CK_C_SignRecoverInit C_SignRecoverInit;
  CK_C_SignRecover C_SignRecover;
  CK_C_VerifyInit C_VerifyInit;
  CK_C_Verify C_Verify;
  CK_C_VerifyUpdate C_VerifyUpdate;
  CK_C_VerifyFinal C_VerifyFinal;
  CK_C_VerifyRecoverInit C_VerifyRecoverInit;
  CK_C_VerifyRecover C_VerifyRecover;
  CK_C_DigestEncryptUpdate C_DigestEncryptUpdate;
  CK_C_DecryptDigestUpdate C_DecryptDigestUpdate;
  CK_C_SignEncryptUpdate C_SignEncryptUpdate;
  CK_C_DecryptVerifyUpdate C_DecryptVerifyUpdate;
  CK_C_GenerateKey C_GenerateKey;
  CK_C_GenerateKeyPair C_GenerateKeyPair;
  CK_C_WrapKey C_WrapKey;
  CK_C_UnwrapKey C_UnwrapKey;
  CK_C_DeriveKey C_DeriveKey;
  CK_C_SeedRandom C_SeedRandom;
  CK_C_GenerateRandom C_GenerateRandom;
  CK_C_GetFunctionStatus C_GetFunctionStatus;
  CK_C_CancelFunction C_CancelFunction;
  CK_C_WaitForSlotEvent C_WaitForSlotEvent;
  CK_C_GetInterfaceList C_GetInterfaceList;
  CK_C_GetInterface C_GetInterface;
  CK_C_LoginUser C_LoginUser;
  CK_C_SessionCancel C_SessionCancel;
  CK_C_MessageInit_ C_MessageEncryptInit;
  CK_C_CryptMessage_ C_EncryptMessage;
  CK_C_CryptMessageBegin_ C_EncryptMessageBegin;
  CK_C_CryptMessageNext_ C_EncryptMessageNext;
  CK_C_MessageFinal_ C_MessageEncryptFinal;
  CK_C_MessageInit_ C_MessageDecryptInit;
  CK_C_CryptMessage_ C_DecryptMessage;
  CK_C_CryptMessageBegin_ C_DecryptMessageBegin;
  CK_C_CryptMessageNext_ C_DecryptMessageNext;
  CK_C_MessageFinal_ C_MessageDecryptFinal;
  CK_C_MessageInit_ C_MessageSignInit;
  CK_C_SignMessage_ C_SignMessage;
  CK_C_MessageBegin_ C_SignMessageBegin;
  CK_C_SignMessage_ C_SignMessageNext;
  CK_C_MessageFinal_ C_MessageSignFinal;
  CK_C_MessageInit_ C_MessageVerifyInit;
  CK_C_VerifyMessage_ C_VerifyMessage;
  CK_C_MessageBegin_ C_VerifyMessageBegin;
  CK_C_VerifyMessage_ C_VerifyMessageNext;
  CK_C_MessageFinal_ C_MessageVerifyFinal;
} CK_FUNCTION_LIST_3_0;
typedef CK_FUNCTION_LIST_3_0* CK_FUNCTION_LIST_3_0_PTR;

// The 3.0 entry points the module exports beside C_GetFunctionList (module/jpki-pkcs11.map).
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);

#ifdef __cplusplus
}
#endif

#endif  // CRYPTOKI_VERSION_MAJOR < 3
