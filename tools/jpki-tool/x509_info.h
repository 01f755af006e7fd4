// SPDX-License-Identifier: MIT
// What the tool says about a certificate: names, validity with days left and the renewal date,
// the CA generation, and the signature certificate's basic four facts (jpki-card.md §8).
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "jpki/bytes.h"
#include "json.h"

namespace jpki::tool {

struct CertSummary {
  std::string subject, issuer, serialHex, sha256Hex;
  std::time_t notBefore = 0, notAfter = 0;
  std::string notBeforeDate, notAfterDate;  // JST dates
  long daysLeft = 0;                        // whole days until notAfter (negative: expired)
  bool expired = false, notYetValid = false;
  // Renewal is possible from three months before expiry (municipal guidance).
  std::string renewalFromDate;
  bool renewalOpen = false;
};

// Throws ToolError(Exit::Error) when `der` is not a certificate.
CertSummary summarise(const Bytes& der, std::time_t now);
Json toJson(const CertSummary& s);
// "valid until 2031-06-15 (1900 days left; renewal possible from 2031-03-15)" and the like.
std::string validityText(const CertSummary& s);

// The J-LIS root generation (01/02/03) when `caDer` is a published root, else a description.
struct CaGeneration {
  std::string id;    // "01", "02", "03" or "unknown"
  std::string text;  // for people
};
CaGeneration caGeneration(const Bytes& caDer);

// Whether `cert` carries a valid signature by `ca`'s key.
bool issuedBy(const Bytes& cert, const Bytes& ca);

// 基本4情報 from subjectAltName otherName UTF8Strings 1.2.392.200149.8.5.5.{1..6}.
struct BasicFour {
  std::string name, nameSubstitute, sex, birthDate, address, addressSubstitute;
};
std::optional<BasicFour> basicFour(const Bytes& signCertDer);
std::string sexText(const std::string& code);         // "1" -> "male"
std::string birthDateText(const std::string& value);  // "419900615" -> "1990-06-15"

// Date arithmetic used for the renewal date: the JST date three calendar months earlier
// (the day clamped to the month's length).
std::string minusMonths(const std::string& isoDate, int months);

Bytes pemToDerIfNeeded(const Bytes& data);  // accepts a certificate in PEM or DER
std::string derToPem(const Bytes& der);

}  // namespace jpki::tool
