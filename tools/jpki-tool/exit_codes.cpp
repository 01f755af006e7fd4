// SPDX-License-Identifier: MIT
#include "exit_codes.h"

namespace jpki::tool {

Exit exitFor(Errc code) noexcept {
  switch (code) {
    case Errc::NoService:
    case Errc::NoReader:
      return Exit::NoReader;
    case Errc::NoCard:
    case Errc::CardRemoved:
      return Exit::NoCard;
    case Errc::NotJpki:
      return Exit::NotJpki;
    case Errc::PinLocked:
      return Exit::PinLocked;
    case Errc::PinFormat:
    case Errc::NewPinFormat:
      return Exit::WrongPin;
    default:
      return Exit::Error;
  }
}

const char* exitCodeHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  error (bad signature, unreadable file, unexpected card answer, ...)\n"
         "  2  usage error\n"
         "  3  no reader: the PC/SC service (pcscd) is not reachable or knows no reader\n"
         "  4  no card in the reader(s)\n"
         "  5  the card is not a JPKI card (no JPKI application)\n"
         "  6  the PIN is locked (no tries left: unlock at the city office)\n"
         "  7  wrong PIN (or a PIN of the wrong form, refused before it reached the card)\n";
}

}  // namespace jpki::tool
