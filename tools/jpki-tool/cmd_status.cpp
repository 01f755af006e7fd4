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

}  // namespace

Exit cmdStatus(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"sign-password", 0, false}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "status takes no arguments");
  std::ostream& out = *ctx.out;
  const std::time_t now = std::time(nullptr);
  Json j = Json::object();
  Json warnings = Json::array();
  std::vector<std::string> warningTexts;
  const auto warn = [&](const std::string& w) {
    warnings.push_back(w);
    warningTexts.push_back(w);
  };

  OpenCard oc;
  try {
    oc = openCard(ctx);
  } catch (const ToolError& e) {
    // Still say what was found before failing with the code that names the problem.
    if (ctx.json && e.code() != Exit::NoReader) {
      auto system = makeReaders();
      j["readers"] = readersJson(system->readers());
      j["error"] = e.what();
      out << dumpJson(j) << "\n";
      return e.code();
    }
    if (!ctx.json && e.code() == Exit::NoCard) {
      auto system = makeReaders();
      for (const auto& r : system->readers()) out << "Reader:   " << r.name << " (no card)\n";
    }
    throw;
  }
  JpkiCard& card = *oc.card;
  j["readers"] = readersJson(oc.readers);
  j["reader"] = oc.readerName;
  j["card"] = {{"kind", kindId(oc.kind)}, {"kindText", kindText(oc.kind)}, {"label", oc.label}};

  const std::optional<bool> signIssued = signCertIssued(card);
  const PinStatus authPin = card.pinStatus(KeyRole::Auth);
  const PinStatus signPin = card.pinStatus(KeyRole::Sign);
  j["pins"] = {{"auth", pinJson(authPin)}, {"sign", pinJson(signPin)}};
  for (auto [role, st] : {std::pair{KeyRole::Auth, authPin}, std::pair{KeyRole::Sign, signPin}}) {
    if (auto w = lastTryWarning(role, st.triesLeft)) warn(*w);
    if (st.locked()) {
      warn(std::string("the ") + pinName(role) +
           " is locked: have it reset at the city office (bring the card and ID)");
    }
  }

  const Bytes& authDer = card.certificate(CertFile::Auth);
  const Bytes& authCaDer = card.certificate(CertFile::AuthCa);
  const Bytes& signCaDer = card.certificate(CertFile::SignCa);
  const CertSummary auth = summarise(authDer, now);
  Json certs = Json::object();
  certs["auth"] = toJson(auth);
  certs["auth"]["issuedByCardCa"] = issuedBy(authDer, authCaDer);
  if (auth.expired)
    warn("the user authentication certificate has expired (" + auth.notAfterDate + ")");
  else if (auth.renewalOpen)
    warn("the user authentication certificate can be renewed now (expires " + auth.notAfterDate +
         ")");

  // Signature certificate: only with the password, and only when the card says it has one.
  std::optional<CertSummary> sign;
  std::string signState;
  if (signIssued == false) {
    signState = "none: no signature certificate on this card (issued only from age 15)";
  } else if (!p.has("sign-password")) {
    signState = "present (details need --sign-password)";
  } else {
    login(ctx, card, KeyRole::Sign);
    try {
      const Bytes& signDer = card.certificate(CertFile::Sign);
      sign = summarise(signDer, now);
      certs["sign"] = toJson(*sign);
      certs["sign"]["issuedByCardCa"] = issuedBy(signDer, signCaDer);
      signState = "present";
      if (sign->expired)
        warn("the signature certificate has expired (" + sign->notAfterDate + ")");
      else if (sign->renewalOpen)
        warn("the signature certificate can be renewed now (expires " + sign->notAfterDate + ")");
    } catch (const Error& e) {
      if (e.code() != Errc::FileNotFound) throw;
      signState = "none: no signature certificate on this card";
    }
    card.logout();
  }
  if (!sign) {
    certs["sign"] = {{"present", signIssued.has_value() ? Json(*signIssued) : Json()},
                     {"state", signState}};
  }
  j["certificates"] = certs;
  const CaGeneration authGen = caGeneration(authCaDer);
  const CaGeneration signGen = caGeneration(signCaDer);
  const CertSummary authCa = summarise(authCaDer, now);
  const CertSummary signCa = summarise(signCaDer, now);
  Json ca = {{"auth", toJson(authCa)}, {"sign", toJson(signCa)}};
  ca["auth"]["generation"] = authGen.id;
  ca["auth"]["generationText"] = authGen.text;
  ca["sign"]["generation"] = signGen.id;
  ca["sign"]["generationText"] = signGen.text;
  j["ca"] = ca;
  j["warnings"] = warnings;

  if (ctx.json) {
    out << dumpJson(j) << "\n";
    return Exit::Ok;
  }
  for (const auto& r : oc.readers) {
    out << "Reader:                 " << r.name
        << (r.cardPresent ? " (card present)" : " (no card)")
        << (r.name == oc.readerName ? "  <- used" : "") << "\n";
  }
  out << "Card:                   " << kindText(oc.kind) << " (token " << oc.label << ")\n";
  out << "Authentication PIN:     " << pinText(authPin) << "\n";
  out << "Signature password:     " << pinText(signPin) << "\n";
  out << "Authentication certificate:\n"
      << "  subject:              " << auth.subject << "\n"
      << "  validity:             " << validityText(auth) << "\n";
  out << "Signature certificate:  " << signState << "\n";
  if (sign) {
    out << "  subject:              " << sign->subject << "\n"
        << "  validity:             " << validityText(*sign) << "\n";
  }
  out << "Authentication CA:      " << authGen.text << "\n"
      << "Signature CA:           " << signGen.text << "\n";
  for (const auto& w : warningTexts) {
    out << (w.rfind("WARNING", 0) == 0 ? "" : "WARNING: ") << w << "\n";
  }
  return Exit::Ok;
}

}  // namespace jpki::tool
