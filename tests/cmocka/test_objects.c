// SPDX-License-Identifier: MIT
/* Object management (PKCS#11 v2.40 §5.7): C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal,
 * C_GetAttributeValue (its five cases), C_GetObjectSize, and the write functions of a
 * write-protected token: C_CreateObject, C_CopyObject, C_DestroyObject, C_SetAttributeValue. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static CK_OBJECT_CLASS object_class(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h) {
  return get_ulong_attr(s, h, CKA_CLASS);
}

static void find_objects_args(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_OBJECT_HANDLE h[4];
  CK_ULONG n = 0;
  assert_rv(p11->C_FindObjectsInit(s, NULL, 1), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_FindObjects(s, h, 4, &n), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_FindObjectsInit(s, NULL, 0), CKR_OK);
  assert_rv(p11->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
  assert_rv(p11->C_FindObjects(s, NULL, 4, &n), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_FindObjects(s, h, 4, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_FindObjects(s, h, 1, &n), CKR_OK); /* the search survives the bad calls */
  assert_int_equal(n, 1);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OK);
  /* A template nothing matches. */
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
  assert_rv(p11->C_FindObjectsInit(s, &t, 1), CKR_OK);
  assert_rv(p11->C_FindObjects(s, h, 4, &n), CKR_OK);
  assert_int_equal(n, 0);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OK);
  /* An attribute type no object has: no match, not an error. */
  CK_ULONG odd = 1;
  CK_ATTRIBUTE u = {0x7FFF0001UL, &odd, sizeof odd};
  assert_rv(p11->C_FindObjectsInit(s, &u, 1), CKR_OK);
  assert_rv(p11->C_FindObjects(s, h, 4, &n), CKR_OK);
  assert_int_equal(n, 0);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OK);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* The pair's certificate, public key and private key share CKA_ID (non-zero) and CKA_LABEL. */
