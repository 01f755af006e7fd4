// SPDX-License-Identifier: MIT
/* Wrong PINs until the card locks them (its own process: the card is spent afterwards). The flags
 * follow the card's retry counter at each step, read without spending a try; a locked PIN is
 * answered CKR_PIN_LOCKED without sending VERIFY. */
#include <string.h>

#include "harness.h"

#define PIN_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)

static void wrong(CK_SESSION_HANDLE s, const char* pin, CK_RV expected) {
  const int before = card("verify-count");
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), expected);
  assert_int_equal(card("verify-count"), before + 1);
  assert_int_equal(session_state(s), CKS_RO_PUBLIC_SESSION);
}

static void expect_flags(CK_SLOT_ID slot, CK_FLAGS expected) {
  CK_FLAGS got = token_flags(slot) & PIN_FLAGS;
  if (got != expected) fail_msg("PIN flags 0x%lx, expected 0x%lx", got, expected);
}

static void auth_pin_locks(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  card("clear-log");
  assert_int_equal(card("auth-tries"), 3);
  expect_flags(auth_slot, 0);

  /* A wrong PIN, then the right one: the counter is back to 3. */
  wrong(s, "0000", CKR_PIN_INCORRECT);
  expect_flags(auth_slot, CKF_USER_PIN_COUNT_LOW);
  login(s, CKU_USER, AUTH_PIN);
  assert_rv(p11->C_Logout(s), CKR_OK);
  expect_flags(auth_slot, 0);
  assert_int_equal(card("auth-tries"), 3);

  wrong(s, "9999", CKR_PIN_INCORRECT);
  expect_flags(auth_slot, CKF_USER_PIN_COUNT_LOW);
  assert_int_equal(card("auth-tries"), 2);
  wrong(s, "9998", CKR_PIN_INCORRECT);
  expect_flags(auth_slot, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  assert_int_equal(card("auth-tries"), 1);
  /* The last try: the PIN was incorrect and is now locked; v2.40 allows either answer. */
  {
    const int before = card("verify-count");
    assert_rv_either(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "9997", 4), CKR_PIN_INCORRECT,
                     CKR_PIN_LOCKED);
    assert_int_equal(card("verify-count"), before + 1);
  }
  expect_flags(auth_slot, CKF_USER_PIN_LOCKED);
  assert_int_equal(card("auth-tries"), 0);

  /* Locked: even the right PIN is refused, and the card never sees it. */
  const int verifies = card("verify-count");
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)AUTH_PIN, 4), CKR_PIN_LOCKED);
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "0000", 4), CKR_PIN_LOCKED);
  assert_int_equal(card("verify-count"), verifies);
  expect_flags(auth_slot, CKF_USER_PIN_LOCKED);
  /* The other token's password is untouched. */
  expect_flags(sign_slot, 0);
  assert_rv(p11->C_CloseSession(s), CKR_OK);

  /* Still locked after the module restarts (the state is on the card). */
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
  find_token_slots();
  expect_flags(auth_slot, CKF_USER_PIN_LOCKED);
}

static void sign_password_locks(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(sign_slot, 0);
  card("clear-log");
  assert_int_equal(card("sign-tries"), 5);
  expect_flags(sign_slot, 0);
  wrong(s, "WRONG1", CKR_PIN_INCORRECT);
  expect_flags(sign_slot, CKF_USER_PIN_COUNT_LOW);
  wrong(s, "wrong2", CKR_PIN_INCORRECT); /* upper-cased, still wrong */
  expect_flags(sign_slot, CKF_USER_PIN_COUNT_LOW);
  wrong(s, "WRONG3", CKR_PIN_INCORRECT);
  expect_flags(sign_slot, CKF_USER_PIN_COUNT_LOW);
  wrong(s, "WRONG4", CKR_PIN_INCORRECT);
  expect_flags(sign_slot, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  assert_int_equal(card("sign-tries"), 1);
  assert_rv_either(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "WRONG5", 6), CKR_PIN_INCORRECT,
                   CKR_PIN_LOCKED);
  expect_flags(sign_slot, CKF_USER_PIN_LOCKED);
  const int verifies = card("verify-count");
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)SIGN_PIN, 6), CKR_PIN_LOCKED);
  assert_int_equal(card("verify-count"), verifies);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* A fresh card in the same reader brings fresh counters (and a new token state). */
static void fresh_card_unlocked(void** state) {
  (void)state;
  card("remove");
  drain_slot_events();
  card("insert-fresh");
  drain_slot_events();
  find_token_slots();
  expect_flags(auth_slot, 0);
  expect_flags(sign_slot, 0);
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  login(s, CKU_USER, AUTH_PIN);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(auth_pin_locks),
      T(sign_password_locks),
      T(fresh_card_unlocked),
  };
  return cmocka_run_group_tests_name("pin_lock", tests, setup_loaded, NULL);
}
