// SPDX-License-Identifier: MIT
/* Signing, verifying, digesting and the unsupported cryptographic functions (PKCS#11 v2.40
 * §5.8-§5.15): C_SignInit/C_Sign/C_SignUpdate/C_SignFinal with every mechanism on both keys,
 * checked with C_Verify* and independently with OpenSSL; the length-query convention; the
 * signature key's CKA_ALWAYS_AUTHENTICATE; C_Digest*; C_GenerateRandom/C_SeedRandom. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "harness.h"

static const CK_BYTE kData[] = "The quick brown fox jumps over the lazy dog";
#define DATA_LEN (sizeof kData - 1)

/* DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1). */
static const CK_BYTE kSha256Prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

struct mech {
  CK_MECHANISM_TYPE type;
  const char* digest; /* OpenSSL name; NULL for CKM_RSA_PKCS */
};
static const struct mech kMechs[] = {
    {CKM_RSA_PKCS, NULL},
    {CKM_SHA1_RSA_PKCS, "SHA1"},
    {CKM_SHA224_RSA_PKCS, "SHA224"},
    {CKM_SHA256_RSA_PKCS, "SHA256"},
    {CKM_SHA384_RSA_PKCS, "SHA384"},
    {CKM_SHA512_RSA_PKCS, "SHA512"},
};

/* OpenSSL check of an RSA PKCS#1 v1.5 signature with the certificate's key. */
static void openssl_verify(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE cert, const char* digest,
                           const CK_BYTE* data, size_t len, const CK_BYTE* sig, size_t sig_len) {
  CK_ULONG der_len;
  unsigned char* der = get_attr(s, cert, CKA_VALUE, &der_len);
  const unsigned char* p = der;
  X509* x = d2i_X509(NULL, &p, (long)der_len);
  assert_non_null(x);
  EVP_PKEY* key = X509_get0_pubkey(x);
  assert_non_null(key);
  int ok;
  if (digest != NULL) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit(ctx, NULL, EVP_get_digestbyname(digest), NULL, key) == 1 &&
         EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
  } else { /* data is a DigestInfo: check the raw PKCS#1 v1.5 block */
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, NULL);
    unsigned char out[512];
    size_t out_len = sizeof out;
    ok = EVP_PKEY_verify_recover_init(ctx) == 1 &&
         EVP_PKEY_verify_recover(ctx, out, &out_len, sig, sig_len) == 1 && out_len == len &&
         memcmp(out, data, len) == 0;
    EVP_PKEY_CTX_free(ctx);
  }
  X509_free(x);
  free(der);
  if (!ok) fail_msg("OpenSSL does not verify the %s signature", digest ? digest : "RSA_PKCS");
}

struct keys {
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE priv, pub, cert;
};

static struct keys open_keys(CK_SLOT_ID slot, const char* pin) {
  struct keys k;
  k.session = open_session(slot, 0);
  login(k.session, CKU_USER, pin);
  k.priv = find_one(k.session, CKO_PRIVATE_KEY);
  k.pub = find_one(k.session, CKO_PUBLIC_KEY);
  k.cert = find_user_cert(k.session);
  return k;
}

static void close_keys(const struct keys* k) { assert_rv(p11->C_CloseSession(k->session), CKR_OK); }

static void sha256_digest_info(CK_BYTE out[51]) {
  unsigned int n = 32;
  memcpy(out, kSha256Prefix, sizeof kSha256Prefix);
  assert_int_equal(EVP_Digest(kData, DATA_LEN, out + 19, &n, EVP_sha256(), NULL), 1);
}

