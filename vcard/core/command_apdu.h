// SPDX-License-Identifier: MIT
// Defensive parsing of command APDUs (ISO/IEC 7816-3 §12.1 cases 1-4, short and extended): any
// byte string yields either a parsed command or "malformed" (answered 6700), never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "jpki/bytes.h"

namespace jpki::vcard {

struct CommandApdu {
  std::uint8_t cla = 0, ins = 0, p1 = 0, p2 = 0;
  Bytes data;                     // empty for cases 1 and 2
  std::optional<std::size_t> le;  // absent for cases 1 and 3; Le=00 → 256, extended 0000 → 65536
  bool extended = false;

  [[nodiscard]] bool hasData() const { return !data.empty(); }
};

// Returns nullopt when the bytes are not a well-formed APDU (shorter than 4 bytes, Lc not
// matching the length, extended Lc of 0, ...).
std::optional<CommandApdu> parseCommand(ByteView raw);

}  // namespace jpki::vcard
