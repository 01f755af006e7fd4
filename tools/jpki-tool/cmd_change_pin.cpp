// SPDX-License-Identifier: MIT
// `jpki-tool change-pin`: changes the user authentication PIN or the signature password
// (JpkiCard::changePin: VERIFY of the current PIN, then CHANGE REFERENCE DATA, in one transaction;
// jpki-card.md §3.5). The tries left are shown first; the current PIN is asked for once and the
// new one twice, on the terminal without echo, or taken from --pin-env / --new-pin-env.
#include <algorithm>
#include <ostream>

#include "card_access.h"
#include "commands.h"
#include "json.h"
#include "pin_prompt.h"

namespace jpki::tool {

namespace {

constexpr const char* kUsage =
    "Usage: jpki-tool change-pin --key auth|sign [--new-pin-env VAR] [--pin-env VAR]\n"
    "\n"
    "Changes a PIN of the card. Shows the tries left, then asks for the current PIN once and for\n"
    "the new one twice, on the terminal without echo (--pin-env VAR and --new-pin-env VAR take\n"
    "them from environment variables instead, for scripts). The new PIN follows the rules of the\n"
    "one it replaces: the user authentication PIN is exactly 4 digits, the signature password 6\n"
    "to 16 characters A-Z and 0-9 (lower case is accepted and stored upper-cased). A PIN of the\n"
    "wrong form is refused before anything reaches the card; a wrong current PIN costs a try,\n"
    "like a wrong PIN anywhere else (3 tries for the PIN, 5 for the password).\n"
    "\n"
    "  --key auth|sign      auth: user authentication PIN; sign: signature password\n"
    "  --new-pin-env VAR    take the new PIN from the environment variable VAR (then cleared)\n";

// The PIN status line, as `status` prints it.
std::string triesText(KeyRole role, const PinStatus& s) {
  return std::string(role == KeyRole::Auth ? "Authentication PIN: " : "Signature password: ") +
         std::to_string(s.triesLeft) + " of " + std::to_string(s.maxTries) + " tries left";
}

// The new PIN: from --new-pin-env, else typed twice (the two entries must agree; nothing has been
// sent to the card yet when they do not).
SecretBytes obtainNewPin(const std::optional<std::string>& env, KeyRole role) {
  if (env) return pinFromEnvironment("--new-pin-env", *env);
  if (!ttyAvailable()) {
    throw ToolError(Exit::Usage,
                    "no terminal to ask for the new PIN on (for scripts: --new-pin-env VARIABLE)");
  }
  SecretBytes first = promptHidden("New " + pinDescription(role) + ": ");
  SecretBytes again = promptHidden(std::string("New ") + pinName(role) + " again: ");
  if (!std::ranges::equal(first.view(), again.view())) {
    throw ToolError(Exit::WrongPin, std::string("the two entries of the new ") + pinName(role) +
                                        " differ: nothing was changed (no try was spent)");
  }
  return first;
}

}  // namespace

Exit cmdChangePin(Context ctx, const Args& args) {
  const ParsedArgs p = parseArgs(args, withCommon({{"key", 'k', true}, {"new-pin-env", 0, true}}));
  if (p.has("help")) {
    printHelp(*ctx.out, kUsage);
    return Exit::Ok;
  }
  ctx = contextFrom(p, ctx);
  if (!p.positional.empty()) throw ToolError(Exit::Usage, "change-pin takes no arguments");
  const std::optional<std::string> key = p.get("key");
  if (!key || key->empty()) throw ToolError(Exit::Usage, "--key is required");
  const KeyRole role = keyOption(*key);
  const std::optional<std::string> newPinEnv = p.get("new-pin-env");
  if (p.has("new-pin-env") && (!newPinEnv || newPinEnv->empty())) {
    throw ToolError(Exit::Usage, "--new-pin-env needs the name of a variable");
  }

  OpenCard oc = openCard(ctx);  // CardCloser clears the verified PIN on every way out
  JpkiCard& card = *oc.card;
  if (role == KeyRole::Sign && signCertIssued(card) == false) {
    throw ToolError(Exit::Error,
                    "this card has no signature certificate, so no signature password to change "
                    "(it is issued only from age 15)");
  }
  // The tries left before anything is asked for or spent (an empty VERIFY: no try).
  const PinStatus before = card.pinStatus(role);
  if (before.locked()) {
    throw ToolError(Exit::PinLocked, std::string("the ") + pinName(role) +
                                         " is locked (no tries left): it cannot be changed, only "
                                         "reset at the city office");
  }
  if (!ctx.json) {
    *ctx.out << triesText(role, before) << "\n";
    if (auto w = lastTryWarning(role, before.triesLeft)) *ctx.out << *w << "\n";
    ctx.out->flush();
  }

  SecretBytes current = ctx.pinEnv.empty() ? promptHidden("Current " + pinDescription(role) + ": ")
                                           : pinFromEnvironment("--pin-env", ctx.pinEnv);
  SecretBytes replacement = obtainNewPin(newPinEnv, role);
  ChangePinResult result;
  try {
    result = card.changePin(role, current.view(), replacement.view());
  } catch (const Error& e) {
    if (e.code() == Errc::PinFormat || e.code() == Errc::NewPinFormat) {
      throw ToolError(Exit::WrongPin,
                      std::string(e.what()) + " (no PIN was sent, no try was spent)");
    }
    throw;
  }
  current.clear();
  replacement.clear();

  switch (result.outcome) {
    case ChangePinOutcome::Ok:
      break;
    case ChangePinOutcome::WrongPin: {
      std::string msg =
          "wrong current " + std::string(pinName(role)) + ": " + std::to_string(result.triesLeft) +
          (result.triesLeft == 1 ? " try left" : " tries left") + "; nothing was changed";
      if (auto w = lastTryWarning(role, result.triesLeft)) msg += "\n" + *w;
      throw ToolError(Exit::WrongPin, msg);
    }
    case ChangePinOutcome::Locked:
      throw ToolError(Exit::PinLocked, "wrong current " + std::string(pinName(role)) +
                                           ": it is now locked; it can only be reset at the city "
                                           "office");
    case ChangePinOutcome::NewPinRefused:
      throw ToolError(Exit::WrongPin, "the card refused the new " + std::string(pinName(role)) +
                                          "; it was not changed (the current one was right)");
  }
  card.logout();
  if (ctx.json) {
    *ctx.out << dumpJson({{"key", role == KeyRole::Auth ? "auth" : "sign"},
                          {"changed", true},
                          {"triesLeft", result.triesLeft},
                          {"maxTries", before.maxTries}})
             << "\n";
  } else {
    *ctx.out << (role == KeyRole::Auth ? "User authentication PIN" : "Signature password")
             << " changed.\n";
  }
  return Exit::Ok;
}

}  // namespace jpki::tool
