// SPDX-License-Identifier: MIT
/* The harness of the CMocka suite: see harness.h. */
#include "harness.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CK_FUNCTION_LIST_PTR p11;
void* p11_library;
CK_SLOT_ID auth_slot, sign_slot;
static int (*control_fn)(const char*);

generic_fn module_function(const char* name) {
  void* address = dlsym(p11_library, name);
  generic_fn fn = NULL;
  memcpy((void*)&fn, (const void*)&address, sizeof fn);
  return fn;
}

void harness_load(void) {
  if (p11 != NULL) return;
  const char* path = getenv("JPKI_P11_MODULE");
  if (path == NULL || *path == '\0') path = JPKI_TESTCARD_MODULE_PATH;
  p11_library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (p11_library == NULL) fail_msg("dlopen(%s): %s", path, dlerror());
  CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)module_function("C_GetFunctionList");
  if (get_list == NULL) fail_msg("%s does not export C_GetFunctionList", path);
  control_fn = (int (*)(const char*))module_function("jpki_testcard_control");
  CK_FUNCTION_LIST_PTR list = NULL;
  assert_rv(get_list(&list), CKR_OK);
  assert_non_null(list);
  p11 = list;
}

int card(const char* command) {
  if (control_fn == NULL) fail_msg("the module has no jpki_testcard_control (not a test build)");
  int result = control_fn(command);
  if (result < 0) fail_msg("jpki_testcard_control(\"%s\") failed", command);
  return result;
}

int setup_loaded(void** state) {
  (void)state;
  harness_load();
  return 0;
}

int setup_initialized(void** state) {
  (void)state;
  harness_load();
  CK_RV rv = p11->C_Initialize(NULL);
  if (rv != CKR_OK) {
    print_error("C_Initialize(NULL) returned %s\n", rv_name(rv));
    return -1;
  }
  find_token_slots();
  return 0;
}

int teardown_finalize(void** state) {
  (void)state;
  CK_RV rv = p11->C_Finalize(NULL);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
    print_error("C_Finalize(NULL) returned %s\n", rv_name(rv));
    return -1;
  }
  return 0;
}

void find_token_slots(void) {
  CK_SLOT_ID slots[16];
  CK_ULONG count = 16;
  assert_rv(p11->C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
  auth_slot = sign_slot = BOGUS_SLOT;
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info;
    assert_rv(p11->C_GetTokenInfo(slots[i], &info), CKR_OK);
    if (info.ulMinPinLen == 4) auth_slot = slots[i];
    if (info.ulMinPinLen == 6) sign_slot = slots[i];
  }
}

CK_SESSION_HANDLE open_session(CK_SLOT_ID slot, CK_FLAGS extra_flags) {
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  assert_rv(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | extra_flags, NULL, NULL, &session),
            CKR_OK);
  assert_int_not_equal(session, CK_INVALID_HANDLE);
  return session;
}

