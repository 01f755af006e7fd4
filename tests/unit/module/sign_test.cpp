// SPDX-License-Identifier: MIT
// Mechanisms, signing with every mechanism (verified with OpenSSL against the certificate),
// multi-part, length queries without card I/O, always-authenticate, software verify and digest.
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

#include "fixture.h"

namespace jt {
namespace {

EVP_PKEY* certKey(const Bytes& certDer) {
  const unsigned char* p = certDer.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(certDer.size()));
  EVP_PKEY* k = X509_get_pubkey(x);
  X509_free(x);
  return k;
}

// Verifies a PKCS#1 v1.5 signature with OpenSSL (md null: raw comparison of the signed block).
bool opensslVerify(const Bytes& certDer, const EVP_MD* md, const Bytes& data, const Bytes& sig) {
  EVP_PKEY* k = certKey(certDer);
  bool ok = false;
  if (md != nullptr) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, k) == 1 &&
         EVP_DigestVerify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
  } else {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(k, nullptr);
    ok = EVP_PKEY_verify_init(ctx) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
         EVP_PKEY_verify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
    EVP_PKEY_CTX_free(ctx);
  }
  EVP_PKEY_free(k);
  return ok;
}

struct MechCase {
  CK_MECHANISM_TYPE mech;
  const char* md;
};

const MechCase kSignMechs[] = {{CKM_RSA_PKCS, nullptr},         {CKM_SHA1_RSA_PKCS, "SHA1"},
                               {CKM_SHA224_RSA_PKCS, "SHA224"}, {CKM_SHA256_RSA_PKCS, "SHA256"},
                               {CKM_SHA384_RSA_PKCS, "SHA384"}, {CKM_SHA512_RSA_PKCS, "SHA512"}};

TEST_F(ModuleTest, MechanismListAndInfo) {
  CK_ULONG n = 0;
  ASSERT_EQ(f->C_GetMechanismList(kAuthSlot, nullptr, &n), CKR_OK);
  std::vector<CK_MECHANISM_TYPE> list(n);
  ASSERT_EQ(f->C_GetMechanismList(kAuthSlot, list.data(), &n), CKR_OK);
  EXPECT_EQ(n, 11u);
  for (CK_MECHANISM_TYPE bad : {CKM_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS, CKM_RSA_X_509,
                                CKM_RSA_PKCS_OAEP, CKM_MD5_RSA_PKCS}) {
    EXPECT_EQ(std::count(list.begin(), list.end(), bad), 0) << bad;
    CK_MECHANISM_INFO info;
    EXPECT_EQ(f->C_GetMechanismInfo(kAuthSlot, bad, &info), CKR_MECHANISM_INVALID);
  }
  for (const MechCase& m : kSignMechs) {
    CK_MECHANISM_INFO info;
    ASSERT_EQ(f->C_GetMechanismInfo(kAuthSlot, m.mech, &info), CKR_OK);
    EXPECT_EQ(info.ulMinKeySize, 2048u);
    EXPECT_EQ(info.ulMaxKeySize, 2048u);
    EXPECT_EQ(info.flags & (CKF_HW | CKF_SIGN | CKF_VERIFY), CKF_HW | CKF_SIGN | CKF_VERIFY);
    EXPECT_EQ(info.flags & (CKF_DECRYPT | CKF_ENCRYPT | CKF_SIGN_RECOVER), 0u);
  }
  for (CK_MECHANISM_TYPE d : {CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512}) {
    CK_MECHANISM_INFO info;
    ASSERT_EQ(f->C_GetMechanismInfo(kAuthSlot, d, &info), CKR_OK);
    EXPECT_EQ(info.flags, CKF_DIGEST);
  }
}