/* Signs with each mechanism, single-part: length query, too small, success; then C_Verify. */
static void sign_all_mechanisms(CK_SLOT_ID slot, const char* pin, int always_auth) {
  struct keys k = open_keys(slot, pin);
  CK_BYTE digest_info[51];
  sha256_digest_info(digest_info);
  for (size_t i = 0; i < sizeof kMechs / sizeof *kMechs; ++i) {
    CK_MECHANISM m = {kMechs[i].type, NULL, 0};
    const CK_BYTE* in = kMechs[i].digest ? kData : digest_info;
    const CK_ULONG in_len = kMechs[i].digest ? DATA_LEN : sizeof digest_info;
    CK_BYTE sig[512];
    CK_ULONG sig_len = 0;
    card("clear-log");
    assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
    if (always_auth) {
      assert_rv(p11->C_Login(k.session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
                CKR_OK);
    }
    const int apdus = card("apdu-count");
    /* Length query, then a short buffer: the operation stays active, no card I/O. */
    assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)in, in_len, NULL, &sig_len), CKR_OK);
    assert_int_equal(sig_len, 256);
    sig_len = 255;
    assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)in, in_len, sig, &sig_len), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(sig_len, 256);
    assert_int_equal(card("apdu-count"), apdus);
    sig_len = sizeof sig;
    assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)in, in_len, sig, &sig_len), CKR_OK);
    assert_int_equal(sig_len, 256);
    /* The operation is over. */
    assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)in, in_len, sig, &sig_len),
              CKR_OPERATION_NOT_INITIALIZED);

    openssl_verify(k.session, k.cert, kMechs[i].digest, in, in_len, sig, sig_len);
    assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
    assert_rv(p11->C_Verify(k.session, (CK_BYTE_PTR)in, in_len, sig, sig_len), CKR_OK);
    sig[100] ^= 1;
    assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
    assert_rv(p11->C_Verify(k.session, (CK_BYTE_PTR)in, in_len, sig, sig_len),
              CKR_SIGNATURE_INVALID);
    assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
    assert_rv(p11->C_Verify(k.session, (CK_BYTE_PTR)in, in_len, sig, 255), CKR_SIGNATURE_LEN_RANGE);
  }
  close_keys(&k);
}

static void sign_auth_key(void** state) {
  (void)state;
  sign_all_mechanisms(auth_slot, AUTH_PIN, 0);
}

static void sign_sign_key(void** state) {
  (void)state;
  sign_all_mechanisms(sign_slot, SIGN_PIN, 1);
}

/* CKM_SHA*_RSA_PKCS hash on the host, so they also run in parts; the result equals the
 * single-part signature (PKCS#1 v1.5 is deterministic) and the CKM_RSA_PKCS one on the
 * DigestInfo. */
static void multi_part(void** state) {
  (void)state;
  struct keys k = open_keys(auth_slot, AUTH_PIN);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_MECHANISM raw = {CKM_RSA_PKCS, NULL, 0};
  CK_BYTE one[256], parts[256], viaraw[256];
  CK_ULONG one_len = 256, parts_len = 256, raw_len = 256;
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, one, &one_len), CKR_OK);

  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_SignUpdate(k.session, (CK_BYTE_PTR)kData, 10), CKR_OK);
  assert_rv(p11->C_SignUpdate(k.session, (CK_BYTE_PTR)kData + 10, 0), CKR_OK);
  assert_rv(p11->C_SignUpdate(k.session, (CK_BYTE_PTR)kData + 10, DATA_LEN - 10), CKR_OK);
  CK_ULONG q = 0;
  assert_rv(p11->C_SignFinal(k.session, NULL, &q), CKR_OK);
  assert_int_equal(q, 256);
  q = 10;
  assert_rv(p11->C_SignFinal(k.session, parts, &q), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(q, 256);
  assert_rv(p11->C_SignFinal(k.session, parts, &parts_len), CKR_OK);
  assert_rv(p11->C_SignFinal(k.session, parts, &parts_len), CKR_OPERATION_NOT_INITIALIZED);
  assert_memory_equal(one, parts, 256);

  CK_BYTE digest_info[51];
  sha256_digest_info(digest_info);
  assert_rv(p11->C_SignInit(k.session, &raw, k.priv), CKR_OK);
  assert_rv(p11->C_Sign(k.session, digest_info, sizeof digest_info, viaraw, &raw_len), CKR_OK);
  assert_memory_equal(one, viaraw, 256);

  assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
  assert_rv(p11->C_VerifyUpdate(k.session, (CK_BYTE_PTR)kData, 5), CKR_OK);
  assert_rv(p11->C_VerifyUpdate(k.session, (CK_BYTE_PTR)kData + 5, DATA_LEN - 5), CKR_OK);
  assert_rv(p11->C_VerifyFinal(k.session, parts, parts_len), CKR_OK);
  assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
  assert_rv(p11->C_VerifyUpdate(k.session, (CK_BYTE_PTR)kData, 5), CKR_OK);
  assert_rv(p11->C_VerifyFinal(k.session, parts, parts_len), CKR_SIGNATURE_INVALID);
  close_keys(&k);
}

