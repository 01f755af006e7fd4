// Hex helpers private to the virtual card (the shared jpki::toHex lives in jpki_common, which the
// card does not depend on so that it can be built and tested on its own).
#pragma once

#include <string>
#include <string_view>

#include "jpki/bytes.h"

namespace jpki::vcard {

// Upper-case hex without separators, e.g. "00A4040C".
std::string hexString(ByteView data);
// Accepts upper/lower case hex with optional spaces or colons; throws std::invalid_argument.
Bytes hexBytes(std::string_view text);

}  // namespace jpki::vcard
