// SPDX-License-Identifier: MIT
// `jpki-tool certs` (list / export) and `jpki-tool show` (the signature certificate's basic four
// facts, jpki-card.md §8).
#include <ctime>
#include <ostream>

#include "card_access.h"
#include "commands.h"
#include "json.h"
#include "util.h"
#include "x509_info.h"

namespace jpki::tool {

namespace {

constexpr const char* kCertsUsage =
    "Usage: jpki-tool certs [list] [--sign-password] [--json]\n"
    "       jpki-tool certs export auth|sign|auth-ca|sign-ca [--format pem|der] [-o FILE]\n"
    "\n"
    "Lists the card's four certificates, or writes one of them (PEM by default; to standard\n"
    "output without -o). The signature certificate ('sign') can only be read after the\n"
    "signature password: it is asked for on the terminal (--pin-env VAR for scripts).\n"
    "\n"
    "  --format pem|der  output format for export (default pem)\n"
    "  -o, --output FILE write to FILE instead of standard output\n"
    "  --sign-password   list: also read the signature certificate\n";

constexpr const char* kShowUsage =
    "Usage: jpki-tool show [--json]\n"
    "\n"
    "Shows the basic four facts (name, address, date of birth, sex) recorded in the signature\n"
    "certificate. Reading it needs the signature password (asked for on the terminal; --pin-env\n"
    "VAR for scripts). The facts are personal data: take care where the output goes.\n";

struct CertName {
  const char* id;
  CertFile file;
  const char* text;
};
constexpr CertName kCerts[] = {
    {"auth", CertFile::Auth, "user authentication certificate"},
    {"auth-ca", CertFile::AuthCa, "user authentication CA certificate"},
    {"sign", CertFile::Sign, "signature certificate"},
    {"sign-ca", CertFile::SignCa, "signature CA certificate"},
};

const CertName& certByName(const std::string& name) {
  for (const auto& c : kCerts) {
    if (name == c.id) return c;
  }
  throw ToolError(Exit::Usage,
                  "unknown certificate '" + name + "' (expected auth, sign, auth-ca or sign-ca)");
}

// Reads a certificate, logging in first for the signature certificate.
const Bytes& readCert(const Context& ctx, JpkiCard& card, CertFile file) {
  if (file == CertFile::Sign && !card.verified(KeyRole::Sign)) {
    if (signCertIssued(card) == false) {
      throw ToolError(Exit::Error,
                      "this card has no signature certificate (issued only from age 15)");
    }
    login(ctx, card, KeyRole::Sign);
  }
  try {
    return card.certificate(file);
  } catch (const Error& e) {
    if (e.code() == Errc::FileNotFound) {
      throw ToolError(Exit::Error, "this card has no signature certificate");
    }
    throw;
  }
}

Exit exportCert(const Context& ctx, const ParsedArgs& p) {
  if (p.positional.size() != 2) {
    throw ToolError(Exit::Usage, "certs export needs one of auth, sign, auth-ca, sign-ca");
  }
  const CertName& which = certByName(p.positional[1]);
  const std::string format = p.get("format").value_or("pem");
  if (format != "pem" && format != "der") {
    throw ToolError(Exit::Usage, "--format must be pem or der");
  }
  const std::string output = p.get("output").value_or("-");
  OpenCard oc = openCard(ctx);
  const Bytes der = readCert(ctx, *oc.card, which.file);
  if (which.file == CertFile::Sign) oc.card->logout();
  if (format == "der") {
    writeFileBytes(output, der);
  } else {
    const std::string pem = derToPem(der);
    writeFileBytes(output, ByteView(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()));
  }
  if (output != "-") {
    *ctx.err << "wrote the " << which.text << " to " << output << " (" << format << ")\n";
  }
  return Exit::Ok;
}

}  // namespace

Exit cmdCerts(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(
      args, withCommon({{"format", 0, true}, {"output", 'o', true}, {"sign-password", 0, false}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kCertsUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  const std::string sub = p.positional.empty() ? "list" : p.positional[0];
  if (sub == "export") return exportCert(ctx, p);
  if (sub != "list" || p.positional.size() > 1) {
    throw ToolError(Exit::Usage, "unknown certs subcommand '" + sub + "' (list or export)");
  }
  OpenCard oc = openCard(ctx);
  JpkiCard& card = *oc.card;
  const std::time_t now = std::time(nullptr);
  const std::optional<bool> signIssued = signCertIssued(card);
  Json list = Json::array();
  std::ostream& out = *ctx.out;
  for (const auto& c : kCerts) {
    Json entry = {{"id", c.id}, {"description", c.text}};
    std::optional<CertSummary> s;
    std::string note;
    if (c.file == CertFile::Sign && signIssued == false) {
      note = "not on this card";
    } else if (c.file == CertFile::Sign && !p.has("sign-password")) {
      note = "needs the signature password (--sign-password)";
    } else {
      s = summarise(readCert(ctx, card, c.file), now);
    }
    if (s) {
      entry["certificate"] = toJson(*s);
    } else {
      entry["note"] = note;
    }
    list.push_back(entry);
    if (!ctx.json) {
      out << c.id << ": " << c.text << "\n";
      if (s) {
        out << "  subject:  " << s->subject << "\n"
            << "  issuer:   " << s->issuer << "\n"
            << "  serial:   " << s->serialHex << "\n"
            << "  sha256:   " << s->sha256Hex << "\n"
            << "  validity: " << s->notBeforeDate << " to " << s->notAfterDate << ": "
            << validityText(*s) << "\n";
      } else {
        out << "  (" << note << ")\n";
      }
    }
  }
  card.logout();  // no APDU unless our password may be verified on the card
  if (ctx.json) out << dumpJson({{"reader", oc.readerName}, {"certificates", list}}) << "\n";
  return Exit::Ok;
}

Exit cmdShow(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({}));
  if (p.has("help")) {
    printHelp(*ctx.out, kShowUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "show takes no arguments");
  OpenCard oc = openCard(ctx);
  const Bytes der = readCert(ctx, *oc.card, CertFile::Sign);
  oc.card->logout();
  const std::optional<BasicFour> b = basicFour(der);
  if (!b) throw ToolError(Exit::Error, "the signature certificate carries no basic four facts");
  if (ctx.json) {
    *ctx.out << dumpJson({{"name", b->name},
                          {"nameSubstitute", b->nameSubstitute},
                          {"address", b->address},
                          {"addressSubstitute", b->addressSubstitute},
                          {"birthDate", birthDateText(b->birthDate)},
                          {"birthDateRaw", b->birthDate},
                          {"sex", sexText(b->sex)},
                          {"sexCode", b->sex}})
             << "\n";
    return Exit::Ok;
  }
  *ctx.out << "Name:          " << b->name << "\n"
           << "Address:       " << b->address << "\n"
           << "Date of birth: " << birthDateText(b->birthDate) << "\n"
           << "Sex:           " << sexText(b->sex) << "\n";
  if (!b->nameSubstitute.empty()) {
    *ctx.out << "Name (substitute characters):    " << b->nameSubstitute << "\n";
  }
  if (!b->addressSubstitute.empty()) {
    *ctx.out << "Address (substitute characters): " << b->addressSubstitute << "\n";
  }
  return Exit::Ok;
}

}  // namespace jpki::tool