static void sign_errors(void** state) {
  (void)state;
  struct keys k = open_keys(auth_slot, AUTH_PIN);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_MECHANISM raw = {CKM_RSA_PKCS, NULL, 0};
  CK_MECHANISM pss = {CKM_SHA256_RSA_PKCS_PSS, NULL, 0};
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;

  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
            CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_SignUpdate(k.session, (CK_BYTE_PTR)kData, DATA_LEN),
            CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_SignFinal(k.session, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_SignInit(k.session, NULL, k.priv), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_SignInit(k.session, &pss, k.priv), CKR_MECHANISM_INVALID);
  assert_rv(p11->C_SignInit(k.session, &m, BOGUS_HANDLE), CKR_KEY_HANDLE_INVALID);
  assert_rv(p11->C_SignInit(k.session, &m, k.pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
  assert_rv(p11->C_SignInit(BOGUS_HANDLE, &m, k.priv), CKR_SESSION_HANDLE_INVALID);

  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OPERATION_ACTIVE);
  assert_rv(p11->C_Sign(k.session, NULL, DATA_LEN, sig, &len), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, NULL), CKR_ARGUMENTS_BAD);
  /* (Whether the operation survived is checked by error_ends_operation.) */
  len = sizeof sig;
  assert_rv_either(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
                   CKR_OPERATION_NOT_INITIALIZED, CKR_OK);
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
            CKR_OPERATION_NOT_INITIALIZED);

  /* CKM_RSA_PKCS: at most k - 11 = 245 bytes of input; single-part only. */
  CK_BYTE big[246];
  memset(big, 0x5A, sizeof big);
  assert_rv(p11->C_SignInit(k.session, &raw, k.priv), CKR_OK);
  len = sizeof sig;
  assert_rv(p11->C_Sign(k.session, big, sizeof big, sig, &len), CKR_DATA_LEN_RANGE);
  assert_rv(p11->C_SignInit(k.session, &raw, k.priv), CKR_OK);
  len = sizeof sig;
  assert_rv(p11->C_Sign(k.session, big, 245, sig, &len), CKR_OK);

  /* Not logged in. */
  assert_rv(p11->C_Logout(k.session), CKR_OK);
  CK_SESSION_HANDLE pub_session = k.session;
  CK_RV rv = p11->C_SignInit(pub_session, &m, k.priv);
  if (rv != CKR_USER_NOT_LOGGED_IN && rv != CKR_KEY_HANDLE_INVALID) {
    fail_msg("C_SignInit after C_Logout: %s", rv_name(rv));
  }
  close_keys(&k);
}

static void verify_errors(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_MECHANISM pss = {CKM_RSA_PKCS_PSS, NULL, 0};
  CK_BYTE sig[256] = {0};
  assert_rv(p11->C_Verify(s, (CK_BYTE_PTR)kData, DATA_LEN, sig, 256),
            CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_VerifyUpdate(s, (CK_BYTE_PTR)kData, DATA_LEN), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_VerifyFinal(s, sig, 256), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_VerifyInit(s, NULL, pub), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_VerifyInit(s, &pss, pub), CKR_MECHANISM_INVALID);
  assert_rv(p11->C_VerifyInit(s, &m, BOGUS_HANDLE), CKR_KEY_HANDLE_INVALID);
  /* Verification with the public key needs no login. */
  assert_rv(p11->C_VerifyInit(s, &m, pub), CKR_OK);
  assert_rv(p11->C_VerifyInit(s, &m, pub), CKR_OPERATION_ACTIVE);
  assert_rv(p11->C_Verify(s, (CK_BYTE_PTR)kData, DATA_LEN, NULL, 256), CKR_ARGUMENTS_BAD);
  /* (Whether the operation survived is checked by error_ends_operation.) */
  assert_rv_either(p11->C_Verify(s, (CK_BYTE_PTR)kData, DATA_LEN, sig, 256),
                   CKR_OPERATION_NOT_INITIALIZED, CKR_SIGNATURE_INVALID);
  assert_rv(p11->C_VerifyInit(s, &m, pub), CKR_OK);
  assert_rv(p11->C_Verify(s, (CK_BYTE_PTR)kData, DATA_LEN, sig, 256), CKR_SIGNATURE_INVALID);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* The signature key carries CKA_ALWAYS_AUTHENTICATE: every C_Sign needs its own
 * C_Login(CKU_CONTEXT_SPECIFIC) after C_SignInit (v2.40 §4.9, §5.6). */
static void always_authenticate(void** state) {
  (void)state;
  struct keys k = open_keys(sign_slot, SIGN_PIN);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_BYTE sig[256];
  CK_ULONG len = sizeof sig;
  assert_true(get_bool_attr(k.session, k.priv, CKA_ALWAYS_AUTHENTICATE));

  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
            CKR_USER_NOT_LOGGED_IN);

  /* Malformed password at the context login: refused locally, no VERIFY. */
  card("clear-log");
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_Login(k.session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR) "AB1", 3),
            CKR_PIN_INCORRECT);
  assert_int_equal(card("verify-count"), 0);
  assert_rv(p11->C_Login(k.session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR) "abc123", 6), CKR_OK);
  assert_int_equal(card("verify-count"), 1);
  len = sizeof sig;
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len), CKR_OK);

  /* The context login is good for one operation only. */
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  len = sizeof sig;
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
            CKR_USER_NOT_LOGGED_IN);

  /* Multi-part: the login is checked when the signature is made. */
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_Login(k.session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)SIGN_PIN, 6), CKR_OK);
  assert_rv(p11->C_SignUpdate(k.session, (CK_BYTE_PTR)kData, DATA_LEN), CKR_OK);
  len = sizeof sig;
  assert_rv(p11->C_SignFinal(k.session, sig, &len), CKR_OK);
  assert_int_equal(session_state(k.session), CKS_RO_USER_FUNCTIONS);
  close_keys(&k);
}

