// SPDX-License-Identifier: MIT
// Command-line parsing shared by every subcommand, with getopt_long: long options (--name VALUE
// or --name=VALUE, the whole name only), short options (-x VALUE), "--" to end options.
// Errors are ToolError(Exit::Usage).
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jpki::tool {

struct OptionSpec {
  std::string name;    // without the leading "--"
  char shortName = 0;  // 0: none
  bool takesValue = false;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // flags map to {""}

  [[nodiscard]] bool has(const std::string& name) const { return values.count(name) != 0; }
  [[nodiscard]] std::optional<std::string> get(const std::string& name) const;
};

// Options and operands may be mixed; with `stopAtOperand` the first operand and everything after
// it are operands (the options before a command name).
ParsedArgs parseArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& spec,
                     bool stopAtOperand = false);

// The options every command accepts (also before the command name).
const std::vector<OptionSpec>& commonOptions();
std::vector<OptionSpec> withCommon(std::vector<OptionSpec> own);

// What a command needs from the global options.
struct Context {
  bool json = false;
  std::string reader;  // substring of the reader name; empty: any
  std::string pinEnv;  // name of the environment variable holding the PIN (tests, scripts)
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

// Applies the common options of `parsed` on top of `base`.
Context contextFrom(const ParsedArgs& parsed, Context base);

}  // namespace jpki::tool
