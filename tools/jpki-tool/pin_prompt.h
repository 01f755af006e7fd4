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

SecretBytes obtainPin(const Context& ctx, KeyRole role);

// Reads one line from /dev/tty with echo switched off, showing `prompt` there.
// ToolError(Exit::Usage) when there is no terminal.
SecretBytes promptHidden(const std::string& prompt);

}  // namespace jpki::tool