static void check_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE cert, CK_OBJECT_HANDLE pub,
                       CK_OBJECT_HANDLE priv, CK_BBOOL always_auth) {
  CK_ULONG id_len, id2_len, id3_len, l1, l2, l3;
  unsigned char* id = get_attr(s, cert, CKA_ID, &id_len);
  unsigned char* id2 = get_attr(s, pub, CKA_ID, &id2_len);
  unsigned char* id3 = get_attr(s, priv, CKA_ID, &id3_len);
  assert_true(id_len > 0);
  int nonzero = 0;
  for (CK_ULONG i = 0; i < id_len; ++i) nonzero |= id[i];
  assert_true(nonzero);
  assert_int_equal(id_len, id2_len);
  assert_int_equal(id_len, id3_len);
  assert_memory_equal(id, id2, id_len);
  assert_memory_equal(id, id3, id_len);
  unsigned char* lab = get_attr(s, cert, CKA_LABEL, &l1);
  unsigned char* lab2 = get_attr(s, pub, CKA_LABEL, &l2);
  unsigned char* lab3 = get_attr(s, priv, CKA_LABEL, &l3);
  assert_true(l1 > 0);
  assert_int_equal(l1, l2);
  assert_int_equal(l1, l3);
  assert_memory_equal(lab, lab2, l1);
  assert_memory_equal(lab, lab3, l1);

  /* Certificate. */
  assert_int_equal(get_ulong_attr(s, cert, CKA_CERTIFICATE_TYPE), CKC_X_509);
  assert_int_equal(get_ulong_attr(s, cert, CKA_CERTIFICATE_CATEGORY), 1);
  CK_ULONG len;
  unsigned char* value = get_attr(s, cert, CKA_VALUE, &len);
  assert_true(len > 500 && value[0] == 0x30);
  free(value);
  free(get_attr(s, cert, CKA_SUBJECT, &len));
  assert_true(len > 2);
  free(get_attr(s, cert, CKA_ISSUER, &len));
  assert_true(len > 2);
  free(get_attr(s, cert, CKA_SERIAL_NUMBER, &len));
  assert_true(len > 2);
  assert_true(get_bool_attr(s, cert, CKA_TOKEN));

  /* Public key. */
  assert_int_equal(get_ulong_attr(s, pub, CKA_KEY_TYPE), CKK_RSA);
  assert_true(get_bool_attr(s, pub, CKA_VERIFY));
  assert_false(get_bool_attr(s, pub, CKA_ENCRYPT));
  CK_ULONG mod_len, mod2_len, exp_len;
  unsigned char* mod = get_attr(s, pub, CKA_MODULUS, &mod_len);
  assert_int_equal(mod_len, 256);
  assert_int_equal(get_ulong_attr(s, pub, CKA_MODULUS_BITS), 2048);

  /* Private key: signs, never decrypts, never leaves the card; modulus for NSS. */
  assert_int_equal(get_ulong_attr(s, priv, CKA_KEY_TYPE), CKK_RSA);
  assert_true(get_bool_attr(s, priv, CKA_SIGN));
  assert_false(get_bool_attr(s, priv, CKA_DECRYPT));
  assert_false(get_bool_attr(s, priv, CKA_UNWRAP));
  assert_false(get_bool_attr(s, priv, CKA_SIGN_RECOVER));
  assert_true(get_bool_attr(s, priv, CKA_SENSITIVE));
  assert_false(get_bool_attr(s, priv, CKA_EXTRACTABLE));
  assert_true(get_bool_attr(s, priv, CKA_PRIVATE));
  assert_true(get_bool_attr(s, priv, CKA_TOKEN));
  assert_int_equal(get_bool_attr(s, priv, CKA_ALWAYS_AUTHENTICATE), always_auth);
  unsigned char* mod2 = get_attr(s, priv, CKA_MODULUS, &mod2_len);
  assert_int_equal(mod2_len, mod_len);
  assert_memory_equal(mod, mod2, mod_len);
  free(get_attr(s, priv, CKA_PUBLIC_EXPONENT, &exp_len));
  assert_true(exp_len >= 1 && exp_len <= 8);
  assert_int_equal(get_ulong_attr(s, priv, CKA_MODULUS_BITS), 2048);
  free(get_attr(s, priv, CKA_PUBLIC_KEY_INFO, &len));
  assert_true(len > 256);
  free(mod);
  free(mod2);
  free(id);
  free(id2);
  free(id3);
  free(lab);
  free(lab2);
  free(lab3);
}

