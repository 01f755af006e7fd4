// SPDX-License-Identifier: MIT
/* Session management and login (PKCS#11 v2.40 §5.6): C_OpenSession, C_CloseSession,
 * C_CloseAllSessions, C_GetSessionInfo, C_Get/SetOperationState, C_Login, C_Logout, and the PIN
 * rules of the issue: malformed PINs are refused before any VERIFY reaches the card. */
#include <string.h>

#include "harness.h"

static void open_session_args(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  assert_rv(p11->C_OpenSession(auth_slot, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_OpenSession(BOGUS_SLOT, CKF_SERIAL_SESSION, NULL, NULL, &s),
            CKR_SLOT_ID_INVALID);
  /* v2.40 §5.6: CKF_SERIAL_SESSION must always be set (legacy). */
  assert_rv(p11->C_OpenSession(auth_slot, 0, NULL, NULL, &s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
  assert_rv(p11->C_OpenSession(auth_slot, CKF_RW_SESSION, NULL, NULL, &s),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED);
}

static void session_info(void** state) {
  (void)state;
  CK_SESSION_HANDLE ro = open_session(auth_slot, 0);
  CK_SESSION_HANDLE rw = open_session(sign_slot, CKF_RW_SESSION);
  CK_SESSION_INFO info;
  assert_rv(p11->C_GetSessionInfo(ro, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetSessionInfo(BOGUS_HANDLE, &info), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GetSessionInfo(ro, &info), CKR_OK);
  assert_int_equal(info.slotID, auth_slot);
  assert_int_equal(info.state, CKS_RO_PUBLIC_SESSION);
  assert_int_equal(info.flags, CKF_SERIAL_SESSION);
  assert_rv(p11->C_GetSessionInfo(rw, &info), CKR_OK);
  assert_int_equal(info.slotID, sign_slot);
  assert_int_equal(info.state, CKS_RW_PUBLIC_SESSION);
  assert_int_equal(info.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  assert_rv(p11->C_CloseSession(ro), CKR_OK);
  assert_rv(p11->C_CloseSession(rw), CKR_OK);
}

static void close_session(void** state) {
  (void)state;
  CK_SESSION_HANDLE a = open_session(auth_slot, 0);
  assert_rv(p11->C_CloseSession(BOGUS_HANDLE), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_CloseSession(a), CKR_OK);
  assert_rv(p11->C_CloseSession(a), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GetSessionInfo(a, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
  /* Handles are never reused. */
  CK_SESSION_HANDLE seen[20];
  seen[0] = a;
  for (int i = 1; i < 20; ++i) {
    seen[i] = open_session(i % 2 ? auth_slot : sign_slot, 0);
    for (int j = 0; j < i; ++j) assert_int_not_equal(seen[i], seen[j]);
    assert_rv(p11->C_CloseSession(seen[i]), CKR_OK);
  }
}

static void close_all_sessions(void** state) {
  (void)state;
  CK_SESSION_HANDLE a1 = open_session(auth_slot, 0);
  CK_SESSION_HANDLE a2 = open_session(auth_slot, CKF_RW_SESSION);
  CK_SESSION_HANDLE s1 = open_session(sign_slot, 0);
  assert_rv(p11->C_CloseAllSessions(BOGUS_SLOT), CKR_SLOT_ID_INVALID);
  login(a1, CKU_USER, AUTH_PIN);
  assert_rv(p11->C_CloseAllSessions(auth_slot), CKR_OK);
  assert_rv(p11->C_GetSessionInfo(a1, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GetSessionInfo(a2, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
  /* The other token's sessions are untouched. */
  assert_int_equal(session_state(s1), CKS_RO_PUBLIC_SESSION);
  /* With its sessions gone the token is logged out (v2.40 §5.6 C_CloseAllSessions). */
  CK_SESSION_HANDLE a3 = open_session(auth_slot, 0);
  assert_int_equal(session_state(a3), CKS_RO_PUBLIC_SESSION);
  assert_rv(p11->C_CloseSession(a3), CKR_OK);
  assert_rv(p11->C_CloseAllSessions(auth_slot), CKR_OK); /* none left: still fine */
  assert_rv(p11->C_CloseSession(s1), CKR_OK);
}

static void operation_state(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_BYTE buf[64];
  CK_ULONG len = sizeof buf;
  assert_rv(p11->C_GetOperationState(BOGUS_HANDLE, buf, &len), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GetOperationState(s, buf, &len), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(p11->C_SetOperationState(BOGUS_HANDLE, buf, sizeof buf, 0, 0),
            CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_SetOperationState(s, buf, sizeof buf, 0, 0), CKR_FUNCTION_NOT_SUPPORTED);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void login_logout(void** state) {
  (void)state;
  CK_SESSION_HANDLE ro = open_session(auth_slot, 0);
  CK_SESSION_HANDLE rw = open_session(auth_slot, CKF_RW_SESSION);
  CK_SESSION_HANDLE other = open_session(sign_slot, 0);
  card("clear-log");
  assert_rv(p11->C_Login(BOGUS_HANDLE, CKU_USER, (CK_UTF8CHAR_PTR)AUTH_PIN, 4),
            CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
  assert_rv(p11->C_Logout(BOGUS_HANDLE), CKR_SESSION_HANDLE_INVALID);
  /* No protected authentication path: a NULL PIN is a bad argument. */
  assert_rv(p11->C_Login(ro, CKU_USER, NULL, 4), CKR_ARGUMENTS_BAD);
  /* CKU_SO is valid, but the card has no SO PIN: a read-only session of the token exists. */
  assert_rv(p11->C_Login(ro, CKU_SO, (CK_UTF8CHAR_PTR)AUTH_PIN, 4), CKR_SESSION_READ_ONLY_EXISTS);
  assert_rv(p11->C_Login(ro, 77, (CK_UTF8CHAR_PTR)AUTH_PIN, 4), CKR_USER_TYPE_INVALID);
  /* No operation needs a context-specific login. */
  assert_rv(p11->C_Login(ro, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)AUTH_PIN, 4),
            CKR_OPERATION_NOT_INITIALIZED);
  assert_int_equal(card("verify-count"), 0);

  login(ro, CKU_USER, AUTH_PIN);
  assert_int_equal(card("verify-count"), 1);
  /* The login state belongs to the token and is shared by its sessions. */
  assert_int_equal(session_state(ro), CKS_RO_USER_FUNCTIONS);
  assert_int_equal(session_state(rw), CKS_RW_USER_FUNCTIONS);
  assert_int_equal(session_state(other), CKS_RO_PUBLIC_SESSION);
  CK_SESSION_HANDLE late = open_session(auth_slot, 0);
  assert_int_equal(session_state(late), CKS_RO_USER_FUNCTIONS);
  assert_rv(p11->C_Login(rw, CKU_USER, (CK_UTF8CHAR_PTR)AUTH_PIN, 4), CKR_USER_ALREADY_LOGGED_IN);
  assert_rv(p11->C_Login(rw, CKU_SO, (CK_UTF8CHAR_PTR)AUTH_PIN, 4), CKR_SESSION_READ_ONLY_EXISTS);
  assert_int_equal(card("verify-count"), 1);

  assert_rv(p11->C_Logout(rw), CKR_OK);
  assert_int_equal(session_state(ro), CKS_RO_PUBLIC_SESSION);
  assert_int_equal(session_state(late), CKS_RO_PUBLIC_SESSION);
  assert_int_equal(session_state(rw), CKS_RW_PUBLIC_SESSION);
  assert_rv(p11->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);

  /* The signature token: password, shared login state on its own. */
  login(other, CKU_USER, SIGN_PIN);
  assert_int_equal(session_state(other), CKS_RO_USER_FUNCTIONS);
  assert_int_equal(session_state(ro), CKS_RO_PUBLIC_SESSION);
  assert_rv(p11->C_Logout(other), CKR_OK);

  assert_rv(p11->C_CloseSession(ro), CKR_OK);
  assert_rv(p11->C_CloseSession(rw), CKR_OK);
  assert_rv(p11->C_CloseSession(late), CKR_OK);
  assert_rv(p11->C_CloseSession(other), CKR_OK);
}

struct bad_pin {
  const char* what;
  const char* bytes;
  CK_ULONG length;
};

/* Refused locally with CKR_PIN_INCORRECT: no VERIFY, no try spent, token flags unchanged. */
static void expect_refused_locally(CK_SLOT_ID slot, const struct bad_pin* pins, size_t n) {
  CK_SESSION_HANDLE s = open_session(slot, 0);
  const CK_FLAGS before = token_flags(slot);
  const int auth_tries = card("auth-tries"), sign_tries = card("sign-tries");
  card("clear-log");
  for (size_t i = 0; i < n; ++i) {
    CK_RV rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pins[i].bytes, pins[i].length);
    if (rv != CKR_PIN_INCORRECT) {
      fail_msg("C_Login with %s returned %s, expected CKR_PIN_INCORRECT", pins[i].what,
               rv_name(rv));
    }
    if (card("verify-count") != 0) fail_msg("C_Login with %s sent a VERIFY", pins[i].what);
    if (token_flags(slot) != before) fail_msg("C_Login with %s changed the flags", pins[i].what);
    assert_int_equal(session_state(s), CKS_RO_PUBLIC_SESSION);
  }
  assert_int_equal(card("auth-tries"), auth_tries);
  assert_int_equal(card("sign-tries"), sign_tries);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void malformed_auth_pins(void** state) {
  (void)state;
  const struct bad_pin pins[] = {
      {"3 digits", "123", 3},
      {"5 digits", "12345", 5},
      {"letters", "abcd", 4},
      {"a letter", "12a4", 4},
      {"upper-case letters", "ABCD", 4},
      {"a space", "12 4", 4},
      {"an embedded NUL",
       "12\0"
       "4",
       4},
      {"no PIN", "", 0},
      {"the signature password", SIGN_PIN, 6},
      {"non-ASCII", "\xef\xbc\x91\xef\xbc\x92", 6},
  };
  expect_refused_locally(auth_slot, pins, sizeof pins / sizeof *pins);
}

static void malformed_sign_passwords(void** state) {
  (void)state;
  const struct bad_pin pins[] = {
      {"5 characters", "ABC12", 5},
      {"17 characters", "ABCDEFGHIJ1234567", 17},
      {"a symbol", "ABC12!", 6},
      {"a space", "ABC 123", 7},
      {"an embedded NUL",
       "ABC\0"
       "123",
       7},
      {"no password", "", 0},
      {"the 4-digit PIN", AUTH_PIN, 4},
      {"non-ASCII", "ABC12\xc3\xa9", 7},
      {"a hyphen", "ABC-123", 7},
  };
  expect_refused_locally(sign_slot, pins, sizeof pins / sizeof *pins);
}

static void lower_case_password_accepted(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(sign_slot, 0);
  card("clear-log");
  /* The card stores upper case; the module upper-cases first (issue 5). */
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "abc123", 6), CKR_OK);
  assert_int_equal(card("verify-count"), 1);
  assert_int_equal(session_state(s), CKS_RO_USER_FUNCTIONS);
  assert_rv(p11->C_Logout(s), CKR_OK);
  assert_rv(p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "aBc123", 6), CKR_OK);
  assert_rv(p11->C_Logout(s), CKR_OK);
  assert_int_equal(card("sign-tries"), 5);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void close_last_session_logs_out(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  login(s, CKU_USER, AUTH_PIN);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
  s = open_session(auth_slot, 0);
  assert_int_equal(session_state(s), CKS_RO_PUBLIC_SESSION);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(open_session_args),
      T(session_info),
      T(close_session),
      T(close_all_sessions),
      T(operation_state),
      T(login_logout),
      T(malformed_auth_pins),
      T(malformed_sign_passwords),
      T(lower_case_password_accepted),
      T(close_last_session_logs_out),
  };
  return cmocka_run_group_tests_name("sessions", tests, setup_loaded, NULL);
}
