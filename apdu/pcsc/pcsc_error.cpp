// SPDX-License-Identifier: MIT
#include "pcsc_error.h"

#include <cstdio>

namespace jpki::pcsc {

Errc errcFor(LONG rv) noexcept {
  switch (rv) {
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
      return Errc::NoService;
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
    case SCARD_E_NO_READERS_AVAILABLE:
      return Errc::NoReader;
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNSUPPORTED_CARD:
      return Errc::NoCard;
    case SCARD_W_REMOVED_CARD:
      return Errc::CardRemoved;
    case SCARD_W_RESET_CARD:
      return Errc::CardReset;
    case SCARD_E_TIMEOUT:
      return Errc::Timeout;
    case SCARD_E_SHARING_VIOLATION:
      return Errc::Sharing;
    default:
      return Errc::Transport;
  }
}

bool serviceLost(LONG rv) noexcept {
  return rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED || rv == SCARD_E_INVALID_HANDLE;
}

void throwPcsc(LONG rv, const std::string& context) {
  char code[16];
  std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(rv) & 0xFFFFFFFFUL);
  throw Error(errcFor(rv), context + ": " + pcsc_stringify_error(rv) + " (" + code + ")");
}

}  // namespace jpki::pcsc
