// `jpki-tool doctor`: pcscd, readers, the card's JPKI application, PIN lockouts, the module, and
// which PKCS#11 consumers have it registered, each problem with its fix on one line.
#include <ostream>

#include "card_access.h"
#include "commands.h"
#include "consumers.h"
#include "json.h"
#include "pin_prompt.h"

namespace jpki::tool {

namespace {

constexpr const char* kUsage =
    "Usage: jpki-tool doctor [--module PATH] [--json]\n"
    "\n"
    "Checks, in order: is the PC/SC service (pcscd) reachable, which readers are there, does the\n"
    "card answer the JPKI application, are its PINs usable, where is the PKCS#11 module, and\n"
    "which consumers have it registered (p11-kit, the user's NSS database used by Chromium and\n"
    "Chrome, Firefox profiles and policies), and which tokens web browsers see (the module's\n"
    "browser-tokens setting, default auth-only). Every problem is printed with its fix. No PIN is\n"
    "asked for and no try is spent. The exit code is that of the first card problem (3-6), else\n"
    "1 when a problem was found, else 0.\n"
    "\n"
    "  --module PATH   the module to look for (default: the installed libjpki-pkcs11.so)\n";

enum class Level { Ok, Info, Warning, Problem };

const char* levelText(Level l) {
  switch (l) {
    case Level::Ok:
      return "ok";
    case Level::Info:
      return "info";
    case Level::Warning:
      return "warning";
    case Level::Problem:
      return "problem";
  }
  return "?";
}

struct Check {
  std::string area;
  Level level;
  std::string detail;
  std::string fix;
};

}  // namespace

Exit cmdDoctor(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"module", 'm', true}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  std::vector<Check> checks;
  Exit cardExit = Exit::Ok;
  const auto add = [&](std::string area, Level level, std::string detail, std::string fix = "",
                       Exit code = Exit::Ok) {
    checks.push_back({std::move(area), level, std::move(detail), std::move(fix)});
    if (code != Exit::Ok && cardExit == Exit::Ok) cardExit = code;
  };

  // --- PC/SC, readers, card ---
  auto system = makeReaders();
  std::vector<ReaderState> readers;
  bool service = true;
  try {
    readers = system->readers();
    add("pcscd", Level::Ok, "the PC/SC service is reachable");
  } catch (const Error& e) {
    service = false;
    add("pcscd", Level::Problem,
        std::string("the PC/SC service is not reachable (") + e.what() + ")",
        "sudo apt install pcscd && sudo systemctl enable --now pcscd.socket", Exit::NoReader);
  }
  if (service && readers.empty()) {
    add("readers", Level::Problem, "no card reader is connected",
        "plug in the reader and check it with `pcsc_scan` (package pcsc-tools); some readers need "
        "their own driver package",
        Exit::NoReader);
  }
  bool anyCard = false;
  bool anyJpki = false;
  for (const auto& r : readers) {
    if (!r.cardPresent) {
      add("reader", Level::Info, r.name + ": no card");
      continue;
    }
    anyCard = true;
    try {
      JpkiCard card(system->connect(r.name));
      const CardKind kind = card.kind();
      anyJpki = true;
      add("card", Level::Ok, r.name + ": " + kindText(kind) + " answers the JPKI application");
      for (KeyRole role : {KeyRole::Auth, KeyRole::Sign}) {
        const PinStatus st = card.pinStatus(role);
        const std::string what = std::string(pinName(role));
        if (st.locked()) {
          add("pin", Level::Problem, "the " + what + " is locked",
              "have it reset at the city office (bring the card and photo ID)", Exit::PinLocked);
        } else if (st.triesLeft == 1) {
          add("pin", Level::Warning, "the " + what + " has one try left",
              "enter it only when sure; a lockout needs a visit to the city office");
        } else {
          add("pin", Level::Ok,
              "the " + what + ": " + std::to_string(st.triesLeft) + " of " +
                  std::to_string(st.maxTries) + " tries left");
        }
      }
    } catch (const Error& e) {
      if (e.code() == Errc::NotJpki) {
        add("card", Level::Problem, r.name + ": the card has no JPKI application",
            "insert the My Number Card (this card is another kind)", Exit::NotJpki);
      } else {
        add("card", Level::Problem, r.name + ": the card does not answer: " + e.what(),
            "take the card out and put it back; for contactless readers keep it flat and still",
            exitFor(e.code()) == Exit::Error ? Exit::Ok : exitFor(e.code()));
      }
    }
  }
  if (service && !readers.empty() && !anyCard) {
    add("card", Level::Problem, "no card in any reader",
        "insert the My Number Card (contact readers: chip first, face up)", Exit::NoCard);
  }
  (void)anyJpki;

