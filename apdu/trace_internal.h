// SPDX-License-Identifier: MIT
// Internal: the APDU trace sink shared by every Transaction (see setTraceSink in jpki/apdu.h).
#pragma once

#include <string>

namespace jpki::apdu::detail {

// True when a sink is installed (by setTraceSink).
bool traceEnabled();
// Sends one line to the sink; never throws.
void traceLine(const std::string& line) noexcept;

}  // namespace jpki::apdu::detail
