// SPDX-License-Identifier: MIT
// The subcommands. Each takes the arguments after its name, returns the exit code, and throws
// ToolError / jpki::Error for main() to report.
#pragma once

#include <string>
#include <vector>

#include "args.h"
#include "exit_codes.h"

namespace jpki::tool {

using Args = std::vector<std::string>;

Exit cmdStatus(Context ctx, const Args& args);
Exit cmdCerts(Context ctx, const Args& args);
Exit cmdShow(Context ctx, const Args& args);
Exit cmdSign(Context ctx, const Args& args);
Exit cmdChangePin(Context ctx, const Args& args);
Exit cmdVerify(Context ctx, const Args& args);
Exit cmdDoctor(Context ctx, const Args& args);
Exit cmdRegister(Context ctx, const Args& args);
Exit cmdUnregister(Context ctx, const Args& args);

// Prints `usage` followed by the common options and the exit-code table.
void printHelp(std::ostream& out, const char* usage);

}  // namespace jpki::tool

namespace jpki::tool {
// The whole tool: parses the global options and the command, runs it, and turns every error into
// its message on `err` and its exit code.
Exit runTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
}  // namespace jpki::tool
