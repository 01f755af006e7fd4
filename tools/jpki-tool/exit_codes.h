// SPDX-License-Identifier: MIT
// Exit codes of jpki-tool (documented in --help and jpki-tool.1) and the one place that turns
// the apdu layer's error codes into them.
#pragma once

#include <stdexcept>
#include <string>

#include "jpki/error.h"

namespace jpki::tool {

enum class Exit : int {
  Ok = 0,
  Error = 1,      // anything else (bad signature, file not found, card trouble, ...)
  Usage = 2,      // bad command line
  NoReader = 3,   // no PC/SC service (pcscd) or no reader
  NoCard = 4,     // readers, but no card in them
  NotJpki = 5,    // a card that does not answer the JPKI application
  PinLocked = 6,  // the PIN needed has no tries left
  WrongPin = 7,   // wrong PIN (or one refused before reaching the card: no try spent)
};

// An error with the exit code it should produce; the message is printed as "jpki-tool: …".
class ToolError : public std::runtime_error {
 public:
  ToolError(Exit code, const std::string& what) : std::runtime_error(what), code_(code) {}
  [[nodiscard]] Exit code() const noexcept { return code_; }

 private:
  Exit code_;
};

Exit exitFor(Errc code) noexcept;
// The exit-code table as shown in every --help.
const char* exitCodeHelp();

}  // namespace jpki::tool
