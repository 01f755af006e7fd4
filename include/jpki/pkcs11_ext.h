// PKCS#11 3.0 names the p11-kit 0.24 header lacks (OASIS pkcs11t.h / pkcs11f.h, v3.0 §5.1, §4.13,
// §4.17). Each one is guarded so a newer header takes precedence.
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

#ifdef __cplusplus
extern "C" {
#endif

#ifndef JPKI_HAVE_CK_INTERFACE
#define JPKI_HAVE_CK_INTERFACE 1
// v3.0 §3.6: an interface is a name, a function list and flags.
typedef struct CK_INTERFACE {
  CK_CHAR* pInterfaceName;
  CK_VOID_PTR pFunctionList;
  CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE* CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR* CK_INTERFACE_PTR_PTR;

typedef CK_RV (*CK_C_GetInterfaceList)(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
typedef CK_RV (*CK_C_GetInterface)(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                   CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);
#endif

// The 3.0 entry points; with C_GetFunctionList the only symbols exported (module/jpki-pkcs11.map).
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);

#ifdef __cplusplus
}
#endif