void login(CK_SESSION_HANDLE session, CK_USER_TYPE user, const char* pin) {
  assert_rv(p11->C_Login(session, user, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
}

CK_FLAGS token_flags(CK_SLOT_ID slot) {
  CK_TOKEN_INFO info;
  assert_rv(p11->C_GetTokenInfo(slot, &info), CKR_OK);
  return info.flags;
}

CK_STATE session_state(CK_SESSION_HANDLE session) {
  CK_SESSION_INFO info;
  assert_rv(p11->C_GetSessionInfo(session, &info), CKR_OK);
  return info.state;
}

CK_ULONG find_objects(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE* out,
                      CK_ULONG max) {
  CK_ATTRIBUTE tmpl = {CKA_CLASS, &cls, sizeof cls};
  assert_rv(
      p11->C_FindObjectsInit(session, cls == ANY_CLASS ? NULL : &tmpl, cls == ANY_CLASS ? 0 : 1),
      CKR_OK);
  CK_ULONG total = 0;
  for (;;) {
    CK_OBJECT_HANDLE chunk[4];
    CK_ULONG got = 0;
    assert_rv(p11->C_FindObjects(session, chunk, 4, &got), CKR_OK);
    if (got == 0) break;
    for (CK_ULONG i = 0; i < got; ++i, ++total) {
      if (total < max) out[total] = chunk[i];
    }
  }
  assert_rv(p11->C_FindObjectsFinal(session), CKR_OK);
  return total;
}

CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls) {
  CK_OBJECT_HANDLE h[8];
  CK_ULONG n = find_objects(session, cls, h, 8);
  if (n != 1) fail_msg("expected one object of class 0x%lx, found %lu", cls, n);
  return h[0];
}

static CK_OBJECT_HANDLE find_cert_by_category(CK_SESSION_HANDLE session, CK_ULONG category) {
  CK_OBJECT_HANDLE h[8];
  CK_ULONG n = find_objects(session, CKO_CERTIFICATE, h, 8);
  CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
  for (CK_ULONG i = 0; i < n && i < 8; ++i) {
    if (get_ulong_attr(session, h[i], CKA_CERTIFICATE_CATEGORY) == category) {
      if (found != CK_INVALID_HANDLE) fail_msg("two certificates of category %lu", category);
      found = h[i];
    }
  }
  if (found == CK_INVALID_HANDLE) fail_msg("no certificate of category %lu", category);
  return found;
}

CK_OBJECT_HANDLE find_user_cert(CK_SESSION_HANDLE session) {
  return find_cert_by_category(session, 1); /* CK_CERTIFICATE_CATEGORY_TOKEN_USER */
}

CK_OBJECT_HANDLE find_ca_cert(CK_SESSION_HANDLE session) {
  return find_cert_by_category(session, 2); /* CK_CERTIFICATE_CATEGORY_AUTHORITY */
}

unsigned char* get_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                        CK_ULONG* len) {
  CK_ATTRIBUTE a = {type, NULL, 0};
  CK_RV rv = p11->C_GetAttributeValue(session, obj, &a, 1);
  if (rv != CKR_OK) fail_msg("C_GetAttributeValue(0x%lx) size: %s", type, rv_name(rv));
  if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION) fail_msg("attribute 0x%lx unavailable", type);
  a.pValue = malloc(a.ulValueLen + 1);
  assert_non_null(a.pValue);
  rv = p11->C_GetAttributeValue(session, obj, &a, 1);
  if (rv != CKR_OK) fail_msg("C_GetAttributeValue(0x%lx) value: %s", type, rv_name(rv));
  if (len != NULL) *len = a.ulValueLen;
  return a.pValue;
}

CK_ULONG get_ulong_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type) {
  CK_ULONG value = 0;
  CK_ATTRIBUTE a = {type, &value, sizeof value};
  assert_rv(p11->C_GetAttributeValue(session, obj, &a, 1), CKR_OK);
  assert_int_equal(a.ulValueLen, sizeof value);
  return value;
}

CK_BBOOL get_bool_attr(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type) {
  CK_BBOOL value = 0xAA;
  CK_ATTRIBUTE a = {type, &value, sizeof value};
  CK_RV rv = p11->C_GetAttributeValue(session, obj, &a, 1);
  if (rv != CKR_OK) fail_msg("C_GetAttributeValue(bool 0x%lx): %s", type, rv_name(rv));
  assert_int_equal(a.ulValueLen, 1);
  if (value != CK_TRUE && value != CK_FALSE) fail_msg("bool attribute 0x%lx = %u", type, value);
  return value;
}

int drain_slot_events(void) {
  int events = 0;
  for (;;) {
    CK_SLOT_ID slot = BOGUS_SLOT;
    CK_RV rv = p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
    if (rv == CKR_NO_EVENT) return events;
    if (rv != CKR_OK) fail_msg("C_WaitForSlotEvent(CKF_DONT_BLOCK): %s", rv_name(rv));
    if (++events > 64) fail_msg("C_WaitForSlotEvent(CKF_DONT_BLOCK) never answers CKR_NO_EVENT");
  }
}

int blank_field(const CK_UTF8CHAR* field, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (field[i] != ' ') return 0;
  }
  return 1;
}

