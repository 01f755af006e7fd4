// SPDX-License-Identifier: MIT
// Objects: visibility before/after login, every attribute of every object checked against the
// certificates (OpenSSL), C_GetAttributeValue's five cases, template matching, handles.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "fixture.h"

namespace jt {
namespace {

template <class T, class F>
Bytes der(const T* o, F i2d) {
  int n = i2d(o, nullptr);
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d(o, &p);
  return out;
}

struct CertFacts {
  Bytes value, subject, issuer, serial, spki, modulus, exponent;
  CK_ULONG bits = 0;
};

CertFacts facts(const Bytes& certDer) {
  CertFacts f;
  f.value = certDer;
  const unsigned char* p = certDer.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(certDer.size()));
  EXPECT_NE(x, nullptr);
  f.subject = der(X509_get_subject_name(x), i2d_X509_NAME);
  f.issuer = der(X509_get_issuer_name(x), i2d_X509_NAME);
  f.serial = der(X509_get0_serialNumber(x), i2d_ASN1_INTEGER);
  f.spki = der(X509_get_X509_PUBKEY(x), i2d_X509_PUBKEY);
  const EVP_PKEY* k = X509_get0_pubkey(x);
  for (auto [name, out] : {std::pair{OSSL_PKEY_PARAM_RSA_N, &f.modulus},
                           std::pair{OSSL_PKEY_PARAM_RSA_E, &f.exponent}}) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(k, name, &bn);
    out->resize(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, out->data());
    BN_free(bn);
  }
  f.bits = static_cast<CK_ULONG>(EVP_PKEY_get_bits(k));
  X509_free(x);
  return f;
}

Bytes ul(CK_ULONG v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}
Bytes bl(bool v) { return Bytes{static_cast<std::uint8_t>(v ? 1 : 0)}; }
Bytes str(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::set<std::pair<CK_OBJECT_CLASS, int>> classesAndIds(ModuleTest* t, CK_FUNCTION_LIST_PTR f,
                                                        CK_SESSION_HANDLE s,
                                                        const std::vector<CK_OBJECT_HANDLE>& objs) {
  std::set<std::pair<CK_OBJECT_CLASS, int>> out;
  for (CK_OBJECT_HANDLE o : objs) {
    CK_OBJECT_CLASS cls = 0;
    CK_BYTE id[4] = {};
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, id, sizeof id}};
    CK_RV rv = f->C_GetAttributeValue(s, o, a, 2);
    EXPECT_TRUE(rv == CKR_OK || (cls == CKO_PROFILE && rv == CKR_ATTRIBUTE_TYPE_INVALID));
    out.insert({cls, a[1].ulValueLen == 1 ? id[0] : 0});
  }
  (void)t;
  return out;
}

using Set = std::set<std::pair<CK_OBJECT_CLASS, int>>;

TEST_F(ModuleTest, VisibilityBeforeAndAfterLogin) {
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  EXPECT_EQ(
      classesAndIds(this, f, a, find(a)),
      (Set{{CKO_CERTIFICATE, 1}, {CKO_PUBLIC_KEY, 1}, {CKO_CERTIFICATE, 3}, {CKO_PROFILE, 0}}));
  EXPECT_EQ(classesAndIds(this, f, s, find(s)), (Set{{CKO_CERTIFICATE, 4}}));
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  EXPECT_EQ(classesAndIds(this, f, a, find(a)), (Set{{CKO_CERTIFICATE, 1},
                                                     {CKO_PUBLIC_KEY, 1},
                                                     {CKO_PRIVATE_KEY, 1},
                                                     {CKO_CERTIFICATE, 3},
                                                     {CKO_PROFILE, 0}}));
  EXPECT_EQ(
      classesAndIds(this, f, s, find(s)),
      (Set{{CKO_CERTIFICATE, 4}, {CKO_CERTIFICATE, 2}, {CKO_PUBLIC_KEY, 2}, {CKO_PRIVATE_KEY, 2}}));
  // Private handles become invalid again after logout.
  const CK_OBJECT_HANDLE priv = findOne(a, CKO_PRIVATE_KEY, 1);
  ASSERT_EQ(f->C_Logout(a), CKR_OK);
  CK_ATTRIBUTE attr{CKA_CLASS, nullptr, 0};
  EXPECT_EQ(f->C_GetAttributeValue(a, priv, &attr, 1), CKR_OBJECT_HANDLE_INVALID);
}

