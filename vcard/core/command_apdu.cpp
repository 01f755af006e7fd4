// SPDX-License-Identifier: MIT
#include "core/command_apdu.h"

namespace jpki::vcard {

std::optional<CommandApdu> parseCommand(ByteView raw) {
  if (raw.size() < 4) return std::nullopt;
  CommandApdu c;
  c.cla = raw[0];
  c.ins = raw[1];
  c.p1 = raw[2];
  c.p2 = raw[3];
  const ByteView body = raw.subspan(4);
  if (body.empty()) return c;  // case 1

  if (body.size() == 1) {  // case 2 short
    c.le = body[0] == 0 ? 256 : body[0];
    return c;
  }
  if (body[0] != 0) {  // short Lc
    const std::size_t lc = body[0];
    if (body.size() == 1 + lc) {  // case 3 short
      c.data.assign(body.begin() + 1, body.end());
      return c;
    }
    if (body.size() == 2 + lc) {  // case 4 short
      c.data.assign(body.begin() + 1, body.end() - 1);
      c.le = body.back() == 0 ? 256 : body.back();
      return c;
    }
    return std::nullopt;
  }
  // First body byte 00 with more bytes: extended length.
  c.extended = true;
  if (body.size() < 3) return std::nullopt;
  const std::size_t first = static_cast<std::size_t>(body[1]) << 8 | body[2];
  if (body.size() == 3) {  // case 2 extended
    c.le = first == 0 ? 65536 : first;
    return c;
  }
  if (first == 0) return std::nullopt;  // extended Lc must be 1..65535
  if (body.size() == 3 + first) {       // case 3 extended
    c.data.assign(body.begin() + 3, body.end());
    return c;
  }
  if (body.size() == 5 + first) {  // case 4 extended
    c.data.assign(body.begin() + 3, body.end() - 2);
    const std::size_t le = static_cast<std::size_t>(body[body.size() - 2]) << 8 | body.back();
    c.le = le == 0 ? 65536 : le;
    return c;
  }
  return std::nullopt;
}

}  // namespace jpki::vcard
