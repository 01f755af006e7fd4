// SPDX-License-Identifier: MIT
// Issues the test PKI: two CA roots with the production issuer DNs and the two end-entity
// certificates of a card holder, shaped like the real ones (jpki-card.md §5, §8).
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <ctime>
#include <utility>
#include <vector>

#include "core/pki_builder.h"

namespace jpki::vcard::pki {

namespace {

using Rdn = std::pair<const char*, std::string>;

constexpr const char* kJlis = "Japan Agency for Local Authority Information Systems";
constexpr long kDay = 24L * 60 * 60;
// The holder's birthday (month, day); the birth-date SAN value is era digit 4 + YYYYMMDD.
constexpr int kBirthMonth = 6, kBirthDay = 15;
constexpr const char* kBirthValue = "419900615";

ossl::X509NamePtr makeName(const std::vector<Rdn>& rdns) {
  ossl::X509NamePtr name(ossl::check(X509_NAME_new(), "X509_NAME_new"));
  for (const auto& [field, value] : rdns) {
    ossl::check(X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(value.data()),
                                           static_cast<int>(value.size()), -1, 0),
                "X509_NAME_add_entry_by_txt");
  }
  return name;
}

std::vector<Rdn> caRdns(bool sign) {
  return {{"C", "JP"},
          {"O", "JPKI"},
          {"OU", sign ? "JPKI for digital signature" : "JPKI for user authentication"},
          {"OU", kJlis}};
}

// Random positive 64-bit serial number.
void setRandomSerial(X509* cert) {
  ossl::BnPtr bn(ossl::check(BN_new(), "BN_new"));
  ossl::check(BN_rand(bn.get(), 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), "BN_rand");
  ossl::Asn1IntPtr serial(ossl::check(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER"));
  ossl::check(X509_set_serialNumber(cert, serial.get()), "X509_set_serialNumber");
}

void addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::ExtPtr ext(
      ossl::check(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value), "X509V3_EXT_conf_nid"));
  ossl::check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

// certificatePolicies with one policy OID and no qualifiers (built directly: the textual form of
// this extension needs an OpenSSL config database).
void addPolicy(X509* cert, const char* oid) {
  std::unique_ptr<CERTIFICATEPOLICIES, ossl::Deleter<CERTIFICATEPOLICIES_free>> policies(
      ossl::check(sk_POLICYINFO_new_null(), "CERTIFICATEPOLICIES"));
  POLICYINFO* info = ossl::check(POLICYINFO_new(), "POLICYINFO_new");
  sk_POLICYINFO_push(policies.get(), info);  // owned by `policies`
  ASN1_OBJECT_free(info->policyid);
  info->policyid = ossl::check(OBJ_txt2obj(oid, 1), "policy OID");
  ossl::check(
      X509_add1_ext_i2d(cert, NID_certificate_policies, policies.get(), 0, X509V3_ADD_DEFAULT),
      "certificatePolicies");
}

// A certificate skeleton: version 3, random serial, names, key and validity in seconds from now.
ossl::X509Ptr newCert(EVP_PKEY* key, X509_NAME* subject, X509_NAME* issuer, long notBefore,
                      long notAfter) {
  ossl::X509Ptr cert(ossl::check(X509_new(), "X509_new"));
  ossl::check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  setRandomSerial(cert.get());
  ossl::check(X509_set_subject_name(cert.get(), subject), "X509_set_subject_name");
  ossl::check(X509_set_issuer_name(cert.get(), issuer), "X509_set_issuer_name");
  ossl::check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  ossl::check(X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, notBefore, nullptr),
              "notBefore");
  ossl::check(X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, notAfter, nullptr), "notAfter");
  return cert;
}

void signCert(X509* cert, EVP_PKEY* issuerKey) {
  ossl::check(X509_sign(cert, issuerKey, EVP_sha256()) > 0, "X509_sign");
}

// Validity of end-entity certificates: from yesterday to the holder's 5th birthday after
// issuance, 23:59:59 JST (§8); Expired profile: two years ago to yesterday.
void setEndEntityValidity(X509* cert, Profile profile) {
  if (profile == Profile::Expired) {
    ossl::check(X509_time_adj_ex(X509_getm_notBefore(cert), -730, 0, nullptr), "notBefore");
    ossl::check(X509_time_adj_ex(X509_getm_notAfter(cert), -1, 0, nullptr), "notAfter");
    return;
  }
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const int year = tm.tm_year + 1900;
  const bool beforeBirthday =
      tm.tm_mon + 1 < kBirthMonth || (tm.tm_mon + 1 == kBirthMonth && tm.tm_mday < kBirthDay);
  const int fifth = (beforeBirthday ? year : year + 1) + 4;
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02d%02d145959Z", fifth, kBirthMonth, kBirthDay);
  ossl::check(ASN1_TIME_set_string_X509(X509_getm_notAfter(cert), text), "notAfter");
}

std::string randomId(std::size_t length) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::vector<unsigned char> random(length);
  ossl::check(RAND_bytes(random.data(), static_cast<int>(length)) == 1, "RAND_bytes");
  std::string id;
  for (unsigned char r : random) id.push_back(kAlphabet[r % 36]);
  return id;
}

