// SPDX-License-Identifier: MIT
// Response APDU parsing (ISO 7816-4 §5.1: data field followed by SW1 SW2).
#include "jpki/apdu.h"
#include "jpki/error.h"

namespace jpki::apdu {

Response Response::parse(const Bytes& raw) {
  if (raw.size() < 2) {
    throw Error(Errc::BadResponse, "response APDU shorter than a status word (" +
                                       std::to_string(raw.size()) + " bytes)");
  }
  Response r;
  r.data.assign(raw.begin(), raw.end() - 2);
  r.sw = static_cast<std::uint16_t>((raw[raw.size() - 2] << 8) | raw[raw.size() - 1]);
  return r;
}

}  // namespace jpki::apdu