static void auth_token_objects(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  /* Before login: both certificates and the public key are public. */
  CK_OBJECT_HANDLE h[16];
  assert_int_equal(find_objects(s, CKO_CERTIFICATE, h, 16), 2);
  CK_OBJECT_HANDLE cert = find_user_cert(s);
  CK_OBJECT_HANDLE ca = find_ca_cert(s);
  assert_false(get_bool_attr(s, cert, CKA_PRIVATE));
  assert_false(get_bool_attr(s, ca, CKA_PRIVATE));
  CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY);
  assert_false(get_bool_attr(s, pub, CKA_PRIVATE));
  /* Nothing listed before login is private (never listed and then unreadable). */
  CK_ULONG n = find_objects(s, ANY_CLASS, h, 16);
  assert_true(n <= 16);
  for (CK_ULONG i = 0; i < n; ++i) assert_false(get_bool_attr(s, h[i], CKA_PRIVATE));

  login(s, CKU_USER, AUTH_PIN);
  CK_OBJECT_HANDLE priv = find_one(s, CKO_PRIVATE_KEY);
  check_pair(s, find_user_cert(s), find_one(s, CKO_PUBLIC_KEY), priv, CK_FALSE);
  assert_int_equal(get_ulong_attr(s, find_ca_cert(s), CKA_CERTIFICATE_CATEGORY), 2);
  assert_rv(p11->C_Logout(s), CKR_OK);
  assert_int_equal(find_objects(s, CKO_PRIVATE_KEY, h, 16), 0);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void sign_token_objects(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(sign_slot, 0);
  CK_OBJECT_HANDLE h[16];
  /* Before login only the CA certificate: the card refuses the rest without the password. */
  CK_ULONG n = find_objects(s, ANY_CLASS, h, 16);
  for (CK_ULONG i = 0; i < n && i < 16; ++i) {
    assert_false(get_bool_attr(s, h[i], CKA_PRIVATE));
    CK_OBJECT_CLASS cls = object_class(s, h[i]);
    assert_true(cls == CKO_CERTIFICATE || cls == CKO_PROFILE);
  }
  assert_int_equal(find_objects(s, CKO_CERTIFICATE, h, 16), 1);
  assert_int_equal(get_ulong_attr(s, h[0], CKA_CERTIFICATE_CATEGORY), 2);
  assert_int_equal(find_objects(s, CKO_PUBLIC_KEY, h, 16), 0);
  assert_int_equal(find_objects(s, CKO_PRIVATE_KEY, h, 16), 0);

  login(s, CKU_USER, SIGN_PIN);
  assert_int_equal(find_objects(s, CKO_CERTIFICATE, h, 16), 2);
  CK_OBJECT_HANDLE cert = find_user_cert(s);
  assert_true(get_bool_attr(s, cert, CKA_PRIVATE));
  CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY);
  assert_true(get_bool_attr(s, pub, CKA_PRIVATE));
  check_pair(s, cert, pub, find_one(s, CKO_PRIVATE_KEY), CK_TRUE);
  assert_rv(p11->C_Logout(s), CKR_OK);
  /* Private objects vanish again, and their handles no longer answer. */
  assert_int_equal(find_objects(s, CKO_PRIVATE_KEY, h, 16), 0);
  assert_int_equal(find_objects(s, CKO_CERTIFICATE, h, 16), 1);
  CK_OBJECT_CLASS cls;
  CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof cls};
  assert_rv(p11->C_GetAttributeValue(s, cert, &a, 1), CKR_OBJECT_HANDLE_INVALID);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void profile_object(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_OBJECT_CLASS cls = CKO_PROFILE;
  CK_BBOOL yes = CK_TRUE;
  /* What NSS's pk11_ReadProfileList asks for. */
  CK_ATTRIBUTE t[] = {{CKA_TOKEN, &yes, sizeof yes}, {CKA_CLASS, &cls, sizeof cls}};
  CK_OBJECT_HANDLE h[4];
  CK_ULONG n = 0;
  assert_rv(p11->C_FindObjectsInit(s, t, 2), CKR_OK);
  assert_rv(p11->C_FindObjects(s, h, 4, &n), CKR_OK);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OK);
  assert_int_equal(n, 1);
  assert_int_equal(get_ulong_attr(s, h[0], CKA_PROFILE_ID), CKP_PUBLIC_CERTIFICATES_TOKEN);
  assert_rv(p11->C_CloseSession(s), CKR_OK);

  /* The signature token's certificate is not public: it cannot claim that profile. */
  s = open_session(sign_slot, 0);
  assert_rv(p11->C_FindObjectsInit(s, t, 2), CKR_OK);
  assert_rv(p11->C_FindObjects(s, h, 4, &n), CKR_OK);
  assert_rv(p11->C_FindObjectsFinal(s), CKR_OK);
  for (CK_ULONG i = 0; i < n; ++i) {
    assert_int_not_equal(get_ulong_attr(s, h[i], CKA_PROFILE_ID), CKP_PUBLIC_CERTIFICATES_TOKEN);
  }
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* v2.40 §5.7 C_GetAttributeValue, the five cases, each alone and mixed. */
static void get_attribute_value_cases(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  login(s, CKU_USER, AUTH_PIN);
  CK_OBJECT_HANDLE priv = find_one(s, CKO_PRIVATE_KEY);
  CK_OBJECT_HANDLE cert = find_user_cert(s);
  CK_OBJECT_CLASS cls = 0;
  CK_BYTE buf[8];

  assert_rv(p11->C_GetAttributeValue(s, priv, NULL, 1), CKR_ARGUMENTS_BAD);
  CK_ATTRIBUTE one = {CKA_CLASS, &cls, sizeof cls};
  assert_rv(p11->C_GetAttributeValue(s, BOGUS_HANDLE, &one, 1), CKR_OBJECT_HANDLE_INVALID);
  assert_rv(p11->C_GetAttributeValue(BOGUS_HANDLE, priv, &one, 1), CKR_SESSION_HANDLE_INVALID);

  /* 1. Sensitive: the private exponent. */
  CK_ATTRIBUTE sens[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_PRIVATE_EXPONENT, buf, sizeof buf}};
  assert_rv(p11->C_GetAttributeValue(s, priv, sens, 2), CKR_ATTRIBUTE_SENSITIVE);
  assert_int_equal(sens[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  assert_int_equal(sens[0].ulValueLen, sizeof cls);
  assert_int_equal(cls, CKO_PRIVATE_KEY);
  CK_ATTRIBUTE prime = {CKA_PRIME_1, NULL, 0};
  assert_rv(p11->C_GetAttributeValue(s, priv, &prime, 1), CKR_ATTRIBUTE_SENSITIVE);
  assert_int_equal(prime.ulValueLen, CK_UNAVAILABLE_INFORMATION);

  /* 2. Invalid for the object: a certificate has no modulus; an unknown type. */
  cls = 0;
  CK_ATTRIBUTE inv[] = {{CKA_MODULUS, buf, sizeof buf}, {CKA_CLASS, &cls, sizeof cls}};
  assert_rv(p11->C_GetAttributeValue(s, cert, inv, 2), CKR_ATTRIBUTE_TYPE_INVALID);
  assert_int_equal(inv[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  assert_int_equal(cls, CKO_CERTIFICATE);
  CK_ATTRIBUTE unknown = {0x7FFF0001UL, buf, sizeof buf};
  assert_rv(p11->C_GetAttributeValue(s, cert, &unknown, 1), CKR_ATTRIBUTE_TYPE_INVALID);
  assert_int_equal(unknown.ulValueLen, CK_UNAVAILABLE_INFORMATION);

  /* 3. pValue NULL: the length. */
  CK_ATTRIBUTE len_query = {CKA_VALUE, NULL, 0};
  assert_rv(p11->C_GetAttributeValue(s, cert, &len_query, 1), CKR_OK);
  assert_true(len_query.ulValueLen > 500 && len_query.ulValueLen != CK_UNAVAILABLE_INFORMATION);
  const CK_ULONG cert_len = len_query.ulValueLen;

  /* 4. Large enough: copied, length set. */
  CK_BYTE* big = malloc(cert_len + 16);
  CK_ATTRIBUTE fits = {CKA_VALUE, big, cert_len + 16};
  assert_rv(p11->C_GetAttributeValue(s, cert, &fits, 1), CKR_OK);
  assert_int_equal(fits.ulValueLen, cert_len);
  assert_int_equal(big[0], 0x30);

  /* 5. Too small: unavailable, CKR_BUFFER_TOO_SMALL; the other attributes still filled. */
  cls = 0;
  CK_ATTRIBUTE small[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_VALUE, big, cert_len - 1}};
  assert_rv(p11->C_GetAttributeValue(s, cert, small, 2), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(small[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  assert_int_equal(small[0].ulValueLen, sizeof cls);
  assert_int_equal(cls, CKO_CERTIFICATE);
  CK_BBOOL tiny;
  CK_ATTRIBUTE ul_small = {CKA_CLASS, &tiny, sizeof tiny};
  assert_rv(p11->C_GetAttributeValue(s, cert, &ul_small, 1), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(ul_small.ulValueLen, CK_UNAVAILABLE_INFORMATION);

  /* Mixed: every attribute processed; any of the errors may be returned. */
  CK_ATTRIBUTE mixed[] = {{CKA_PRIVATE_EXPONENT, buf, sizeof buf},
                          {0x7FFF0001UL, buf, sizeof buf},
                          {CKA_MODULUS, NULL, 0},
                          {CKA_LABEL, buf, 0}};
  CK_RV rv = p11->C_GetAttributeValue(s, priv, mixed, 4);
  if (rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
      rv != CKR_BUFFER_TOO_SMALL) {
    fail_msg("mixed template: %s", rv_name(rv));
  }
  assert_int_equal(mixed[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  assert_int_equal(mixed[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  assert_int_equal(mixed[2].ulValueLen, 256);
  assert_int_equal(mixed[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  free(big);
  assert_rv(p11->C_Logout(s), CKR_OK);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void object_size(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_OBJECT_HANDLE cert = find_user_cert(s);
  CK_ULONG size = 0;
  assert_rv(p11->C_GetObjectSize(s, cert, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_GetObjectSize(s, BOGUS_HANDLE, &size), CKR_OBJECT_HANDLE_INVALID);
  assert_rv(p11->C_GetObjectSize(s, cert, &size), CKR_OK);
  assert_true(size > 0);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void write_functions(void** state) {
  (void)state;
  CK_SESSION_HANDLE rw = open_session(auth_slot, CKF_RW_SESSION);
  CK_SESSION_HANDLE ro = open_session(auth_slot, 0);
  login(rw, CKU_USER, AUTH_PIN);
  CK_OBJECT_HANDLE cert = find_user_cert(rw);
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  CK_BYTE label[] = "new";
  CK_ATTRIBUTE create[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_TOKEN, &yes, sizeof yes}};
  CK_ATTRIBUTE set = {CKA_LABEL, label, 3};
  CK_OBJECT_HANDLE out = CK_INVALID_HANDLE;

  assert_rv(p11->C_CreateObject(rw, NULL, 1, &out), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_CreateObject(rw, create, 2, NULL), CKR_ARGUMENTS_BAD);
  /* Token objects cannot be written: the token is write protected. */
  assert_rv(p11->C_CreateObject(rw, create, 2, &out), CKR_TOKEN_WRITE_PROTECTED);
  assert_rv(p11->C_CopyObject(rw, cert, &set, 1, &out), CKR_TOKEN_WRITE_PROTECTED);
  assert_rv(p11->C_SetAttributeValue(rw, cert, &set, 1), CKR_TOKEN_WRITE_PROTECTED);
  assert_rv(p11->C_DestroyObject(rw, cert), CKR_TOKEN_WRITE_PROTECTED);
  /* Which check comes first is not specified. */
  assert_rv_either(p11->C_DestroyObject(rw, BOGUS_HANDLE), CKR_OBJECT_HANDLE_INVALID,
                   CKR_TOKEN_WRITE_PROTECTED);
  /* An R/O session: CKR_SESSION_READ_ONLY (v2.40 §5.7), or the write protection, both true. */
#define READ_ONLY(call) \
  assert_rv_either(p11->call, CKR_SESSION_READ_ONLY, CKR_TOKEN_WRITE_PROTECTED)
  READ_ONLY(C_CreateObject(ro, create, 2, &out));
  READ_ONLY(C_SetAttributeValue(ro, cert, &set, 1));
  READ_ONLY(C_DestroyObject(ro, cert));
  READ_ONLY(C_CopyObject(ro, cert, &set, 1, &out));
#undef READ_ONLY
  /* Still there, unchanged. */
  CK_ULONG len = 0;
  free(get_attr(rw, cert, CKA_LABEL, &len));
  assert_int_not_equal(len, 3);
  assert_rv(p11->C_CloseSession(rw), CKR_OK);
  assert_rv(p11->C_CloseSession(ro), CKR_OK);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(find_objects_args),         T(auth_token_objects), T(sign_token_objects), T(profile_object),
      T(get_attribute_value_cases), T(object_size),        T(write_functions),
  };
  return cmocka_run_group_tests_name("objects", tests, setup_loaded, NULL);
}
