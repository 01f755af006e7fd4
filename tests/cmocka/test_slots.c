// SPDX-License-Identifier: MIT
/* Slot and token management (PKCS#11 v2.40 §5.5): C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo,
 * C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN (its session checks;
 * the change itself: test_set_pin.c), C_WaitForSlotEvent. */
#include <string.h>

#include "harness.h"

static void slot_list(void** state) {
  (void)state;
  CK_ULONG count = 0;
  assert_rv(p11->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetSlotList(CK_TRUE, NULL, &count), CKR_OK);
  assert_int_equal(count, 2); /* one card: the authentication and the signature token */

  CK_SLOT_ID slots[8] = {0};
  CK_ULONG small = 1;
  assert_rv(p11->C_GetSlotList(CK_TRUE, slots, &small), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(small, 2);
  small = 0;
  assert_rv(p11->C_GetSlotList(CK_TRUE, slots, &small), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(small, 2);

  CK_ULONG exact = 2;
  assert_rv(p11->C_GetSlotList(CK_TRUE, slots, &exact), CKR_OK);
  assert_int_equal(exact, 2);
  assert_int_not_equal(slots[0], slots[1]);

  CK_ULONG all = 0;
  assert_rv(p11->C_GetSlotList(CK_FALSE, NULL, &all), CKR_OK);
  assert_true(all >= 2);
  CK_SLOT_ID every[8];
  CK_ULONG eight = 8;
  assert_rv(p11->C_GetSlotList(CK_FALSE, every, &eight), CKR_OK);
  assert_int_equal(eight, all);
  /* Stable ids: asking again gives the same list. */
  CK_SLOT_ID again[8];
  CK_ULONG eight2 = 8;
  assert_rv(p11->C_GetSlotList(CK_FALSE, again, &eight2), CKR_OK);
  assert_int_equal(eight2, eight);
  assert_memory_equal(every, again, eight * sizeof(CK_SLOT_ID));

  assert_int_not_equal(auth_slot, BOGUS_SLOT);
  assert_int_not_equal(sign_slot, BOGUS_SLOT);
}

static void slot_info(void** state) {
  (void)state;
  CK_SLOT_INFO info;
  assert_rv(p11->C_GetSlotInfo(auth_slot, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetSlotInfo(BOGUS_SLOT, &info), CKR_SLOT_ID_INVALID);
  const CK_SLOT_ID slots[] = {auth_slot, sign_slot};
  for (int i = 0; i < 2; ++i) {
    memset(&info, 0, sizeof info);
    assert_rv(p11->C_GetSlotInfo(slots[i], &info), CKR_OK);
    assert_int_equal(info.flags & (CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT),
                     CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT);
    assert_false(blank_field(info.slotDescription, sizeof info.slotDescription));
    assert_null(memchr(info.slotDescription, 0, sizeof info.slotDescription));
    assert_null(memchr(info.manufacturerID, 0, sizeof info.manufacturerID));
  }
}

static size_t label_length(const CK_UTF8CHAR* label) {
  size_t n = 32;
  while (n > 0 && label[n - 1] == ' ') --n;
  return n;
}

static void token_info(void** state) {
  (void)state;
  CK_TOKEN_INFO auth, sign;
  assert_rv(p11->C_GetTokenInfo(auth_slot, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetTokenInfo(BOGUS_SLOT, &auth), CKR_SLOT_ID_INVALID);
  assert_rv(p11->C_GetTokenInfo(auth_slot, &auth), CKR_OK);
  assert_rv(p11->C_GetTokenInfo(sign_slot, &sign), CKR_OK);

  const CK_TOKEN_INFO* both[] = {&auth, &sign};
  for (int i = 0; i < 2; ++i) {
    const CK_TOKEN_INFO* t = both[i];
    /* Labels: readable, blank-padded to 32 bytes, no ':' (NSS uses "token:nickname"). */
    assert_true(label_length(t->label) > 0);
    assert_null(memchr(t->label, ':', sizeof t->label));
    assert_null(memchr(t->label, 0, sizeof t->label));
    /* A serial derived from the card: not blank, not OpenSC's dummy 00000000. */
    assert_false(blank_field(t->serialNumber, sizeof t->serialNumber));
    int all_zero = 1;
    for (size_t j = 0; j < sizeof t->serialNumber; ++j) {
      if (t->serialNumber[j] != '0' && t->serialNumber[j] != ' ') all_zero = 0;
    }
    assert_false(all_zero);
    assert_true(t->flags & CKF_WRITE_PROTECTED);
    assert_true(t->flags & CKF_TOKEN_INITIALIZED);
    assert_true(t->flags & CKF_USER_PIN_INITIALIZED);
    assert_true(t->flags & CKF_LOGIN_REQUIRED);
    assert_false(t->flags & CKF_RNG);
    assert_false(t->flags &
                 (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
    assert_false(blank_field(t->manufacturerID, sizeof t->manufacturerID));
  }
  /* Distinct labels per role. */
  assert_memory_not_equal(auth.label, sign.label, sizeof auth.label);
  assert_int_equal(auth.ulMinPinLen, 4);
  assert_int_equal(auth.ulMaxPinLen, 4);
  assert_int_equal(sign.ulMinPinLen, 6);
  assert_int_equal(sign.ulMaxPinLen, 16);
}

static int has_mechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE m) {
  CK_MECHANISM_TYPE list[64];
  CK_ULONG n = 64;
  assert_rv(p11->C_GetMechanismList(slot, list, &n), CKR_OK);
  for (CK_ULONG i = 0; i < n; ++i) {
    if (list[i] == m) return 1;
  }
  return 0;
}

static void mechanism_list(void** state) {
  (void)state;
  CK_ULONG count = 0;
  assert_rv(p11->C_GetMechanismList(auth_slot, NULL, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetMechanismList(BOGUS_SLOT, NULL, &count), CKR_SLOT_ID_INVALID);
  assert_rv(p11->C_GetMechanismList(auth_slot, NULL, &count), CKR_OK);
  assert_true(count >= 6 && count <= 64);
  CK_MECHANISM_TYPE list[64];
  CK_ULONG small = count - 1;
  assert_rv(p11->C_GetMechanismList(auth_slot, list, &small), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(small, count);
  CK_ULONG exact = count;
  assert_rv(p11->C_GetMechanismList(auth_slot, list, &exact), CKR_OK);
  assert_int_equal(exact, count);

  const CK_MECHANISM_TYPE required[] = {CKM_RSA_PKCS,        CKM_SHA1_RSA_PKCS,
                                        CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
                                        CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS};
  /* The card cannot do these: never advertised (clients-and-peers §3.4). */
  const CK_MECHANISM_TYPE absent[] = {
      CKM_RSA_PKCS_PSS,        CKM_SHA1_RSA_PKCS_PSS,   CKM_SHA224_RSA_PKCS_PSS,
      CKM_SHA256_RSA_PKCS_PSS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS,
      CKM_RSA_X_509,           CKM_RSA_PKCS_OAEP,       CKM_RSA_PKCS_KEY_PAIR_GEN};
  const CK_SLOT_ID slots[] = {auth_slot, sign_slot};
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; i < sizeof required / sizeof *required; ++i) {
      if (!has_mechanism(slots[s], required[i])) {
        fail_msg("slot %lu lacks mechanism 0x%lx", slots[s], required[i]);
      }
    }
    for (size_t i = 0; i < sizeof absent / sizeof *absent; ++i) {
      if (has_mechanism(slots[s], absent[i])) {
        fail_msg("slot %lu advertises mechanism 0x%lx", slots[s], absent[i]);
      }
    }
  }
}

static void mechanism_info(void** state) {
  (void)state;
  CK_MECHANISM_INFO info;
  assert_rv(p11->C_GetMechanismInfo(auth_slot, CKM_RSA_PKCS, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetMechanismInfo(BOGUS_SLOT, CKM_RSA_PKCS, &info), CKR_SLOT_ID_INVALID);
  assert_rv(p11->C_GetMechanismInfo(auth_slot, CKM_RSA_PKCS_PSS, &info), CKR_MECHANISM_INVALID);
  assert_rv(p11->C_GetMechanismInfo(sign_slot, CKM_SHA256_RSA_PKCS_PSS, &info),
            CKR_MECHANISM_INVALID);
  assert_rv(p11->C_GetMechanismInfo(auth_slot, CKM_RSA_X_509, &info), CKR_MECHANISM_INVALID);
  assert_rv(p11->C_GetMechanismInfo(auth_slot, 0x7FFFFFF0UL, &info), CKR_MECHANISM_INVALID);

  const CK_MECHANISM_TYPE sign_mechs[] = {CKM_RSA_PKCS,        CKM_SHA1_RSA_PKCS,
                                          CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
                                          CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS};
  const CK_SLOT_ID slots[] = {auth_slot, sign_slot};
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; i < sizeof sign_mechs / sizeof *sign_mechs; ++i) {
      memset(&info, 0, sizeof info);
      assert_rv(p11->C_GetMechanismInfo(slots[s], sign_mechs[i], &info), CKR_OK);
      /* On the signature token (CKA_ALWAYS_AUTHENTICATE key, the default) only CKM_RSA_PKCS is
       * flagged for signing: NSS >= 3.101 signs through a CKF_SIGN hash-and-sign mechanism
       * without the per-signature login (mechanisms.cpp). */
      if (slots[s] == sign_slot && sign_mechs[i] != CKM_RSA_PKCS) {
        assert_false(info.flags & CKF_SIGN);
      } else {
        assert_true(info.flags & CKF_SIGN);
      }
      assert_true(info.flags & CKF_VERIFY);
      assert_false(info.flags & (CKF_DECRYPT | CKF_ENCRYPT | CKF_UNWRAP | CKF_WRAP |
                                 CKF_SIGN_RECOVER | CKF_GENERATE_KEY_PAIR));
      assert_true(info.ulMinKeySize <= 2048 && info.ulMaxKeySize >= 2048);
    }
  }
}

static void init_token_pin(void** state) {
  (void)state;
  CK_UTF8CHAR label[32];
  memset(label, ' ', sizeof label);
  CK_UTF8CHAR pin[] = "1234";
  CK_UTF8CHAR new_pin[] = "5678";
  card("clear-log");
  assert_rv(p11->C_InitToken(BOGUS_SLOT, pin, 4, label), CKR_SLOT_ID_INVALID);
  /* The card cannot be re-initialised; PINs cannot be set by the SO. */
  assert_rv_either(p11->C_InitToken(auth_slot, pin, 4, label), CKR_TOKEN_WRITE_PROTECTED,
                   CKR_FUNCTION_NOT_SUPPORTED);

  CK_SESSION_HANDLE ro = open_session(auth_slot, 0);
  CK_SESSION_HANDLE rw = open_session(auth_slot, CKF_RW_SESSION);
  /* C_InitPIN is for the "R/W SO Functions" state only (v2.40 §5.6), which cannot be reached. */
  assert_rv_one_of(p11->C_InitPIN(ro, pin, 4), CKR_SESSION_READ_ONLY, CKR_USER_NOT_LOGGED_IN,
                   CKR_TOKEN_WRITE_PROTECTED);
  assert_rv_either(p11->C_InitPIN(rw, pin, 4), CKR_USER_NOT_LOGGED_IN, CKR_TOKEN_WRITE_PROTECTED);
  /* C_SetPIN: an R/O session cannot change the PIN (v2.40 §5.6: CKR_SESSION_READ_ONLY); in a R/W
   * session the user's PIN can change (test_set_pin.c), here only a malformed new one is given. */
  assert_rv(p11->C_SetPIN(ro, pin, 4, new_pin, 4), CKR_SESSION_READ_ONLY);
  assert_rv(p11->C_SetPIN(rw, pin, 4, new_pin, 3), CKR_PIN_LEN_RANGE);
  assert_int_equal(card("verify-count"), 0);
  assert_rv(p11->C_CloseSession(ro), CKR_OK);
  assert_rv(p11->C_CloseSession(rw), CKR_OK);
}

static void wait_for_slot_event(void** state) {
  (void)state;
  CK_SLOT_ID slot = BOGUS_SLOT;
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_ARGUMENTS_BAD);
  int dummy;
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, &dummy), CKR_ARGUMENTS_BAD);
  drain_slot_events();
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
  assert_rv(p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(slot_list),      T(slot_info),      T(token_info),          T(mechanism_list),
      T(mechanism_info), T(init_token_pin), T(wait_for_slot_event),
  };
  return cmocka_run_group_tests_name("slots", tests, setup_loaded, NULL);
}
