// Retry counters of the two JPKI PINs, persisted in a small text file so that a lockout survives
// restarts of the virtual card (like the EEPROM of a real card).
#pragma once

#include <filesystem>

namespace jpki::vcard {

inline constexpr int kAuthPinMaxTries = 3;  // jpki-card.md §4
inline constexpr int kSignPinMaxTries = 5;

class PinStore {
 public:
  // Reads `file` when it exists; otherwise starts from `initialAuth`/`initialSign` (and writes
  // the file). An empty path keeps the counters in memory only.
  PinStore(std::filesystem::path file, int initialAuth, int initialSign);

  [[nodiscard]] int tries(bool sign) const { return sign ? sign_ : auth_; }
  [[nodiscard]] static int maxTries(bool sign) { return sign ? kSignPinMaxTries : kAuthPinMaxTries; }
  // Sets a counter (clamped to 0..max) and persists the change.
  void set(bool sign, int tries);

 private:
  void save() const;

  std::filesystem::path file_;
  int auth_;
  int sign_;
};

}  // namespace jpki::vcard
