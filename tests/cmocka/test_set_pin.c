// SPDX-License-Identifier: MIT
/* C_SetPIN (PKCS#11 v2.40 §5.6) through the C ABI: the PINs are counted buffers (never read past
 * their length, no NUL needed), R/O sessions are refused, a malformed new PIN sends no APDU, a
 * wrong current PIN costs one try, a locked PIN receives no VERIFY, and the login state stays as
 * it was. Every test starts with a fresh card (default PINs, full counters). */
#include <string.h>

#include "harness.h"

#define PIN_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)

/* The same PKI with fresh counters and the default PINs, as a new token. */
static void fresh_card(void) {
  card("remove");
  drain_slot_events();
  card("insert-fresh");
  drain_slot_events();
  find_token_slots();
}

static CK_RV set_pin(CK_SESSION_HANDLE s, const char* old_pin, const char* new_pin) {
  return p11->C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, strlen(old_pin), (CK_UTF8CHAR_PTR)new_pin,
                       strlen(new_pin));
}

static CK_RV try_login(CK_SESSION_HANDLE s, const char* pin) {
  return p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

/* Change, the old PIN refused, the new one logs in; then back while logged in (the login stays). */
static void change_both_pins(void** state) {
  (void)state;
  fresh_card();
  /* Counted, not NUL-terminated: the module must take exactly ulOldLen / ulNewLen bytes. */
  CK_UTF8CHAR old_auth[8] = {'1', '2', '3', '4', 'X', 'X', 'X', 'X'};
  CK_UTF8CHAR new_auth[8] = {'5', '6', '7', '8', '9', '9', '9', '9'};
  CK_SESSION_HANDLE a = open_session(auth_slot, CKF_RW_SESSION);
  card("clear-log");
  assert_rv(p11->C_SetPIN(a, old_auth, 4, new_auth, 4), CKR_OK);
  assert_int_equal(card("verify-count"), 1);
  assert_int_equal(session_state(a), CKS_RW_PUBLIC_SESSION);
  assert_rv(try_login(a, AUTH_PIN), CKR_PIN_INCORRECT);
  assert_int_equal(card("auth-tries"), 2);
  login(a, CKU_USER, "5678");
  assert_int_equal(card("auth-tries"), 3);
  assert_rv(set_pin(a, "5678", AUTH_PIN), CKR_OK);
  assert_int_equal(session_state(a), CKS_RW_USER_FUNCTIONS);
  assert_rv(p11->C_Logout(a), CKR_OK);
  login(a, CKU_USER, AUTH_PIN);

  CK_SESSION_HANDLE s = open_session(sign_slot, CKF_RW_SESSION);
  assert_rv(set_pin(s, "abc123", "NewPass99"), CKR_OK); /* both upper-cased */
  assert_int_equal(session_state(s), CKS_RW_PUBLIC_SESSION);
  assert_int_equal(session_state(a), CKS_RW_USER_FUNCTIONS); /* the other token's login stays */
  assert_rv(try_login(s, SIGN_PIN), CKR_PIN_INCORRECT);
  login(s, CKU_USER, "NEWPASS99");
  assert_int_equal(token_flags(sign_slot) & PIN_FLAGS, 0);
  assert_rv(p11->C_CloseSession(a), CKR_OK);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void read_only_session(void** state) {
  (void)state;
  fresh_card();
  CK_SESSION_HANDLE ro = open_session(auth_slot, 0);
  card("clear-log");
  assert_rv(set_pin(ro, AUTH_PIN, "5678"), CKR_SESSION_READ_ONLY);
  login(ro, CKU_USER, AUTH_PIN);
  card("clear-log");
  assert_rv(set_pin(ro, AUTH_PIN, "5678"), CKR_SESSION_READ_ONLY);
  assert_int_equal(card("apdu-count"), 0);
  assert_int_equal(session_state(ro), CKS_RO_USER_FUNCTIONS);
  assert_rv(p11->C_CloseSession(ro), CKR_OK);
}

static void malformed_new_pin_sends_nothing(void** state) {
  (void)state;
  fresh_card();
  CK_SESSION_HANDLE a = open_session(auth_slot, CKF_RW_SESSION);
  CK_SESSION_HANDLE s = open_session(sign_slot, CKF_RW_SESSION);
  const CK_FLAGS auth_before = token_flags(auth_slot), sign_before = token_flags(sign_slot);
  card("clear-log");
  assert_rv(set_pin(a, AUTH_PIN, "567"), CKR_PIN_LEN_RANGE);
  assert_rv(set_pin(a, AUTH_PIN, "56789"), CKR_PIN_LEN_RANGE);
  assert_rv(set_pin(a, AUTH_PIN, "56a8"), CKR_PIN_INVALID);
  assert_rv(p11->C_SetPIN(a, (CK_UTF8CHAR_PTR)AUTH_PIN, 4,
                          (CK_UTF8CHAR_PTR) "56\0"
                                            "8",
                          4),
            CKR_PIN_INVALID);
  assert_rv(p11->C_SetPIN(a, NULL, 0, NULL, 0), CKR_PIN_LEN_RANGE);
  assert_rv(p11->C_SetPIN(a, NULL, 4, (CK_UTF8CHAR_PTR) "5678", 4), CKR_ARGUMENTS_BAD);
  assert_rv(set_pin(a, "12", "5678"), CKR_PIN_INCORRECT); /* cannot be the current PIN */
  assert_rv(set_pin(s, SIGN_PIN, "NEW12"), CKR_PIN_LEN_RANGE);
  assert_rv(set_pin(s, SIGN_PIN, "NEWPASSWORD123456"), CKR_PIN_LEN_RANGE);
  assert_rv(set_pin(s, SIGN_PIN, "NEW PASS"), CKR_PIN_INVALID);
  assert_int_equal(card("apdu-count"), 0);
  assert_int_equal(token_flags(auth_slot), auth_before);
  assert_int_equal(token_flags(sign_slot), sign_before);
  login(a, CKU_USER, AUTH_PIN); /* unchanged */
  assert_rv(p11->C_CloseSession(a), CKR_OK);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void wrong_current_pin_costs_one_try(void** state) {
  (void)state;
  fresh_card();
  CK_SESSION_HANDLE a = open_session(auth_slot, CKF_RW_SESSION);
  card("clear-log");
  assert_rv(set_pin(a, "9999", "5678"), CKR_PIN_INCORRECT);
  assert_int_equal(card("verify-count"), 1);
  assert_int_equal(card("auth-tries"), 2);
  assert_int_equal(token_flags(auth_slot) & PIN_FLAGS, CKF_USER_PIN_COUNT_LOW);
  assert_rv(set_pin(a, "9998", "5678"), CKR_PIN_INCORRECT);
  assert_int_equal(token_flags(auth_slot) & PIN_FLAGS,
                   CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  login(a, CKU_USER, AUTH_PIN); /* nothing was changed; the counter is full again */
  assert_int_equal(card("auth-tries"), 3);
  assert_rv(p11->C_CloseSession(a), CKR_OK);
}

static void locked_pin_receives_no_verify(void** state) {
  (void)state;
  fresh_card();
  CK_SESSION_HANDLE s = open_session(sign_slot, CKF_RW_SESSION);
  for (int i = 0; i < 4; ++i) assert_rv(set_pin(s, "WRONG1", "NEWPASS1"), CKR_PIN_INCORRECT);
  assert_rv(set_pin(s, "WRONG1", "NEWPASS1"), CKR_PIN_LOCKED);
  assert_int_equal(card("sign-tries"), 0);
  assert_int_equal(token_flags(sign_slot) & PIN_FLAGS, CKF_USER_PIN_LOCKED);
  const int verifies = card("verify-count");
  assert_rv(set_pin(s, SIGN_PIN, "NEWPASS1"), CKR_PIN_LOCKED);
  assert_int_equal(card("verify-count"), verifies);
  /* A new module instance does not know the counter: it reads it (empty VERIFY) and still sends
   * no PIN. */
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
  find_token_slots();
  s = open_session(sign_slot, CKF_RW_SESSION);
  assert_rv(set_pin(s, SIGN_PIN, "NEWPASS1"), CKR_PIN_LOCKED);
  assert_int_equal(card("verify-count"), verifies);
  /* The other PIN is a separate counter. */
  CK_SESSION_HANDLE a = open_session(auth_slot, CKF_RW_SESSION);
  assert_rv(set_pin(a, AUTH_PIN, "5678"), CKR_OK);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(change_both_pins),
      T(read_only_session),
      T(malformed_new_pin_sends_nothing),
      T(wrong_current_pin_costs_one_try),
      T(locked_pin_receives_no_verify),
  };
  return cmocka_run_group_tests_name("set_pin", tests, setup_loaded, NULL);
}