// NSS >= 3.101 signs through a token's hash-and-sign mechanism whenever it is flagged CKF_SIGN,
// without the per-signature login of a CKA_ALWAYS_AUTHENTICATE key: on the signature token those
// mechanisms are flagged verify-only while its key needs that login (CKM_RSA_PKCS still signs), and
// C_SignInit still accepts them.
TEST_F(ModuleTest, HashAndSignNotFlaggedForSigningOnAnAlwaysAuthenticateToken) {
  for (bool always : {true, false}) {
    restart(always ? "sign-always-authenticate = yes\n" : "sign-always-authenticate = no\n");
    for (const MechCase& m : kSignMechs) {
      CK_MECHANISM_INFO auth, sign;
      ASSERT_EQ(f->C_GetMechanismInfo(kAuthSlot, m.mech, &auth), CKR_OK);
      ASSERT_EQ(f->C_GetMechanismInfo(kSignSlot, m.mech, &sign), CKR_OK);
      EXPECT_EQ(auth.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY) << m.mech;
      const bool signFlag = (sign.flags & CKF_SIGN) != 0;
      EXPECT_EQ(signFlag, m.md == nullptr || !always) << m.mech << " always=" << always;
      EXPECT_NE(sign.flags & CKF_VERIFY, 0u) << m.mech;
    }
  }
  restart("sign-always-authenticate = yes\n");
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_EQ(f->C_SignInit(s, &mech, findOne(s, CKO_PRIVATE_KEY, 2)), CKR_OK);
}

class SignMech : public ModuleTest, public ::testing::WithParamInterface<MechCase> {};

TEST_P(SignMech, SingleAndMultiPartVerifyWithOpenSsl) {
  const MechCase& m = GetParam();
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE key = findOne(a, CKO_PRIVATE_KEY, 1);
  const EVP_MD* md = m.md ? EVP_get_digestbyname(m.md) : nullptr;
  Bytes data(100);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::uint8_t>(i * 7);
  }
  const Bytes sig = signWith(a, m.mech, key, data);
  ASSERT_EQ(sig.size(), 256u);
  EXPECT_TRUE(opensslVerify(pkiA().authCert, md, data, sig));

  // Multi-part gives the same (deterministic PKCS#1 v1.5) signature.
  CK_MECHANISM mech{m.mech, nullptr, 0};
  ASSERT_EQ(f->C_SignInit(a, &mech, key), CKR_OK);
  ASSERT_EQ(f->C_SignUpdate(a, data.data(), 30), CKR_OK);
  ASSERT_EQ(f->C_SignUpdate(a, data.data() + 30, 70), CKR_OK);
  CK_ULONG len = 0;
  ASSERT_EQ(f->C_SignFinal(a, nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 256u);
  Bytes multi(len);
  ASSERT_EQ(f->C_SignFinal(a, multi.data(), &len), CKR_OK);
  EXPECT_EQ(multi, sig);

  // And the module's own software verification accepts it (and rejects a damaged one).
  const CK_OBJECT_HANDLE pub = findOne(a, CKO_PUBLIC_KEY, 1);
  ASSERT_EQ(f->C_VerifyInit(a, &mech, pub), CKR_OK);
  EXPECT_EQ(
      f->C_Verify(a, data.data(), data.size(), const_cast<CK_BYTE_PTR>(sig.data()), sig.size()),
      CKR_OK);
  Bytes bad = sig;
  bad[10] ^= 1;
  ASSERT_EQ(f->C_VerifyInit(a, &mech, pub), CKR_OK);
  EXPECT_EQ(f->C_Verify(a, data.data(), data.size(), bad.data(), bad.size()),
            CKR_SIGNATURE_INVALID);
  ASSERT_EQ(f->C_VerifyInit(a, &mech, pub), CKR_OK);
  ASSERT_EQ(f->C_VerifyUpdate(a, data.data(), 50), CKR_OK);
  ASSERT_EQ(f->C_VerifyUpdate(a, data.data() + 50, 50), CKR_OK);
  EXPECT_EQ(f->C_VerifyFinal(a, const_cast<CK_BYTE_PTR>(sig.data()), sig.size()), CKR_OK);
  ASSERT_EQ(f->C_VerifyInit(a, &mech, pub), CKR_OK);
  EXPECT_EQ(f->C_Verify(a, data.data(), data.size(), bad.data(), 255), CKR_SIGNATURE_LEN_RANGE);
}

INSTANTIATE_TEST_SUITE_P(All, SignMech, ::testing::ValuesIn(kSignMechs));

