// SPDX-License-Identifier: MIT
// `jpki-tool sign` (the card signs) and `jpki-tool verify` (OpenSSL checks, no card needed).
#include <ostream>

#include "card_access.h"
#include "commands.h"
#include "crypto.h"
#include "json.h"
#include "util.h"
#include "x509_info.h"

namespace jpki::tool {

namespace {

constexpr const char* kSignUsage =
    "Usage: jpki-tool sign --key auth|sign [--cms] -i FILE -o FILE\n"
    "\n"
    "Signs FILE with one of the card's keys: SHA-256 and RSA PKCS#1 v1.5. Without --cms the\n"
    "output is the raw 256-byte signature (check it with `openssl dgst -sha256 -verify`); with\n"
    "--cms it is a detached CMS SignedData in DER carrying the certificate (check it with\n"
    "`openssl cms -verify -binary -inform DER -content FILE`). The PIN of the key is asked for on\n"
    "the terminal without echo (--pin-env VAR for scripts).\n"
    "\n"
    "  --key auth|sign   auth: user authentication key (4-digit PIN, 3 tries);\n"
    "                    sign: digital signature key (6-16 character password, 5 tries)\n"
    "  --cms             write a detached CMS signature instead of the raw signature\n"
    "  -i, --in FILE     the data to sign ('-' for standard input)\n"
    "  -o, --out FILE    where to write the signature ('-' for standard output)\n";

constexpr const char* kVerifyUsage =
    "Usage: jpki-tool verify --ca FILE [--cert FILE] [--cms] -i FILE -s SIGNATURE\n"
    "\n"
    "Checks a signature made by `jpki-tool sign` in software (no card needed): the signature\n"
    "over the data, and the signer certificate's chain to the JPKI CA certificate. Certificates\n"
    "may be PEM or DER. Exit code 0 only when both are good.\n"
    "\n"
    "  --cert FILE       the signer certificate (required for raw signatures; for --cms, the\n"
    "                    embedded signer must be this certificate)\n"
    "  --ca FILE         the CA certificate (e.g. from `jpki-tool certs export sign-ca`)\n"
    "  --cms             the signature is a detached CMS SignedData (DER)\n"
    "  -i, --in FILE     the signed data\n"
    "  -s, --sig FILE    the signature\n";

std::string required(const ParsedArgs& p, const char* name) {
  auto v = p.get(name);
  if (!v || v->empty()) throw ToolError(Exit::Usage, std::string("--") + name + " is required");
  return *v;
}

}  // namespace

Exit cmdSign(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(
      args,
      withCommon({{"key", 'k', true}, {"cms", 0, false}, {"in", 'i', true}, {"out", 'o', true}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kSignUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "sign takes no positional arguments");
  const KeyRole role = keyOption(required(p, "key"));
  const std::string in = required(p, "in");
  const std::string outFile = required(p, "out");
  const Bytes data = readFileBytes(in);

  OpenCard oc = openCard(ctx);
  JpkiCard& card = *oc.card;
  if (role == KeyRole::Sign && signCertIssued(card) == false) {
    throw ToolError(Exit::Error, "this card has no signature key (issued only from age 15)");
  }
  login(ctx, card, role);
  Bytes signature;
  try {
    if (p.has("cms")) {
      const Bytes cert = card.certificate(role == KeyRole::Auth ? CertFile::Auth : CertFile::Sign);
      signature = signCms(card, role, cert, data);
    } else {
      signature = signRaw(card, role, data);
    }
  } catch (const Error& e) {  // OpenCard's CardCloser logs out on the way out
    if (e.code() == Errc::FileNotFound) {
      throw ToolError(Exit::Error, "this card has no signature key or certificate");
    }
    throw;
  }
  card.logout();
  writeFileBytes(outFile, signature);
  const char* kind = p.has("cms") ? "detached CMS signature" : "raw PKCS#1 v1.5 signature";
  if (ctx.json) {
    *ctx.err << dumpJson({{"key", role == KeyRole::Auth ? "auth" : "sign"},
                          {"format", p.has("cms") ? "cms" : "raw"},
                          {"output", outFile},
                          {"bytes", signature.size()}},
                         -1)
             << "\n";
  } else if (outFile != "-") {
    *ctx.out << "signed " << in << " with the "
             << (role == KeyRole::Auth ? "user authentication" : "digital signature")
             << " key: " << kind << " (" << signature.size() << " bytes) in " << outFile << "\n";
  }
  return Exit::Ok;
}

Exit cmdVerify(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"cert", 0, true},
                                                   {"ca", 0, true},
                                                   {"cms", 0, false},
                                                   {"in", 'i', true},
                                                   {"sig", 's', true}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kVerifyUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "verify takes no positional arguments");
  const bool cms = p.has("cms");
  const Bytes ca = pemToDerIfNeeded(readFileBytes(required(p, "ca")));
  Bytes cert;
  if (p.get("cert")) {
    cert = pemToDerIfNeeded(readFileBytes(*p.get("cert")));
  } else if (!cms) {
    throw ToolError(Exit::Usage, "--cert is required for a raw signature");
  }
  const Bytes data = readFileBytes(required(p, "in"));
  const Bytes sig = readFileBytes(required(p, "sig"));
  const VerifyReport r = cms ? verifyCms(cert, ca, data, sig) : verifyRaw(cert, ca, data, sig);
  const bool good = r.signatureOk && r.chainOk;
  if (ctx.json) {
    *ctx.out << dumpJson({{"valid", good},
                          {"signature", r.signatureOk},
                          {"signatureDetail", r.signatureDetail},
                          {"chain", r.chainOk},
                          {"chainDetail", r.chainDetail},
                          {"signer", r.signer}})
             << "\n";
  } else {
    *ctx.out << "signature: " << (r.signatureOk ? "good" : "BAD: " + r.signatureDetail) << "\n"
             << "signer:    " << r.signer << "\n"
             << "chain:     "
             << (r.chainOk ? "good (issued by the given CA)" : "BAD: " + r.chainDetail) << "\n"
             << (good ? "verified\n" : "NOT verified\n");
  }
  return good ? Exit::Ok : Exit::Error;
}

}  // namespace jpki::tool
