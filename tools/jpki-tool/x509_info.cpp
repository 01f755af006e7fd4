// SPDX-License-Identifier: MIT
#include "x509_info.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdio>
#include <memory>

#include "exit_codes.h"
#include "jpki/digest.h"
#include "util.h"

namespace jpki::tool {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

X509Ptr parse(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) throw ToolError(Exit::Error, "not a DER certificate");
  return x;
}

std::string nameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(
      bio.get(), name, 0,
      (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_DN_REV & ~XN_FLAG_SEP_MASK) |
          XN_FLAG_SEP_CPLUS_SPC);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::time_t toTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) throw ToolError(Exit::Error, "bad certificate time");
  return timegm(&tm);
}

}  // namespace

std::string minusMonths(const std::string& isoDate, int months) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(isoDate.c_str(), "%d-%d-%d", &y, &m, &d) != 3) return isoDate;
  int total = y * 12 + (m - 1) - months;
  y = total / 12;
  m = total % 12 + 1;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = kDays[static_cast<std::size_t>(m - 1)];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) last = 29;
  if (d > last) d = last;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

CertSummary summarise(const Bytes& der, std::time_t now) {
  X509Ptr x = parse(der);
  CertSummary s;
  s.subject = nameText(X509_get_subject_name(x.get()));
  s.issuer = nameText(X509_get_issuer_name(x.get()));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x.get());
  s.serialHex = toHex(
      ByteView(ASN1_STRING_get0_data(serial), static_cast<std::size_t>(ASN1_STRING_length(serial))),
      false);
  s.sha256Hex = toHex(sha256(der), false);
  s.notBefore = toTime(X509_get0_notBefore(x.get()));
  s.notAfter = toTime(X509_get0_notAfter(x.get()));
  s.notBeforeDate = jstDate(s.notBefore);
  s.notAfterDate = jstDate(s.notAfter);
  const std::time_t diff = s.notAfter - now;
  s.daysLeft = static_cast<long>(diff >= 0 ? diff / 86400 : -((-diff + 86399) / 86400));
  s.expired = now > s.notAfter;
  s.notYetValid = now < s.notBefore;
  s.renewalFromDate = minusMonths(s.notAfterDate, 3);
  s.renewalOpen = !s.expired && jstDate(now) >= s.renewalFromDate;
  return s;
}

Json toJson(const CertSummary& s) {
  return {{"subject", s.subject},         {"issuer", s.issuer},
          {"serial", s.serialHex},        {"sha256", s.sha256Hex},
          {"notBefore", s.notBeforeDate}, {"notAfter", s.notAfterDate},
          {"daysLeft", s.daysLeft},       {"expired", s.expired},
          {"notYetValid", s.notYetValid}, {"renewalFrom", s.renewalFromDate},
          {"renewalOpen", s.renewalOpen}};
}

std::string validityText(const CertSummary& s) {
  if (s.expired) {
    return "EXPIRED on " + s.notAfterDate + " (" + std::to_string(-s.daysLeft) +
           " days ago): apply for a new certificate at the city office";
  }
  if (s.notYetValid) return "not valid before " + s.notBeforeDate;
  std::string t = "valid until " + s.notAfterDate + " (" + std::to_string(s.daysLeft) +
                  " days left); renewal possible from " + s.renewalFromDate;
  if (s.renewalOpen) t += " (now)";
  return t;
}