TEST_F(ModuleTest, LengthQueryAndSmallBufferDoNoCardIoAndKeepTheOperation) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE key = findOne(a, CKO_PRIVATE_KEY, 1);
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  ASSERT_EQ(f->C_SignInit(a, &mech, key), CKR_OK);
  clearLog();
  Bytes data{1, 2, 3};
  CK_ULONG len = 0;
  ASSERT_EQ(f->C_Sign(a, data.data(), data.size(), nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 256u);
  Bytes sig(100);
  len = sig.size();
  EXPECT_EQ(f->C_Sign(a, data.data(), data.size(), sig.data(), &len), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 256u);
  EXPECT_EQ(apdus(), 0u);
  sig.resize(256);
  len = sig.size();
  ASSERT_EQ(f->C_Sign(a, data.data(), data.size(), sig.data(), &len), CKR_OK);
  EXPECT_GT(apdus(), 0u);
  EXPECT_TRUE(opensslVerify(pkiA().authCert, EVP_sha256(), data, sig));
  // The operation ended.
  EXPECT_EQ(f->C_Sign(a, data.data(), data.size(), sig.data(), &len),
            CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(ModuleTest, SignErrors) {
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  const CK_OBJECT_HANDLE cert = findOne(a, CKO_CERTIFICATE, 1);
  const CK_OBJECT_HANDLE pub = findOne(a, CKO_PUBLIC_KEY, 1);
  Bytes data{1};
  CK_ULONG len = 256;
  EXPECT_EQ(f->C_Sign(a, data.data(), 1, nullptr, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE priv = findOne(a, CKO_PRIVATE_KEY, 1);
  EXPECT_EQ(f->C_SignInit(a, &mech, cert), CKR_KEY_HANDLE_INVALID);
  EXPECT_EQ(f->C_SignInit(a, &mech, pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(f->C_SignInit(s, &mech, priv), CKR_KEY_HANDLE_INVALID);  // key of another token
  EXPECT_EQ(f->C_SignInit(a, &mech, 0xFFFFFF), CKR_KEY_HANDLE_INVALID);
  for (CK_MECHANISM_TYPE bad :
       {CKM_RSA_PKCS_PSS, CKM_RSA_X_509, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256}) {
    CK_MECHANISM m{bad, nullptr, 0};
    EXPECT_EQ(f->C_SignInit(a, &m, priv), CKR_MECHANISM_INVALID) << bad;
  }
  CK_BYTE param[4];
  CK_MECHANISM withParam{CKM_SHA256_RSA_PKCS, param, sizeof param};
  EXPECT_EQ(f->C_SignInit(a, &withParam, priv), CKR_MECHANISM_PARAM_INVALID);
  ASSERT_EQ(f->C_SignInit(a, &mech, priv), CKR_OK);
  EXPECT_EQ(f->C_SignInit(a, &mech, priv), CKR_OPERATION_ACTIVE);
  // v2.40 §5.12: every error but CKR_BUFFER_TOO_SMALL ends the operation, CKR_ARGUMENTS_BAD too.
  EXPECT_EQ(f->C_Sign(a, data.data(), 1, nullptr, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(f->C_Sign(a, data.data(), 1, nullptr, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f->C_SignInit(a, &mech, priv), CKR_OK);
  // RSA_PKCS input is 1..245 bytes.
  CK_MECHANISM raw{CKM_RSA_PKCS, nullptr, 0};
  ASSERT_EQ(f->C_FindObjectsInit(a, nullptr, 0), CKR_OPERATION_ACTIVE);
  Bytes sig(256);
  len = sig.size();
  ASSERT_EQ(f->C_Sign(a, data.data(), 1, sig.data(), &len), CKR_OK);
  ASSERT_EQ(f->C_SignInit(a, &raw, priv), CKR_OK);
  Bytes big(246, 1);
  EXPECT_EQ(f->C_Sign(a, big.data(), big.size(), sig.data(), &len), CKR_DATA_LEN_RANGE);
  ASSERT_EQ(f->C_SignInit(a, &raw, priv), CKR_OK);
  Bytes max(245, 1);
  len = sig.size();
  EXPECT_EQ(f->C_Sign(a, max.data(), max.size(), sig.data(), &len), CKR_OK);
  // Not logged in: the private key is not usable.
  ASSERT_EQ(f->C_Logout(a), CKR_OK);
  EXPECT_EQ(f->C_SignInit(a, &mech, priv), CKR_USER_NOT_LOGGED_IN);
}

TEST_F(ModuleTest, AlwaysAuthenticateNeedsContextLoginBeforeEachSignature) {
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  const CK_OBJECT_HANDLE key = findOne(s, CKO_PRIVATE_KEY, 2);
  EXPECT_TRUE(attrBool(s, key, CKA_ALWAYS_AUTHENTICATE));
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  Bytes data{9, 8, 7};
  Bytes sig(256);
  CK_ULONG len = sig.size();

  ASSERT_EQ(f->C_SignInit(s, &mech, key), CKR_OK);
  EXPECT_EQ(f->C_Sign(s, data.data(), data.size(), sig.data(), &len), CKR_USER_NOT_LOGGED_IN);

  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(f->C_SignInit(s, &mech, key), CKR_OK);
    EXPECT_EQ(login(s, CKU_CONTEXT_SPECIFIC, "WRONG9"), CKR_PIN_INCORRECT);
    ASSERT_EQ(login(s, CKU_CONTEXT_SPECIFIC, kSignPin), CKR_OK);
    len = sig.size();
    ASSERT_EQ(f->C_Sign(s, data.data(), data.size(), sig.data(), &len), CKR_OK);
    EXPECT_TRUE(opensslVerify(pkiA().signCert, EVP_sha256(), data, sig));
  }
  // Context-specific login on the auth key (no ALWAYS_AUTHENTICATE) is not allowed.
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(f->C_SignInit(a, &mech, findOne(a, CKO_PRIVATE_KEY, 1)), CKR_OK);
  EXPECT_EQ(login(a, CKU_CONTEXT_SPECIFIC, kAuthPin), CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(ModuleTest, SignKeyWithoutAlwaysAuthenticate) {
  restart("sign-always-authenticate = no\n");
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  Bytes data{1, 2};
  const Bytes sig = signWith(s, CKM_SHA512_RSA_PKCS, findOne(s, CKO_PRIVATE_KEY, 2), data);
  EXPECT_TRUE(opensslVerify(pkiA().signCert, EVP_sha512(), data, sig));
}

TEST_F(ModuleTest, SoftwareDigests) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  const std::pair<CK_MECHANISM_TYPE, const EVP_MD*> digests[] = {{CKM_SHA_1, EVP_sha1()},
                                                                 {CKM_SHA224, EVP_sha224()},
                                                                 {CKM_SHA256, EVP_sha256()},
                                                                 {CKM_SHA384, EVP_sha384()},
                                                                 {CKM_SHA512, EVP_sha512()}};
  Bytes data{'a', 'b', 'c'};
  for (auto [mech, md] : digests) {
    Bytes expected(EVP_MD_get_size(md));
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), expected.data(), &n, md, nullptr);
    CK_MECHANISM m{mech, nullptr, 0};
    ASSERT_EQ(f->C_DigestInit(a, &m), CKR_OK);
    CK_ULONG len = 0;
    ASSERT_EQ(f->C_Digest(a, data.data(), data.size(), nullptr, &len), CKR_OK);
    EXPECT_EQ(len, expected.size());
    Bytes out(len);
    len = 1;
    EXPECT_EQ(f->C_Digest(a, data.data(), data.size(), out.data(), &len), CKR_BUFFER_TOO_SMALL);
    len = out.size();
    ASSERT_EQ(f->C_Digest(a, data.data(), data.size(), out.data(), &len), CKR_OK);
    EXPECT_EQ(out, expected);
    ASSERT_EQ(f->C_DigestInit(a, &m), CKR_OK);
    ASSERT_EQ(f->C_DigestUpdate(a, data.data(), 1), CKR_OK);
    ASSERT_EQ(f->C_DigestUpdate(a, data.data() + 1, 2), CKR_OK);
    len = out.size();
    ASSERT_EQ(f->C_DigestFinal(a, out.data(), &len), CKR_OK);
    EXPECT_EQ(out, expected);
  }
  CK_MECHANISM bad{CKM_MD5, nullptr, 0};
  EXPECT_EQ(f->C_DigestInit(a, &bad), CKR_MECHANISM_INVALID);
}

// v2.40 §5.10-5.12: once the single-part function was called (a length query is enough), the
// multi-part ones answer CKR_OPERATION_ACTIVE and end the operation; and the other way round.
TEST_F(ModuleTest, SingleAndMultiPartDoNotMix) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE key = findOne(a, CKO_PRIVATE_KEY, 1);
  const CK_OBJECT_HANDLE pub = findOne(a, CKO_PUBLIC_KEY, 1);
  CK_MECHANISM sha{CKM_SHA256, nullptr, 0}, rsa{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_BYTE data[3] = {'a', 'b', 'c'}, out[256] = {};
  CK_ULONG len = 0;
  // Digest: single then multi.
  ASSERT_EQ(f->C_DigestInit(a, &sha), CKR_OK);
  ASSERT_EQ(f->C_Digest(a, data, 3, nullptr, &len), CKR_OK);
  len = sizeof out;
  EXPECT_EQ(f->C_DigestFinal(a, out, &len), CKR_OPERATION_ACTIVE);
  len = sizeof out;
  EXPECT_EQ(f->C_Digest(a, data, 3, out, &len), CKR_OPERATION_NOT_INITIALIZED) << "not ended";
  ASSERT_EQ(f->C_DigestInit(a, &sha), CKR_OK);
  ASSERT_EQ(f->C_Digest(a, data, 3, nullptr, &len), CKR_OK);
  EXPECT_EQ(f->C_DigestUpdate(a, data, 3), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(f->C_DigestUpdate(a, data, 3), CKR_OPERATION_NOT_INITIALIZED) << "not ended";
  // Digest: multi then single.
  ASSERT_EQ(f->C_DigestInit(a, &sha), CKR_OK);
  ASSERT_EQ(f->C_DigestUpdate(a, data, 3), CKR_OK);
  len = sizeof out;
  EXPECT_EQ(f->C_Digest(a, data, 3, out, &len), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(f->C_DigestUpdate(a, data, 3), CKR_OPERATION_NOT_INITIALIZED) << "not ended";
  // Sign: a length query makes it single-part; C_SignUpdate / C_SignFinal end it.
  ASSERT_EQ(f->C_SignInit(a, &rsa, key), CKR_OK);
  ASSERT_EQ(f->C_Sign(a, data, 3, nullptr, &len), CKR_OK);
  EXPECT_EQ(f->C_SignUpdate(a, data, 3), CKR_OPERATION_ACTIVE);
  len = sizeof out;
  EXPECT_EQ(f->C_SignFinal(a, out, &len), CKR_OPERATION_NOT_INITIALIZED) << "not ended";
  ASSERT_EQ(f->C_SignInit(a, &rsa, key), CKR_OK);
  ASSERT_EQ(f->C_Sign(a, data, 3, nullptr, &len), CKR_OK);
  len = sizeof out;
  EXPECT_EQ(f->C_SignFinal(a, out, &len), CKR_OPERATION_ACTIVE);
  ASSERT_EQ(f->C_SignInit(a, &rsa, key), CKR_OK);
  ASSERT_EQ(f->C_SignUpdate(a, data, 3), CKR_OK);
  len = sizeof out;
  EXPECT_EQ(f->C_Sign(a, data, 3, out, &len), CKR_OPERATION_ACTIVE);
  // Verify: the same rules.
  ASSERT_EQ(f->C_VerifyInit(a, &rsa, pub), CKR_OK);
  ASSERT_EQ(f->C_VerifyUpdate(a, data, 3), CKR_OK);
  EXPECT_EQ(f->C_Verify(a, data, 3, out, 256), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(f->C_VerifyFinal(a, out, 256), CKR_OPERATION_NOT_INITIALIZED) << "not ended";
  // A full single-part signature still works after all this.
  ASSERT_EQ(f->C_SignInit(a, &rsa, key), CKR_OK);
  len = sizeof out;
  EXPECT_EQ(f->C_Sign(a, data, 3, out, &len), CKR_OK);
  EXPECT_EQ(len, 256u);
}

}  // namespace
}  // namespace jt