static void digest(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
  CK_MECHANISM bad = {CKM_RSA_PKCS, NULL, 0};
  static const CK_BYTE abc_sha256[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                         0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                         0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                         0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  CK_BYTE out[64];
  CK_ULONG len = 0;
  assert_rv(p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_DigestInit(s, NULL), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_DigestInit(s, &bad), CKR_MECHANISM_INVALID);
  assert_rv(p11->C_DigestInit(s, &sha256), CKR_OK);
  assert_rv(p11->C_DigestInit(s, &sha256), CKR_OPERATION_ACTIVE);
  assert_rv(p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, NULL, &len), CKR_OK);
  assert_int_equal(len, 32);
  len = 31;
  assert_rv(p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 32);
  len = sizeof out;
  assert_rv(p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OK);
  assert_int_equal(len, 32);
  assert_memory_equal(out, abc_sha256, 32);

  assert_rv(p11->C_DigestInit(s, &sha256), CKR_OK);
  assert_rv(p11->C_DigestUpdate(s, (CK_BYTE_PTR) "a", 1), CKR_OK);
  assert_rv(p11->C_DigestUpdate(s, (CK_BYTE_PTR) "bc", 2), CKR_OK);
  len = 0;
  assert_rv(p11->C_DigestFinal(s, NULL, &len), CKR_OK);
  assert_int_equal(len, 32);
  len = sizeof out;
  assert_rv(p11->C_DigestFinal(s, out, &len), CKR_OK);
  assert_memory_equal(out, abc_sha256, 32);
  assert_rv(p11->C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);

  /* C_DigestKey: the card's keys are secret or not digestible. */
  CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY);
  assert_rv(p11->C_DigestInit(s, &sha256), CKR_OK);
  assert_rv_either(p11->C_DigestKey(s, pub), CKR_FUNCTION_NOT_SUPPORTED, CKR_KEY_INDIGESTIBLE);
  /* Whether that ended the operation is not specified: end it either way. */
  len = sizeof out;
  assert_rv_either(p11->C_DigestFinal(s, out, &len), CKR_OK, CKR_OPERATION_NOT_INITIALIZED);

  const CK_MECHANISM_TYPE all[] = {CKM_SHA_1, CKM_SHA224, CKM_SHA384, CKM_SHA512};
  const CK_ULONG sizes[] = {20, 28, 48, 64};
  for (int i = 0; i < 4; ++i) {
    CK_MECHANISM d = {all[i], NULL, 0};
    len = sizeof out;
    assert_rv(p11->C_DigestInit(s, &d), CKR_OK);
    assert_rv(p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OK);
    assert_int_equal(len, sizes[i]);
  }
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

static void random_numbers(void** state) {
  (void)state;
  CK_SESSION_HANDLE s = open_session(auth_slot, 0);
  CK_BYTE buf[16];
  assert_rv(p11->C_GenerateRandom(BOGUS_HANDLE, buf, sizeof buf), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_SeedRandom(BOGUS_HANDLE, buf, sizeof buf), CKR_SESSION_HANDLE_INVALID);
  assert_rv(p11->C_GenerateRandom(s, buf, sizeof buf), CKR_RANDOM_NO_RNG);
  assert_rv(p11->C_SeedRandom(s, buf, sizeof buf), CKR_RANDOM_NO_RNG);
  assert_rv(p11->C_CloseSession(s), CKR_OK);
}