TEST_F(ModuleTest, ProfileObjectMakesTheAuthTokenFriendly) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  CK_OBJECT_CLASS cls = CKO_PROFILE;
  CK_BBOOL yes = CK_TRUE;
  auto r = find(a, {{CKA_TOKEN, &yes, 1}, {CKA_CLASS, &cls, sizeof cls}});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(attrUlong(a, r[0], CKA_PROFILE_ID), CKP_PUBLIC_CERTIFICATES_TOKEN);
  CK_SESSION_HANDLE s = open(kSignSlot);
  EXPECT_TRUE(find(s, {{CKA_CLASS, &cls, sizeof cls}}).empty());
}

struct Expect {
  CK_ATTRIBUTE_TYPE type;
  Bytes value;
};

void checkAll(
    ModuleTest* t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, const std::vector<Expect>& e,
    const std::function<Bytes(CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE_TYPE)>& get) {
  (void)t;
  for (const Expect& x : e) {
    EXPECT_EQ(get(s, o, x.type), x.value) << "attribute 0x" << std::hex << x.type;
  }
}

TEST_F(ModuleTest, EveryAttributeOfEveryObject) {
  restart("sign-always-authenticate = yes\n");
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  auto get = [this](CK_SESSION_HANDLE ss, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t) {
    return attr(ss, o, t);
  };
  struct Pair {
    CK_SESSION_HANDLE session;
    const Bytes& cert;
    const Bytes& ca;
    std::uint8_t id, caId;
    std::string label;
    bool certPrivate, alwaysAuth;
  };
  const Pair pairs[] = {
      {a, pkiA().authCert, pkiA().authCaCert, 1, 3, "JPKI User Authentication", false, false},
      {s, pkiA().signCert, pkiA().signCaCert, 2, 4, "JPKI Digital Signature", true, true},
  };
  const Bytes mechs = [] {
    const CK_MECHANISM_TYPE m[] = {CKM_RSA_PKCS,        CKM_SHA1_RSA_PKCS,   CKM_SHA224_RSA_PKCS,
                                   CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS};
    const auto* p = reinterpret_cast<const std::uint8_t*>(m);
    return Bytes(p, p + sizeof m);
  }();
  for (const Pair& p : pairs) {
    const CertFacts c = facts(p.cert), ca = facts(p.ca);
    const std::vector<Expect> common = {{CKA_TOKEN, bl(true)},
                                        {CKA_MODIFIABLE, bl(false)},
                                        {CKA_COPYABLE, bl(false)},
                                        {CKA_DESTROYABLE, bl(false)}};
    const std::vector<Expect> cert = {{CKA_CLASS, ul(CKO_CERTIFICATE)},
                                      {CKA_PRIVATE, bl(p.certPrivate)},
                                      {CKA_LABEL, str(p.label)},
                                      {CKA_ID, Bytes{p.id}},
                                      {CKA_CERTIFICATE_TYPE, ul(CKC_X_509)},
                                      {CKA_CERTIFICATE_CATEGORY, ul(1)},
                                      {CKA_TRUSTED, bl(false)},
                                      {CKA_VALUE, c.value},
                                      {CKA_SUBJECT, c.subject},
                                      {CKA_ISSUER, c.issuer},
                                      {CKA_SERIAL_NUMBER, c.serial},
                                      {CKA_PUBLIC_KEY_INFO, c.spki}};
    const std::vector<Expect> caCert = {{CKA_CLASS, ul(CKO_CERTIFICATE)},  {CKA_PRIVATE, bl(false)},
                                        {CKA_LABEL, str(p.label + " CA")}, {CKA_ID, Bytes{p.caId}},
                                        {CKA_CERTIFICATE_CATEGORY, ul(2)}, {CKA_VALUE, ca.value},
                                        {CKA_SUBJECT, ca.subject},         {CKA_ISSUER, ca.issuer},
                                        {CKA_SERIAL_NUMBER, ca.serial}};
    const std::vector<Expect> key = {{CKA_KEY_TYPE, ul(CKK_RSA)},
                                     {CKA_ID, Bytes{p.id}},
                                     {CKA_LABEL, str(p.label)},
                                     {CKA_SUBJECT, c.subject},
                                     {CKA_MODULUS, c.modulus},
                                     {CKA_PUBLIC_EXPONENT, c.exponent},
                                     {CKA_MODULUS_BITS, ul(2048)},
                                     {CKA_PUBLIC_KEY_INFO, c.spki},
                                     {CKA_LOCAL, bl(false)},
                                     {CKA_DERIVE, bl(false)},
                                     {CKA_KEY_GEN_MECHANISM, ul(CK_UNAVAILABLE_INFORMATION)},
                                     {CKA_ALLOWED_MECHANISMS, mechs}};
    const std::vector<Expect> pub = {
        {CKA_CLASS, ul(CKO_PUBLIC_KEY)}, {CKA_PRIVATE, bl(p.certPrivate)},
        {CKA_VERIFY, bl(true)},          {CKA_ENCRYPT, bl(false)},
        {CKA_WRAP, bl(false)},           {CKA_VERIFY_RECOVER, bl(false)}};
    const std::vector<Expect> priv = {{CKA_CLASS, ul(CKO_PRIVATE_KEY)},
                                      {CKA_PRIVATE, bl(true)},
                                      {CKA_SIGN, bl(true)},
                                      {CKA_DECRYPT, bl(false)},
                                      {CKA_SIGN_RECOVER, bl(false)},
                                      {CKA_UNWRAP, bl(false)},
                                      {CKA_SENSITIVE, bl(true)},
                                      {CKA_EXTRACTABLE, bl(false)},
                                      {CKA_ALWAYS_SENSITIVE, bl(true)},
                                      {CKA_NEVER_EXTRACTABLE, bl(true)},
                                      {CKA_ALWAYS_AUTHENTICATE, bl(p.alwaysAuth)}};
    EXPECT_EQ(c.bits, 2048u);
    const CK_OBJECT_HANDLE hc = findOne(p.session, CKO_CERTIFICATE, p.id);
    const CK_OBJECT_HANDLE hca = findOne(p.session, CKO_CERTIFICATE, p.caId);
    const CK_OBJECT_HANDLE hpub = findOne(p.session, CKO_PUBLIC_KEY, p.id);
    const CK_OBJECT_HANDLE hpriv = findOne(p.session, CKO_PRIVATE_KEY, p.id);
    for (CK_OBJECT_HANDLE h : {hc, hca, hpub, hpriv}) {
      checkAll(this, p.session, h, common, get);
    }
    checkAll(this, p.session, hc, cert, get);
    checkAll(this, p.session, hca, caCert, get);
    checkAll(this, p.session, hpub, key, get);
    checkAll(this, p.session, hpub, pub, get);
    checkAll(this, p.session, hpriv, key, get);
    checkAll(this, p.session, hpriv, priv, get);
    EXPECT_EQ(attr(p.session, hc, CKA_START_DATE).size(), 8u);
    EXPECT_EQ(attr(p.session, hc, CKA_END_DATE).size(), 8u);
    CK_ULONG size = 0;
    EXPECT_EQ(f->C_GetObjectSize(p.session, hc, &size), CKR_OK);
    EXPECT_GT(size, c.value.size());
  }
}

