// The one status-word table (ISO 7816-4 §5.6 and jpki-card.md §4).
#include <array>
#include <cstdio>
#include <string>

#include "jpki/apdu.h"

namespace jpki::apdu {

namespace {
struct SwEntry {
  std::uint16_t sw;
  const char* text;
};

constexpr std::array kTable{
    SwEntry{0x9000, "success"},
    SwEntry{0x6281, "part of returned data may be corrupted"},
    SwEntry{0x6282, "end of file reached before reading Le bytes"},
    SwEntry{0x6283, "selected file deactivated"},
    SwEntry{0x6300, "verification failed"},
    SwEntry{0x6581, "memory failure"},
    SwEntry{0x6700, "wrong length"},
    SwEntry{0x6881, "logical channel not supported"},
    SwEntry{0x6882, "secure messaging not supported"},
    SwEntry{0x6981, "command incompatible with file structure"},
    SwEntry{0x6982, "security status not satisfied"},
    SwEntry{0x6983, "authentication method blocked"},
    SwEntry{0x6984, "reference data not usable (PIN blocked)"},
    SwEntry{0x6985, "conditions of use not satisfied"},
    SwEntry{0x6986, "command not allowed (no current EF)"},
    SwEntry{0x6A80, "incorrect parameters in the data field"},
    SwEntry{0x6A81, "function not supported"},
    SwEntry{0x6A82, "file or application not found"},
    SwEntry{0x6A86, "incorrect parameters P1-P2"},
    SwEntry{0x6A88, "referenced data not found"},
    SwEntry{0x6B00, "wrong parameters P1-P2 (offset outside the EF)"},
    SwEntry{0x6D00, "instruction not supported"},
    SwEntry{0x6E00, "class not supported"},
    SwEntry{0x6F00, "no precise diagnosis"},
};
}  // namespace

std::optional<int> triesLeft(std::uint16_t sw) {
  if ((sw & 0xFFF0) == 0x63C0) {
    return static_cast<int>(sw & 0x000F);
  }
  return std::nullopt;
}

std::string swText(std::uint16_t sw) {
  char code[8];
  std::snprintf(code, sizeof code, "%04X", static_cast<unsigned>(sw));
  std::string text(code);
  text += ' ';
  for (const auto& entry : kTable) {
    if (entry.sw == sw) {
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
