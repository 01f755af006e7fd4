// SPDX-License-Identifier: MIT
/* The CMocka suite's harness: loads the module under test with dlopen, resolves
 * C_GetFunctionList and the test card's control function, and offers the small helpers every test
 * file needs (slot discovery, sessions, login, object search, return-code names).
 *
 * The module is the file named by $JPKI_P11_MODULE, else the test build this suite was compiled
 * against (JPKI_TESTCARD_MODULE_PATH). */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "jpki/pkcs11_ext.h"

extern CK_FUNCTION_LIST_PTR p11;
extern void* p11_library;

/* The test card's PINs (vcard CardOptions defaults). */
#define AUTH_PIN "1234"
#define SIGN_PIN "ABC123"
#define BOGUS_HANDLE ((CK_ULONG)0x7A5E1234UL)
#define BOGUS_SLOT ((CK_SLOT_ID)0x7A5E1234UL)

typedef void (*generic_fn)(void);
/* dlsym() for a function (POSIX guarantees the conversion; ISO C does not, hence memcpy). */
generic_fn module_function(const char* name);

/* Loads the module once per process (fails the test on error). */
void harness_load(void);
/* jpki_testcard_control() of the test build; fails the test when the module lacks it. */
int card(const char* command);

/* cmocka setup/teardown: load + C_Initialize(NULL) + slot discovery / C_Finalize. */
int setup_initialized(void** state);
int teardown_finalize(void** state);
/* Setup that only loads the module (the library is left uninitialized). */
int setup_loaded(void** state);

/* The slots of the card's two tokens, found by their PIN length ranges (auth 4/4, sign 6/16). */
extern CK_SLOT_ID auth_slot, sign_slot;
void find_token_slots(void);

const char* rv_name(CK_RV rv);

/* Fails with both codes' names unless `expr` returns `expected`. */
#define assert_rv(expr, expected)                                                 \
  do {                                                                            \
    CK_RV rv_got_ = (expr);                                                       \
    CK_RV rv_want_ = (expected);                                                  \
    if (rv_got_ != rv_want_)                                                      \
      fail_msg("%s\n  returned %s (0x%lx), expected %s", #expr, rv_name(rv_got_), \
               (unsigned long)rv_got_, rv_name(rv_want_));                        \
  } while (0)

/* Fails unless `expr` returns one of the two codes (where PKCS#11 permits either answer). */
#define assert_rv_either(expr, a, b)                                                    \
  do {                                                                                  \
    CK_RV rv_got_ = (expr);                                                             \
    if (rv_got_ != (CK_RV)(a) && rv_got_ != (CK_RV)(b))                                 \
      fail_msg("%s\n  returned %s (0x%lx), expected %s or %s", #expr, rv_name(rv_got_), \
               (unsigned long)rv_got_, rv_name(a), rv_name(b));                         \
  } while (0)

/* Three permitted answers. */
#define assert_rv_one_of(expr, a, b, c)                                                     \
  do {                                                                                      \
    CK_RV rv_got_ = (expr);                                                                 \
    if (rv_got_ != (CK_RV)(a) && rv_got_ != (CK_RV)(b) && rv_got_ != (CK_RV)(c))            \
      fail_msg("%s\n  returned %s (0x%lx), expected %s, %s or %s", #expr, rv_name(rv_got_), \
               (unsigned long)rv_got_, rv_name(a), rv_name(b), rv_name(c));                 \
  } while (0)

CK_SESSION_HANDLE open_session(CK_SLOT_ID slot, CK_FLAGS extra_flags);
void login(CK_SESSION_HANDLE session, CK_USER_TYPE user, const char* pin);
CK_FLAGS token_flags(CK_SLOT_ID slot);
CK_STATE session_state(CK_SESSION_HANDLE session);

/* Finds all objects matching {CKA_CLASS=cls} (cls == (CK_ULONG)-1: no template). Returns the
 * count; fills at most max handles. */
CK_ULONG find_objects(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE* out,
                      CK_ULONG max);
#define ANY_CLASS (~(CK_OBJECT_CLASS)0)
/* Finds exactly one object of the class, optionally restricted to a certificate category
 * (0: any); fails otherwise. */
CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls);
CK_OBJECT_HANDLE find_user_cert(CK_SESSION_HANDLE session);
CK_OBJECT_HANDLE find_ca_cert(CK_SESSION_HANDLE session);

/* Reads one attribute into a malloc'd buffer (caller frees); fails unless CKR_OK. */
unsigned char* get_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                        CK_ULONG* len);
CK_ULONG get_ulong_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type);
CK_BBOOL get_bool_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type);

/* Drains pending slot events with CKF_DONT_BLOCK; returns how many were pending. */
int drain_slot_events(void);

/* True when a fixed-size, blank-padded PKCS#11 text field is all blanks. */
int blank_field(const CK_UTF8CHAR* field, size_t size);
