// SPDX-License-Identifier: MIT
// The test PKI: DNs, extensions, validity, key sizes, chaining, and the directory store.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>

#include <ctime>

#include "core/pki_builder.h"
#include "vcard_test_support.h"

namespace jpki::vcard::test {
namespace {

std::string dnOf(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

TEST(TestPki, CaRoots) {
  for (const bool sign : {false, true}) {
    const auto ca = pki::certFromDer(sign ? sharedPki().signCaCert : sharedPki().authCaCert);
    const std::string expected =
        std::string("C = JP, O = JPKI, OU = ") +
        (sign ? "JPKI for digital signature" : "JPKI for user authentication") +
        ", OU = Japan Agency for Local Authority Information Systems";
    EXPECT_EQ(dnOf(X509_get_subject_name(ca.get())), expected);
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(ca.get()), X509_get_issuer_name(ca.get())), 0);
    EXPECT_EQ(X509_verify(ca.get(), X509_get0_pubkey(ca.get())), 1);
    EXPECT_EQ(X509_check_ca(ca.get()), 1);
    EXPECT_EQ(X509_get_key_usage(ca.get()),
              static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    int critical = 0;
    void* bc = X509_get_ext_d2i(ca.get(), NID_basic_constraints, &critical, nullptr);
    EXPECT_EQ(critical, 1);
    BASIC_CONSTRAINTS_free(static_cast<BASIC_CONSTRAINTS*>(bc));
    EXPECT_EQ(X509_get_signature_nid(ca.get()), NID_sha256WithRSAEncryption);
  }
}

TEST(TestPki, AuthCertificate) {
  const auto cert = pki::certFromDer(sharedPki().authCert);
  const auto ca = pki::certFromDer(sharedPki().authCaCert);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca.get())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())), 0);
  const std::string dn = dnOf(X509_get_subject_name(cert.get()));
  ASSERT_EQ(dn.rfind("C = JP, CN = ", 0), 0U) << dn;
  const std::string cn = dn.substr(13);
  EXPECT_EQ(cn.size(), 23U);
  for (char c : cn) {
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)) ||
                std::isdigit(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1), -1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
}

TEST(TestPki, SignCertificate) {
  const auto cert = pki::certFromDer(sharedPki().signCert);
  const auto ca = pki::certFromDer(sharedPki().signCaCert);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca.get())), 1);
  const std::string dn = dnOf(X509_get_subject_name(cert.get()));
  ASSERT_EQ(dn.rfind("C = JP, L = Tokyo-to, L = Chiyoda-ku, CN = ", 0), 0U) << dn;
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION));
  int critical = 0;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &critical, nullptr));
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(names), 6);
  for (int i = 0; i < 6; ++i) {
    ASN1_OBJECT* oid = nullptr;
    ASN1_TYPE* value = nullptr;
    ASSERT_EQ(GENERAL_NAME_get0_otherName(sk_GENERAL_NAME_value(names, i), &oid, &value), 1);
    char text[64];
    OBJ_obj2txt(text, sizeof text, oid, 1);
    EXPECT_EQ(std::string(text), "1.2.392.200149.8.5.5." + std::to_string(i + 1));
    EXPECT_EQ(value->type, V_ASN1_UTF8STRING);
    const std::string s(
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.utf8string)),
        static_cast<std::size_t>(ASN1_STRING_length(value->value.utf8string)));
    const char* expected[] = {"JPKI TARO", "", "1", "419900615", nullptr, ""};
    if (expected[i] != nullptr) {
      EXPECT_EQ(s, expected[i]);
    }
  }
  GENERAL_NAMES_free(names);
}

TEST(TestPki, KeysAreRsa2048WithF4AndMatchCertificates) {
  const CardPki& p = sharedPki();
  for (const auto& [pem, der] :
       {std::pair{p.authKeyPem, p.authCert}, std::pair{p.signKeyPem, p.signCert},
        std::pair{p.authCaKeyPem, p.authCaCert}, std::pair{p.signCaKeyPem, p.signCaCert}}) {
    const auto key = pki::keyFromPem(pem);
    EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
    BIGNUM* e = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e), 1);
    EXPECT_EQ(BN_get_word(e), 65537U);
    BN_free(e);
    EXPECT_EQ(X509_check_private_key(pki::certFromDer(der).get(), key.get()), 1);
  }
}

TEST(TestPki, ValidityRunsToTheFifthBirthday) {
  const auto cert = pki::certFromDer(sharedPki().authCert);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  std::tm notAfter{};
  ASSERT_EQ(ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &notAfter), 1);
  EXPECT_EQ(notAfter.tm_mon + 1, 6);
  EXPECT_EQ(notAfter.tm_mday, 15);
  const std::time_t now = std::time(nullptr);
  std::tm today{};
  gmtime_r(&now, &today);
  const int years = notAfter.tm_year - today.tm_year;
  EXPECT_TRUE(years == 4 || years == 5) << years;
  const auto signCert = pki::certFromDer(sharedPki().signCert);
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(signCert.get())),
            0);
}

TEST(TestPki, ExpiredProfileEndedYesterday) {
  const auto caKey = pki::keyFromPem(sharedPki().authCaKeyPem);
  const auto ca = pki::certFromDer(sharedPki().authCaCert);
  const auto key = pki::keyFromPem(sharedPki().authKeyPem);
  const auto cert = pki::makeAuthCert(key.get(), ca.get(), caKey.get(), Profile::Expired);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  int day = 0, sec = 0;
  ASSERT_EQ(ASN1_TIME_diff(&day, &sec, nullptr, X509_get0_notAfter(cert.get())), 1);
  EXPECT_EQ(day, -1);
}

TEST(TestPki, SerialsDiffer) {
  const auto a = pki::certFromDer(sharedPki().authCert);
  const auto b = pki::certFromDer(sharedPki().signCert);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())), 0);
}

TEST(TestPki, LoadOrCreateReusesTheDirectory) {
  TempDir dir;
  const CardPki first = loadOrCreatePki(dir.path(), Profile::Normal);
  for (const char* name : {"auth_ca.der", "auth_ca.pem", "sign_ca.der", "sign_ca.pem", "auth.der",
                           "auth.pem", "sign.der", "sign.pem", "auth_key.pem", "sign_key.pem",
                           "auth_ca_key.pem", "sign_ca_key.pem"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / name)) << name;
  }
  const CardPki again = loadOrCreatePki(dir.path(), Profile::Juki);
  EXPECT_EQ(again.authCert, first.authCert);
  EXPECT_EQ(again.signCert, first.signCert);
  EXPECT_EQ(again.authKeyPem, first.authKeyPem);

  // A different validity class re-issues the end-entity certificates with the same keys and CAs.
  const CardPki expired = loadOrCreatePki(dir.path(), Profile::Expired);
  EXPECT_EQ(expired.authCaCert, first.authCaCert);
  EXPECT_EQ(expired.authKeyPem, first.authKeyPem);
  EXPECT_NE(expired.authCert, first.authCert);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(pki::certFromDer(expired.authCert).get())), 0);
  EXPECT_EQ(loadOrCreatePki(dir.path(), Profile::Expired).signCert, expired.signCert);
}

}  // namespace
}  // namespace jpki::vcard::test
