// SPDX-License-Identifier: MIT
/* Card removal, insertion, swaps and resets (issue 5 "Sessions and state", clients-and-peers
 * §3.2b/§3.3): sessions of a removed card die (CKR_DEVICE_REMOVED, then
 * CKR_SESSION_HANDLE_INVALID), the slot list never shrinks, a different card is a new token,
 * C_WaitForSlotEvent reports each change and a blocked wait ends with C_Finalize. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void serial_of(CK_SLOT_ID slot, CK_CHAR out[16]) {
  CK_TOKEN_INFO info;
  assert_rv(p11->C_GetTokenInfo(slot, &info), CKR_OK);
  memcpy(out, info.serialNumber, 16);
}

static int slot_has_token(CK_SLOT_ID slot) {
  CK_SLOT_INFO info;
  assert_rv(p11->C_GetSlotInfo(slot, &info), CKR_OK);
  return (info.flags & CKF_TOKEN_PRESENT) != 0;
}

static void remove_and_insert(void** state) {
  (void)state;
  drain_slot_events();
  CK_CHAR serial[16];
  serial_of(auth_slot, serial);
  CK_SESSION_HANDLE a = open_session(auth_slot, 0);
  CK_SESSION_HANDLE b = open_session(sign_slot, 0);
  login(a, CKU_USER, AUTH_PIN);
  const CK_SLOT_ID old_auth = auth_slot, old_sign = sign_slot;
  CK_ULONG all_before = 0;
  assert_rv(p11->C_GetSlotList(CK_FALSE, NULL, &all_before), CKR_OK);

  card("remove");
  CK_SLOT_ID slot = BOGUS_SLOT;
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
  assert_true(slot == old_auth || slot == old_sign);
  drain_slot_events();
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);

  /* The slots stay, without a token. */
  assert_false(slot_has_token(old_auth));
  assert_false(slot_has_token(old_sign));
  CK_ULONG count = 0;
  assert_rv(p11->C_GetSlotList(CK_TRUE, NULL, &count), CKR_OK);
  assert_int_equal(count, 0);
  assert_rv(p11->C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
  assert_int_equal(count, all_before);
  CK_TOKEN_INFO info;
  assert_rv(p11->C_GetTokenInfo(old_auth, &info), CKR_TOKEN_NOT_PRESENT);
  CK_SESSION_HANDLE none;
  assert_rv(p11->C_OpenSession(old_auth, CKF_SERIAL_SESSION, NULL, NULL, &none),
            CKR_TOKEN_NOT_PRESENT);

  /* The old sessions: first CKR_DEVICE_REMOVED, then they are gone. */
  CK_SESSION_INFO si;
  assert_rv(p11->C_GetSessionInfo(a, &si), CKR_DEVICE_REMOVED);
  assert_rv(p11->C_GetSessionInfo(a, &si), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GetSessionInfo(b, &si), CKR_DEVICE_REMOVED);
  assert_rv(p11->C_CloseSession(b), CKR_SESSION_HANDLE_INVALID);

  /* The same card again: same token identity, new sessions, not logged in. */
  card("insert");
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
  drain_slot_events();
  find_token_slots();
  assert_int_equal(auth_slot, old_auth);
  assert_int_equal(sign_slot, old_sign);
  CK_CHAR again[16];
  serial_of(auth_slot, again);
  assert_memory_equal(serial, again, 16);
  CK_SESSION_HANDLE c = open_session(auth_slot, 0);
  assert_true(c != a && c != b);
  assert_int_equal(session_state(c), CKS_RO_PUBLIC_SESSION);
  assert_rv(p11->C_GetSessionInfo(a, &si), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_CloseSession(c), CKR_OK);
}

/* Mechanisms are a token's (v2.40 §5.5 C_GetMechanismList / C_GetMechanismInfo). */
static void no_mechanisms_without_token(void** state) {
  (void)state;
  card("remove");
  drain_slot_events();
  CK_MECHANISM_TYPE mechs[32];
  CK_ULONG n = 32;
  CK_MECHANISM_INFO info;
  assert_rv(p11->C_GetMechanismList(auth_slot, mechs, &n), CKR_TOKEN_NOT_PRESENT);
  assert_rv(p11->C_GetMechanismInfo(auth_slot, CKM_RSA_PKCS, &info), CKR_TOKEN_NOT_PRESENT);
}

