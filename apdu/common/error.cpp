// SPDX-License-Identifier: MIT
// Names for jpki::Errc, used in logs and test output.
#include "jpki/error.h"

namespace jpki {

const char* errcName(Errc code) noexcept {
  switch (code) {
    case Errc::NoService:
      return "NoService";
    case Errc::NoReader:
      return "NoReader";
    case Errc::NoCard:
      return "NoCard";
    case Errc::CardRemoved:
      return "CardRemoved";
    case Errc::CardReset:
      return "CardReset";
    case Errc::CardReplaced:
      return "CardReplaced";
    case Errc::Timeout:
      return "Timeout";
    case Errc::Sharing:
      return "Sharing";
    case Errc::Transport:
      return "Transport";
    case Errc::NotJpki:
      return "NotJpki";
    case Errc::FileNotFound:
      return "FileNotFound";
    case Errc::SecurityStatus:
      return "SecurityStatus";
    case Errc::PinLocked:
      return "PinLocked";
    case Errc::PinFormat:
      return "PinFormat";
    case Errc::NewPinFormat:
      return "NewPinFormat";
    case Errc::BadResponse:
      return "BadResponse";
    case Errc::CardStatus:
      return "CardStatus";
    case Errc::InvalidInput:
      return "InvalidInput";
  }
  return "Unknown";
}

}  // namespace jpki
