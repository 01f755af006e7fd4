// SPDX-License-Identifier: MIT
// Getting a PIN: typed on the terminal (/dev/tty, echo off) or, only when the user names it with
// --pin-env VAR, from that environment variable (which is then wiped and removed). Never from
// the command line. The PIN lives in a SecretBytes and is wiped when it goes out of scope.
#pragma once

#include <string>

#include "args.h"
#include "jpki/bytes.h"
#include "jpki/jpki_card.h"

namespace jpki::tool {

const char* pinName(KeyRole role);  // "user authentication PIN" / "signature password"
// What the prompt asks for: "user authentication PIN (4 digits)" / "signature password (6-16
// letters and digits)".
std::string pinDescription(KeyRole role);

// The PIN from --pin-env, else typed on the terminal.
SecretBytes obtainPin(const Context& ctx, KeyRole role);

// The value of the environment variable `var` named by `option` (--pin-env, --new-pin-env), which
// is then wiped and removed. ToolError(Exit::Usage) when the variable is not set.
SecretBytes pinFromEnvironment(const std::string& option, const std::string& var);

// Reads one line from /dev/tty with echo switched off, showing `prompt` there.
// ToolError(Exit::Usage) when there is no terminal.
SecretBytes promptHidden(const std::string& prompt);
// Whether promptHidden() has a terminal to ask on.
bool ttyAvailable();

}  // namespace jpki::tool
