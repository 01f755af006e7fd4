// SPDX-License-Identifier: MIT
// The card's objects as ONE table, and their attributes derived from the certificates with OpenSSL
// (never parsed by hand). Lazy: what the table fixes (class, label, id, flags) needs no card
// access; a certificate is read (once per insertion, JpkiCard caches it) only when an attribute
// derived from its bytes is asked for (CKA_VALUE, CKA_SUBJECT, CKA_MODULUS...).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>

#include "guard.h"

namespace jpki::module {
namespace {

constexpr const char* kAuthLabel = "JPKI User Authentication";
constexpr const char* kAuthCaLabel = "JPKI User Authentication CA";
constexpr const char* kSignLabel = "JPKI Digital Signature";
constexpr const char* kSignCaLabel = "JPKI Digital Signature CA";

// Authentication token: its certificate, key pair and CA are public (the card releases them
// without a PIN), the private key is private. Signature token: the card releases the signature
// certificate only after the password, so everything about it is private (invisible before login).
constexpr ObjectDef kObjects[] = {
    // token          kind                 data               label         id    priv   CA
    {KeyRole::Auth, ObjKind::Certificate, CertFile::Auth, kAuthLabel, 0x01, false, false},
    {KeyRole::Auth, ObjKind::PublicKey, CertFile::Auth, kAuthLabel, 0x01, false, false},
    {KeyRole::Auth, ObjKind::PrivateKey, CertFile::Auth, kAuthLabel, 0x01, true, false},
    {KeyRole::Auth, ObjKind::Certificate, CertFile::AuthCa, kAuthCaLabel, 0x03, false, true},
    {KeyRole::Auth, ObjKind::Profile, CertFile::Auth, nullptr, 0x00, false, false},
    {KeyRole::Sign, ObjKind::Certificate, CertFile::SignCa, kSignCaLabel, 0x04, false, true},
    {KeyRole::Sign, ObjKind::Certificate, CertFile::Sign, kSignLabel, 0x02, true, false},
    {KeyRole::Sign, ObjKind::PublicKey, CertFile::Sign, kSignLabel, 0x02, true, false},
    {KeyRole::Sign, ObjKind::PrivateKey, CertFile::Sign, kSignLabel, 0x02, true, false},
};

struct X509Deleter {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};

template <class T, class F>
Bytes der(const T* object, F i2d) {
  int n = i2d(object, nullptr);
  if (n <= 0) {
    throw Error(Errc::BadResponse, "certificate: DER encoding failed");
  }
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d(object, &p);
  return out;
}

Bytes bnParam(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    throw Error(Errc::BadResponse, "certificate: not an RSA key");
  }
  std::unique_ptr<BIGNUM, BnDeleter> bn(raw);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

Bytes ckDate(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return {};
  }
  char text[40];
  std::snprintf(text, sizeof text, "%04d%02d%02d", (tm.tm_year + 1900) % 10000,
                (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
  return Bytes(text, text + 8);
}

Bytes text(const char* s) { return s == nullptr ? Bytes{} : Bytes(s, s + std::strlen(s)); }

// CKA_ALLOWED_MECHANISMS of the keys: the signature mechanisms of the mechanism table (a key
// signs, or verifies, with each of them).
Bytes mechanismArray() {
  Bytes out;
  for (const MechDef& m : mechanismTable()) {
    if ((m.flags & CKF_SIGN) != 0) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(&m.type);
      out.insert(out.end(), p, p + sizeof m.type);
    }
  }
  return out;
}

// What the object table alone fixes: no card access.
AttrMap buildStatic(const Token& token, const ObjectDef& d) {
  AttrMap a;
  a[CKA_TOKEN] = boolBytes(true);
  a[CKA_MODIFIABLE] = boolBytes(false);
  a[CKA_COPYABLE] = boolBytes(false);
  a[CKA_DESTROYABLE] = boolBytes(false);
  a[CKA_PRIVATE] = boolBytes(d.isPrivate);
  if (d.kind == ObjKind::Profile) {
    // NSS treats a token with this profile as "friendly": no login just to list certificates.
    a[CKA_CLASS] = ulongBytes(CKO_PROFILE);
    a[CKA_PROFILE_ID] = ulongBytes(CKP_PUBLIC_CERTIFICATES_TOKEN);
    return a;
  }
  a[CKA_LABEL] = text(d.label);
  a[CKA_ID] = Bytes{d.id};
  if (d.kind == ObjKind::Certificate) {
    a[CKA_CLASS] = ulongBytes(CKO_CERTIFICATE);
    a[CKA_CERTIFICATE_TYPE] = ulongBytes(CKC_X_509);
    a[CKA_CERTIFICATE_CATEGORY] = ulongBytes(d.authority ? 2 : 1);  // authority / token user
    a[CKA_TRUSTED] = boolBytes(false);
    a[CKA_JAVA_MIDP_SECURITY_DOMAIN] = ulongBytes(0);
    return a;
  }
  // RSA key pair (v2.40 §4.7-4.9, §2.1.2-2.1.3).
  a[CKA_KEY_TYPE] = ulongBytes(CKK_RSA);
  a[CKA_START_DATE] = Bytes{};
  a[CKA_END_DATE] = Bytes{};
  a[CKA_DERIVE] = boolBytes(false);
  a[CKA_LOCAL] = boolBytes(false);
  a[CKA_KEY_GEN_MECHANISM] = ulongBytes(CK_UNAVAILABLE_INFORMATION);
  a[CKA_ALLOWED_MECHANISMS] = mechanismArray();
  if (d.kind == ObjKind::PublicKey) {
    a[CKA_CLASS] = ulongBytes(CKO_PUBLIC_KEY);
    a[CKA_ENCRYPT] = boolBytes(false);
    a[CKA_VERIFY] = boolBytes(true);
    a[CKA_VERIFY_RECOVER] = boolBytes(false);
    a[CKA_WRAP] = boolBytes(false);
    a[CKA_TRUSTED] = boolBytes(false);
    return a;
  }
  a[CKA_CLASS] = ulongBytes(CKO_PRIVATE_KEY);
  a[CKA_SENSITIVE] = boolBytes(true);
  a[CKA_DECRYPT] = boolBytes(false);
  a[CKA_SIGN] = boolBytes(true);
  a[CKA_SIGN_RECOVER] = boolBytes(false);
  a[CKA_UNWRAP] = boolBytes(false);
  a[CKA_EXTRACTABLE] = boolBytes(false);
  a[CKA_ALWAYS_SENSITIVE] = boolBytes(true);
  a[CKA_NEVER_EXTRACTABLE] = boolBytes(true);
  a[CKA_WRAP_WITH_TRUSTED] = boolBytes(false);
  a[CKA_ALWAYS_AUTHENTICATE] = boolBytes(alwaysAuthenticate(token, d));
  return a;
}

// Adds what is derived from the certificate's bytes (reads it from the card the first time).
void addCertificateAttributes(Token& token, const ObjectDef& d, AttrMap& a) {
  if (d.kind == ObjKind::Profile) {
    return;
  }
  const Bytes& value = token.card->jpki->certificate(d.cert);
  const unsigned char* p = value.data();
  std::unique_ptr<X509, X509Deleter> x509(d2i_X509(nullptr, &p, static_cast<long>(value.size())));
  if (!x509) {
    throw Error(Errc::BadResponse, "certificate: not a DER X.509 certificate");
  }
  const EVP_PKEY* key = X509_get0_pubkey(x509.get());
  if (key == nullptr) {
    throw Error(Errc::BadResponse, "certificate: unreadable public key");
  }
  a[CKA_SUBJECT] = der(X509_get_subject_name(x509.get()), i2d_X509_NAME);
  a[CKA_PUBLIC_KEY_INFO] = der(X509_get_X509_PUBKEY(x509.get()), i2d_X509_PUBKEY);
  if (d.kind == ObjKind::Certificate) {
    a[CKA_VALUE] = value;
    a[CKA_ISSUER] = der(X509_get_issuer_name(x509.get()), i2d_X509_NAME);
    a[CKA_SERIAL_NUMBER] = der(X509_get0_serialNumber(x509.get()), i2d_ASN1_INTEGER);
    a[CKA_START_DATE] = ckDate(X509_get0_notBefore(x509.get()));
    a[CKA_END_DATE] = ckDate(X509_get0_notAfter(x509.get()));
    return;
  }
  a[CKA_MODULUS] = bnParam(key, OSSL_PKEY_PARAM_RSA_N);
  a[CKA_PUBLIC_EXPONENT] = bnParam(key, OSSL_PKEY_PARAM_RSA_E);
  a[CKA_MODULUS_BITS] = ulongBytes(static_cast<CK_ULONG>(EVP_PKEY_get_bits(key)));
}

}  // namespace

std::span<const ObjectDef> objectTable() { return kObjects; }

bool alwaysAuthenticate(const Token& token, const ObjectDef& def) {
  return def.kind == ObjKind::PrivateKey && def.token == KeyRole::Sign &&
         token.signAlwaysAuthenticate;
}

const ObjectEntry* findObject(const Token& token, CK_OBJECT_HANDLE handle) {
  for (const ObjectEntry& o : token.objects) {
    if (o.handle == handle) {
      return &o;
    }
  }
  return nullptr;
}

bool visible(const Token& token, const ObjectEntry& obj) {
  return !obj.def->isPrivate || token.loggedIn();
}

bool needsCertificate(const ObjectEntry& obj, CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_VALUE:
    case CKA_SUBJECT:
    case CKA_ISSUER:
    case CKA_SERIAL_NUMBER:
    case CKA_PUBLIC_KEY_INFO:
    case CKA_MODULUS:
    case CKA_PUBLIC_EXPONENT:
    case CKA_MODULUS_BITS:
      return obj.def->kind != ObjKind::Profile;
    case CKA_START_DATE:
    case CKA_END_DATE:
      return obj.def->kind == ObjKind::Certificate;
    default:
      return false;
  }
}

