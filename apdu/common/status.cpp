// SPDX-License-Identifier: MIT
// Text for status words, from the one table in jpki/status_word.h (ISO 7816-4 §5.6).
#include "jpki/bytes.h"
#include "jpki/status_word.h"

namespace jpki::apdu {

std::optional<int> triesLeft(std::uint16_t sw) {
  if (static_cast<std::uint16_t>(sw & 0xFFF0) == Sw::VerifyFailedBase) {
    return static_cast<int>(sw & 0x000F);
  }
  return std::nullopt;
}

std::string swText(std::uint16_t sw) {
  const std::string text = toHex(sw) + ' ';
  for (const auto& entry : kSwMeanings) {
    if (sw == entry.sw) {
      return text + entry.text;
    }
  }
  if (auto tries = triesLeft(sw)) {
    return text + "verification failed, " + std::to_string(*tries) + " tries left";
  }
  const unsigned sw1 = sw >> 8;
  const unsigned sw2 = sw & 0xFF;
  if (sw1 == 0x61) {
    return text + std::to_string(sw2 == 0 ? 256 : sw2) + " response bytes still available";
  }
  if (sw1 == 0x6C) {
    return text + "wrong Le, exact length is " + std::to_string(sw2 == 0 ? 256 : sw2);
  }
  return text + "unknown status";
}

}  // namespace jpki::apdu
