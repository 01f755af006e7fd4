// SPDX-License-Identifier: MIT
// PIN format rules (jpki-card.md §3.3, §9), applied before anything reaches the card so that a
// malformed PIN never spends a try. Reasons never contain the PIN (or its characters).
#include <optional>
#include <string>

#include "jpki/jpki_card.h"

namespace jpki {

namespace {
void refuse(std::string* reason, PinFault* fault, PinFault which, const char* text) {
  if (reason != nullptr) {
    *reason = text;
  }
  if (fault != nullptr) {
    *fault = which;
  }
}
}  // namespace

std::optional<SecretBytes> normalisePin(KeyRole role, ByteView pin, std::string* reason,
                                        PinFault* fault) {
  const layout::KeyInfo& info = layout::key(role);
  if (pin.size() < info.minPinLen || pin.size() > info.maxPinLen) {
    refuse(reason, fault, PinFault::Length,
           role == KeyRole::Auth ? "user authentication PIN must be exactly 4 digits"
                                 : "signature password must be 6 to 16 characters");
    return std::nullopt;
  }
  SecretBytes out;
  for (std::uint8_t c : pin) {
    std::uint8_t v = c;
    bool good = false;
    if (role == KeyRole::Auth) {
      good = c >= '0' && c <= '9';
    } else {
      if (c >= 'a' && c <= 'z') {
        v = static_cast<std::uint8_t>(c - 'a' + 'A');  // the card stores upper case
      }
      good = (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9');
    }
    if (!good) {
      refuse(reason, fault, PinFault::Characters,
             role == KeyRole::Auth ? "user authentication PIN may only contain the digits 0-9"
                                   : "signature password may only contain A-Z and 0-9");
      return std::nullopt;
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace jpki
