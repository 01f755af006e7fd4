// SPDX-License-Identifier: MIT
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

// The checks in the order they were made, and the exit code of the first card problem.
struct Checks {
  std::vector<Check> list;
  Exit cardExit = Exit::Ok;

  void add(std::string area, Level level, std::string detail, std::string fix = "",
           Exit code = Exit::Ok) {
    list.push_back({std::move(area), level, std::move(detail), std::move(fix)});
    if (code != Exit::Ok && cardExit == Exit::Ok) cardExit = code;
  }
};

// pcscd and its readers; nullopt when the service is not reachable.
std::optional<std::vector<ReaderState>> checkService(Checks& checks, ReaderSystem& system) {
  std::vector<ReaderState> readers;
  try {
    readers = system.readers();
    checks.add("pcscd", Level::Ok, "the PC/SC service is reachable");
  } catch (const Error& e) {
    checks.add("pcscd", Level::Problem,
               std::string("the PC/SC service is not reachable (") + e.what() + ")",
               "sudo apt install pcscd && sudo systemctl enable --now pcscd.socket",
               Exit::NoReader);
    return std::nullopt;
  }
  if (readers.empty()) {
    checks.add("readers", Level::Problem, "no card reader is connected",
               "plug in the reader and check it with `pcsc_scan` (package pcsc-tools); some "
               "readers need their own driver package",
               Exit::NoReader);
  }
  return readers;
}

// Both PINs of a card that answers: locked, one try left, or fine.
void checkPins(Checks& checks, JpkiCard& card) {
  for (KeyRole role : {KeyRole::Auth, KeyRole::Sign}) {
    const PinStatus st = card.pinStatus(role);
    const std::string what = std::string(pinName(role));
    if (st.locked()) {
      checks.add("pin", Level::Problem, "the " + what + " is locked",
                 "have it reset at the city office (bring the card and photo ID)", Exit::PinLocked);
    } else if (st.triesLeft == 1) {
      checks.add("pin", Level::Warning, "the " + what + " has one try left",
                 "enter it only when sure; a lockout needs a visit to the city office");
    } else {
      checks.add("pin", Level::Ok,
                 "the " + what + ": " + std::to_string(st.triesLeft) + " of " +
                     std::to_string(st.maxTries) + " tries left");
    }
  }
}

// The card in each reader: does it answer the JPKI application, and its PINs.
void checkCards(Checks& checks, ReaderSystem& system, const std::vector<ReaderState>& readers) {
  bool anyCard = false;
  for (const auto& r : readers) {
    if (!r.cardPresent) {
      checks.add("reader", Level::Info, r.name + ": no card");
      continue;
    }
    anyCard = true;
    try {
      JpkiCard card(system.connect(r.name));
      const CardKind kind = card.kind();
      checks.add("card", Level::Ok,
                 r.name + ": " + kindText(kind) + " answers the JPKI application");
      checkPins(checks, card);
    } catch (const Error& e) {
      if (e.code() == Errc::NotJpki) {
        checks.add("card", Level::Problem, r.name + ": the card has no JPKI application",
                   "insert the My Number Card (this card is another kind)", Exit::NotJpki);
      } else {
        checks.add("card", Level::Problem, r.name + ": the card does not answer: " + e.what(),
                   "take the card out and put it back; for contactless readers keep it flat and "
                   "still",
                   exitFor(e.code()) == Exit::Error ? Exit::Ok : exitFor(e.code()));
      }
    }
  }
  if (!readers.empty() && !anyCard) {
    checks.add("card", Level::Problem, "no card in any reader",
               "insert the My Number Card (contact readers: chip first, face up)", Exit::NoCard);
  }
}

void checkModule(Checks& checks, const std::optional<std::string>& given) {
  const std::string module = findModule(given);
  if (module.empty()) {
    checks.add("module", Level::Problem,
               "libjpki-pkcs11.so not found" + (given ? " at " + *given : std::string()),
               "install jpki-pkcs11 (`sudo cmake --install build`) or name it with --module PATH");
  } else {
    checks.add("module", Level::Ok, module);
  }
}

void checkP11Kit(Checks& checks) {
  const auto p11 = p11kitRegistrations();
  if (p11.empty()) {
    checks.add("p11-kit", Level::Warning, "no p11-kit module config names libjpki-pkcs11",
               "jpki-tool register --p11-kit");
  }
  for (const auto& f : p11) checks.add("p11-kit", Level::Ok, "registered in " + f.string());
}

