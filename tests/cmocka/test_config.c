// SPDX-License-Identifier: MIT
/* The configuration as a client sees it (one variant per ctest test, chosen by argv[1]):
 *   pki             generates the shared test PKI (the suite's fixture) and checks the defaults;
 *   auth-only       JPKI_PKCS11_TOKENS=auth-only: only the authentication token (for browsers);
 *   sign-only       JPKI_PKCS11_TOKENS=sign-only: only the signature token;
 *   no-always-auth  sign-always-authenticate = no: the signature key signs after one login. */
#include <string.h>

#include "harness.h"

static const char* variant;

static CK_ULONG token_count(void) {
  CK_ULONG n = 0;
  assert_rv(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
  return n;
}

static void defaults(void** state) {
  (void)state;
  assert_int_equal(token_count(), 2);
  assert_int_not_equal(auth_slot, BOGUS_SLOT);
  assert_int_not_equal(sign_slot, BOGUS_SLOT);
}

static void auth_only(void** state) {
  (void)state;
  assert_int_equal(token_count(), 1);
  assert_int_not_equal(auth_slot, BOGUS_SLOT);
  assert_int_equal(sign_slot, BOGUS_SLOT);
}

static void sign_only(void** state) {
  (void)state;
  assert_int_equal(token_count(), 1);
  assert_int_equal(auth_slot, BOGUS_SLOT);
  assert_int_not_equal(sign_slot, BOGUS_SLOT);
}

static void no_always_auth(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(sign_slot, 0);
  login(s, CKU_USER, SIGN_PIN);
  CK_OBJECT_HANDLE key = find_one(s, CKO_PRIVATE_KEY);
  assert_false(get_bool_attr(s, key, CKA_ALWAYS_AUTHENTICATE));
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_BYTE sig[256];
  for (int i = 0; i < 2; ++i) {
    CK_ULONG len = sizeof sig;
    assert_rv(p11->C_SignInit(s, &m, key), CKR_OK);
    assert_rv(p11->C_Sign(s, (CK_BYTE_PTR) "data", 4, sig, &len), CKR_OK);
  }
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

int main(int argc, char** argv) {
  variant = argc > 1 ? argv[1] : "pki";
  struct CMUnitTest test;
  if (strcmp(variant, "auth-only") == 0) {
    test = (struct CMUnitTest)cmocka_unit_test(auth_only);
  } else if (strcmp(variant, "sign-only") == 0) {
    test = (struct CMUnitTest)cmocka_unit_test(sign_only);
  } else if (strcmp(variant, "no-always-auth") == 0) {
    test = (struct CMUnitTest)cmocka_unit_test(no_always_auth);
  } else {
    test = (struct CMUnitTest)cmocka_unit_test(defaults);
  }
  const struct CMUnitTest tests[] = {test};
  return cmocka_run_group_tests_name(variant, tests, setup_initialized, teardown_finalize);
}