bool needsCertificate(const ObjectEntry& obj, const CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  for (CK_ULONG i = 0; i < count; ++i) {
    if (needsCertificate(obj, tmpl[i].type)) {
      return true;
    }
  }
  return false;
}

const AttrMap* attributes(Token& token, const ObjectEntry& obj, bool full) {
  auto it = token.attrCache.find(obj.handle);
  if (it != token.attrCache.end() && (it->second.complete || !full)) {
    return &it->second.attrs;
  }
  try {
    // The signature objects exist only if the signature certificate EF does (a minor's card has
    // none): one SELECT EF, no READ, once per insertion. The others are on every JPKI card (a
    // missing one still vanishes below, at its first certificate read).
    if (obj.def->kind != ObjKind::Profile && obj.def->cert == CertFile::Sign &&
        !token.card->jpki->certificatePresent(obj.def->cert)) {
      return nullptr;
    }
    if (it == token.attrCache.end()) {
      it = token.attrCache
               .emplace(obj.handle, Token::CachedAttrs{buildStatic(token, *obj.def), false})
               .first;
    }
    if (full) {
      addCertificateAttributes(token, *obj.def, it->second.attrs);
      it->second.complete = true;
    }
  } catch (const Error& e) {
    // No such file, or the card no longer releases it (login lost under us): the object does
    // not exist for this caller right now.
    if (e.code() == Errc::FileNotFound || e.code() == Errc::SecurityStatus) {
      return nullptr;
    }
    throw;
  }
  return &it->second.attrs;
}

bool isSensitive(const ObjectEntry& obj, CK_ATTRIBUTE_TYPE type) {
  if (obj.def->kind != ObjKind::PrivateKey) {
    return false;
  }
  switch (type) {
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
      return true;
    default:
      return false;
  }
}

const ObjectEntry& visibleObject(Token& token, CK_OBJECT_HANDLE handle, CK_RV invalid) {
  const ObjectEntry* obj = findObject(token, handle);
  if (obj == nullptr || !visible(token, *obj) || attributes(token, *obj, false) == nullptr) {
    fail(invalid);
  }
  return *obj;
}

}  // namespace jpki::module
