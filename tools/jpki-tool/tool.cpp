// SPDX-License-Identifier: MIT
#include <iostream>
#include <map>
#include <new>

#include "commands.h"
#include "jpki/error.h"

namespace jpki::tool {

namespace {

constexpr const char* kMainUsage =
    "Usage: jpki-tool [--json] [--reader NAME] COMMAND [OPTIONS]\n"
    "\n"
    "Status, diagnostics, certificates and signatures of the My Number Card's JPKI application\n"
    "(公的個人認証). Every command has --help.\n"
    "\n"
    "Commands:\n"
    "  status      readers, card, PIN tries left, certificate validity and renewal dates\n"
    "  certs       list or export the card's certificates (PEM or DER)\n"
    "  show        the signature certificate's name, address, date of birth and sex\n"
    "  sign        sign a file with either key (raw PKCS#1 v1.5 or detached CMS)\n"
    "  change-pin  change the user authentication PIN or the signature password\n"
    "  verify      check a signature and its certificate chain (no card needed)\n"
    "  doctor      find out why the card does not work, with the fix for each problem\n"
    "  register    register the PKCS#11 module with p11-kit, Chromium and Firefox\n"
    "  unregister  remove those registrations\n";

using Command = Exit (*)(Context, const Args&);

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"status", cmdStatus},     {"certs", cmdCerts},           {"show", cmdShow},
      {"sign", cmdSign},         {"verify", cmdVerify},         {"doctor", cmdDoctor},
      {"register", cmdRegister}, {"unregister", cmdUnregister}, {"change-pin", cmdChangePin}};
  return table;
}

}  // namespace

void printHelp(std::ostream& out, const char* usage) {
  out << usage
      << "\nCommon options:\n"
         "  --json          machine-readable output (one JSON document on standard output)\n"
         "  -r, --reader NAME  use the reader whose name contains NAME (default: the first\n"
         "                  reader whose card answers the JPKI application)\n"
         "  --pin-env VAR   take the PIN from the environment variable VAR instead of asking on\n"
         "                  the terminal (for scripts and tests; the variable is then cleared).\n"
         "                  PINs are never accepted on the command line.\n"
         "  -h, --help      this help\n"
         "\n"
      << exitCodeHelp();
}

Exit runTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  try {
    // Global options may come before the command; the command parses the rest.
    const ParsedArgs global = parseArgs(args, commonOptions(), true);
    if (global.positional.empty()) {
      if (global.has("help")) {
        printHelp(out, kMainUsage);
        return Exit::Ok;
      }
      printHelp(err, kMainUsage);
      return Exit::Usage;
    }
    ctx = contextFrom(global, ctx);
    const std::string& name = global.positional.front();
    if (name == "help") {
      printHelp(out, kMainUsage);
      return Exit::Ok;
    }
    auto it = commands().find(name);
    if (it == commands().end()) {
      throw ToolError(Exit::Usage, "unknown command '" + name + "' (see jpki-tool --help)");
    }
    std::vector<std::string> rest(global.positional.begin() + 1, global.positional.end());
    if (global.has("help")) rest.push_back("--help");
    return it->second(ctx, rest);
  } catch (const ToolError& e) {
    err << "jpki-tool: " << e.what() << "\n";
    return e.code();
  } catch (const Error& e) {
    const Exit code = exitFor(e.code());
    err << "jpki-tool: " << e.what() << "\n";
    return code;
  } catch (const std::bad_alloc&) {
    err << "jpki-tool: out of memory\n";
    return Exit::Error;
  } catch (const std::exception& e) {
    err << "jpki-tool: " << e.what() << "\n";
    return Exit::Error;
  }
}

}  // namespace jpki::tool
