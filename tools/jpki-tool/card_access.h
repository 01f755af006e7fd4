// SPDX-License-Identifier: MIT
// Finding the reader and the card, opening the JPKI application, and verifying a PIN with the
// exit codes the tool promises (no reader 3, no card 4, not JPKI 5, locked 6, wrong PIN 7).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "jpki/jpki_card.h"
#include "jpki/transport.h"

namespace jpki::tool {

// The PC/SC reader system with the configuration's card-timeout (jpki-pkcs11.conf).
std::unique_ptr<ReaderSystem> makeReaders();

// Readers as PC/SC sees them; ToolError(NoReader) when pcscd is not reachable.
std::vector<ReaderState> listReaders(ReaderSystem& system);

// Closes the card on every way out of a command, errors included: a PIN this tool may have left
// verified is cleared first (JpkiCard::logout sends nothing when none can be), so no other
// process can use the card's key after the tool has ended.
struct CardCloser {
  void operator()(JpkiCard* card) const noexcept;
};

struct OpenCard {
  std::unique_ptr<ReaderSystem> system;
  std::vector<ReaderState> readers;  // every reader, for reporting
  std::string readerName;
  std::unique_ptr<JpkiCard, CardCloser> card;  // after system: closed before it
  CardKind kind = CardKind::Unknown;
  std::string label;
};

// Picks the first reader (matching ctx.reader, a substring) whose card answers the JPKI
// application. Throws ToolError with exit code 3, 4 or 5 when there is none.
OpenCard openCard(const Context& ctx);

const char* kindText(CardKind kind);
const char* kindId(CardKind kind);  // for --json: my-number-card, juki-card, smartphone, unknown

// The value of --key: auth or sign; anything else is ToolError(Usage).
KeyRole keyOption(const std::string& key);

// Whether the card has a signature certificate (JpkiCard::certificatePresent: a SELECT of EF 0001,
// no PIN needed); nullopt when the card answers something unexpected.
std::optional<bool> signCertIssued(JpkiCard& card);

// Asks for the PIN (terminal or --pin-env) and verifies it. Wrong PIN -> ToolError(WrongPin)
// naming the tries left; locked -> ToolError(PinLocked); malformed -> ToolError(WrongPin)
// without any APDU.
void login(const Context& ctx, JpkiCard& card, KeyRole role);

// The warning shown when one try is left, or nullopt.
std::optional<std::string> lastTryWarning(KeyRole role, int triesLeft);

}  // namespace jpki::tool