// Chromium (the user's NSS database). True when the module is registered there.
bool checkChromium(Checks& checks) {
  const fs::path nssdb = chromiumNssDb();
  const auto names = nssModuleNames(nssdb);
  if (names.empty()) {
    checks.add("chromium", Level::Warning,
               "not registered in the user's NSS database " + nssdb.string(),
               "jpki-tool register --nss");
    return false;
  }
  checks.add("chromium", Level::Ok,
             "registered in " + nssdb.string() + " as \"" + names.front() + "\"");
  return true;
}

// Firefox: the enterprise policy, then each profile. True when some Firefox has the module.
bool checkFirefox(Checks& checks) {
  bool registered = false;
  const auto profiles = firefoxProfiles();
  const auto policy = firefoxPolicyRegistration();
  if (policy) {
    registered = true;
    checks.add("firefox", Level::Ok,
               "registered for every profile by the policy " + policy->string());
  }
  if (profiles.empty() && !policy) checks.add("firefox", Level::Info, "no Firefox profile found");
  for (const auto& prof : profiles) {
    if (!nssModuleNames(prof).empty()) {
      registered = true;
      checks.add("firefox", Level::Ok, "registered in profile " + prof.string());
    } else if (!policy) {
      checks.add("firefox", Level::Warning, "not registered in profile " + prof.string(),
                 "close Firefox, then: jpki-tool register --firefox");
    }
  }
  return registered;
}

// What browsers see is the module's own rule (browser-tokens), nothing to register: a warning
// when the signature token is visible while a browser has the module, else information.
void checkBrowserTokens(Checks& checks, bool browserRegistered) {
  const BrowserTokens seen = browserTokens();
  for (const auto& w : seen.warnings) {
    checks.add("config", Level::Warning, w, "correct the line (see jpki-pkcs11.conf(5))");
  }
  if (!seen.signVisible()) {
    checks.add("browsers", Level::Ok, seen.describe());
    return;
  }
  checks.add("browsers", browserRegistered ? Level::Warning : Level::Info, seen.describe(),
             seen.setBy == "JPKI_PKCS11_TOKENS"
                 ? "unset JPKI_PKCS11_TOKENS (browsers then get browser-tokens, default auth-only)"
                 : "remove `browser-tokens = " + std::string(config::name(seen.tokens)) +
                       "` from " + seen.setBy + " (the default is auth-only)");
}

// Prints the checks (text or --json) and returns the exit code: the first card problem's, else
// 1 when a problem was found, else 0.
Exit report(const Context& ctx, const Checks& checks) {
  bool problem = false;
  Json list = Json::array();
  for (const auto& c : checks.list) {
    problem = problem || c.level == Level::Problem;
    Json item = {{"area", c.area}, {"level", levelText(c.level)}, {"detail", c.detail}};
    if (!c.fix.empty()) item["fix"] = c.fix;
    list.push_back(item);
  }
  const Exit result =
      checks.cardExit != Exit::Ok ? checks.cardExit : (problem ? Exit::Error : Exit::Ok);
  if (ctx.json) {
    *ctx.out << dumpJson({{"checks", list}, {"exitCode", static_cast<int>(result)}}) << "\n";
    return result;
  }
  for (const auto& c : checks.list) {
    std::string tag = "[" + std::string(levelText(c.level)) + "]";
    tag.resize(10, ' ');
    *ctx.out << tag << c.area << ": " << c.detail << "\n";
    if (!c.fix.empty()) *ctx.out << "          fix: " << c.fix << "\n";
  }
  *ctx.out << (problem ? "doctor: problems found (see the fixes above)\n"
                       : "doctor: no problem found\n");
  return result;
}

}  // namespace

Exit cmdDoctor(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"module", 'm', true}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  Checks checks;
  auto system = makeReaders();
  if (const auto readers = checkService(checks, *system)) checkCards(checks, *system, *readers);
  checkModule(checks, p.get("module"));
  checkP11Kit(checks);
  const bool chromium = checkChromium(checks);
  const bool firefox = checkFirefox(checks);
  checkBrowserTokens(checks, chromium || firefox);
  return report(ctx, checks);
}

}  // namespace jpki::tool