// subjectAltName of the signature certificate: the 基本4情報 as otherName UTF8Strings (§8).
void addHolderSan(X509* cert, const std::string& holderName) {
  const std::vector<std::pair<const char*, std::string>> entries = {
      {"1.2.392.200149.8.5.5.1", holderName},
      {"1.2.392.200149.8.5.5.2", ""},
      {"1.2.392.200149.8.5.5.3", "1"},
      {"1.2.392.200149.8.5.5.4", kBirthValue},
      {"1.2.392.200149.8.5.5.5", "東京都千代田区霞が関２－１－２"},
      {"1.2.392.200149.8.5.5.6", ""},
  };
  ossl::GeneralNamesPtr names(ossl::check(sk_GENERAL_NAME_new_null(), "GENERAL_NAMES"));
  for (const auto& [oid, value] : entries) {
    GENERAL_NAME* gn = ossl::check(GENERAL_NAME_new(), "GENERAL_NAME_new");
    sk_GENERAL_NAME_push(names.get(), gn);  // owned by `names` from here on
    ASN1_UTF8STRING* text = ossl::check(ASN1_UTF8STRING_new(), "ASN1_UTF8STRING_new");
    ASN1_TYPE* any = ASN1_TYPE_new();
    if (any == nullptr ||
        ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_UTF8STRING_free(text);
      ASN1_TYPE_free(any);
      ossl::fail("otherName value");
    }
    ASN1_TYPE_set(any, V_ASN1_UTF8STRING, text);  // `any` owns `text` from here on
    ASN1_OBJECT* type = OBJ_txt2obj(oid, 1);
    if (type == nullptr || GENERAL_NAME_set0_othername(gn, type, any) != 1) {
      ASN1_OBJECT_free(type);
      ASN1_TYPE_free(any);
      ossl::fail("GENERAL_NAME_set0_othername");
    }
  }
  ossl::check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT),
              "subjectAltName");
}

}  // namespace

ossl::PkeyPtr newRsaKey() {
  ossl::PkeyCtxPtr ctx(ossl::check(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), "RSA ctx"));
  ossl::check(EVP_PKEY_keygen_init(ctx.get()) > 0, "EVP_PKEY_keygen_init");
  ossl::check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) > 0, "keygen bits");
  EVP_PKEY* key = nullptr;
  ossl::check(EVP_PKEY_generate(ctx.get(), &key) > 0, "EVP_PKEY_generate");
  return ossl::PkeyPtr(key);  // default public exponent is 65537
}

ossl::X509Ptr makeCaCert(EVP_PKEY* key, bool sign) {
  const auto name = makeName(caRdns(sign));
  auto cert = newCert(key, name.get(), name.get(), -kDay, 10L * 365 * kDay);
  addExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  signCert(cert.get(), key);
  return cert;
}

ossl::X509Ptr makeAuthCert(EVP_PKEY* key, X509* ca, EVP_PKEY* caKey, Profile profile) {
  // Subject: C=JP, CN=<opaque issuance id>, no personal data.
  const auto subject = makeName({{"C", "JP"}, {"CN", randomId(23)}});
  auto cert = newCert(key, subject.get(), X509_get_subject_name(ca), -kDay, kDay);
  setEndEntityValidity(cert.get(), profile);
  addExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature");
  addExtension(cert.get(), ca, NID_ext_key_usage, "clientAuth");
  addPolicy(cert.get(), "1.2.392.200149.8.5.1.3.30");
  addExtension(cert.get(), ca, NID_subject_key_identifier, "hash");
  addExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always");
  signCert(cert.get(), caKey);
  return cert;
}

ossl::X509Ptr makeSignCert(EVP_PKEY* key, X509* ca, EVP_PKEY* caKey, Profile profile,
                           const std::string& holderName) {
  // CN = 14-digit request timestamp + 5-digit sequence number + window code.
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  const std::string cn = std::string(stamp) + "00001" + "131016";
  const auto subject = makeName({{"C", "JP"}, {"L", "Tokyo-to"}, {"L", "Chiyoda-ku"}, {"CN", cn}});
  auto cert = newCert(key, subject.get(), X509_get_subject_name(ca), -kDay, kDay);
  setEndEntityValidity(cert.get(), profile);
  addExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature,nonRepudiation");
  addPolicy(cert.get(), "1.2.392.200149.8.5.1.1.20");
  addExtension(cert.get(), ca, NID_subject_key_identifier, "hash");
  addExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always");
  addHolderSan(cert.get(), holderName);
  signCert(cert.get(), caKey);
  return cert;
}

Bytes certDer(X509* cert) {
  unsigned char* out = nullptr;
  const int len = i2d_X509(cert, &out);
  if (len <= 0) ossl::fail("i2d_X509");
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

namespace {
std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}
}  // namespace

std::string certPem(X509* cert) {
  ossl::BioPtr bio(ossl::check(BIO_new(BIO_s_mem()), "BIO_new"));
  ossl::check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  return bioText(bio.get());
}

std::string keyPem(EVP_PKEY* key) {
  ossl::BioPtr bio(ossl::check(BIO_new(BIO_s_mem()), "BIO_new"));
  ossl::check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
              "PEM_write_bio_PrivateKey");
  return bioText(bio.get());
}

ossl::X509Ptr certFromDer(const Bytes& der) {
  const unsigned char* p = der.data();
  return ossl::X509Ptr(
      ossl::check(d2i_X509(nullptr, &p, static_cast<long>(der.size())), "d2i_X509"));
}

ossl::PkeyPtr keyFromPem(const std::string& pem) {
  ossl::BioPtr bio(ossl::check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO"));
  return ossl::PkeyPtr(ossl::check(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                   "PEM_read_bio_PrivateKey"));
}

}  // namespace jpki::vcard::pki
