// SPDX-License-Identifier: MIT
// Internal to the PC/SC transport: the one PC/SC error wrapper (every SCARD_* code becomes a
// jpki::Error carrying pcsc_stringify_error's text).
#pragma once

#include <winscard.h>

#include <string>

#include "jpki/error.h"

namespace jpki::pcsc {

Errc errcFor(LONG rv) noexcept;
[[noreturn]] void throwPcsc(LONG rv, const std::string& context);
// True for the codes after which the context must be re-established (pcscd restarted).
bool serviceLost(LONG rv) noexcept;

}  // namespace jpki::pcsc