  // --- the module and its consumers ---
  const std::string module = findModule(p.get("module"));
  if (module.empty()) {
    add("module", Level::Problem,
        "libjpki-pkcs11.so not found" +
            (p.get("module") ? " at " + *p.get("module") : std::string()),
        "install jpki-pkcs11 (`sudo cmake --install build`) or name it with --module PATH");
  } else {
    add("module", Level::Ok, module);
  }
  const auto p11 = p11kitRegistrations();
  if (p11.empty()) {
    add("p11-kit", Level::Warning, "no p11-kit module config names libjpki-pkcs11",
        "jpki-tool register --p11-kit");
  } else {
    for (const auto& f : p11) add("p11-kit", Level::Ok, "registered in " + f.string());
  }
  const fs::path nssdb = chromiumNssDb();
  const auto nssNames = nssModuleNames(nssdb);
  bool browser = false;
  if (nssNames.empty()) {
    add("chromium", Level::Warning, "not registered in the user's NSS database " + nssdb.string(),
        "jpki-tool register --nss");
  } else {
    browser = true;
    add("chromium", Level::Ok,
        "registered in " + nssdb.string() + " as \"" + nssNames.front() + "\"");
  }
  const auto profiles = firefoxProfiles();
  const auto policy = firefoxPolicyRegistration();
  if (policy) {
    browser = true;
    add("firefox", Level::Ok, "registered for every profile by the policy " + policy->string());
  }
  if (profiles.empty() && !policy) add("firefox", Level::Info, "no Firefox profile found");
  for (const auto& prof : profiles) {
    const auto names = nssModuleNames(prof);
    if (!names.empty()) {
      browser = true;
      add("firefox", Level::Ok, "registered in profile " + prof.string());
    } else if (!policy) {
      add("firefox", Level::Warning, "not registered in profile " + prof.string(),
          "close Firefox, then: jpki-tool register --firefox");
    }
  }
  // What browsers see is the module's own rule (browser-tokens), nothing to register.
  const BrowserTokens seen = browserTokens();
  for (const auto& w : seen.warnings) {
    add("config", Level::Warning, w, "correct the line (see jpki-pkcs11.conf(5))");
  }
  if (!seen.signVisible()) {
    add("browsers", Level::Ok, seen.describe());
  } else {
    // A warning while a browser has the module registered, else only information.
    add("browsers", browser ? Level::Warning : Level::Info, seen.describe(),
        seen.setBy == "JPKI_PKCS11_TOKENS"
            ? "unset JPKI_PKCS11_TOKENS (browsers then get browser-tokens, default auth-only)"
            : "remove `browser-tokens = " + std::string(config::name(seen.tokens)) + "` from " +
                  seen.setBy + " (the default is auth-only)");
  }

  bool problem = false;
  Json list = Json::array();
  for (const auto& c : checks) {
    problem = problem || c.level == Level::Problem;
    Json item = {{"area", c.area}, {"level", levelText(c.level)}, {"detail", c.detail}};
    if (!c.fix.empty()) item["fix"] = c.fix;
    list.push_back(item);
  }
  const Exit result = cardExit != Exit::Ok ? cardExit : (problem ? Exit::Error : Exit::Ok);
  if (ctx.json) {
    *ctx.out << dumpJson({{"checks", list}, {"exitCode", static_cast<int>(result)}}) << "\n";
    return result;
  }
  for (const auto& c : checks) {
    std::string tag = "[" + std::string(levelText(c.level)) + "]";
    tag.resize(10, ' ');
    *ctx.out << tag << c.area << ": " << c.detail << "\n";
    if (!c.fix.empty()) *ctx.out << "          fix: " << c.fix << "\n";
  }
  *ctx.out << (problem ? "doctor: problems found (see the fixes above)\n"
                       : "doctor: no problem found\n");
  return result;
}

}  // namespace jpki::tool