TEST_F(ModuleTest, AlwaysAuthenticateFollowsConfig) {
  restart("sign-always-authenticate = no\n");
  CK_SESSION_HANDLE s = open(kSignSlot);
  ASSERT_EQ(login(s, CKU_USER, kSignPin), CKR_OK);
  EXPECT_FALSE(attrBool(s, findOne(s, CKO_PRIVATE_KEY, 2), CKA_ALWAYS_AUTHENTICATE));
}

TEST_F(ModuleTest, GetAttributeValueFiveCases) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  ASSERT_EQ(login(a, CKU_USER, kAuthPin), CKR_OK);
  const CK_OBJECT_HANDLE priv = findOne(a, CKO_PRIVATE_KEY, 1);
  CK_OBJECT_CLASS cls = 0;
  CK_BYTE small[4];
  CK_BYTE big[512];
  CK_BBOOL sign = CK_FALSE;
  CK_ATTRIBUTE t[] = {
      {CKA_CLASS, &cls, sizeof cls},            // ok
      {CKA_PRIVATE_EXPONENT, big, sizeof big},  // sensitive
      {CKA_VALUE, big, sizeof big},             // not an attribute of an RSA private key
      {CKA_MODULUS, nullptr, 0},                // length query
      {CKA_MODULUS, small, sizeof small},       // too small
      {CKA_SIGN, &sign, sizeof sign},           // still filled after the errors
  };
  const CK_RV rv = f->C_GetAttributeValue(a, priv, t, 6);
  EXPECT_TRUE(rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
              rv == CKR_BUFFER_TOO_SMALL)
      << rv;
  EXPECT_EQ(cls, CKO_PRIVATE_KEY);
  EXPECT_EQ(t[0].ulValueLen, sizeof cls);
  EXPECT_EQ(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(t[3].ulValueLen, 256u);
  EXPECT_EQ(t[4].ulValueLen, CK_UNAVAILABLE_INFORMATION);
  EXPECT_EQ(sign, CK_TRUE);
  EXPECT_EQ(t[5].ulValueLen, 1u);

  CK_ATTRIBUTE one{CKA_PRIVATE_EXPONENT, nullptr, 0};
  EXPECT_EQ(f->C_GetAttributeValue(a, priv, &one, 1), CKR_ATTRIBUTE_SENSITIVE);
  one = {0x80001234UL, nullptr, 0};
  EXPECT_EQ(f->C_GetAttributeValue(a, priv, &one, 1), CKR_ATTRIBUTE_TYPE_INVALID);
  EXPECT_EQ(one.ulValueLen, CK_UNAVAILABLE_INFORMATION);
  one = {CKA_MODULUS, small, sizeof small};
  EXPECT_EQ(f->C_GetAttributeValue(a, priv, &one, 1), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(f->C_GetAttributeValue(a, 0xFFFFFF, &one, 1), CKR_OBJECT_HANDLE_INVALID);
}

TEST_F(ModuleTest, FindMatchesAnyAttribute) {
  CK_SESSION_HANDLE a = open(kAuthSlot);
  Bytes value = pkiA().authCert;
  auto byValue = find(a, {{CKA_VALUE, value.data(), value.size()}});
  ASSERT_EQ(byValue.size(), 1u);
  std::string label = "JPKI User Authentication";
  EXPECT_EQ(find(a, {{CKA_LABEL, label.data(), label.size()}}).size(), 2u);  // cert + public key
  CK_BYTE id = 1;
  EXPECT_EQ(find(a, {{CKA_ID, &id, 1}}).size(), 2u);
  CK_BBOOL yes = CK_TRUE;
  EXPECT_EQ(find(a, {{CKA_VERIFY, &yes, 1}}).size(), 1u);
  CK_ULONG cat = 2;
  EXPECT_EQ(find(a, {{CKA_CERTIFICATE_CATEGORY, &cat, sizeof cat}}).size(), 1u);
  CK_BYTE nope = 9;
  EXPECT_TRUE(find(a, {{CKA_ID, &nope, 1}}).empty());
  EXPECT_TRUE(find(a, {{CKA_MODULUS_BITS, &yes, 1}}).empty());  // wrong length never matches
  CK_ULONG n = 0;
  CK_OBJECT_HANDLE h;
  EXPECT_EQ(f->C_FindObjects(a, &h, 1, &n), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(f->C_FindObjectsFinal(a), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(f->C_FindObjectsInit(a, nullptr, 0), CKR_OK);
  EXPECT_EQ(f->C_FindObjectsInit(a, nullptr, 0), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(f->C_FindObjectsFinal(a), CKR_OK);
}

TEST_F(ModuleTest, HandlesAreUniqueAndBelongToOneToken) {
  CK_SESSION_HANDLE a = open(kAuthSlot), s = open(kSignSlot);
  auto authObjs = find(a), signObjs = find(s);
  std::set<CK_OBJECT_HANDLE> all(authObjs.begin(), authObjs.end());
  all.insert(signObjs.begin(), signObjs.end());
  EXPECT_EQ(all.size(), authObjs.size() + signObjs.size());
  CK_ATTRIBUTE attrib{CKA_CLASS, nullptr, 0};
  EXPECT_EQ(f->C_GetAttributeValue(s, authObjs[0], &attrib, 1), CKR_OBJECT_HANDLE_INVALID);
}

}  // namespace
}  // namespace jt