CaGeneration caGeneration(const Bytes& caDer) {
  // The published J-LIS roots (jpki-card.md §8): all generations share one DN, so they are told
  // apart by serial number and validity start; the fingerprints' known ends confirm it.
  struct Root {
    const char* id;
    const char* serialHex;
    const char* notBefore;  // JST date
    const char* sha256Prefix;
    const char* sha256Suffix;
    const char* text;
  };
  static constexpr std::array<Root, 6> kRoots = {{
      {"01", "01", "2015-10-20", "", "", "generation 01 (2015-10-20 to 2025-10-19)"},
      {"02", "0133C349", "2019-09-14", "", "", "generation 02 (2019-09-14 to 2029-09-14)"},
      {"02", "0132C4AB", "2019-09-14", "", "", "generation 02 (2019-09-14 to 2029-09-14)"},
      {"03", "06D18006", "2023-07-16", "64114F29", "18C322B5",
       "generation 03 (2023-07-16 to 2033-07-15)"},
      {"03", "067C6A21", "2023-07-16", "D227F6CD", "DBFA365F",
       "generation 03 (2023-07-16 to 2033-07-15)"},
      {"01", "01", "2015-10-19", "", "", "generation 01 (2015-10-20 to 2025-10-19)"},
  }};
  const CertSummary s = summarise(caDer, std::time(nullptr));
  for (const Root& r : kRoots) {
    if (s.serialHex != r.serialHex || s.notBeforeDate != r.notBefore) continue;
    if (*r.sha256Prefix != '\0' && (s.sha256Hex.rfind(r.sha256Prefix, 0) != 0 ||
                                    s.sha256Hex.substr(s.sha256Hex.size() - 8) != r.sha256Suffix)) {
      continue;
    }
    if (s.subject.find("O=JPKI,") == std::string::npos &&
        s.subject.find("O=JPKI ") == std::string::npos) {
      continue;
    }
    return {r.id, r.text};
  }
  return {"unknown", "not a published J-LIS root (test or unknown PKI), valid " + s.notBeforeDate +
                         " to " + s.notAfterDate};
}

bool issuedBy(const Bytes& cert, const Bytes& ca) {
  X509Ptr c = parse(cert);
  X509Ptr a = parse(ca);
  EVP_PKEY* key = X509_get0_pubkey(a.get());
  return key != nullptr && X509_verify(c.get(), key) == 1;
}

std::optional<BasicFour> basicFour(const Bytes& signCertDer) {
  X509Ptr x = parse(signCertDer);
  std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
      static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr)),
      GENERAL_NAMES_free);
  if (!names) return std::nullopt;
  BasicFour b;
  bool any = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_OTHERNAME) continue;
    char oid[64];
    OBJ_obj2txt(oid, sizeof oid, gn->d.otherName->type_id, 1);
    const ASN1_TYPE* v = gn->d.otherName->value;
    if (v == nullptr || v->type != V_ASN1_UTF8STRING) continue;
    const ASN1_STRING* str = v->value.utf8string;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(str)),
                      static_cast<std::size_t>(ASN1_STRING_length(str)));
    const std::string o = oid;
    const std::string base = "1.2.392.200149.8.5.5.";
    if (o.rfind(base, 0) != 0) continue;
    const std::string tail = o.substr(base.size());
    if (tail == "1") {
      b.name = value;
    } else if (tail == "2") {
      b.nameSubstitute = value;
    } else if (tail == "3") {
      b.sex = value;
    } else if (tail == "4") {
      b.birthDate = value;
    } else if (tail == "5") {
      b.address = value;
    } else if (tail == "6") {
      b.addressSubstitute = value;
    } else {
      continue;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return b;
}

std::string sexText(const std::string& code) {
  if (code == "1") return "male";
  if (code == "2") return "female";
  if (code == "3") return "not specified";
  return code.empty() ? "(not given)" : code;
}

std::string birthDateText(const std::string& value) {
  // One era digit (1 Meiji, 2 Taisho, 3 Showa, 4 Heisei, 5 Reiwa) + YYYYMMDD (Gregorian).
  if (value.size() != 9) return value;
  return value.substr(1, 4) + "-" + value.substr(5, 2) + "-" + value.substr(7, 2);
}

Bytes pemToDerIfNeeded(const Bytes& data) {
  static constexpr char kBegin[] = "-----BEGIN";
  const std::string head(data.begin(),
                         data.begin() + static_cast<long>(std::min<std::size_t>(data.size(), 64)));
  if (head.find(kBegin) == std::string::npos) return data;
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) throw ToolError(Exit::Error, "not a PEM certificate");
  unsigned char* out = nullptr;
  const int len = i2d_X509(x.get(), &out);
  if (len <= 0) throw ToolError(Exit::Error, "cannot encode the certificate");
  Bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

std::string derToPem(const Bytes& der) {
  X509Ptr x = parse(der);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x.get());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace jpki::tool
