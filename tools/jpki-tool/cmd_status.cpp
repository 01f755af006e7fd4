// SPDX-License-Identifier: MIT
// `jpki-tool status`: readers, the card, PIN tries (never spending one), certificate validity and
// renewal dates, CA generation; the signature certificate only with --sign-password.
#include <ctime>
#include <ostream>

#include "card_access.h"
#include "commands.h"
#include "json.h"
#include "pin_prompt.h"
#include "x509_info.h"

namespace jpki::tool {

namespace {

constexpr const char* kUsage =
    "Usage: jpki-tool status [--sign-password] [--json] [--reader NAME]\n"
    "\n"
    "Shows the readers, the card in them and its kind, the tries left for both PINs (no try is\n"
    "spent), the validity of the certificates with the days left and the date from which renewal\n"
    "is possible (three months before expiry), and the CA generation.\n"
    "\n"
    "  --sign-password  also read the signature certificate, which needs the signature password\n"
    "                   (asked for on the terminal without echo; --pin-env VAR for scripts)\n";

Json readersJson(const std::vector<ReaderState>& readers) {
  Json arr = Json::array();
  for (const auto& r : readers) {
    arr.push_back({{"name", r.name}, {"cardPresent", r.cardPresent}});
  }
  return arr;
}

Json pinJson(const PinStatus& s) {
  return {{"triesLeft", s.triesLeft}, {"maxTries", s.maxTries}, {"locked", s.locked()}};
}

std::string pinText(const PinStatus& s) {
  if (s.locked()) return "LOCKED (0 of " + std::to_string(s.maxTries) + " tries left)";
  return std::to_string(s.triesLeft) + " of " + std::to_string(s.maxTries) + " tries left";
}

// What status found, section by section: the --json document and what the text output needs.
// The warnings go into both (at the end).
struct Status {
  Json json = Json::object();
  std::vector<std::string> warnings;
  PinStatus authPin, signPin;
  CertSummary auth;
  std::optional<CertSummary> sign;
  std::string signState;
  CaGeneration authGen, signGen;
};

// Without a usable card: --json still lists the readers and names the error (the exit code is
// the error's); the text output lists the readers when only the card is missing. True when the
// error has been reported.
bool reportWithoutCard(const Context& ctx, const ToolError& e) {
  if (ctx.json && e.code() != Exit::NoReader) {
    auto system = makeReaders();
    *ctx.out << dumpJson({{"readers", readersJson(system->readers())}, {"error", e.what()}})
             << "\n";
    return true;
  }
  if (!ctx.json && e.code() == Exit::NoCard) {
    auto system = makeReaders();
    for (const auto& r : system->readers()) *ctx.out << "Reader:   " << r.name << " (no card)\n";
  }
  return false;
}

// Tries left for both PINs (no try is spent); warnings for the last try and for a lockout.
void checkPins(Status& s, JpkiCard& card) {
  s.authPin = card.pinStatus(KeyRole::Auth);
  s.signPin = card.pinStatus(KeyRole::Sign);
  s.json["pins"] = {{"auth", pinJson(s.authPin)}, {"sign", pinJson(s.signPin)}};
  for (auto [role, st] :
       {std::pair{KeyRole::Auth, s.authPin}, std::pair{KeyRole::Sign, s.signPin}}) {
    if (auto w = lastTryWarning(role, st.triesLeft)) s.warnings.push_back(*w);
    if (st.locked()) {
      s.warnings.push_back(std::string("the ") + pinName(role) +
                           " is locked: have it reset at the city office (bring the card and ID)");
    }
  }
}

// A certificate for --json, with whether the card's CA issued it.
Json certJson(const CertSummary& cert, const Bytes& der, const Bytes& caDer) {
  Json j = toJson(cert);
  j["issuedByCardCa"] = issuedBy(der, caDer);
  return j;
}

void warnValidity(Status& s, const std::string& what, const CertSummary& cert) {
  if (cert.expired) {
    s.warnings.push_back("the " + what + " has expired (" + cert.notAfterDate + ")");
  } else if (cert.renewalOpen) {
    s.warnings.push_back("the " + what + " can be renewed now (expires " + cert.notAfterDate + ")");
  }
}

void checkAuthCert(Status& s, const Bytes& der, const Bytes& caDer, std::time_t now) {
  s.auth = summarise(der, now);
  s.json["certificates"]["auth"] = certJson(s.auth, der, caDer);
  warnValidity(s, "user authentication certificate", s.auth);
}

// The signature certificate: only with the password, and only when the card says it has one.
void checkSignCert(Status& s, const Context& ctx, JpkiCard& card, const Bytes& caDer,
                   std::optional<bool> issued, bool withPassword, std::time_t now) {
  if (issued == false) {
    s.signState = "none: no signature certificate on this card (issued only from age 15)";
  } else if (!withPassword) {
    s.signState = "present (details need --sign-password)";
  } else {
    login(ctx, card, KeyRole::Sign);
    try {
      const Bytes& der = card.certificate(CertFile::Sign);
      s.sign = summarise(der, now);
      s.json["certificates"]["sign"] = certJson(*s.sign, der, caDer);
      s.signState = "present";
      warnValidity(s, "signature certificate", *s.sign);
    } catch (const Error& e) {
      if (e.code() != Errc::FileNotFound) throw;
      s.signState = "none: no signature certificate on this card";
    }
    card.logout();
  }
  if (!s.sign) {
    s.json["certificates"]["sign"] = {{"present", issued.has_value() ? Json(*issued) : Json()},
                                      {"state", s.signState}};
  }
}

// Both CA certificates with their generation.
void checkCas(Status& s, const Bytes& authCaDer, const Bytes& signCaDer, std::time_t now) {
  s.authGen = caGeneration(authCaDer);
  s.signGen = caGeneration(signCaDer);
  Json authCa = toJson(summarise(authCaDer, now));
  authCa["generation"] = s.authGen.id;
  authCa["generationText"] = s.authGen.text;
  Json signCa = toJson(summarise(signCaDer, now));
  signCa["generation"] = s.signGen.id;
  signCa["generationText"] = s.signGen.text;
  s.json["ca"] = {{"auth", authCa}, {"sign", signCa}};
}

void printText(std::ostream& out, const OpenCard& oc, const Status& s) {
  for (const auto& r : oc.readers) {
    out << "Reader:                 " << r.name
        << (r.cardPresent ? " (card present)" : " (no card)")
        << (r.name == oc.readerName ? "  <- used" : "") << "\n";
  }
  out << "Card:                   " << kindText(oc.kind) << " (token " << oc.label << ")\n";
  out << "Authentication PIN:     " << pinText(s.authPin) << "\n";
  out << "Signature password:     " << pinText(s.signPin) << "\n";
  out << "Authentication certificate:\n"
      << "  subject:              " << s.auth.subject << "\n"
      << "  validity:             " << validityText(s.auth) << "\n";
  out << "Signature certificate:  " << s.signState << "\n";
  if (s.sign) {
    out << "  subject:              " << s.sign->subject << "\n"
        << "  validity:             " << validityText(*s.sign) << "\n";
  }
  out << "Authentication CA:      " << s.authGen.text << "\n"
      << "Signature CA:           " << s.signGen.text << "\n";
  for (const auto& w : s.warnings) {
    out << (w.rfind("WARNING", 0) == 0 ? "" : "WARNING: ") << w << "\n";
  }
}

}  // namespace

Exit cmdStatus(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"sign-password", 0, false}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "status takes no arguments");
  OpenCard oc;
  try {
    oc = openCard(ctx);
  } catch (const ToolError& e) {
    // Still say what was found before failing with the code that names the problem.
    if (reportWithoutCard(ctx, e)) return e.code();
    throw;
  }
  JpkiCard& card = *oc.card;
  const std::time_t now = std::time(nullptr);
  Status s;
  s.json["readers"] = readersJson(oc.readers);
  s.json["reader"] = oc.readerName;
  s.json["card"] = {
      {"kind", kindId(oc.kind)}, {"kindText", kindText(oc.kind)}, {"label", oc.label}};
  const std::optional<bool> signIssued = signCertIssued(card);
  checkPins(s, card);
  const Bytes& authDer = card.certificate(CertFile::Auth);
  const Bytes& authCaDer = card.certificate(CertFile::AuthCa);
  const Bytes& signCaDer = card.certificate(CertFile::SignCa);
  checkAuthCert(s, authDer, authCaDer, now);
  checkSignCert(s, ctx, card, signCaDer, signIssued, p.has("sign-password"), now);
  checkCas(s, authCaDer, signCaDer, now);
  s.json["warnings"] = s.warnings;
  if (ctx.json) {
    *ctx.out << dumpJson(s.json) << "\n";
  } else {
    printText(*ctx.out, oc, s);
  }
  return Exit::Ok;
}

}  // namespace jpki::tool
