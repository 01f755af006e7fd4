// SPDX-License-Identifier: MIT
#include "card_access.h"

#include "exit_codes.h"
#include "jpki/apdu.h"
#include "jpki/config.h"
#include "pin_prompt.h"

namespace jpki::tool {

void CardCloser::operator()(JpkiCard* card) const noexcept {
  try {
    card->logout();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a card that is gone holds no login
  }
  delete card;
}

std::unique_ptr<ReaderSystem> makeReaders() {
  auto system = makePcscReaderSystem();
  const auto settings = config::load().config;
  // The module's card-timeout applies here too: a card that never answers is an error, not a hang.
  system->setCallTimeout(std::chrono::seconds(settings.cardTimeoutSeconds));
  // JPKI_APDU_TRACE traces the tool's APDUs as it traces the module's (module/log.cpp).
  if (!settings.apduTraceFile.empty()) apdu::setTraceSink(apdu::traceFile(settings.apduTraceFile));
  return system;
}

std::vector<ReaderState> listReaders(ReaderSystem& system) {
  try {
    return system.readers();
  } catch (const Error& e) {
    if (e.code() == Errc::NoService) {
      throw ToolError(Exit::NoReader,
                      "the PC/SC service (pcscd) is not reachable: " + std::string(e.what()));
    }
    throw;
  }
}

const char* kindText(CardKind kind) { return cardKindInfo(kind).text; }

const char* kindId(CardKind kind) { return cardKindInfo(kind).id; }

OpenCard openCard(const Context& ctx) {
  OpenCard oc;
  oc.system = makeReaders();
  oc.readers = listReaders(*oc.system);
  if (oc.readers.empty()) {
    throw ToolError(Exit::NoReader, "no card reader found (is the reader plugged in?)");
  }
  std::vector<const ReaderState*> matching;
  for (const auto& r : oc.readers) {
    if (ctx.reader.empty() || r.name.find(ctx.reader) != std::string::npos) matching.push_back(&r);
  }
  if (matching.empty()) throw ToolError(Exit::NoReader, "no reader matches '" + ctx.reader + "'");
  std::string notJpki;
  bool anyCard = false;
  for (const ReaderState* r : matching) {
    if (!r->cardPresent) continue;
    anyCard = true;
    try {
      auto card = std::make_unique<JpkiCard>(oc.system->connect(r->name));
      oc.kind = card->kind();
      oc.label = card->tokenLabel();
      oc.card.reset(card.release());
      oc.readerName = r->name;
      return oc;
    } catch (const Error& e) {
      if (e.code() == Errc::NotJpki) {
        notJpki = r->name;
        continue;
      }
      if (e.code() == Errc::NoCard || e.code() == Errc::CardRemoved) continue;
      throw;
    }
  }
  if (!anyCard) {
    throw ToolError(Exit::NoCard,
                    matching.size() == 1
                        ? "no card in the reader " + matching.front()->name
                        : "no card in any of the " + std::to_string(matching.size()) + " readers");
  }
  if (!notJpki.empty()) {
    throw ToolError(Exit::NotJpki,
                    "the card in " + notJpki + " has no JPKI application (not a My Number Card?)");
  }
  throw ToolError(Exit::NoCard, "the card was removed");
}

KeyRole keyOption(const std::string& key) {
  if (key == "auth") return KeyRole::Auth;
  if (key == "sign") return KeyRole::Sign;
  throw ToolError(Exit::Usage, "--key must be auth or sign");
}

std::optional<bool> signCertIssued(JpkiCard& card) {
  // Through JpkiCard, so its selection guard stays right: a SELECT AID sent behind its back would
  // clear a verified PIN that the client still counts on.
  try {
    return card.certificatePresent(CertFile::Sign);
  } catch (const Error& e) {
    if (e.code() == Errc::CardStatus || e.code() == Errc::BadResponse) return std::nullopt;
    throw;
  }
}

std::optional<std::string> lastTryWarning(KeyRole role, int triesLeft) {
  if (triesLeft != 1) return std::nullopt;
  return std::string("WARNING: only one try left for the ") + pinName(role) +
         ". One more wrong entry locks it, and unlocking needs a visit to the city office.";
}

void login(const Context& ctx, JpkiCard& card, KeyRole role) {
  // Refuse early, without asking for the PIN, when the card already says it is locked.
  const PinStatus before = card.pinStatus(role);
  if (before.locked()) {
    throw ToolError(Exit::PinLocked, std::string("the ") + pinName(role) +
                                         " is locked (no tries left): it can only be reset at "
                                         "the city office");
  }
  SecretBytes pin = obtainPin(ctx, role);
  VerifyResult result;
  try {
    result = card.verify(role, pin.view());
  } catch (const Error& e) {
    if (e.code() == Errc::PinFormat) {
      throw ToolError(Exit::WrongPin, std::string(e.what()) + " (no try was spent)");
    }
    throw;
  }
  pin.clear();
  switch (result.outcome) {
    case VerifyOutcome::Ok:
      return;
    case VerifyOutcome::Locked:
      throw ToolError(Exit::PinLocked, std::string("wrong ") + pinName(role) +
                                           ": it is now locked; it can only be reset at the "
                                           "city office");
    case VerifyOutcome::WrongPin: {
      std::string msg = std::string("wrong ") + pinName(role) + ": " +
                        std::to_string(result.triesLeft) +
                        (result.triesLeft == 1 ? " try left" : " tries left");
      if (auto w = lastTryWarning(role, result.triesLeft)) msg += "\n" + *w;
      throw ToolError(Exit::WrongPin, msg);
    }
  }
}

}  // namespace jpki::tool