const char* rv_name(CK_RV rv) {
  switch (rv) {
#define N(x) \
  case x:    \
    return #x;
    // clang-format off (one name a line; clang-format 14 and 19 would pack them differently)
    N(CKR_OK)
    N(CKR_CANCEL)
    N(CKR_HOST_MEMORY)
    N(CKR_SLOT_ID_INVALID)
    N(CKR_GENERAL_ERROR)
    N(CKR_FUNCTION_FAILED)
    N(CKR_ARGUMENTS_BAD)
    N(CKR_NO_EVENT)
    N(CKR_NEED_TO_CREATE_THREADS)
    N(CKR_CANT_LOCK)
    N(CKR_ATTRIBUTE_READ_ONLY)
    N(CKR_ATTRIBUTE_SENSITIVE)
    N(CKR_ATTRIBUTE_TYPE_INVALID)
    N(CKR_ATTRIBUTE_VALUE_INVALID)
    N(CKR_ACTION_PROHIBITED)
    N(CKR_DATA_INVALID)
    N(CKR_DATA_LEN_RANGE)
    N(CKR_DEVICE_ERROR)
    N(CKR_DEVICE_MEMORY)
    N(CKR_DEVICE_REMOVED)
    N(CKR_ENCRYPTED_DATA_INVALID)
    N(CKR_ENCRYPTED_DATA_LEN_RANGE)
    N(CKR_FUNCTION_CANCELED)
    N(CKR_FUNCTION_NOT_PARALLEL)
    N(CKR_FUNCTION_NOT_SUPPORTED)
    N(CKR_KEY_HANDLE_INVALID)
    N(CKR_KEY_SIZE_RANGE)
    N(CKR_KEY_TYPE_INCONSISTENT)
    N(CKR_KEY_NOT_NEEDED)
    N(CKR_KEY_CHANGED)
    N(CKR_KEY_NEEDED)
    N(CKR_KEY_INDIGESTIBLE)
    N(CKR_KEY_FUNCTION_NOT_PERMITTED)
    N(CKR_KEY_NOT_WRAPPABLE)
    N(CKR_KEY_UNEXTRACTABLE)
    N(CKR_MECHANISM_INVALID)
    N(CKR_MECHANISM_PARAM_INVALID)
    N(CKR_OBJECT_HANDLE_INVALID)
    N(CKR_OPERATION_ACTIVE)
    N(CKR_OPERATION_NOT_INITIALIZED)
    N(CKR_PIN_INCORRECT)
    N(CKR_PIN_INVALID)
    N(CKR_PIN_LEN_RANGE)
    N(CKR_PIN_EXPIRED)
    N(CKR_PIN_LOCKED)
    N(CKR_SESSION_CLOSED)
    N(CKR_SESSION_COUNT)
    N(CKR_SESSION_HANDLE_INVALID)
    N(CKR_SESSION_PARALLEL_NOT_SUPPORTED)
    N(CKR_SESSION_READ_ONLY)
    N(CKR_SESSION_EXISTS)
    N(CKR_SESSION_READ_ONLY_EXISTS)
    N(CKR_SESSION_READ_WRITE_SO_EXISTS)
    N(CKR_SIGNATURE_INVALID)
    N(CKR_SIGNATURE_LEN_RANGE)
    N(CKR_TEMPLATE_INCOMPLETE)
    N(CKR_TEMPLATE_INCONSISTENT)
    N(CKR_TOKEN_NOT_PRESENT)
    N(CKR_TOKEN_NOT_RECOGNIZED)
    N(CKR_TOKEN_WRITE_PROTECTED)
    N(CKR_UNWRAPPING_KEY_HANDLE_INVALID)
    N(CKR_USER_ALREADY_LOGGED_IN)
    N(CKR_USER_NOT_LOGGED_IN)
    N(CKR_USER_PIN_NOT_INITIALIZED)
    N(CKR_USER_TYPE_INVALID)
    N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
    N(CKR_USER_TOO_MANY_TYPES)
    N(CKR_WRAPPED_KEY_INVALID)
    N(CKR_WRAPPING_KEY_HANDLE_INVALID)
    N(CKR_RANDOM_SEED_NOT_SUPPORTED)
    N(CKR_RANDOM_NO_RNG)
    N(CKR_DOMAIN_PARAMS_INVALID)
    N(CKR_BUFFER_TOO_SMALL)
    N(CKR_SAVED_STATE_INVALID)
    N(CKR_INFORMATION_SENSITIVE)
    N(CKR_STATE_UNSAVEABLE)
    N(CKR_CRYPTOKI_NOT_INITIALIZED)
    N(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    N(CKR_MUTEX_BAD)
    N(CKR_MUTEX_NOT_LOCKED)
    N(CKR_FUNCTION_REJECTED)
    // clang-format on
#undef N
    default:
      return "(unnamed CKR)";
  }
}
