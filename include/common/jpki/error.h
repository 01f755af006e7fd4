// SPDX-License-Identifier: MIT
// The one error type the transport and the JPKI application client throw. The module translates it
// into CK_RV values in exactly one place (module/rv.cpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace jpki {

enum class Errc {
  // Transport (PC/SC) conditions.
  NoService,     // pcscd not running / not reachable
  NoReader,      // the named reader is gone
  NoCard,        // no card in the reader
  CardRemoved,   // the card was removed during the operation
  CardReset,     // reset could not be recovered from
  CardReplaced,  // after a reset, a different card answered (identity changed)
  Timeout,       // the card or the service did not answer in time
  Sharing,       // another process holds the card exclusively
  Transport,     // any other transport failure
  // Card / application conditions.
  NotJpki,         // the card has no JPKI application (SELECT AID failed)
  FileNotFound,    // an EF does not exist (e.g. no signature certificate on a minor's card)
  SecurityStatus,  // 6982: the PIN for this operation is not verified (login lost or missing)
  PinLocked,       // the PIN's retry counter is exhausted
  PinFormat,       // the PIN was refused locally: it never reached the card
  NewPinFormat,    // a new PIN (changePin) breaks the rules of the PIN it replaces: never sent
  BadResponse,     // malformed, truncated or unexpected answer from the card
  CardStatus,      // any other unexpected status word (see Error::sw())
  InvalidInput,    // e.g. data to sign longer than the card accepts
};

const char* errcName(Errc code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& what, std::uint16_t sw = 0)
      : std::runtime_error(what), code_(code), sw_(sw) {}
  [[nodiscard]] Errc code() const noexcept { return code_; }
  // The status word that caused the error, or 0 when none did.
  [[nodiscard]] std::uint16_t sw() const noexcept { return sw_; }

 private:
  Errc code_;
  std::uint16_t sw_;
};

}  // namespace jpki
