// SPDX-License-Identifier: MIT
// Retry counters and values of the two JPKI PINs, persisted in a small text file so that a lockout
// or a changed PIN survives restarts of the virtual card (like the EEPROM of a real card).
#pragma once

#include <filesystem>
#include <string>

#include "jpki/bytes.h"

namespace jpki::vcard {

inline constexpr int kAuthPinMaxTries = 3;  // jpki-card.md §4
inline constexpr int kSignPinMaxTries = 5;

// The card's own rule for a PIN value (jpki-card.md §9), applied by CHANGE REFERENCE DATA: auth
// exactly 4 ASCII digits, sign 6-16 of A-Z / 0-9. The card compares bytes, so lower case is
// refused here (the client upper-cases before sending; a card does not).
bool validPinValue(bool sign, ByteView value);

class PinStore {
 public:
  // Reads `file` when it exists; otherwise starts from the initial counters and PINs (and writes
  // the file). An empty path keeps everything in memory only.
  PinStore(std::filesystem::path file, int initialAuth, int initialSign, std::string authPin,
           std::string signPin);

  [[nodiscard]] int tries(bool sign) const { return sign ? sign_ : auth_; }
  [[nodiscard]] static int maxTries(bool sign) {
    return sign ? kSignPinMaxTries : kAuthPinMaxTries;
  }
  // Sets a counter (clamped to 0..max) and persists the change.
  void set(bool sign, int tries);

  // The PIN the card compares VERIFY data with.
  [[nodiscard]] const std::string& pin(bool sign) const { return sign ? signPin_ : authPin_; }
  // Replaces a PIN (CHANGE REFERENCE DATA) and persists it.
  void setPin(bool sign, std::string value);

 private:
  void save() const;

  std::filesystem::path file_;
  int auth_;
  int sign_;
  std::string authPin_, signPin_;
  // Only a PIN changed on this card is written to the file, so a state file of a card whose PINs
  // were never changed keeps following --auth-pin / --sign-pin.
  bool authChanged_ = false, signChanged_ = false;
};

}  // namespace jpki::vcard