/* Everything the card cannot do: session checked first, then "not supported". */
static void unsupported_functions(void** state) {
  (void)state;
  struct keys k = open_keys(auth_slot, AUTH_PIN);
  CK_SESSION_HANDLE s = k.session;
  CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
  CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
  CK_BYTE in[32] = {1}, out[512];
  CK_ULONG len = sizeof out;
  CK_OBJECT_HANDLE h1, h2;
  CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
  CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
#define NOT_SUPPORTED(call) assert_rv(p11->call, CKR_FUNCTION_NOT_SUPPORTED)
  NOT_SUPPORTED(C_EncryptInit(s, &m, k.pub));
  NOT_SUPPORTED(C_Encrypt(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_EncryptUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_EncryptFinal(s, out, &len));
  NOT_SUPPORTED(C_DecryptInit(s, &m, k.priv));
  NOT_SUPPORTED(C_Decrypt(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_DecryptUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_DecryptFinal(s, out, &len));
  NOT_SUPPORTED(C_SignRecoverInit(s, &m, k.priv));
  NOT_SUPPORTED(C_SignRecover(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_VerifyRecoverInit(s, &m, k.pub));
  NOT_SUPPORTED(C_VerifyRecover(s, out, 256, in, &len));
  NOT_SUPPORTED(C_DigestEncryptUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_DecryptDigestUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_SignEncryptUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_DecryptVerifyUpdate(s, in, sizeof in, out, &len));
  NOT_SUPPORTED(C_WrapKey(s, &m, k.pub, k.priv, out, &len));
#undef NOT_SUPPORTED
  /* Functions that create objects may also answer with the write protection. */
#define NO_NEW_KEYS(call) \
  assert_rv_either(p11->call, CKR_FUNCTION_NOT_SUPPORTED, CKR_TOKEN_WRITE_PROTECTED)
  NO_NEW_KEYS(C_GenerateKey(s, &gen, &t, 1, &h1));
  NO_NEW_KEYS(C_GenerateKeyPair(s, &gen, &t, 1, &t, 1, &h1, &h2));
  NO_NEW_KEYS(C_UnwrapKey(s, &m, k.priv, in, sizeof in, &t, 1, &h1));
  NO_NEW_KEYS(C_DeriveKey(s, &m, k.priv, &t, 1, &h1));
#undef NO_NEW_KEYS
  /* Legacy parallel functions (v2.40 §5.16). */
  assert_rv(p11->C_GetFunctionStatus(s), CKR_FUNCTION_NOT_PARALLEL);
  assert_rv(p11->C_CancelFunction(s), CKR_FUNCTION_NOT_PARALLEL);
  close_keys(&k);
}

/* v2.40 §5.12/§5.13: "A call to C_Sign [C_Verify] always terminates the active operation unless
 * it returns CKR_BUFFER_TOO_SMALL or is a successful call to determine the length" - bad
 * arguments included. */
static void error_ends_operation(void** state) {
  (void)state;
  struct keys k = open_keys(auth_slot, AUTH_PIN);
  CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
  CK_BYTE sig[256] = {0};
  CK_ULONG len = sizeof sig;
  assert_rv(p11->C_SignInit(k.session, &m, k.priv), CKR_OK);
  assert_rv(p11->C_Sign(k.session, NULL, DATA_LEN, sig, &len), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_Sign(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, &len),
            CKR_OPERATION_NOT_INITIALIZED);
  assert_rv(p11->C_VerifyInit(k.session, &m, k.pub), CKR_OK);
  assert_rv(p11->C_Verify(k.session, (CK_BYTE_PTR)kData, DATA_LEN, NULL, 256), CKR_ARGUMENTS_BAD);
  assert_rv(p11->C_Verify(k.session, (CK_BYTE_PTR)kData, DATA_LEN, sig, 256),
            CKR_OPERATION_NOT_INITIALIZED);
  close_keys(&k);
}

/* Each test runs between its own C_Initialize and C_Finalize. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup_initialized, teardown_finalize)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(sign_auth_key),  T(sign_sign_key),         T(multi_part),           T(sign_errors),
      T(verify_errors),  T(always_authenticate),   T(error_ends_operation), T(digest),
      T(random_numbers), T(unsupported_functions),
  };
  return cmocka_run_group_tests_name("sign", tests, setup_loaded, NULL);
}
