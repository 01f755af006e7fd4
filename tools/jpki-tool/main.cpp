// SPDX-License-Identifier: MIT
// jpki-tool: status, diagnostics, certificates and signing for the My Number Card's JPKI
// application. Every error ends here, as one message and an exit code (exit_codes.h).
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "jpki/error.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return static_cast<int>(jpki::tool::runTool(args, std::cout, std::cerr));
}