static void other_card_is_new_token(void** state) {
  (void)state;
  CK_CHAR serial[16], other[16];
  serial_of(auth_slot, serial);
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_ULONG len1 = 0, len2 = 0;
  unsigned char* cert1 = get_attr(s, find_user_cert(s), CKA_VALUE, &len1);

  /* Swapped while the application was not looking: the old session must not survive. */
  card("insert-other");
  CK_SESSION_INFO si;
  CK_RV rv = p11->C_GetSessionInfo(s, &si);
  if (rv != CKR_DEVICE_REMOVED && rv != CKR_SESSION_HANDLE_INVALID) {
    fail_msg("session of the previous card: %s", rv_name(rv));
  }
  drain_slot_events();
  find_token_slots();
  serial_of(auth_slot, other);
  assert_memory_not_equal(serial, other, 16);
  CK_SESSION_HANDLE t = open_session(auth_slot, 0);
  unsigned char* cert2 = get_attr(t, find_user_cert(t), CKA_VALUE, &len2);
  assert_true(len1 != len2 || memcmp(cert1, cert2, len1) != 0);
  free(cert1);
  free(cert2);
  login(t, CKU_USER, AUTH_PIN);
  assert_rv(p11->C_CloseSession(t), CKR_OK);
}

/* Another process reset the card: its login state is gone, so ours is dropped; the session and
 * the token stay (same card). */
static void reset_drops_login(void** state) {
  (void)state;
  find_token_slots();
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  login(s, CKU_USER, AUTH_PIN);
  CK_OBJECT_HANDLE key = find_one(s, CKO_PRIVATE_KEY);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  card("reset");
  CK_RV rv = p11->C_SignInit(s, &m, key);
  if (rv == CKR_OK) rv = p11->C_Sign(s, (CK_BYTE_PTR) "x", 1, sig, &len);
  if (rv != CKR_USER_NOT_LOGGED_IN && rv != CKR_KEY_HANDLE_INVALID) {
    fail_msg("signing after a card reset: %s, expected CKR_USER_NOT_LOGGED_IN", rv_name(rv));
  }
  assert_int_equal(session_state(s), CKS_RO_PUBLIC_SESSION);
  login(s, CKU_USER, AUTH_PIN);
  key = find_one(s, CKO_PRIVATE_KEY);
  assert_rv(p11->C_SignInit(s, &m, key), CKR_OK);
  len = sizeof sig;
  assert_rv(p11->C_Sign(s, (CK_BYTE_PTR) "x", 1, sig, &len), CKR_OK);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

struct waiter {
  CK_RV rv;
  CK_SLOT_ID slot;
};

static void* wait_blocking(void* arg) {
  struct waiter* w = arg;
  w->rv = p11->C_WaitForSlotEvent(0, &w->slot, NULL);
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void blocking_wait_sees_removal(void** state) {
  (void)state;
  drain_slot_events();
  struct waiter w = {CKR_GENERAL_ERROR, BOGUS_SLOT};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, wait_blocking, &w), 0);
  sleep_ms(200);
  card("remove");
  assert_int_equal(pthread_join(thread, NULL), 0);
  assert_rv(w.rv, CKR_OK);
  assert_true(w.slot == auth_slot || w.slot == sign_slot);
  card("insert");
  drain_slot_events();
}

/* NSS's SECMOD_CancelWait: C_Finalize from another thread ends a blocked wait with
 * CKR_CRYPTOKI_NOT_INITIALIZED. */
static void finalize_ends_blocked_wait(void** state) {
  (void)state;
  drain_slot_events();
  struct waiter w = {CKR_GENERAL_ERROR, BOGUS_SLOT};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, wait_blocking, &w), 0);
  sleep_ms(200);
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
  assert_int_equal(pthread_join(thread, NULL), 0);
  assert_rv(w.rv, CKR_CRYPTOKI_NOT_INITIALIZED);
  assert_rv(p11->C_Initialize(NULL), CKR_OK);
}

/* With CKF_LIBRARY_CANT_CREATE_OS_THREADS (NSS) events still work without a background thread. */
static void events_without_threads(void** state) {
  (void)state;
  assert_rv(p11->C_Finalize(NULL), CKR_OK);
  CK_C_INITIALIZE_ARGS args;
  memset(&args, 0, sizeof args);
  args.flags = CKF_OS_LOCKING_OK | CKF_LIBRARY_CANT_CREATE_OS_THREADS;
  assert_rv(p11->C_Initialize(&args), CKR_OK);
  find_token_slots();
  drain_slot_events();
  card("remove");
  CK_SLOT_ID slot;
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
  drain_slot_events();
  card("insert");
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_OK);
  drain_slot_events();
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
}

/* A test that failed half-way may have left the reader empty. */
static int setup_card_in(void** state) {
  harness_load();
  if (card("present") == 0) card("insert");
  return setup_initialized(state);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_card_in, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(remove_and_insert),      T(other_card_is_new_token),    T(no_mechanisms_without_token),
      T(reset_drops_login),      T(blocking_wait_sees_removal), T(finalize_ends_blocked_wait),
      T(events_without_threads),
  };
  return cmocka_run_group_tests_name("removal", tests, setup_loaded, NULL);
}
